#!/usr/bin/env node
// The README's quick start, tried as a new user would: `npm run dev` (on a free port through PORT),
// then an MCP client lists the tools and calls a few against the simulator. It runs with a
// .dev.vars in place (the example file, as the README's dev:real step makes it), because the
// simulator setup must work whatever that file holds. CI runs it (.ci/run); exit code 0 = works.

import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEV_VARS = join(ROOT, ".dev.vars");

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const madeDevVars = !existsSync(DEV_VARS);
if (madeDevVars) copyFileSync(join(ROOT, ".dev.vars.example"), DEV_VARS);
const scratch = mkdtempSync(join(tmpdir(), "proxmox-mcp-quickstart-"));
const port = await freePort();
const dev = spawn(process.execPath, [join(ROOT, "scripts", "dev.mjs")], {
  cwd: ROOT,
  // A private dev registry, so another `npm run dev` on this machine is not joined by mistake.
  env: { ...process.env, PORT: String(port), CI: "true", WRANGLER_REGISTRY_PATH: join(scratch, "registry") },
  stdio: ["ignore", "pipe", "pipe"],
  detached: true,
});
let log = "";
dev.stdout.on("data", (chunk) => {
  log += chunk;
});
dev.stderr.on("data", (chunk) => {
  log += chunk;
});

function cleanUp() {
  try {
    process.kill(-dev.pid, "SIGTERM");
  } catch {}
  if (madeDevVars) rmSync(DEV_VARS, { force: true });
  rmSync(scratch, { recursive: true, force: true });
}

function fail(message) {
  console.error(`quick start: ${message}\n--- npm run dev said ---\n${log.slice(-4000)}`);
  cleanUp();
  process.exit(1);
}

const base = `http://localhost:${port}`;
const deadline = Date.now() + 150_000;
let health;
while (Date.now() < deadline) {
  try {
    const res = await fetch(`${base}/healthz`);
    health = await res.json();
    if (res.ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 500));
}
if (!health?.ok) fail(`/healthz did not answer ok within 150 s: ${JSON.stringify(health)}`);

const client = new Client({ name: "quickstart-check", version: "1.0.0" });
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
  const { tools } = await client.listTools();
  const calls = [
    ["get_cluster_status", {}],
    ["get_vms", {}],
    ["get_tasks", { limit: 3 }],
  ];
  for (const [name, args] of calls) {
    const result = await client.callTool({ name, arguments: args });
    const text = result.content?.[0]?.text ?? "";
    if (result.isError) fail(`${name} failed: ${text}`);
    console.log(`quick start: ${name} -> ${text.split("\n")[0]}`);
  }
  await client.close();
  console.log(`quick start: ${tools.length} tools on ${base}/mcp, with a .dev.vars present: ok`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
cleanUp();
process.exit(0);
