import { assertAllowed } from "../mcp/changes";
import { checkTool, type Scope } from "../mcp/surface";
import { type ToolDeps, ToolError } from "../mcp/tool";
import type { GuestType } from "../proxmox/locate";
import { assertUnprotected, type GuestFacts, guestFacts, label } from "../tools/guest-state";
import { type Operation, type ResolvedPath, resolvePath } from "./index";
import type { HttpMethod } from "./schema";
import { nearestOperations } from "./search";
import { hostOptionsAllowed, hostOptionsIn, prepare, type WireParams } from "./validate";

/**
 * Everything read_api and write_api check before a request leaves: the operation exists, it is
 * not denied, this connection has its scope, the parameters are valid, no host-level option
 * slips through, and (for changes) the allowlists and the guest's protection.
 */

export interface Checked {
  op: Operation;
  /** Path parameters and parameters as they will be sent. */
  wire: WireParams;
  /** The concrete path, e.g. /nodes/pve1/qemu/101/snapshot. */
  concrete: string;
}

function unknownPath(method: HttpMethod, path: string, tool: string): never {
  const other = (["GET", "POST", "PUT", "DELETE"] as const).filter(
    (m) => m !== method && resolvePath(m, path),
  );
  const near = nearestOperations(method, path, 5).map((op) => op.key);
  const hint = other.length
    ? ` The path exists for ${other.join(", ")}${other.includes("GET") && tool === "write_api" ? " (read it with read_api)" : other.length && tool === "read_api" ? " (change it with write_api)" : ""}.`
    : "";
  throw new ToolError(
    `${method} ${path} is not an operation of the Proxmox VE API.${hint} Nearest operations: ${near.join("; ")}. search_api finds operations by words.`,
  );
}

function scopeRefusal(deps: ToolDeps, op: Operation, scope: Scope, tool: string): void {
  const unavailable = checkTool(deps.surface, tool, scope);
  if (!unavailable && deps.surface.scopes.has(scope)) return;
  const why =
    unavailable?.reason === "read-only" || deps.surface.readOnly
      ? "this server grants it to no one: it runs read-only (PVE_READ_ONLY=true)"
      : "this connection was not granted it. Sign in again and allow it on the consent page";
  throw new ToolError(`${op.key} needs the ${scope} scope, and ${why}.`);
}

export function checkRequest(
  deps: ToolDeps,
  tool: "read_api" | "write_api",
  method: HttpMethod,
  path: string,
  params: Record<string, unknown>,
): Checked {
  const resolved: ResolvedPath | undefined = resolvePath(method, path);
  if (!resolved) unknownPath(method, path, tool);
  const { op } = resolved;
  if (op.class.denied) throw new ToolError(`${op.key} is never sent by this server: ${op.class.denied}.`);
  scopeRefusal(deps, op, op.class.scope as Scope, tool);
  const { wire, errors } = prepare(op, resolved.values, params);
  if (errors.length > 0) {
    throw new ToolError(
      `Invalid request for ${op.key}, nothing was sent:\n${errors.map((e) => `- ${e}`).join("\n")}\nsearch_api with path="${op.path}" shows every parameter.`,
    );
  }
  const hostOptions = hostOptionsIn(op, wire);
  if (hostOptions.length > 0 && !hostOptionsAllowed(deps.upstream)) {
    throw new ToolError(
      `${hostOptions.join(", ")} ${hostOptions.length === 1 ? "is a host-level option" : "are host-level options"} (raw QEMU arguments, hook scripts, host device passthrough), which this server does not set unless its owner sets PVE_ALLOW_HOST_OPTIONS=true. Nothing was sent.`,
    );
  }
  const concrete = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => String(wire[name]));
  return { op, wire, concrete };
}

/**
 * vmids a request names: in the path, or as vmid/newid (vzdump takes a list) or vms (bulk guest
 * actions) in its parameters.
 */
function vmidsOf(wire: WireParams): number[] {
  const out: number[] = [];
  for (const key of ["vmid", "newid", "vms"]) {
    const value = wire[key];
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : value.split(/[,;\s]+/)) {
      if (/^\d+$/.test(v)) out.push(Number(v));
    }
  }
  return out;
}

/** What a change targets, checked against the allowlists and (for a guest) its protection. */
export interface Target {
  label: string;
  guest?: GuestFacts;
}

/** Operations that the curated tools refuse on a protected guest, and their equivalents. */
function destroys(op: Operation, wire: WireParams): string | undefined {
  const rest = op.path.replace(/^\/nodes\/\{node\}\/(qemu|lxc)\/\{vmid\}/, "");
  if (op.method === "DELETE" && rest === "") return "delete";
  if (rest === "/status/stop" || rest === "/status/reset") return "hard-stop";
  if (/^\/snapshot\/\{snapname\}\/rollback$/.test(rest)) return "roll back";
  if (rest === "/template") return "convert to a template";
  if (rest === "/config" && op.method !== "GET") {
    const deleted = typeof wire.delete === "string" ? wire.delete.split(/[,;\s]+/) : [];
    if (wire.protection === "0" || deleted.includes("protection")) return "remove protection from";
  }
  return undefined;
}

export async function checkTarget(deps: ToolDeps, checked: Checked): Promise<Target> {
  const { op, wire } = checked;
  const node = typeof wire.node === "string" ? wire.node : undefined;
  const target =
    typeof wire.target === "string" && op.params.target?.format === "pve-node" ? wire.target : undefined;
  for (const vmid of vmidsOf(wire)) assertAllowed(deps.policy, { vmid });
  if (node) assertAllowed(deps.policy, { node });
  if (target) assertAllowed(deps.policy, { node: target });
  const guestPath = /^\/nodes\/\{node\}\/(qemu|lxc)\/\{vmid\}/.exec(op.path);
  if (guestPath && node && typeof wire.vmid === "string") {
    const guest = await guestFacts(deps, { vmid: Number(wire.vmid), node, type: guestPath[1] as GuestType });
    const action = destroys(op, wire);
    if (action) assertUnprotected(guest, action);
    return { label: `${label(guest)} on ${guest.node} (${guest.status})`, guest };
  }
  // Restoring over an existing guest (force=1) replaces it.
  if (
    /^\/nodes\/\{node\}\/(qemu|lxc)$/.test(op.path) &&
    wire.force === "1" &&
    typeof wire.vmid === "string"
  ) {
    const guest = await guestFacts(deps, { vmid: Number(wire.vmid) }).catch(() => undefined);
    if (guest) assertUnprotected(guest, "overwrite");
  }
  return { label: checked.concrete };
}
