#!/usr/bin/env node
// `npm run dev`: the MCP server at http://localhost:${PORT:-8787}/mcp against the Proxmox VE
// simulator, with no configuration.
//
// The two Workers run as two `wrangler dev` processes joined by wrangler's dev registry, each from
// its own folder, so each finds its own worker-configuration.d.ts (one process with two configs
// compares the simulator's bindings against the server's types file and prints a false "types
// might be out of date"). State for both lives in .wrangler/state (`npm run reset` clears it).
//
// The server is started with --env-file sim/server.env, so a .dev.vars written for `npm run
// dev:real` (a real Proxmox URL and token) never applies here: the simulator's built-in token in
// wrangler.toml [env.dev.vars] always does.
//
// PORT picks the server's port (PORT=8801 npm run dev); any other arguments go to the server's
// `wrangler dev` (npm run dev -- --ip 0.0.0.0).

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const STATE = join(ROOT, ".wrangler", "state");

const extra = process.argv.slice(2);
const portGiven = extra.some((arg) => arg === "--port" || arg.startsWith("--port="));
const port = process.env.PORT?.trim() || "8787";
if (!portGiven && !/^\d{1,5}$/.test(port)) {
  console.error(`PORT must be a port number, got "${port}"`);
  process.exit(2);
}

/** A port nobody listens on right now (for the simulator and the inspectors). */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port: free } = server.address();
      server.close(() => resolvePort(free));
    });
  });
}

const [simPort, simInspector, mcpInspector] = [await freePort(), await freePort(), await freePort()];
const children = new Set();

function run(name, cwd, args) {
  const child = spawn(process.execPath, [WRANGLER, "dev", ...args], { cwd, stdio: "inherit" });
  children.add(child);
  child.once("exit", (code, signal) => {
    children.delete(child);
    // One Worker without the other is no use: stop both.
    if (!stopping) {
      console.error(`${name} stopped (${signal ?? code}); stopping npm run dev`);
      stop(code ?? 1);
    }
  });
  return child;
}

let stopping = false;
function stop(code) {
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  const exit = () => (children.size === 0 ? process.exit(code) : setTimeout(exit, 100));
  exit();
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.once(signal, () => stop(0));

run("the simulator", join(ROOT, "sim"), [
  "--env",
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  String(simPort),
  "--inspector-port",
  String(simInspector),
  "--persist-to",
  STATE,
  "--show-interactive-dev-session=false",
]);
run("the MCP server", ROOT, [
  "--env",
  "dev",
  "--env-file",
  "sim/server.env",
  "--inspector-port",
  String(mcpInspector),
  "--persist-to",
  STATE,
  ...(portGiven ? [] : ["--port", port]),
  ...extra,
]);
