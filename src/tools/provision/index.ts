import type { McpServer } from "@modelcontextprotocol/server";
import { defineTool, type ToolDeps } from "../../mcp/tool";
import { cloneVmTool } from "./clone";
import { createContainerTool, createVmTool } from "./create";
import { deleteTools } from "./delete";
import { migrateVmTool } from "./migrate";
import { resizeVmDiskTool } from "./resize";
import { updateContainerTool, updateVmTool } from "./update";

/**
 * Creating, changing and removing guests: create, delete, update, clone, migrate, resize.
 * Every tool checks what Proxmox would refuse (taken IDs, running guests, same-node migration,
 * shrinking disks, protection) before it sends anything.
 */

export function registerProvisionTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, createVmTool);
  defineTool(server, deps, createContainerTool);
  for (const spec of deleteTools) defineTool(server, deps, spec);
  defineTool(server, deps, updateVmTool);
  defineTool(server, deps, updateContainerTool);
  defineTool(server, deps, cloneVmTool);
  defineTool(server, deps, migrateVmTool);
  defineTool(server, deps, resizeVmDiskTool);
}
