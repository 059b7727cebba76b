// Effective privileges of a caller on an ACL path, as pve-access-control computes them
// (AccessControl.pm roles(), RPCEnvironment.pm permissions() and $compile_acl_path): the most
// specific ACL entry on the path wins, a user entry beats group entries, NoAccess beats all, pool
// ACLs reach their guests and storages, and a privilege-separated token gets the intersection of
// its own ACL and its user's privileges.

import { type AccessConfig, ALL_PRIVILEGES, accessConfig, rolePrivs, splitTokenId } from "../state/access";
import type { Store } from "../state/store";
import { profileOf } from "../state/version";

/**
 * Privileges as the release names them: PVE 8 had VM.Monitor where 9 has the five
 * VM.GuestAgent.* privileges, so on an 8.4 profile holding any of those means holding VM.Monitor.
 */
function asRelease(store: Store, privs: PrivMap): PrivMap {
  if (profileOf(store.settings).guestAgentPrivileges) return privs;
  const agent = [...privs].filter(([p]) => p.startsWith("VM.GuestAgent."));
  const out: PrivMap = new Map([...privs].filter(([p]) => !p.startsWith("VM.GuestAgent.")));
  if (agent.length)
    out.set(
      "VM.Monitor",
      agent.some(([, propagate]) => propagate),
    );
  return out;
}

/** privilege → propagate flag (informational, as in Proxmox). */
export type PrivMap = Map<string, boolean>;

export class Permissions {
  private readonly cfg: AccessConfig;
  private readonly cache = new Map<string, PrivMap>();
  private poolRoles?: Map<string, Map<string, Set<string>>>;
  private readonly denied: ReadonlySet<string>;

  constructor(
    private readonly store: Store,
    /** The authenticated id: a token id (user@realm!name) or a user id. */
    readonly authid: string,
    /** The simulator's own configured token: all privileges, as root@pam's token has. */
    private readonly builtin: boolean,
  ) {
    this.cfg = accessConfig(store);
    this.denied = new Set(store.settings.deniedPrivileges);
  }

  get config(): AccessConfig {
    return this.cfg;
  }

  /** The same view for another user or token (GET /access/permissions?userid=). */
  forOther(authid: string): Permissions {
    return new Permissions(this.store, authid, false);
  }

  /** The privileges the caller holds on `path` (less the `deniedPrivileges` setting). */
  privs(path: string): PrivMap {
    const raw = asRelease(this.store, this.builtin ? all() : this.permissions(this.authid, path));
    if (this.denied.size === 0) return raw;
    return new Map([...raw].filter(([p]) => !this.denied.has(p)));
  }

  has(path: string, priv: string): boolean {
    return this.privs(path).has(priv);
  }

  private permissions(authid: string, path: string): PrivMap {
    if (authid === "root@pam") return all();
    const token = splitTokenId(authid);
    if (token) {
      const [username, name] = token;
      const info = this.cfg.users[username]?.tokens[name];
      if (!info) return new Map();
      const userPerms = this.permissions(username, path);
      if (!info.privsep) return userPerms;
    } else if (!this.cfg.users[authid]) {
      return new Map();
    }
    const key = `${authid} ${path}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const privs = this.compile(authid, path);
    this.cache.set(key, privs);
    return privs;
  }

  private compile(authid: string, path: string): PrivMap {
    let roles = this.roles(authid, path);
    const fromPools = this.pools(authid).get(path);
    // NoAccess must not be trumped by pool ACLs, but a pool's NoAccess trumps regular ACLs.
    if (fromPools && !roles.has("NoAccess")) {
      if (fromPools.has("NoAccess")) roles = new Map([["NoAccess", false]]);
      else for (const r of fromPools) if (!roles.has(r)) roles.set(r, false);
    }
    let privs: PrivMap = new Map();
    for (const [role, propagate] of roles) {
      for (const p of rolePrivs(this.cfg, role)) privs.set(p, (privs.get(p) ?? false) || propagate);
    }
    const token = splitTokenId(authid);
    if (token && token[0] !== "root@pam") {
      const userPrivs = this.permissions(token[0], path);
      privs = new Map(
        [...privs]
          .filter(([p]) => userPrivs.has(p))
          .map(([p, prop]) => [p, prop && (userPrivs.get(p) ?? false)]),
      );
    }
    return privs;
  }

  /** Roles reaching /vms/<id> and /storage/<id> through /pool/<pool> ACLs. */
  private pools(authid: string): Map<string, Set<string>> {
    this.poolRoles ??= new Map();
    let index = this.poolRoles.get(authid);
    if (index) return index;
    index = new Map();
    for (const pool of this.store.pools.values()) {
      const roles = this.roles(authid, `/pool/${pool.poolid}`);
      if (roles.size === 0) continue;
      const targets = [...pool.vmids.map((v) => `/vms/${v}`), ...pool.storages.map((s) => `/storage/${s}`)];
      for (const t of targets) {
        const set = index.get(t) ?? new Set<string>();
        for (const r of roles.keys()) set.add(r);
        index.set(t, set);
      }
    }
    this.poolRoles.set(authid, index);
    return index;
  }

  /** AccessControl.pm roles(): role → propagate, walking the path from "/" down. */
  private roles(authid: string, path: string): Map<string, boolean> {
    const parts = path === "/" ? [""] : path.split("/");
    let roles = new Map<string, boolean>();
    let prefix = "";
    const isToken = splitTokenId(authid) !== null;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      const final = i === parts.length - 1;
      if (p !== "") prefix = `${prefix}/${p}`;
      const here = prefix === "" ? "/" : prefix;
      const entries = this.cfg.acl.filter((e) => e.path === here);
      const pick = (list: typeof entries) => {
        const found = new Map<string, boolean>();
        for (const e of list) if (final || e.propagate) found.set(e.roleid, e.propagate);
        return found;
      };
      const tokenRoles = isToken
        ? pick(entries.filter((e) => e.type === "token" && e.ugid === authid))
        : new Map();
      if (tokenRoles.size) {
        roles = tokenRoles;
        continue;
      }
      const userRoles = pick(entries.filter((e) => e.type === "user" && e.ugid === authid));
      if (userRoles.size) {
        roles = userRoles;
        continue;
      }
      const groupRoles = pick(
        entries.filter((e) => e.type === "group" && this.cfg.groups[e.ugid]?.users.includes(authid)),
      );
      if (groupRoles.size) roles = groupRoles;
    }
    const noAccess = roles.get("NoAccess");
    return noAccess === undefined ? roles : new Map([["NoAccess", noAccess]]);
  }
}

function all(): PrivMap {
  return new Map(ALL_PRIVILEGES.map((p) => [p, true]));
}
