import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit, node, vmid } from "../mcp/args";
import { defineTool, READ_ONLY, type ToolDeps } from "../mcp/tool";
import { guestStatus, listGuests } from "./guest-list";
import { guestListOutput, guestStatusOutput } from "./guest-views";

export function registerContainerTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, {
    name: "get_containers",
    title: "List containers",
    description:
      "LXC containers with status, CPU, memory and uptime; the whole cluster unless `node` is given.",
    input: z.object({
      node: node.optional().describe("Only containers on this node."),
      status: z
        .enum(["running", "stopped", "template"])
        .optional()
        .describe("Only containers in this state."),
      tag: z.string().optional().describe("Only containers with this tag."),
      limit: limit(100),
    }),
    output: guestListOutput,
    annotations: READ_ONLY,
    handler: (args) => listGuests(deps, "lxc", args),
  });

  defineTool(server, deps, {
    name: "get_container",
    title: "Container status",
    description:
      "Live status of one LXC container: state, CPU, memory, root disk use, network and disk I/O, uptime, HA.",
    input: z.object({
      vmid: vmid,
      node: node.optional(),
    }),
    output: guestStatusOutput,
    annotations: READ_ONLY,
    handler: (args) => guestStatus(deps, "lxc", args),
  });
}
