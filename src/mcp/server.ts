import { McpServer } from "@modelcontextprotocol/server";
import { clientFromEnv } from "../proxmox/client";
import { GuestLocator } from "../proxmox/locate";
import type { SessionApi } from "../session/session";
import { registerBackupChangeTools, registerBackupTools } from "../tools/backups";
import { registerClusterTools } from "../tools/cluster";
import { registerConnectionTools } from "../tools/connection";
import { registerContainerTools } from "../tools/containers";
import { registerGuestTools } from "../tools/guest";
import { registerNodeTools } from "../tools/nodes";
import { registerPoolChangeTools, registerPoolTools } from "../tools/pools";
import { registerPowerTools } from "../tools/power";
import { registerProvisionTools } from "../tools/provision";
import { registerSnapshotChangeTools, registerSnapshotTools } from "../tools/snapshots";
import { registerStorageTools } from "../tools/storage";
import { registerTaskControlTools, registerTaskTools } from "../tools/tasks";
import { registerVmTools } from "../tools/vms";
import { PRODUCT } from "../version";
import { policyFromEnv } from "./changes";
import type { ToolDeps } from "./tool";

const INSTRUCTIONS =
  "Tools for one Proxmox VE cluster. Guests are identified by vmid; node is optional wherever a vmid is given " +
  "(the server finds it). Tools that change things wait for their task (wait_seconds) and refuse destructive " +
  "actions without confirm: true, answering with what would happen. " +
  "Start with get_cluster_status or get_cluster_resources for an overview.";

/** Until sign-in lands every request belongs to the one local session. */
export const LOCAL_SESSION = "local";

export function toolDeps(env: Env, sessionName = LOCAL_SESSION): ToolDeps {
  const client = clientFromEnv(env);
  return {
    client,
    locator: new GuestLocator(client, client.upstreamLabel + (env.PROXMOX_URL ?? "")),
    secrets: [env.PROXMOX_TOKEN_SECRET, env.CF_ACCESS_CLIENT_SECRET],
    // The stub's RPC methods are the SessionApi; its generated stub type cannot express `unknown` args.
    session: env.SESSION.get(env.SESSION.idFromName(sessionName)) as unknown as SessionApi,
    actor: sessionName,
    policy: policyFromEnv(env),
  };
}

/** One McpServer per request (the transport is stateless); registration is cheap. */
export function createServer(deps: ToolDeps, env: Env): McpServer {
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
  registerPowerTools(server, deps);
  registerTaskControlTools(server, deps);
  registerSnapshotChangeTools(server, deps);
  registerPoolChangeTools(server, deps);
  registerProvisionTools(server, deps);
  registerBackupChangeTools(server, deps);
  registerGuestTools(server, deps);
  registerConnectionTools(server, deps, env);
  return server;
}
