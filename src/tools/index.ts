import type { McpServer } from "@modelcontextprotocol/server";
import type { ToolDeps } from "../mcp/tool";
import { registerApiTools } from "./api";
import { registerAuditTools } from "./audit";
import { registerBackupChangeTools, registerBackupTools } from "./backups";
import { registerClusterTools } from "./cluster";
import { registerConnectionTools } from "./connection";
import { registerContainerTools } from "./containers";
import { registerDashboardTools } from "./dashboard";
import { registerGuestTools } from "./guest";
import { registerMetricsTools } from "./metrics";
import { registerNodeTools } from "./nodes";
import { registerPoolChangeTools, registerPoolTools } from "./pools";
import { registerPowerTools } from "./power";
import { registerProvisionTools } from "./provision";
import { registerProvisionVmTools } from "./provision-vm";
import { registerSnapshotChangeTools, registerSnapshotTools } from "./snapshots";
import { registerStorageTools } from "./storage";
import { registerTaskControlTools, registerTaskTools } from "./tasks";
import { registerVmTools } from "./vms";

/**
 * Every tool group, registered in the order tools/list shows them. A new tool is one file (or an
 * entry in its group's file) plus its test, and one line here when it starts a new group.
 */
export function registerAllTools(server: McpServer, deps: ToolDeps): void {
  registerClusterTools(server, deps);
  registerNodeTools(server, deps);
  registerVmTools(server, deps);
  registerContainerTools(server, deps);
  registerStorageTools(server, deps);
  registerSnapshotTools(server, deps);
  registerBackupTools(server, deps);
  registerTaskTools(server, deps);
  registerPoolTools(server, deps);
  registerPowerTools(server, deps);
  registerTaskControlTools(server, deps);
  registerSnapshotChangeTools(server, deps);
  registerPoolChangeTools(server, deps);
  registerProvisionTools(server, deps);
  registerProvisionVmTools(server, deps);
  registerBackupChangeTools(server, deps);
  registerGuestTools(server, deps);
  registerAuditTools(server, deps);
  registerConnectionTools(server, deps);
  registerApiTools(server, deps);
  registerMetricsTools(server, deps);
  registerDashboardTools(server, deps);
}
