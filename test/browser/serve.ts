// `npm run dashboard`: the simulator, the MCP server and the test host page, for people. Open the
// printed address in a browser to see the dashboard as an MCP Apps host renders it.

import { ROOT, snapshotTree, startServers } from "../../bench/servers.ts";
import { startHost } from "./host-server.ts";

const port = Number(process.env.PORT ?? 8790);
console.log("Starting the simulator and the MCP server (wrangler dev)…");
const servers = await startServers(snapshotTree(), `${ROOT}test/browser/.out/logs`);
const host = await startHost(servers.mcpUrl, port);
console.log(`Dashboard: ${host.url}  (add ?vmid=101 or ?node=pve2 to focus; ctrl-c stops)`);
console.log(`MCP server: ${servers.mcpUrl}  simulator: ${servers.simOrigin}`);
