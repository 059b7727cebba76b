import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit, node, tag, vmid } from "../mcp/args";
import { onGuest } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import { guestStatus, listGuests } from "./guest-list";
import { guestListOutput, guestStatusOutput } from "./guest-views";

const statusFilter = z.enum(["running", "stopped", "paused", "template"]).optional();

/** Config keys shown first; the rest follow alphabetically. */
const CONFIG_ORDER = [
  "name",
  "description",
  "tags",
  "ostype",
  "machine",
  "bios",
  "cpu",
  "sockets",
  "cores",
  "memory",
  "balloon",
  "agent",
  "boot",
  "onboot",
  "protection",
  "lock",
  "template",
];

const getVmsTool = tool({
  name: "get_vms",
  title: "List VMs",
  description: "VMs with status, CPU, memory, uptime; whole cluster unless node is given.",
  input: z.object({
    node: node.optional(),
    status: statusFilter,
    tag: tag.optional(),
    limit: limit(100),
  }),
  output: guestListOutput,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => (args) => listGuests(deps, "qemu", args),
});

const getVmTool = tool({
  name: "get_vm",
  title: "VM status",
  description: "Live status of one VM: state, CPU, memory, I/O, uptime, guest agent, HA.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
  }),
  output: guestStatusOutput,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => (args) => guestStatus(deps, "qemu", args),
});

const getVmConfigTool = tool({
  name: "get_vm_config",
  title: "VM configuration",
  description: "A VM's configuration, or (pending=true) changes waiting for a reboot.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    pending: z.boolean().default(false),
  }),
  output: z.object({
    vmid: z.number(),
    node: z.string(),
    digest: z.string().optional().describe("config digest, for safe updates"),
    config: z.record(z.string(), z.union([z.string(), z.number()])),
    pending: z
      .array(
        z.object({
          key: z.string(),
          value: z.unknown().optional(),
          pending: z.unknown().optional(),
          delete: z.number().optional(),
        }),
      )
      .optional(),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onGuest(deps, { vmid: args.vmid, node: args.node, type: "qemu" }, async (guest) => {
      const params = { node: guest.node, vmid: guest.vmid };
      if (args.pending) {
        const items = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/pending", params);
        const changes = items.filter((item) => item.pending !== undefined || item.delete !== undefined);
        const lines = changes.map((item) =>
          item.delete
            ? `${item.key}: delete (was ${String(item.value)})`
            : `${item.key}: ${String(item.value ?? "(unset)")} -> ${String(item.pending)}`,
        );
        return {
          text: changes.length
            ? [`VM ${guest.vmid} pending changes:`, ...lines].join("\n")
            : `VM ${guest.vmid} has no pending changes.`,
          data: {
            vmid: guest.vmid,
            node: guest.node,
            config: {},
            pending: changes.map((item) => ({
              key: item.key,
              value: item.value,
              pending: item.pending,
              delete: typeof item.delete === "number" ? item.delete : undefined,
            })),
          },
        };
      }
      const raw = (await deps.client.call("GET /nodes/{node}/qemu/{vmid}/config", params)) as Record<
        string,
        unknown
      >;
      const { digest, ...rest } = raw;
      const config: Record<string, string | number> = {};
      for (const [key, value] of Object.entries(rest)) {
        if (typeof value === "string" || typeof value === "number") config[key] = value;
        else if (typeof value === "boolean") config[key] = value ? 1 : 0;
      }
      return {
        text: [`VM ${guest.vmid} config (node ${guest.node}):`, ...configLines(config)].join("\n"),
        data: {
          vmid: guest.vmid,
          node: guest.node,
          digest: typeof digest === "string" ? digest : undefined,
          config,
        },
      };
    }),
});

export function registerVmTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getVmsTool);
  defineTool(server, deps, getVmTool);
  defineTool(server, deps, getVmConfigTool);
}

export function configLines(config: Record<string, string | number>): string[] {
  const keys = Object.keys(config).sort((a, b) => {
    const ia = CONFIG_ORDER.indexOf(a);
    const ib = CONFIG_ORDER.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b, "en", { numeric: true });
  });
  // Descriptions are URL-encoded comments in the config file and may span lines.
  return keys.map((key) => `${key}: ${String(config[key]).replace(/\n/g, " ")}`);
}
