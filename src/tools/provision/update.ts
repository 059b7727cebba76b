import { z } from "zod";
import { freeText, node, text, vmid } from "../../mcp/args";
import { auditedChange, type ChangeAnswer, changed, changeSchema, guestTarget } from "../../mcp/changes";
import {
  assertUnlocked,
  assertUnprotected,
  type GuestFacts,
  guestFacts,
  label,
  protectionRemoval,
} from "../../mcp/guest-state";
import { changes, type ToolDeps, ToolError, tool } from "../../mcp/tool";
import type { EndpointParams } from "../../proxmox/client";
import type { GuestType } from "../../proxmox/locate";
import { checkDeleteKeys } from "../../proxmox/options";
import { cores, extraArg, guestName, memory, swap, tagsArg } from "./args";
import { extraOptions } from "./options";

/** update_vm and update_container: config changes, checked against the schema and the guest's protection. */

export const updateArgs = {
  cores: cores.optional(),
  memory: memory.optional().describe("MiB."),
  description: freeText("description", { hint: "the notes shown in Proxmox", max: 8192 }).optional(),
  tags: tagsArg.optional(),
  onboot: z.boolean().optional(),
  delete: text("delete", { hint: "config keys to remove, comma list", max: 512 })
    .optional()
    .describe("Keys to remove, comma list."),
  extra: extraArg,
};

export const updateVmTool = tool({
  name: "update_vm",
  title: "Change VM settings",
  description:
    "Change a VM's config (cores, memory, name, tags, description, onboot, any option via extra; delete removes keys).",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    name: guestName("name").optional(),
    ...updateArgs,
  }),
  output: changeSchema.extend({ changed: z.array(z.string()) }),
  scope: "write",
  // Overwrites settings, and `delete` removes them.
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) => updateGuest(deps, "qemu", args),
});

export const updateContainerTool = tool({
  name: "update_container",
  title: "Change container settings",
  description:
    "Change a container's config (cores, memory, swap, hostname, tags, description, onboot, extra, delete).",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    hostname: guestName("hostname").optional(),
    swap: swap.optional().describe("MiB."),
    ...updateArgs,
  }),
  output: changeSchema.extend({ changed: z.array(z.string()) }),
  scope: "write",
  // Overwrites settings, and `delete` removes them.
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) => updateGuest(deps, "lxc", args),
});

export interface UpdateArgs {
  vmid: number;
  node?: string;
  name?: string;
  hostname?: string;
  cores?: number;
  memory?: number;
  swap?: number;
  description?: string;
  tags?: string;
  onboot?: boolean;
  delete?: string;
  extra?: string;
}

export async function updateGuest(
  deps: ToolDeps,
  type: GuestType,
  args: UpdateArgs,
): Promise<ChangeAnswer & { data: { changed: string[] } }> {
  const extra = extraOptions(deps, type, args.extra, [
    "vmid",
    "node",
    "digest",
    "delete",
    "revert",
    "skiplock",
  ]);
  const deleteProblem = args.delete ? checkDeleteKeys(type, args.delete) : null;
  if (deleteProblem) throw new ToolError(deleteProblem);
  const guest: GuestFacts = await guestFacts(deps, { vmid: args.vmid, node: args.node, type });
  assertUnlocked(guest);
  const changesWanted: Record<string, string | number | boolean | undefined> = {
    name: args.name,
    hostname: args.hostname,
    cores: args.cores,
    memory: args.memory === undefined ? undefined : type === "qemu" ? String(args.memory) : args.memory,
    swap: args.swap,
    description: args.description,
    tags: args.tags,
    onboot: args.onboot,
    ...extra,
  };
  const keys = Object.keys(changesWanted).filter((k) => changesWanted[k] !== undefined);
  if (keys.length === 0 && !args.delete)
    throw new ToolError("Nothing to change: give at least one setting, extra or delete.");
  const lifted = protectionRemoval(guest, changesWanted, args.delete?.split(/[,;\s]+/) ?? []);
  if (lifted) assertUnprotected(guest, lifted);
  const params = {
    ...changesWanted,
    node: guest.node,
    vmid: guest.vmid,
    delete: args.delete,
    // Refuse to overwrite a config someone else changed since we read it.
    digest: typeof guest.config.digest === "string" ? guest.config.digest : undefined,
  };
  await auditedChange(
    deps,
    { tool: `update_${type === "qemu" ? "vm" : "container"}`, target: label(guest), args: params },
    () =>
      type === "qemu"
        ? deps.client.call(
            "PUT /nodes/{node}/qemu/{vmid}/config",
            params as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/config">,
          )
        : deps.client.call(
            "PUT /nodes/{node}/lxc/{vmid}/config",
            params as EndpointParams<"PUT /nodes/{node}/lxc/{vmid}/config">,
          ),
  );
  const short = (value: unknown) => {
    const text = String(value ?? "(unset)");
    return text.length > 40 || text.includes("\n") ? undefined : text;
  };
  const summary = keys.map((k) => {
    const before = short(guest.config[k]);
    const after = short(changesWanted[k]);
    return before !== undefined && after !== undefined ? `${k} ${before} -> ${after}` : `${k} updated`;
  });
  if (args.delete) summary.push(`removed ${args.delete}`);
  let pendingNote = "";
  if (type === "qemu" && guest.status !== "stopped") {
    const pending = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/pending", {
      node: guest.node,
      vmid: guest.vmid,
    });
    const waiting = pending
      .filter((p) => p.pending !== undefined || p.delete !== undefined)
      .map((p) => p.key);
    if (waiting.length) pendingNote = ` Waiting for a reboot: ${waiting.join(", ")}.`;
  }
  const answer = changed(
    `Updated ${label(guest)}: ${summary.join(", ")}.${pendingNote}`,
    `Update ${label(guest)}`,
    guestTarget(guest),
  );
  return { ...answer, data: { ...answer.data, changed: keys } };
}
