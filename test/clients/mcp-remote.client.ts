// mcp-remote, the stdio bridge many hosts use for remote servers, against the Worker with sign-in
// on: it signs in once, and when a tool needs a scope the grant lacks it goes back to the consent
// page by itself, with those boxes ticked. Runs under Node (`npm run test:clients`, part of
// `npm test`): mcp-remote is a Node program, and the Worker and the simulator run in
// `wrangler dev`. The Access sign-in is played by a local key set (ACCESS_TEAM_DOMAIN may be a
// loopback URL), the person by this test: it opens the consent page, presses Allow as the page
// stands (or unticks), and follows the redirect to mcp-remote's callback.

import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { freePort, ROOT, removeScratch, scratchDir, WRANGLER } from "../../bench/servers.ts";

const AUD = "mcp-remote-test";
const USER = "alice@example.com";

interface Rpc {
  id: number;
  result?: { content?: { text?: string }[]; tools?: { name: string }[]; serverInfo?: { name: string } };
  error?: { message: string };
}

describe("mcp-remote 0.15.1 with sign-in on", () => {
  const scratch = scratchDir();
  const children: ChildProcessWithoutNullStreams[] = [];
  let keys: Server;
  let team = "";
  let sign: () => Promise<string>;
  let remote: ChildProcessWithoutNullStreams;
  const authorizationUrls: string[] = [];
  const waiting = new Map<number, (message: Rpc) => void>();
  let lastId = 0;
  let stderr = "";

  const rpc = (method: string, params: Record<string, unknown> = {}): Promise<Rpc> =>
    new Promise((resolve) => {
      const id = ++lastId;
      waiting.set(id, resolve);
      remote.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    });

  /** The person: opens the page mcp-remote asked for, approves `scopes` (default: as ticked). */
  async function consent(scopes?: string[]): Promise<{ asked: string | null; ticked: string[] }> {
    for (let i = 0; authorizationUrls.length === 0; i++) {
      if (i > 120) throw new Error(`mcp-remote asked for no authorization: ${stderr.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const url = authorizationUrls.shift() as string;
    const jwt = await sign();
    const page = await fetch(url, { headers: { "cf-access-jwt-assertion": jwt }, redirect: "manual" });
    const html = await page.text();
    assert.equal(page.status, 200, html.slice(0, 300));
    const handle = /name="handle" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const ticked = [
      "read",
      ...[...html.matchAll(/name="scope" value="(\w+)" checked>/g)].map((m) => m[1] ?? ""),
    ];
    const form = new URLSearchParams({ handle, decision: "approve" });
    for (const scope of scopes ?? ticked) form.append("scope", scope);
    const approved = await fetch(new URL("/authorize", url), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: page.headers
          .getSetCookie()
          .map((c) => c.split(";")[0])
          .join("; "),
        "cf-access-jwt-assertion": jwt,
      },
      body: form,
      redirect: "manual",
    });
    // mcp-remote may print the address before its callback server listens.
    let callback: Response | undefined;
    for (let i = 0; !callback; i++) {
      callback = await fetch(approved.headers.get("location") ?? "").catch((error) => {
        if (i > 40) throw new Error(`mcp-remote's callback did not answer: ${error}; ${stderr.slice(-1500)}`);
        return undefined;
      });
      if (!callback) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(callback.status, 200, "mcp-remote's callback took the code");
    return { asked: new URL(url).searchParams.get("scope"), ticked };
  }

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    keys = createServer((_, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    });
    const keysPort = await freePort();
    await new Promise<void>((resolve) => keys.listen(keysPort, "127.0.0.1", resolve));
    team = `http://127.0.0.1:${keysPort}`;
    sign = () =>
      new SignJWT({ email: USER })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(team)
        .setAudience(AUD)
        .setSubject("alice")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey);

    const [simPort, mcpPort, callbackPort, inspector1, inspector2] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    const env = {
      ...process.env,
      CI: "true",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_REGISTRY_PATH: join(scratch, "registry"),
    };
    const wrangler = (args: string[]) => {
      const child = spawn(process.execPath, [WRANGLER, "dev", ...args, "--ip", "127.0.0.1"], {
        cwd: ROOT,
        env,
        stdio: "pipe",
      });
      child.stdout.resume();
      child.stderr.resume();
      children.push(child);
    };
    wrangler(
      ["-c", "sim/wrangler.toml", "--env", "dev", "--port", String(simPort)].concat([
        "--inspector-port",
        String(inspector1),
        "--persist-to",
        join(scratch, "sim"),
      ]),
    );
    // The production configuration (OAuth KV, rate limiter), with the simulator as PROXMOX_URL.
    const vars = {
      AUTH_MODE: "",
      AUTH_PROVIDER: "access",
      MCP_RESOURCE: `http://127.0.0.1:${mcpPort}/mcp`,
      ALLOWED_USERS: USER,
      ACCESS_TEAM_DOMAIN: team,
      ACCESS_AUD: AUD,
      PROXMOX_URL: `http://127.0.0.1:${simPort}`,
      PROXMOX_TOKEN_ID: "root@pam!mcp",
      PROXMOX_TOKEN_SECRET: "00000000-0000-4000-8000-000000000000",
    };
    wrangler(
      ["-c", "wrangler.toml", "--port", String(mcpPort), "--inspector-port", String(inspector2)]
        .concat(["--persist-to", join(scratch, "mcp")])
        .concat(Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`])),
    );
    for (let i = 0; ; i++) {
      const health = await fetch(`http://127.0.0.1:${mcpPort}/healthz`)
        .then((r) => r.json() as Promise<{ auth?: string; verdict?: string }>)
        .catch(() => undefined);
      if (health?.auth === "oauth (access)" && health.verdict === "ok") break;
      if (i > 180) throw new Error(`the server did not come up: ${JSON.stringify(health)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }

    remote = spawn(
      process.execPath,
      [join(ROOT, "node_modules", "mcp-remote", "dist", "proxy.js"), vars.MCP_RESOURCE, String(callbackPort)],
      // BROWSER=true: xdg-open runs `true` instead of a browser; the test is the person.
      { env: { ...env, MCP_REMOTE_CONFIG_DIR: join(scratch, "mcp-auth"), BROWSER: "true" }, stdio: "pipe" },
    );
    children.push(remote);
    remote.stderr.on("data", (chunk) => {
      stderr += String(chunk);
      for (const m of String(chunk).matchAll(/Please authorize this client by visiting:\s*(\S+)/g))
        if (m[1]) authorizationUrls.push(m[1]);
    });
    let buffered = "";
    remote.stdout.on("data", (chunk) => {
      buffered += String(chunk);
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        try {
          const message = JSON.parse(line) as Rpc;
          waiting.get(message.id)?.(message);
          waiting.delete(message.id);
        } catch {
          // Not a JSON-RPC line.
        }
      }
    });
  });

  after(async () => {
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(
      children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : undefined,
      ),
    );
    keys?.close();
    removeScratch(scratch);
  });

  it("signs in once with read, then gets write and exec back through consent, no sign-out", async () => {
    const initialize = rpc("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "mcp-remote-test", version: "1.0.0" },
    });
    // First sign-in: every scope asked for, write and exec ticked; the person leaves only read.
    const first = await consent(["read"]);
    assert.equal(first.asked, "read write exec admin");
    assert.deepEqual(first.ticked, ["read", "write", "exec"]);
    assert.equal((await initialize).result?.serverInfo?.name, "proxmox-mcp");
    remote.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    const names = (await rpc("tools/list")).result?.tools?.map((t) => t.name) ?? [];
    assert.ok(names.includes("get_vms") && !names.includes("start_vm"), names.join());

    const start = rpc("tools/call", { name: "start_vm", arguments: { vmid: 103 } });
    const write = await consent();
    assert.equal(write.asked, "read write");
    assert.deepEqual(write.ticked, ["read", "write"]);
    assert.match((await start).result?.content?.[0]?.text ?? "", /Start VM 103 'win11' on pve1: done/);

    const exec = rpc("tools/call", { name: "guest_exec", arguments: { vmid: 101, command: "id" } });
    const more = await consent();
    assert.equal(more.asked, "read write exec");
    assert.deepEqual(more.ticked, ["read", "write", "exec"]);
    assert.match((await exec).result?.content?.[0]?.text ?? "", /exit code 0[\s\S]*uid=0\(root\)/);
  });
});
