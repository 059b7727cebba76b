import type { McpServer } from "@modelcontextprotocol/server";
import { defineTool, type ToolDeps } from "../../mcp/tool";
import { guestExecStatusTool, guestExecTool } from "./exec";
import { guestFileReadTool, guestFileWriteTool } from "./files";
import {
  guestFsfreezeTool,
  guestFstrimTool,
  guestGetTool,
  guestPingTool,
  guestPowerTool,
  guestSetUserPasswordTool,
} from "./info";

/**
 * The QEMU guest agent: commands, files and system information inside VMs. Exec results live in
 * the Session (the agent forgets them once read); every agent error is explained with what to do.
 */

export { needsShell, shellSplit } from "./shell";

export function registerGuestTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, guestExecTool);
  defineTool(server, deps, guestExecStatusTool);
  defineTool(server, deps, guestFileReadTool);
  defineTool(server, deps, guestFileWriteTool);
  defineTool(server, deps, guestGetTool);
  defineTool(server, deps, guestPingTool);
  defineTool(server, deps, guestSetUserPasswordTool);
  defineTool(server, deps, guestFsfreezeTool);
  defineTool(server, deps, guestFstrimTool);
  defineTool(server, deps, guestPowerTool);
}
