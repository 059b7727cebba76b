import { assertUnprotected, type GuestFacts, guestFacts, label, protectionRemoval } from "../mcp/guest-state";
import { checkTool, type Scope } from "../mcp/surface";
import { type ToolDeps, ToolError } from "../mcp/tool";
import { hostOptionsIn, hostOptionsRefusal, type OptionContext } from "../proxmox/host-options";
import type { GuestType } from "../proxmox/locate";
import { parseUpid } from "../proxmox/upid";
import { type Operation, type ResolvedPath, resolvePath } from "./index";
import { assertReferencesAllowed, BACKUPS, referencesOf, volumeOwner } from "./references";
import type { HttpMethod } from "./schema";
import { nearestOperations } from "./search";
import { prepare, type WireParams } from "./validate";

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

/**
 * `.` and `..` in a path value would be previewed and audited as one path and sent as another
 * (`DELETE /nodes/pve1/tasks/..` is `DELETE /nodes/pve1` once a URL is normalised).
 */
function refuseDotSegments(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value.split("/").some((segment) => segment === "." || segment === ".."))
      throw new ToolError(
        `${name}: '${value}' has a '.' or '..' segment, which would change the path that is sent. Give the ${name} itself. Nothing was sent.`,
      );
    if (name === "upid" && !parseUpid(value))
      throw new ToolError(
        `upid: '${value.slice(0, 80)}' is not a Proxmox task ID (UPID:node:pid:pstart:starttime:type:id:user:). Nothing was sent. get_tasks lists them.`,
      );
  }
}

/** Which options an operation sends: a VM's, a container's, or a backup's; judged by one policy. */
function optionContext(op: Operation): OptionContext | undefined {
  if (op.method === "GET") return undefined;
  if (/^\/nodes\/\{node\}\/qemu(\/|$)/.test(op.path)) return "qemu";
  if (/^\/nodes\/\{node\}\/lxc(\/|$)/.test(op.path)) return "lxc";
  if (BACKUPS.test(op.path)) return "backup";
  return undefined;
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
  refuseDotSegments(resolved.values);
  if (op.class.denied) throw new ToolError(`${op.key} is never sent by this server: ${op.class.denied}.`);
  scopeRefusal(deps, op, op.class.scope as Scope, tool);
  const { wire, errors } = prepare(op, resolved.values, params);
  if (errors.length > 0) {
    throw new ToolError(
      `Invalid request for ${op.key}, nothing was sent:\n${errors.map((e) => `- ${e}`).join("\n")}\nsearch_api with path="${op.path}" shows every parameter.`,
    );
  }
  const context = optionContext(op);
  const hostOptions = context ? hostOptionsIn(context, wire) : [];
  if (hostOptions.length > 0 && !deps.allowHostOptions) throw new ToolError(hostOptionsRefusal(hostOptions));
  const concrete = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => String(wire[name]));
  return { op, wire, concrete };
}

/** What a change targets, checked against the allowlists and (for a guest) its protection. */
export interface Target {
  label: string;
  guest?: GuestFacts;
}

function deletedKeys(wire: WireParams): string[] {
  return typeof wire.delete === "string" ? wire.delete.split(/[,;\s]+/).filter(Boolean) : [];
}

/** What the curated tools refuse on a protected guest, as the same operations through the API. */
function destroys(op: Operation, wire: WireParams, guest: GuestFacts): string | undefined {
  const rest = op.path.replace(/^\/nodes\/\{node\}\/(qemu|lxc)\/\{vmid\}/, "");
  if (op.method === "DELETE" && rest === "") return "delete";
  if (rest === "/status/stop" || rest === "/status/reset") return "hard-stop";
  if (/^\/snapshot\/\{snapname\}\/rollback$/.test(rest)) return "roll back";
  if (rest === "/template") return "convert to a template";
  if (rest === "/unlink") return "delete disks of";
  if (rest === "/remote_migrate" && wire.delete === "1") return "move to another cluster and delete";
  if (rest === "/config" && op.method !== "GET") {
    const deleted = deletedKeys(wire);
    if (deleted.some((key) => /^unused\d+$/.test(key))) return "delete a disk of";
    return protectionRemoval(guest, wire, deleted);
  }
  return undefined;
}

export async function checkTarget(deps: ToolDeps, checked: Checked): Promise<Target> {
  const { op, wire } = checked;
  const refs = referencesOf(op, wire);
  assertReferencesAllowed(deps.policy, refs);
  const node = typeof wire.node === "string" ? wire.node : undefined;
  const guestPath = /^\/nodes\/\{node\}\/(qemu|lxc)\/\{vmid\}/.exec(op.path);
  if (guestPath && node && typeof wire.vmid === "string") {
    const guest = await guestFacts(deps, { vmid: Number(wire.vmid), node, type: guestPath[1] as GuestType });
    const action = destroys(op, wire, guest);
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
  // Deleting a volume destroys that guest's disk (or backup): the guest's protection covers it.
  if (op.method === "DELETE" && /\/content\/\{volume\}$/.test(op.path)) {
    const owner = volumeOwner(String(wire.volume), "optional");
    const guest =
      owner === undefined ? undefined : await guestFacts(deps, { vmid: owner }).catch(() => undefined);
    if (guest && !/backup/.test(String(wire.volume))) assertUnprotected(guest, "delete a disk of");
  }
  return { label: checked.concrete };
}
