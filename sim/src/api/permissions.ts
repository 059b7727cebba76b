// Permission checks as pvedaemon runs them before validating parameters (pve-access-control
// RPCEnvironment check_api2_permissions / exec_api2_perm_check), driven by each endpoint's
// `permissions` from the official schema. The caller's privileges come from the ACL (acl.ts); the
// simulator's own token holds every privilege, less the `deniedPrivileges` setting.

import type { PveEndpointSchema } from "../generated/api-schema";
import type { Permissions } from "./acl";
import { splitList } from "./formats";
import type { RawParams } from "./params";
import { PveError } from "./respond";

export const permError = (what?: string) =>
  new PveError(`Permission check failed${what ? ` (${what})` : ""}`, 403);

/** PVE::Tools::template_replace, then normalize_path (no double or trailing slashes). */
function pathOf(template: string, params: RawParams): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, k: string) => {
    const v = params[k];
    return v === undefined || v === null ? "" : String(v);
  });
  return path.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
}

/** check / check_any: true when allowed; with noerr false, throws the 403 pvedaemon would. */
export function checkPrivs(
  perms: Permissions,
  path: string,
  privs: readonly string[],
  any: boolean,
  noerr: boolean,
): boolean {
  const held = perms.privs(path);
  if (any) {
    if (privs.some((p) => held.has(p))) return true;
    if (noerr) return false;
    throw permError(`${path}, ${privs.join("|")}`);
  }
  for (const p of privs) {
    if (!held.has(p)) {
      if (noerr) return false;
      throw permError(`${path}, ${p}`);
    }
  }
  return true;
}

/** RPCEnvironment check_perm_modify: who may hand out roles on a path. */
export function checkPermModify(perms: Permissions, path: string, noerr: boolean): boolean {
  const privs = ["Permissions.Modify"];
  if (/^\/storage\/.+$/.test(path)) privs.push("Datastore.Allocate");
  else if (/^\/vms\/.+$/.test(path)) privs.push("VM.Allocate");
  else if (/^\/pool\/.+$/.test(path)) privs.push("Pool.Allocate");
  return checkPrivs(perms, path, privs, true, noerr);
}

/** Groups the caller holds any of `privs` on (RPCEnvironment filter_groups). */
function filterGroups(perms: Permissions, privs: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const g of Object.keys(perms.config.groups)) {
    if (checkPrivs(perms, `/access/groups/${g}`, privs, true, true)) out.add(g);
  }
  return out;
}

function userExists(perms: Permissions, userid: string, noerr: boolean): boolean {
  if (perms.config.users[userid]) return true;
  if (noerr) return false;
  throw new PveError(`no such user ('${userid}')`);
}

function run(check: readonly unknown[], params: RawParams, perms: Permissions, noerr: boolean): boolean {
  const [test, ...rest] = check;
  if (test === "and") {
    for (const sub of rest) run(sub as unknown[], params, perms, false);
    return true;
  }
  if (test === "or") {
    for (const sub of rest) if (run(sub as unknown[], params, perms, true)) return true;
    if (noerr) return false;
    throw permError();
  }
  if (test === "perm") {
    const [template, privs, ...opts] = rest as [string, string[], ...unknown[]];
    const options: Record<string, unknown> = {};
    for (let i = 0; i + 1 < opts.length; i += 2) options[String(opts[i])] = opts[i + 1];
    const required = options.require_param;
    if (typeof required === "string" && (params[required] === undefined || params[required] === null)) {
      if (noerr) return false;
      throw permError();
    }
    return checkPrivs(perms, pathOf(template, params), privs, Boolean(options.any), noerr);
  }
  if (test === "perm-modify") {
    return checkPermModify(perms, pathOf(rest[0] as string, params), noerr);
  }
  const userid = String(params.userid ?? "");
  if (test === "userid-param") {
    if (rest[0] === "self") {
      if (!userExists(perms, userid, noerr)) return false;
      if (perms.authid === userid) return true;
      if (noerr) return false;
      throw permError();
    }
    const realm = userid.slice(userid.lastIndexOf("@") + 1);
    return checkPrivs(perms, `/access/realm/${realm}`, ["Realm.AllocateUser"], false, noerr);
  }
  if (test === "userid-group") {
    const [privs, ...opts] = rest as [string[], ...unknown[]];
    const options: Record<string, unknown> = {};
    for (let i = 0; i + 1 < opts.length; i += 2) options[String(opts[i])] = opts[i + 1];
    const checkExisting = options.groups_param !== "create";
    if (checkExisting && !userExists(perms, userid, noerr)) return false;
    if (checkPrivs(perms, "/access/groups", privs, true, true)) return true;
    const groups = filterGroups(perms, privs);
    if (options.groups_param) {
      const wanted = splitList(String(params.groups ?? ""));
      if (wanted.length === 0) throw permError(`/access/groups, ${privs.join("|")}`);
      for (const g of wanted) if (!groups.has(g)) throw permError(`/access/groups/${g}, ${privs.join("|")}`);
    }
    if (checkExisting) {
      const allowed = [...groups].some((g) => perms.config.groups[g]?.users.includes(userid));
      if (!allowed) {
        if (noerr) return false;
        throw permError();
      }
    }
    return true;
  }
  throw new PveError("unknown permission test");
}

/** check_api2_permissions for an API token (never root@pam itself). */
export function checkPermissions(
  schema: PveEndpointSchema,
  params: RawParams,
  perms: Permissions,
  /** The release's check when it differs from the schema's (see state/version.ts). */
  perm = schema.permissions,
): void {
  if (!perm) throw permError("user != root@pam");
  if (perm.user === "all" || perm.user === "world") return;
  if (perm.check) run(perm.check, params, perms, false);
  else throw permError();
}
