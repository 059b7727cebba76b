// /access/permissions, /access/roles, /access/acl and /access/domains (pve-access-control
// PVE/API2/AccessControl.pm, Role.pm, ACL.pm, Domains.pm); users, groups and tokens are in users.ts.

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { checkPermModify, checkPrivs } from "../api/permissions";
import { PveError, paramError } from "../api/respond";
import {
  type AclEntry,
  type AclType,
  ALL_PRIVILEGES,
  accessConfig,
  BUILTIN_ROLES,
  roleExists,
  rolePrivs,
  splitTokenId,
} from "../state/access";
import { digestOf } from "../state/random";
import { lockedAccess, userRoutes } from "./users";

/** Every privilege of PVE 9 (VM.Monitor was replaced by VM.GuestAgent.* in 9.0). */
export const PRIVILEGES: readonly string[] = ALL_PRIVILEGES;

const asFlags = (privs: Map<string, boolean>) =>
  Object.fromEntries([...privs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, prop]) => [p, prop ? 1 : 0]));

/**
 * AccessControl.pm permissions: the caller's own privileges (or, with Sys.Audit on /access,
 * another user's or token's) on one path, or on every path that matters (get_effective_permissions).
 */
function permissions(ctx: Ctx): Record<string, Record<string, number>> {
  const perms = ctx.perms;
  if (!perms) throw new PveError("internal error: no caller");
  const userid = ctx.optStr("userid") ?? ctx.user;
  const owner = splitTokenId(userid)?.[0];
  if (userid !== ctx.user && owner !== ctx.user) checkPrivs(perms, "/access", ["Sys.Audit"], false, false);
  const of = userid === ctx.user ? perms : perms.forOther(userid);
  const path = ctx.optStr("path");
  if (path) return { [path]: asFlags(of.privs(path)) };
  const cfg = accessConfig(ctx.store);
  const paths = new Set(["/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"]);
  for (const e of cfg.acl) paths.add(e.path);
  for (const p of ctx.store.pools.values()) {
    for (const v of p.vmids) paths.add(`/vms/${v}`);
    for (const s of p.storages) paths.add(`/storage/${s}`);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const p of [...paths].sort()) {
    const privs = of.privs(p);
    if (privs.size) out[p] = asFlags(privs);
  }
  return out;
}

function listRoles(ctx: Ctx): Record<string, unknown>[] {
  const cfg = accessConfig(ctx.store);
  const ids = [...Object.keys(BUILTIN_ROLES), ...Object.keys(cfg.roles)].sort();
  return ids.map((roleid) => ({
    roleid,
    privs: [...rolePrivs(cfg, roleid)].sort().join(","),
    special: roleid in BUILTIN_ROLES ? 1 : 0,
  }));
}

/** AccessControl.pm add_role_privs. */
function privList(text: string | undefined): string[] {
  const out: string[] = [];
  for (const p of splitList(text ?? "")) {
    if (!ALL_PRIVILEGES.includes(p)) throw new PveError(`invalid privilege '${p}'`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function createRole(ctx: Ctx): null {
  const role = ctx.str("roleid");
  if (/^PVE/i.test(role)) {
    throw paramError({ roleid: "cannot use role ID starting with the (case-insensitive) 'PVE' namespace" });
  }
  return lockedAccess(ctx, "creating role failed", (cfg) => {
    if (roleExists(cfg, role)) throw new PveError(`role '${role}' already exists`);
    cfg.roles[role] = privList(ctx.optStr("privs"));
    return null;
  });
}

function updateRole(ctx: Ctx): null {
  const role = ctx.str("roleid");
  if (role in BUILTIN_ROLES) throw new PveError(`auto-generated role '${role}' cannot be modified`);
  return lockedAccess(ctx, "updating role failed", (cfg) => {
    const current = cfg.roles[role];
    if (!current) throw new PveError(`role '${role}' does not exist`);
    const privs = privList(ctx.optStr("privs"));
    cfg.roles[role] = ctx.bool("append") ? [...new Set([...current, ...privs])] : privs;
    return null;
  });
}

function deleteRole(ctx: Ctx): null {
  const role = ctx.str("roleid");
  if (role in BUILTIN_ROLES) throw new PveError(`auto-generated role '${role}' cannot be deleted`);
  return lockedAccess(ctx, "deleting role failed", (cfg) => {
    if (!cfg.roles[role]) throw new PveError(`role '${role}' does not exist`);
    delete cfg.roles[role];
    // user.cfg's parser drops ACL entries whose role no longer exists.
    cfg.acl = cfg.acl.filter((e) => e.roleid !== role);
    return null;
  });
}

function readRole(ctx: Ctx): Record<string, number> {
  const cfg = accessConfig(ctx.store);
  const role = ctx.str("roleid");
  if (!roleExists(cfg, role)) throw new PveError(`role '${role}' does not exist`);
  return Object.fromEntries([...rolePrivs(cfg, role)].sort().map((p) => [p, 1]));
}

function listAcl(ctx: Ctx): Record<string, unknown>[] {
  const cfg = accessConfig(ctx.store);
  const perms = ctx.perms;
  const audit = !perms || checkPrivs(perms, "/access", ["Sys.Audit"], false, true);
  return cfg.acl
    .filter((e) => audit || (perms && checkPermModify(perms, e.path, true)))
    .map((e) => ({
      path: e.path,
      type: e.type,
      ugid: e.ugid,
      roleid: e.roleid,
      propagate: e.propagate ? 1 : 0,
    }));
}

/** AccessControl.pm check_path: the ACL paths Proxmox knows. */
const ACL_PATH =
  /^(\/|\/access|\/access\/groups|\/access\/groups\/[A-Za-z0-9.\-_]+|\/access\/realm|\/access\/realm\/[A-Za-z0-9.\-_]+|\/nodes|\/nodes\/[A-Za-z0-9.\-_]+|\/pool|\/pool\/[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}|\/sdn(?:\/[A-Za-z0-9.\-_]+){0,4}|\/storage|\/storage\/[A-Za-z0-9.\-_]+|\/vms|\/vms\/[1-9][0-9]{2,}|\/mapping(?:\/[A-Za-z0-9.\-_]+){0,2})$/;

function normalizePath(path: string): string {
  return `/${path.split("/").filter(Boolean).join("/")}`;
}

function updateAcl(ctx: Ctx): null {
  const users = splitList(ctx.optStr("users") ?? "");
  const groups = splitList(ctx.optStr("groups") ?? "");
  const tokens = splitList(ctx.optStr("tokens") ?? "");
  if (!users.length && !groups.length && !tokens.length) {
    const msg = "either 'users', 'groups' or 'tokens' is required.";
    throw paramError({ users: msg, groups: msg, tokens: msg });
  }
  const path = normalizePath(ctx.str("path"));
  const remove = ctx.bool("delete");
  if (!remove && !ACL_PATH.test(path)) throw paramError({ path: `invalid ACL path '${ctx.str("path")}'` });
  const propagate = ctx.has("propagate") ? ctx.bool("propagate") : true;
  const mine = ctx.perms?.privs(path);
  return lockedAccess(ctx, "ACL update failed", (cfg) => {
    const set = (type: AclType, ugid: string, roleid: string) => {
      const i = cfg.acl.findIndex(
        (e) => e.path === path && e.type === type && e.ugid === ugid && e.roleid === roleid,
      );
      if (remove) {
        if (i >= 0) cfg.acl.splice(i, 1);
        return;
      }
      const entry: AclEntry = { path, type, ugid, roleid, propagate };
      if (i >= 0) cfg.acl[i] = entry;
      else cfg.acl.push(entry);
    };
    for (const role of splitList(ctx.str("roles"))) {
      if (!roleExists(cfg, role)) throw new PveError(`role '${role}' does not exist`);
      // Without Permissions.Modify (perm-modify let the caller in through VM.Allocate or the
      // like), only a subset of the caller's own privileges may be handed out.
      if (mine && !mine.has("Permissions.Modify")) {
        const verb = remove ? "remove" : "add";
        for (const p of rolePrivs(cfg, role)) {
          if (!mine.has(p)) {
            throw paramError({
              role: `Cannot ${verb} role '${role}' - requires 'Permissions.Modify' or superset of privileges.`,
            });
          }
          if (propagate && !remove && mine.get(p) !== propagate) {
            throw paramError({
              role: `Cannot ${verb} role '${role}' with propagation - requires 'Permissions.Modify' or propagated superset of privileges.`,
            });
          }
        }
        if (role === "NoAccess")
          throw paramError({ role: `Cannot ${verb} role '${role}' - requires 'Permissions.Modify'` });
      }
      for (const g of groups) {
        if (!cfg.groups[g]) throw new PveError(`group '${g}' does not exist`);
        set("group", g, role);
      }
      for (const u of users) {
        if (!cfg.users[u]) throw new PveError(`user '${u}' does not exist`);
        set("user", u, role);
      }
      for (const t of tokens) {
        const [user, name] = splitTokenId(t) ?? [t, ""];
        if (!cfg.users[user]) throw new PveError(`no such user ('${user}')`);
        if (!cfg.users[user]?.tokens[name]) throw new PveError(`no such token '${name}' for user '${user}'`);
        set("token", t, role);
      }
    }
    return null;
  });
}

function listDomains(ctx: Ctx): Record<string, unknown>[] {
  return accessConfig(ctx.store).realms.map((r) => {
    const row: Record<string, unknown> = { realm: r.realm, type: r.type };
    if (r.comment) row.comment = r.comment;
    if (r.default) row.default = 1;
    return row;
  });
}

function readDomain(ctx: Ctx): Record<string, unknown> {
  const realm = ctx.str("realm");
  const r = accessConfig(ctx.store).realms.find((x) => x.realm === realm);
  if (!r) throw new PveError(`domain '${realm}' does not exist`);
  const out: Record<string, unknown> = { type: r.type, digest: digestOf(JSON.stringify(r)) };
  if (r.comment) out.comment = r.comment;
  if (r.default) out.default = 1;
  return out;
}

export const accessRoutes: Route[] = [
  {
    method: "GET",
    path: "/access",
    // AccessControl.pm index: the subclasses in registration order, then ticket and password.
    handler: () =>
      ["users", "groups", "roles", "acl", "domains", "openid", "tfa", "ticket", "password"].map((subdir) => ({
        subdir,
      })),
  },
  { method: "GET", path: "/access/permissions", handler: permissions },
  { method: "GET", path: "/access/roles", handler: listRoles },
  { method: "POST", path: "/access/roles", handler: createRole },
  { method: "GET", path: "/access/roles/{roleid}", handler: readRole },
  { method: "PUT", path: "/access/roles/{roleid}", handler: updateRole },
  { method: "DELETE", path: "/access/roles/{roleid}", handler: deleteRole },
  { method: "GET", path: "/access/acl", handler: listAcl },
  { method: "PUT", path: "/access/acl", handler: updateAcl },
  { method: "GET", path: "/access/domains", handler: listDomains },
  { method: "GET", path: "/access/domains/{realm}", handler: readDomain },
  ...userRoutes,
];
