import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { describe, node, vmid } from "../mcp/args";
import { compact, flag, timestamp } from "../mcp/format";
import { onGuest } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps } from "../mcp/tool";

const snapshotSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  snaptime: z.number().optional(),
  parent: z.string().optional(),
  vmstate: z.boolean().optional().describe("includes RAM"),
});

export function registerSnapshotTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, {
    name: "get_snapshots",
    title: "List snapshots",
    description:
      "List a VM's or container's snapshots, oldest first, with date, description, whether RAM was saved, and which " +
      "one the current state derives from.",
    input: z.object({
      vmid: vmid.describe(describe.vmid),
      node: node.optional().describe(describe.nodeOptional),
    }),
    output: z.object({
      vmid: z.number(),
      node: z.string(),
      type: z.enum(["qemu", "lxc"]),
      current: z.string().optional().describe("snapshot the running state derives from"),
      snapshots: z.array(snapshotSchema),
    }),
    annotations: READ_ONLY,
    handler: async (args) =>
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
}
