import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit, node, tag, vmid } from "../mcp/args";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import { guestStatus, listGuests } from "./guest-list";
import { guestListOutput, guestStatusOutput } from "./guest-views";

const getContainersTool = tool({
  name: "get_containers",
  title: "List containers",
  description: "Containers with status, CPU, memory, uptime; whole cluster unless node is given.",
  input: z.object({
    node: node.optional(),
    status: z.enum(["running", "stopped", "template"]).optional(),
    tag: tag.optional(),
    limit: limit(100),
  }),
  output: guestListOutput,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => (args) => listGuests(deps, "lxc", args),
});

const getContainerTool = tool({
  name: "get_container",
  title: "Container status",
  description: "Live status of one container: state, CPU, memory, disk, I/O, uptime.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
  }),
  output: guestStatusOutput,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => (args) => guestStatus(deps, "lxc", args),
});

export function registerContainerTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getContainersTool);
  defineTool(server, deps, getContainerTool);
}
