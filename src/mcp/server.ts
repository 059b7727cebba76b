import { McpServer } from "@modelcontextprotocol/server";
import { clientFromEnv, type UpstreamEnv } from "../proxmox/client";
import { GuestLocator } from "../proxmox/locate";
import { registerBackupTools } from "../tools/backups";
import { registerClusterTools } from "../tools/cluster";
import { registerContainerTools } from "../tools/containers";
import { registerNodeTools } from "../tools/nodes";
import { registerPoolTools } from "../tools/pools";
import { registerSnapshotTools } from "../tools/snapshots";
import { registerStorageTools } from "../tools/storage";
import { registerTaskTools } from "../tools/tasks";
import { registerVmTools } from "../tools/vms";
import { PRODUCT } from "../version";
import type { ToolDeps } from "./tool";

const INSTRUCTIONS =
  "Tools for one Proxmox VE cluster. Guests are identified by vmid; node is optional wherever a vmid is given. " +
  "Start with get_cluster_status or get_cluster_resources for an overview.";

export function toolDeps(env: UpstreamEnv): ToolDeps {
  const client = clientFromEnv(env);
  return {
    client,
    locator: new GuestLocator(client, client.upstreamLabel + (env.PROXMOX_URL ?? "")),
    secrets: [env.PROXMOX_TOKEN_SECRET, env.CF_ACCESS_CLIENT_SECRET],
  };
}

/** One McpServer per request (the transport is stateless); registration is cheap. */
export function createServer(deps: ToolDeps): McpServer {
  const server = new McpServer(
    { name: PRODUCT.name, title: PRODUCT.title, version: PRODUCT.version },
    { instructions: INSTRUCTIONS },
  );
  registerClusterTools(server, deps);
  registerNodeTools(server, deps);
  registerVmTools(server, deps);
  registerContainerTools(server, deps);
  registerStorageTools(server, deps);
  registerSnapshotTools(server, deps);
  registerBackupTools(server, deps);
  registerTaskTools(server, deps);
  registerPoolTools(server, deps);
  return server;
}
