// Access control state as pve-access-control keeps it in /etc/pve/user.cfg (users, groups,
// custom roles, ACL, tokens) and /etc/pve/domains.cfg, plus the token secrets of
// /etc/pve/priv/token.cfg, which no API answer ever contains.

import type { ConfigFile } from "./model";
import { Rng } from "./random";
import type { Store } from "./store";

export const ACCESS_FILE = "user.cfg";

export interface TokenInfo {
  privsep: boolean;
  /** Epoch seconds, 0 = never. */
  expire: number;
  comment?: string;
}

export interface UserEntry {
  userid: string;
  enable: boolean;
  expire: number;
  firstname?: string;
  lastname?: string;
  email?: string;
  comment?: string;
  keys?: string;
  tokens: Record<string, TokenInfo>;
}

export interface GroupEntry {
  comment?: string;
  users: string[];
}

export type AclType = "user" | "group" | "token";

export interface AclEntry {
  path: string;
  type: AclType;
  ugid: string;
  roleid: string;
  propagate: boolean;
}

export interface RealmEntry {
  realm: string;
  type: string;
  comment?: string;
  default?: boolean;
}

export interface AccessConfig {
  users: Record<string, UserEntry>;
  groups: Record<string, GroupEntry>;
  /** Custom roles only; the built-in ones are computed (they are never written to user.cfg). */
  roles: Record<string, string[]>;
  acl: AclEntry[];
  realms: RealmEntry[];
  /** Full token id → secret (priv/token.cfg). */
  secrets: Record<string, string>;
}

// pve-access-control AccessControl.pm $privgroups: roles are built from these categories.
const PRIVGROUPS: Record<string, { root: string[]; admin: string[]; user: string[]; audit: string[] }> = {
  VM: {
    root: [],
    admin: [
      "VM.Config.Disk",
      "VM.Config.CPU",
      "VM.Config.Memory",
      "VM.Config.Network",
      "VM.Config.HWType",
      "VM.Config.Options",
      "VM.Allocate",
      "VM.Clone",
      "VM.GuestAgent.Unrestricted",
      "VM.Migrate",
      "VM.Replicate",
      "VM.Snapshot",
      "VM.Snapshot.Rollback",
    ],
    user: [
      "VM.Config.CDROM",
      "VM.Config.Cloudinit",
      "VM.Console",
      "VM.Backup",
      "VM.GuestAgent.FileRead",
      "VM.GuestAgent.FileSystemMgmt",
      "VM.GuestAgent.FileWrite",
      "VM.PowerMgmt",
    ],
    audit: ["VM.Audit", "VM.GuestAgent.Audit"],
  },
  Sys: {
    root: ["Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"],
    admin: ["Sys.Console", "Sys.Syslog"],
    user: [],
    audit: ["Sys.Audit"],
  },
  Datastore: {
    root: [],
    admin: ["Datastore.Allocate", "Datastore.AllocateTemplate"],
    user: ["Datastore.AllocateSpace"],
    audit: ["Datastore.Audit"],
  },
  SDN: { root: [], admin: ["SDN.Allocate", "SDN.Audit"], user: ["SDN.Use"], audit: ["SDN.Audit"] },
  User: {
    root: ["Realm.Allocate"],
    admin: ["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
    user: [],
    audit: [],
  },
  Pool: { root: [], admin: ["Pool.Allocate"], user: ["Pool.Audit"], audit: ["Pool.Audit"] },
  Mapping: { root: [], admin: ["Mapping.Modify"], user: ["Mapping.Use"], audit: ["Mapping.Audit"] },
};

function builtinRoles(): Record<string, string[]> {
  const valid = new Set(["Permissions.Modify"]);
  const roles: Record<string, Set<string>> = {};
  const add = (role: string, priv: string) => {
    roles[role] ??= new Set();
    roles[role].add(priv);
  };
  for (const [cat, g] of Object.entries(PRIVGROUPS)) {
    for (const p of [...g.root, ...g.admin, ...g.user, ...g.audit]) valid.add(p);
    for (const p of [...g.admin, ...g.user, ...g.audit]) {
      add(`PVE${cat}Admin`, p);
      add("PVEAdmin", p);
    }
    if (g.user.length) for (const p of [...g.user, ...g.audit]) add(`PVE${cat}User`, p);
    for (const p of g.audit) add("PVEAuditor", p);
  }
  roles.PVEAdmin?.delete("Mapping.Modify");
  const out: Record<string, string[]> = { NoAccess: [], Administrator: [...valid].sort() };
  for (const [r, privs] of Object.entries(roles)) out[r] = [...privs].sort();
  out.PVETemplateUser = ["VM.Audit", "VM.Clone"];
  return out;
}

/** The built-in ("special") roles: read-only, `special: 1` in the role index. */
export const BUILTIN_ROLES: Readonly<Record<string, readonly string[]>> = builtinRoles();
/** Every valid privilege name (the Administrator role holds them all). */
export const ALL_PRIVILEGES: readonly string[] = BUILTIN_ROLES.Administrator as string[];

export function accessConfig(store: Store): AccessConfig {
  return store.config<AccessConfig>(ACCESS_FILE, emptyAccess);
}

export function saveAccess(store: Store, cfg: AccessConfig): void {
  store.putConfig(ACCESS_FILE, cfg);
}

function emptyAccess(): AccessConfig {
  return {
    users: {},
    groups: {},
    roles: {},
    acl: [],
    realms: [],
    secrets: {},
  };
}

export function roleExists(cfg: AccessConfig, role: string): boolean {
  return role in BUILTIN_ROLES || role in cfg.roles;
}

export function rolePrivs(cfg: AccessConfig, role: string): readonly string[] {
  return BUILTIN_ROLES[role] ?? cfg.roles[role] ?? [];
}

/** `user@realm!name` → [user@realm, name]. */
export function splitTokenId(tokenid: string): [string, string] | null {
  const m = /^(.+)!([A-Za-z][A-Za-z0-9.\-_]+)$/.exec(tokenid);
  return m ? [m[1] as string, m[2] as string] : null;
}

/** PVE::TokenConfig::generate_token: a random UUID as the secret. */
export function newSecret(): string {
  return crypto.randomUUID();
}

/** The seeded user.cfg: root, an admin in a group, and a CI user with a privilege-separated token. */
export function seedAccess(opts: { nodes: number; guests?: number }, t0: number): ConfigFile {
  const rng = new Rng(0xacc355);
  const uuid = () =>
    `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-${"89ab"[rng.int(0, 3)]}${rng.hex(3)}-${rng.hex(12)}`;
  const cfg = emptyAccess();
  cfg.realms = [
    { realm: "pam", type: "pam", comment: "Linux PAM standard authentication" },
    { realm: "pve", type: "pve", comment: "Proxmox VE authentication server", default: true },
  ];
  const user = (userid: string, extra: Partial<UserEntry> = {}): UserEntry => {
    const u: UserEntry = { userid, enable: true, expire: 0, tokens: {}, ...extra };
    cfg.users[userid] = u;
    return u;
  };
  user("root@pam", {
    email: "root@homelab.lan",
    tokens: { mcp: { privsep: false, expire: 0, comment: "MCP server" } },
  });
  user("alice@pve", { firstname: "Alice", lastname: "Admin", email: "alice@homelab.lan" });
  const ci = user("ci@pve", { comment: "Automation", email: "ci@homelab.lan" });
  ci.tokens.deploy = {
    privsep: true,
    expire: Math.floor(t0 / 1000) + 365 * 86400,
    comment: "lab deployments",
  };
  cfg.secrets["ci@pve!deploy"] = uuid();
  cfg.groups.admins = { comment: "Cluster administrators", users: ["alice@pve"] };
  cfg.groups.operators = { comment: "Day-to-day operations", users: ["ci@pve"] };
  cfg.roles.LabOperator = ["VM.Audit", "VM.Console", "VM.PowerMgmt", "VM.Snapshot"];
  cfg.acl.push(
    { path: "/", type: "group", ugid: "admins", roleid: "Administrator", propagate: true },
    { path: "/", type: "user", ugid: "ci@pve", roleid: "PVEAuditor", propagate: true },
    { path: "/pool/lab", type: "group", ugid: "operators", roleid: "PVEVMAdmin", propagate: true },
    { path: "/pool/lab", type: "token", ugid: "ci@pve!deploy", roleid: "LabOperator", propagate: true },
  );
  // At scale, one more operator per further node keeps the ACL tree proportional.
  for (let i = 4; i <= opts.nodes; i++) {
    const id = `ops${i}@pve`;
    user(id, { comment: `Operator for pve${i}` });
    cfg.groups.operators.users.push(id);
    cfg.acl.push({ path: `/nodes/pve${i}`, type: "user", ugid: id, roleid: "PVEAuditor", propagate: true });
  }
  return { name: ACCESS_FILE, data: cfg };
}

/**
 * AccessControl.pm verify_token: the user must exist, be enabled and not expired, the token must
 * exist and not be expired; then the secret is compared. Undefined = refuse.
 */
export function tokenSecret(store: Store, tokenid: string, nowSec: number): string | undefined {
  const split = splitTokenId(tokenid);
  if (!split) return undefined;
  const cfg = accessConfig(store);
  const user = cfg.users[split[0]];
  if (!user?.enable || (user.expire && user.expire < nowSec)) return undefined;
  const token = user.tokens[split[1]];
  if (!token || (token.expire && token.expire < nowSec)) return undefined;
  return cfg.secrets[tokenid];
}
