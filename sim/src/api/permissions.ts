// Permission checks as pvedaemon runs them before validating parameters (pve-access-control
// RPCEnvironment check_api2_permissions / exec_api2_perm_check), driven by each endpoint's
// `permissions` from the official schema. The simulated API token holds every privilege on every
// path except the ones the `deniedPrivileges` setting takes away.

import type { PveEndpointSchema } from "../generated/api-schema";
import type { RawParams } from "./params";
import { PveError } from "./respond";

const permError = (what?: string) => new PveError(`Permission check failed${what ? ` (${what})` : ""}`, 403);

/** PVE::Tools::template_replace, then normalize_path (no double or trailing slashes). */
function pathOf(template: string, params: RawParams): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, k: string) => {
    const v = params[k];
    return v === undefined || v === null ? "" : String(v);
  });
  return path.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
}

/** Returns true when allowed; with noerr false, throws the 403 pvedaemon would. */
function run(
  check: readonly unknown[],
  params: RawParams,
  denied: ReadonlySet<string>,
  noerr: boolean,
): boolean {
  const [test, ...rest] = check;
  if (test === "and") {
    for (const sub of rest) run(sub as unknown[], params, denied, false);
    return true;
  }
  if (test === "or") {
    for (const sub of rest) if (run(sub as unknown[], params, denied, true)) return true;
    if (noerr) return false;
    throw permError();
  }
  if (test !== "perm") return true;
  const [template, privs, ...opts] = rest as [string, string[], ...unknown[]];
  const options: Record<string, unknown> = {};
  for (let i = 0; i + 1 < opts.length; i += 2) options[String(opts[i])] = opts[i + 1];
  const required = options.require_param;
  if (typeof required === "string" && (params[required] === undefined || params[required] === null)) {
    if (noerr) return false;
    throw permError();
  }
  const path = pathOf(template, params);
  if (options.any) {
    if (privs.some((p) => !denied.has(p))) return true;
    if (noerr) return false;
    throw permError(`${path}, ${privs.join("|")}`);
  }
  for (const p of privs) {
    if (denied.has(p)) {
      if (noerr) return false;
      throw permError(`${path}, ${p}`);
    }
  }
  return true;
}

/** check_api2_permissions for an API token (never root@pam itself). */
export function checkPermissions(
  schema: PveEndpointSchema,
  params: RawParams,
  denied: readonly string[],
  /** The release's check when it differs from the schema's (see state/version.ts). */
  perm = schema.permissions,
): void {
  if (!perm) throw permError("user != root@pam");
  if (perm.user === "all" || perm.user === "world") return;
  if (perm.check) run(perm.check, params, new Set(denied), false);
}
