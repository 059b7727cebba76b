import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { freeText, node, text, vmid } from "../mcp/args";
import { changeSchema, confirmArg, guestTarget, preview, runTask, waitArgs } from "../mcp/changes";
import { compact, flag, timestamp } from "../mcp/format";
import { assertUnlocked, assertUnprotected, type GuestFacts, guestFacts, label } from "../mcp/guest-state";
import { onGuest } from "../mcp/guests";
import { changes, defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";

const snapshotSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  snaptime: z.number().optional(),
  parent: z.string().optional(),
  vmstate: z.boolean().optional().describe("includes RAM"),
});

const getSnapshotsTool = tool({
  name: "get_snapshots",
  title: "List snapshots",
  description: "A VM's or container's snapshots, oldest first, and which one the current state derives from.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
  }),
  output: z.object({
    vmid: z.number(),
    node: z.string(),
    type: z.enum(["qemu", "lxc"]),
    current: z.string().optional().describe("snapshot the running state derives from"),
    snapshots: z.array(snapshotSchema),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onGuest(deps, { vmid: args.vmid, node: args.node }, async (guest) => {
      const params = { node: guest.node, vmid: guest.vmid };
      const items =
        guest.type === "qemu"
          ? await deps.client.call("GET /nodes/{node}/qemu/{vmid}/snapshot", params)
          : await deps.client.call("GET /nodes/{node}/lxc/{vmid}/snapshot", params);
      // Proxmox lists a pseudo-snapshot "current" whose parent is the snapshot in use.
      const current = items.find((item) => item.name === "current")?.parent;
      const snapshots = items
        .filter((item) => item.name !== "current")
        .map((item) =>
          compact({
            name: item.name,
            description: item.description?.trim() || undefined,
            snaptime: item.snaptime,
            parent: item.parent,
            vmstate: flag(item.vmstate) || undefined,
          }),
        )
        .sort((a, b) => (a.snaptime ?? 0) - (b.snaptime ?? 0));
      const noun = guest.type === "qemu" ? "VM" : "Container";
      const lines = snapshots.map(
        (s) =>
          `${s.name}: ${timestamp(s.snaptime)}${s.vmstate ? ", with RAM" : ""}${s.parent ? `, parent ${s.parent}` : ""}` +
          `${s.name === current ? " (current state derives from it)" : ""}${s.description ? ` "${s.description.replace(/\n/g, " ")}"` : ""}`,
      );
      const header = snapshots.length
        ? `${noun} ${guest.vmid} on ${guest.node}: ${snapshots.length} snapshot${snapshots.length === 1 ? "" : "s"}`
        : `${noun} ${guest.vmid} on ${guest.node} has no snapshots.`;
      return {
        text: [header, ...lines].join("\n"),
        data: compact({ vmid: guest.vmid, node: guest.node, type: guest.type, current, snapshots }),
      };
    }),
});

export function registerSnapshotTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getSnapshotsTool);
}

// pve-configid-like: a letter, then letters, digits, '-' and '_' (PVE::AbstractConfig snapshot names).
// pve-configid with the 40-character limit qemu-server and pve-container give snapshot names.
const snapname = text("snapname", {
  hint: "a snapshot name such as before-upgrade",
  max: 40,
  check: (value) =>
    /^[a-zA-Z][a-zA-Z0-9_-]*$/.test(value)
      ? null
      : "snapname must start with a letter and use only letters, digits, '-' and '_'",
});

async function snapshotsOf(deps: ToolDeps, guest: GuestFacts) {
  const params = { node: guest.node, vmid: guest.vmid };
  const items =
    guest.type === "qemu"
      ? await deps.client.call("GET /nodes/{node}/qemu/{vmid}/snapshot", params)
      : await deps.client.call("GET /nodes/{node}/lxc/{vmid}/snapshot", params);
  return items.filter((item) => item.name !== "current");
}

/** The named snapshot, or an error that lists the ones the guest has. */
async function snapshotNamed(deps: ToolDeps, guest: GuestFacts, name: string) {
  const existing = await snapshotsOf(deps, guest);
  const snap = existing.find((s) => s.name === name);
  if (snap) return snap;
  const names = existing.map((s) => s.name);
  throw new ToolError(
    `${label(guest)} has no snapshot '${name}'. ${names.length ? `Its snapshots: ${names.join(", ")}.` : "It has no snapshots."}`,
  );
}

const createSnapshotTool = tool({
  name: "create_snapshot",
  title: "Create snapshot",
  description: "Snapshot a VM or container; vmstate=true (VMs) also saves RAM.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    snapname: snapname,
    description: freeText("description", { hint: "what the snapshot is for", max: 8192 }).optional(),
    vmstate: z.boolean().default(false).describe("VMs only: include RAM."),
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node });
    assertUnlocked(guest);
    if (guest.template)
      throw new ToolError(`${label(guest)} is a template; templates cannot have snapshots.`);
    if (args.vmstate && guest.type === "lxc")
      throw new ToolError("vmstate (saving RAM) exists only for VMs.");
    const existing = await snapshotsOf(deps, guest);
    if (existing.some((s) => s.name === args.snapname)) {
      throw new ToolError(
        `${label(guest)} already has a snapshot '${args.snapname}'. Pick another name or delete that one first.`,
      );
    }
    const params = {
      node: guest.node,
      vmid: guest.vmid,
      snapname: args.snapname,
      description: args.description,
    };
    return runTask(deps, ctx, {
      tool: "create_snapshot",
      target: label(guest),
      subject: guestTarget(guest),
      args: {
        vmid: guest.vmid,
        node: guest.node,
        snapname: args.snapname,
        vmstate: args.vmstate || undefined,
      },
      action: `Snapshot '${args.snapname}' of ${label(guest)}${args.vmstate ? " with RAM" : ""}`,
      start: () =>
        guest.type === "qemu"
          ? deps.client.call("POST /nodes/{node}/qemu/{vmid}/snapshot", {
              ...params,
              vmstate: args.vmstate || undefined,
            })
          : deps.client.call("POST /nodes/{node}/lxc/{vmid}/snapshot", params),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

const deleteSnapshotTool = tool({
  name: "delete_snapshot",
  title: "Delete snapshot",
  description: "Delete one snapshot. Needs confirm.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    snapname: snapname,
    confirm: confirmArg,
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args, ctx) => {
    const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node });
    assertUnlocked(guest);
    const snap = await snapshotNamed(deps, guest, args.snapname);
    if (!args.confirm) {
      return preview(
        "delete_snapshot",
        `This deletes snapshot '${snap.name}' of ${label(guest)} (taken ${timestamp(snap.snaptime)}${flag(snap.vmstate) ? ", with RAM" : ""}); it cannot be rolled back to afterwards.`,
        guestTarget(guest),
      );
    }
    const params = { node: guest.node, vmid: guest.vmid, snapname: args.snapname };
    return runTask(deps, ctx, {
      tool: "delete_snapshot",
      target: label(guest),
      subject: guestTarget(guest),
      args: { vmid: guest.vmid, node: guest.node, snapname: args.snapname },
      action: `Delete snapshot '${args.snapname}' of ${label(guest)}`,
      start: () =>
        guest.type === "qemu"
          ? deps.client.call("DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}", params)
          : deps.client.call("DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}", params),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

const rollbackSnapshotTool = tool({
  name: "rollback_snapshot",
  title: "Roll back to snapshot",
  description: "Return a guest to a snapshot, losing everything since. Needs confirm.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    snapname: snapname,
    start: z.boolean().default(false).describe("VMs only: start after the rollback."),
    confirm: confirmArg,
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: true, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node });
    assertUnlocked(guest);
    assertUnprotected(guest, "roll back");
    const snap = await snapshotNamed(deps, guest, args.snapname);
    if (!args.confirm) {
      return preview(
        "rollback_snapshot",
        `This returns ${label(guest)} (now ${guest.status}) to snapshot '${snap.name}' from ${timestamp(snap.snaptime)}; ` +
          `every change since then is lost${flag(snap.vmstate) ? ", and it resumes running from the saved RAM" : ""}.`,
        guestTarget(guest),
      );
    }
    const params = { node: guest.node, vmid: guest.vmid, snapname: args.snapname };
    return runTask(deps, ctx, {
      tool: "rollback_snapshot",
      target: label(guest),
      subject: guestTarget(guest),
      args: { vmid: guest.vmid, node: guest.node, snapname: args.snapname, start: args.start || undefined },
      action: `Roll ${label(guest)} back to '${args.snapname}'`,
      start: () =>
        guest.type === "qemu"
          ? deps.client.call("POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback", {
              ...params,
              start: args.start || undefined,
            })
          : deps.client.call("POST /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback", params),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

export function registerSnapshotChangeTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, createSnapshotTool);
  defineTool(server, deps, deleteSnapshotTool);
  defineTool(server, deps, rollbackSnapshotTool);
}
