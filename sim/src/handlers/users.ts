// /access/users (with API tokens) and /access/groups (pve-access-control PVE/API2/User.pm,
// PVE/API2/Group.pm). All calls are synchronous; changes are written to user.cfg at once.

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { underLock } from "../api/locked";
import { checkPrivs } from "../api/permissions";
import { PveError, paramError } from "../api/respond";
import {
  type AccessConfig,
  accessConfig,
  newSecret,
  saveAccess,
  type TokenInfo,
  type UserEntry,
} from "../state/access";

/** AccessControl.pm lock_user_config: user.cfg is read, changed and written under the lock. */
export function lockedAccess<T>(ctx: Ctx, what: string, fn: (cfg: AccessConfig) => T): T {
  const cfg = structuredClone(accessConfig(ctx.store));
  const out = underLock(what, () => fn(cfg));
  saveAccess(ctx.store, cfg);
  return out;
}

function userOf(cfg: AccessConfig, userid: string): UserEntry {
  const u = cfg.users[userid];
  if (!u) throw new PveError(`no such user ('${userid}')`);
  return u;
}

function tokenOf(cfg: AccessConfig, userid: string, tokenid: string): TokenInfo {
  const t = userOf(cfg, userid).tokens[tokenid];
  if (!t) throw new PveError(`no such token '${tokenid}' for user '${userid}'`);
  return t;
}

const groupsOf = (cfg: AccessConfig, userid: string) =>
  Object.keys(cfg.groups)
    .filter((g) => cfg.groups[g]?.users.includes(userid))
    .sort();

function tokenView(t: TokenInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { privsep: t.privsep ? 1 : 0, expire: t.expire };
  if (t.comment !== undefined) out.comment = t.comment;
  return out;
}

function userData(u: UserEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { enable: u.enable ? 1 : 0, expire: u.expire };
  for (const k of ["firstname", "lastname", "email", "comment", "keys"] as const) {
    if (u[k] !== undefined) out[k] = u[k];
  }
  return out;
}

function listUsers(ctx: Ctx): Record<string, unknown>[] {
  const cfg = accessConfig(ctx.store);
  const perms = ctx.perms;
  const privs = ["User.Modify", "Sys.Audit"];
  const canAll = !perms || checkPrivs(perms, "/access/groups", privs, true, true);
  const visibleGroups = Object.keys(cfg.groups).filter(
    (g) => !perms || checkPrivs(perms, `/access/groups/${g}`, privs, true, true),
  );
  const out: Record<string, unknown>[] = [];
  for (const id of Object.keys(cfg.users).sort()) {
    const u = cfg.users[id] as UserEntry;
    const allowed = canAll || id === ctx.user || visibleGroups.some((g) => cfg.groups[g]?.users.includes(id));
    // User.pm compares with the authenticated id, so a token does not see its own user by that rule.
    if (!allowed) continue;
    if (ctx.has("enabled") && u.enable !== ctx.bool("enabled")) continue;
    const row = userData(u);
    if (ctx.bool("full")) {
      row.groups = groupsOf(cfg, id).join(",");
      row.tokens = Object.keys(u.tokens)
        .sort()
        .map((t) => ({ tokenid: t, ...tokenView(u.tokens[t] as TokenInfo) }));
    }
    const realm = id.slice(id.lastIndexOf("@") + 1);
    const type = cfg.realms.find((r) => r.realm === realm)?.type;
    if (type) row["realm-type"] = type;
    row.userid = id;
    out.push(row);
  }
  return out;
}

function readUser(ctx: Ctx): Record<string, unknown> {
  const cfg = accessConfig(ctx.store);
  const u = userOf(cfg, ctx.str("userid"));
  const out = userData(u);
  out.groups = groupsOf(cfg, u.userid);
  out.tokens = Object.fromEntries(Object.entries(u.tokens).map(([k, t]) => [k, tokenView(t)]));
  return out;
}

function setGroups(cfg: AccessConfig, userid: string, groups: string[], append: boolean): void {
  if (!append) for (const g of Object.values(cfg.groups)) g.users = g.users.filter((x) => x !== userid);
  for (const name of groups) {
    const g = cfg.groups[name];
    if (!g) throw new PveError(`no such group '${name}'`);
    if (!g.users.includes(userid)) g.users.push(userid);
  }
}

function createUser(ctx: Ctx): null {
  return lockedAccess(ctx, "create user failed", (cfg) => {
    const userid = ctx.str("userid");
    const realm = userid.slice(userid.lastIndexOf("@") + 1);
    if (cfg.users[userid]) throw new PveError(`user '${userid}' already exists`);
    if (!cfg.realms.some((r) => r.realm === realm)) throw new PveError(`no such realm '${realm}'`);
    const u: UserEntry = {
      userid,
      enable: ctx.has("enable") ? ctx.bool("enable") : true,
      expire: ctx.optInt("expire") ?? 0,
      tokens: {},
    };
    for (const k of ["firstname", "lastname", "email", "comment", "keys"] as const) {
      const v = ctx.optStr(k);
      if (v) u[k] = v;
    }
    cfg.users[userid] = u;
    if (ctx.has("groups")) setGroups(cfg, userid, splitList(ctx.str("groups")), true);
    return null;
  });
}

function updateUser(ctx: Ctx): null {
  return lockedAccess(ctx, "update user failed", (cfg) => {
    const u = userOf(cfg, ctx.str("userid"));
    if (ctx.has("enable")) u.enable = ctx.bool("enable");
    if (ctx.has("expire")) u.expire = ctx.int("expire");
    if (ctx.has("groups")) setGroups(cfg, u.userid, splitList(ctx.str("groups")), ctx.bool("append"));
    for (const k of ["firstname", "lastname", "email", "comment", "keys"] as const) {
      const v = ctx.optStr(k);
      if (v !== undefined) u[k] = v;
    }
    return null;
  });
}

function deleteUser(ctx: Ctx): null {
  return lockedAccess(ctx, "delete user failed", (cfg) => {
    const userid = ctx.str("userid");
    const u = userOf(cfg, userid);
    delete cfg.users[userid];
    for (const g of Object.values(cfg.groups)) g.users = g.users.filter((x) => x !== userid);
    const tokenIds = Object.keys(u.tokens).map((t) => `${userid}!${t}`);
    cfg.acl = cfg.acl.filter(
      (e) => !(e.type === "user" && e.ugid === userid) && !(e.type === "token" && tokenIds.includes(e.ugid)),
    );
    for (const id of tokenIds) delete cfg.secrets[id];
    return null;
  });
}

function listTokens(ctx: Ctx): Record<string, unknown>[] {
  const u = userOf(accessConfig(ctx.store), ctx.str("userid"));
  return Object.keys(u.tokens)
    .sort()
    .map((t) => ({ tokenid: t, ...tokenView(u.tokens[t] as TokenInfo) }));
}

function createToken(ctx: Ctx): Record<string, unknown> {
  const userid = ctx.str("userid");
  const tokenid = ctx.str("tokenid");
  const current = accessConfig(ctx.store);
  userOf(current, userid);
  if (current.users[userid]?.tokens[tokenid]) throw paramError({ tokenid: "Token already exists." });
  const full = `${userid}!${tokenid}`;
  const value = newSecret();
  const info = lockedAccess(ctx, "generating token failed", (cfg) => {
    const t: TokenInfo = {
      privsep: ctx.has("privsep") ? ctx.bool("privsep") : true,
      expire: ctx.optInt("expire") ?? 0,
    };
    const comment = ctx.optStr("comment");
    if (comment) t.comment = comment;
    userOf(cfg, userid).tokens[tokenid] = t;
    cfg.secrets[full] = value;
    return t;
  });
  // User.pm answers with the token as it built it (no `expire` unless given); this is the only
  // answer that ever carries the secret.
  const shown = tokenView(info);
  if (!ctx.has("expire")) delete shown.expire;
  return { info: shown, value, "full-tokenid": full };
}

function updateToken(ctx: Ctx): Record<string, unknown> {
  const userid = ctx.str("userid");
  const tokenid = ctx.str("tokenid");
  tokenOf(accessConfig(ctx.store), userid, tokenid);
  const full = `${userid}!${tokenid}`;
  const value = ctx.bool("regenerate") ? newSecret() : undefined;
  const t = lockedAccess(ctx, "updating token info failed", (cfg) => {
    const token = tokenOf(cfg, userid, tokenid);
    if (ctx.has("privsep")) token.privsep = ctx.bool("privsep");
    if (ctx.has("expire")) token.expire = ctx.int("expire");
    const comment = ctx.optStr("comment");
    if (comment !== undefined) token.comment = comment;
    if (!token.comment) delete token.comment;
    for (const k of ctx.has("delete") ? splitList(ctx.str("delete")) : []) {
      if (k !== "comment") throw paramError({ delete: `unknown option '${k}'` });
      delete token.comment;
    }
    if (value !== undefined) cfg.secrets[full] = value;
    return token;
  });
  const out = tokenView(t);
  if (value !== undefined) Object.assign(out, { value, "full-tokenid": full });
  return out;
}

function deleteToken(ctx: Ctx): null {
  const userid = ctx.str("userid");
  const tokenid = ctx.str("tokenid");
  tokenOf(accessConfig(ctx.store), userid, tokenid);
  return lockedAccess(ctx, "deleting token failed", (cfg) => {
    tokenOf(cfg, userid, tokenid);
    delete userOf(cfg, userid).tokens[tokenid];
    const full = `${userid}!${tokenid}`;
    delete cfg.secrets[full];
    cfg.acl = cfg.acl.filter((e) => !(e.type === "token" && e.ugid === full));
    return null;
  });
}

function listGroups(ctx: Ctx): Record<string, unknown>[] {
  const cfg = accessConfig(ctx.store);
  const privs = ["User.Modify", "Sys.Audit", "Group.Allocate"];
  return Object.keys(cfg.groups)
    .sort()
    .filter((g) => !ctx.perms || checkPrivs(ctx.perms, `/access/groups/${g}`, privs, true, true))
    .map((g) => {
      const d = cfg.groups[g] as AccessConfig["groups"][string];
      const row: Record<string, unknown> = { groupid: g, users: [...d.users].sort().join(",") };
      if (d.comment !== undefined) row.comment = d.comment;
      return row;
    });
}

function groupOf(cfg: AccessConfig, id: string) {
  const g = cfg.groups[id];
  if (!g) throw new PveError(`group '${id}' does not exist`);
  return g;
}

export const userRoutes: Route[] = [
  { method: "GET", path: "/access/users", handler: listUsers },
  { method: "POST", path: "/access/users", handler: createUser },
  { method: "GET", path: "/access/users/{userid}", handler: readUser },
  { method: "PUT", path: "/access/users/{userid}", handler: updateUser },
  { method: "DELETE", path: "/access/users/{userid}", handler: deleteUser },
  { method: "GET", path: "/access/users/{userid}/token", handler: listTokens },
  {
    method: "GET",
    path: "/access/users/{userid}/token/{tokenid}",
    handler: (ctx) => tokenView(tokenOf(accessConfig(ctx.store), ctx.str("userid"), ctx.str("tokenid"))),
  },
  { method: "POST", path: "/access/users/{userid}/token/{tokenid}", handler: createToken },
  { method: "PUT", path: "/access/users/{userid}/token/{tokenid}", handler: updateToken },
  { method: "DELETE", path: "/access/users/{userid}/token/{tokenid}", handler: deleteToken },
  { method: "GET", path: "/access/groups", handler: listGroups },
  {
    method: "POST",
    path: "/access/groups",
    handler: (ctx) =>
      lockedAccess(ctx, "create group failed", (cfg) => {
        const id = ctx.str("groupid");
        if (cfg.groups[id]) throw new PveError(`group '${id}' already exists`);
        cfg.groups[id] = { users: [] };
        const comment = ctx.optStr("comment");
        if (comment) (cfg.groups[id] as { comment?: string }).comment = comment;
        return null;
      }),
  },
  {
    method: "GET",
    path: "/access/groups/{groupid}",
    handler: (ctx) => {
      const g = groupOf(accessConfig(ctx.store), ctx.str("groupid"));
      const out: Record<string, unknown> = { members: [...g.users].sort() };
      if (g.comment !== undefined) out.comment = g.comment;
      return out;
    },
  },
  {
    method: "PUT",
    path: "/access/groups/{groupid}",
    handler: (ctx) =>
      lockedAccess(ctx, "update group failed", (cfg) => {
        const g = groupOf(cfg, ctx.str("groupid"));
        const comment = ctx.optStr("comment");
        if (comment !== undefined) g.comment = comment;
        return null;
      }),
  },
  {
    method: "DELETE",
    path: "/access/groups/{groupid}",
    handler: (ctx) =>
      lockedAccess(ctx, "delete group failed", (cfg) => {
        const id = ctx.str("groupid");
        groupOf(cfg, id);
        delete cfg.groups[id];
        // AccessControl.pm delete_group_acl: the group's ACL entries go with it.
        cfg.acl = cfg.acl.filter((e) => !(e.type === "group" && e.ugid === id));
        return null;
      }),
  },
];
