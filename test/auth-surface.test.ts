import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { TOOLSETS } from "../src/mcp/surface";
import { serveMcp } from "../src/server/endpoint";
import type { Grant } from "../src/server/server";
import { connect, ERAS, type TestClient, textOf } from "./helpers/mcp";
import {
  accessEnv,
  accessJwt,
  Browser,
  codeFrom,
  handle,
  mcpClient,
  postMcp,
  rpc,
  stubOutboundFetch,
  TestOAuthClient,
} from "./helpers/oauth";
import { sim } from "./helpers/sim";

/**
 * Which tools a request gets: the grant's scopes, PVE_READ_ONLY and PVE_TOOLSETS; what a call
 * outside them answers; the per-user rate limit; get_audit_log.
 */

const EXEC_TOOLS = [
  "guest_exec",
  "guest_file_write",
  "guest_set_user_password",
  "guest_fsfreeze",
  "guest_fstrim",
  "guest_power",
];
/** Reads of what is inside a guest: read-only, but exec (an exec result, a file). */
const EXEC_READS = ["guest_exec_status", "guest_file_read"];

/** A client whose requests are served for `grant` (the OAuth wrapper is tested elsewhere). */
function asGrant(grant: Grant, e: Env = env, era: (typeof ERAS)[number] = "2025-11-25"): Promise<TestClient> {
  return connect(era, (request) => serveMcp(request, e, grant));
}

const grant = (scopes: string[], user = "carol@example.com", clientId = "client-a"): Grant => ({
  user,
  clientId,
  scopes,
});

async function names(client: TestClient): Promise<string[]> {
  return (await client.listTools()).map((tool) => tool.name).sort();
}

describe("scopes decide the tools", () => {
  it("read is every read-only tool but what reads inside guests; exec the guest actions and reads; write everything else that changes", async () => {
    const all = await asGrant(grant(["read", "write", "exec"]));
    const tools = await all.listTools();
    await all.close();
    const readOnly = tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name);
    const changing = tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name);
    expect(readOnly).toContain("check_connection");
    expect(readOnly).toContain("wait_for_task");
    expect(readOnly).toContain("guest_file_read");
    const looks = readOnly.filter((n) => !EXEC_READS.includes(n));

    for (const [scopes, expected] of [
      [["read"], looks],
      [
        ["read", "exec"],
        // write_api serves the exec operations (under /agent/) too.
        [...readOnly, ...EXEC_TOOLS, "write_api"],
      ],
      [
        ["read", "write"],
        [...looks, ...changing.filter((n) => !EXEC_TOOLS.includes(n))],
      ],
    ] as const) {
      const client = await asGrant(grant([...scopes]));
      expect(await names(client), scopes.join()).toEqual([...expected].sort());
      await client.close();
    }
  });

  it("every tool belongs to a toolset", async () => {
    const all = await asGrant(grant(["read", "write", "exec"]));
    const grouped = new Set(Object.values(TOOLSETS).flat());
    for (const name of await names(all)) expect(grouped, name).toContain(name);
    await all.close();
  });

  it.each(ERAS)("a call to a tool outside the surface names what is missing (%s)", async (era) => {
    const client = await asGrant(grant(["read"]), env, era);
    const error = await client.call("start_vm", { vmid: 101 }).catch((e: Error) => e);
    expect(String(error)).toContain("start_vm needs the write scope, which this connection was not granted");
    await client.close();
  });
});

describe("PVE_READ_ONLY", () => {
  const readOnly = { ...env, PVE_READ_ONLY: "true" } as Env;

  it("removes write and exec for every grant, and says why when called", async () => {
    const client = await asGrant(grant(["read", "write", "exec"]), readOnly);
    const listed = await client.listTools();
    expect(listed.length).toBeGreaterThan(20);
    expect(listed.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    const error = await client.call("guest_exec", { vmid: 101, command: "id" }).catch((e: Error) => e);
    expect(String(error)).toContain("guest_exec needs the exec scope, which this server grants to no one");
    expect(String(error)).toContain("PVE_READ_ONLY=true");
    await client.close();
  });

  it("locally too, and /healthz says so", async () => {
    const local = { ...readOnly } as Env;
    const client = await connect("2026-07-28", (request) => handle(request, local, createExecutionContext()));
    expect(await names(client)).not.toContain("start_vm");
    await client.close();
    const health = await handle(new Request("http://localhost/healthz"), local, createExecutionContext());
    expect(await health.json()).toMatchObject({ auth: "none (localhost)", readOnly: true });
  });

  describe("with sign-in", () => {
    beforeAll(() => stubOutboundFetch());
    afterAll(() => vi.restoreAllMocks());

    it("the consent page offers read only, and a tampered form gets read only", async () => {
      const e = accessEnv({ PVE_READ_ONLY: "true" });
      const provider = new TestOAuthClient();
      const first = mcpClient(e, provider);
      await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
      const browser = new Browser(e);
      const jwt = await accessJwt("alice@example.com");
      const html = await (await browser.open(provider.authorizationUrl!, { accessJwt: jwt })).text();
      expect(html).toContain("not available, this server is read-only");
      expect(html).not.toMatch(/name="scope" value="write"/);
      const { code } = codeFrom(
        await browser.consent(html, { scopes: ["read", "write", "exec"], accessJwt: jwt }),
        provider.redirectUri,
      );
      await first.transport.finishAuth(code);
      expect(provider.tokens()?.scope).toBe("read");
      const response = await postMcp(e, rpc("tools/call", { name: "start_vm", arguments: { vmid: 101 } }), {
        authorization: `Bearer ${provider.tokens()?.access_token}`,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        error: { code: -32602, message: expect.stringContaining("runs read-only (PVE_READ_ONLY=true)") },
      });
    });
  });
});

describe("PVE_TOOLSETS", () => {
  it("narrows the tools to the groups named, for every grant", async () => {
    const narrow = { ...env, PVE_TOOLSETS: "vms, tasks,nonsense" } as Env;
    const client = await asGrant(grant(["read", "write", "exec"]), narrow);
    const listed = await names(client);
    expect(listed).toEqual([...new Set([...TOOLSETS.vms, ...TOOLSETS.tasks])].sort());
    const error = await client.call("get_pools").catch((e: Error) => e);
    expect(String(error)).toContain(
      "get_pools is not enabled on this server: its group is not in PVE_TOOLSETS",
    );
    await client.close();
    const health = await handle(new Request("http://localhost/healthz"), narrow, createExecutionContext());
    expect(await health.json()).toMatchObject({ toolsets: ["vms", "tasks"], unknownToolsets: ["nonsense"] });
  });
});

describe("per-user rate limit", () => {
  beforeAll(() => stubOutboundFetch());
  afterAll(() => vi.restoreAllMocks());

  /** A signed-in user's bearer token on a server whose limiter allows `allowed` requests. */
  async function signedIn(allowed: number, user = "bob@example.com") {
    const keys: string[] = [];
    let left = allowed;
    const limiter = {
      limit: async ({ key }: { key: string }) => {
        keys.push(key);
        return { success: left-- > 0 };
      },
    } as unknown as RateLimit;
    const e = accessEnv({ RATE_LIMITER: limiter });
    const provider = new TestOAuthClient();
    const first = mcpClient(e, provider);
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const browser = new Browser(e);
    const jwt = await accessJwt(user);
    const html = await (await browser.open(provider.authorizationUrl!, { accessJwt: jwt })).text();
    await first.transport.finishAuth(
      codeFrom(await browser.consent(html, { accessJwt: jwt }), provider.redirectUri).code,
    );
    return { e, keys, token: String(provider.tokens()?.access_token) };
  }

  const batch = (n: number) =>
    JSON.stringify(
      Array.from({ length: n }, (_, i) => ({
        jsonrpc: "2.0",
        id: i + 1,
        method: "tools/call",
        params: { name: "get_vm", arguments: { vmid: 101 } },
      })),
    );

  it("counts each user's requests and answers 429 with a clear message past the limit", async () => {
    const { e, keys, token } = await signedIn(3);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await postMcp(e, rpc("tools/list"), { authorization: `Bearer ${token}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last?.headers.get("retry-after")).toBe("60");
    expect(await last?.json()).toMatchObject({
      error: { message: expect.stringContaining("Rate limit: too many requests from bob@example.com") },
    });
    expect(new Set(keys)).toEqual(new Set(["user:bob@example.com"]));
  });

  it("counts every message of a batch, so a batch cannot multiply the limit", async () => {
    const { e, keys, token } = await signedIn(5);
    await sim.clearRequests();
    const old = { authorization: `Bearer ${token}`, "mcp-protocol-version": "2025-03-26" };
    // 2025-03-26 still batches: a batch of 3 costs 3.
    const three = await postMcp(e, batch(3), old);
    expect(three.status).toBe(200);
    expect(await three.text()).toContain("VM 101 web-01");
    expect(keys).toHaveLength(3);
    // 2 left: a batch of 3 is refused whole, and nothing of it reaches Proxmox.
    const upstreamBefore = (await sim.requests()).length;
    const over = await postMcp(e, batch(3), old);
    expect(over.status).toBe(429);
    expect((await sim.requests()).length).toBe(upstreamBefore);
  });

  it("refuses batches under protocol versions without them, and oversized ones, before counting", async () => {
    const { e, keys, token } = await signedIn(1000);
    await sim.clearRequests();
    const current = await postMcp(e, batch(2), { authorization: `Bearer ${token}` });
    expect(current.status).toBe(400);
    expect(await current.json()).toMatchObject({
      error: {
        code: -32600,
        message: expect.stringContaining("JSON-RPC batches are not part of MCP 2025-11-25"),
      },
    });
    const huge = await postMcp(e, batch(100), {
      authorization: `Bearer ${token}`,
      "mcp-protocol-version": "2025-03-26",
    });
    expect(huge.status).toBe(400);
    expect(await huge.json()).toMatchObject({
      error: { message: "A batch may hold at most 20 messages; this one has 100." },
    });
    expect(keys).toHaveLength(0);
    expect(await sim.requests()).toEqual([]);
  });

  it("the rate-limiting binding works locally", async () => {
    expect(await env.RATE_LIMITER.limit({ key: "probe" })).toMatchObject({ success: true });
  });
});

describe("get_audit_log", () => {
  let client: TestClient;
  const dave = grant(["read", "write"], "dave@example.com", "laptop");
  beforeAll(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 50 });
    client = await asGrant(dave);
    for (const [tool, args] of [
      ["start_vm", { vmid: 103 }],
      ["create_pool", { poolid: "audit1" }],
      ["shutdown_vm", { vmid: 103 }],
      ["create_pool", { poolid: "audit2" }],
    ] as const) {
      const result = await client.call(tool, args);
      expect(result.isError ?? false, textOf(result)).toBe(false);
    }
    await asGrant(grant(["read", "write"], "dave@example.com", "phone")).then(async (phone) => {
      expect((await phone.call("create_pool", { poolid: "fromphone" })).isError ?? false).toBe(false);
      await phone.close();
    });
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.settings({ taskDurationMs: 50 });
  });

  it("lists this session's changes, newest first, in one line each", async () => {
    const result = await client.call("get_audit_log");
    const text = textOf(result);
    expect(text.split("\n")[0]).toBe("4 audited changes, newest first:");
    expect(text).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC create_pool pool audit2: done \(poolid=audit2\)$/m,
    );
    expect(text).toMatch(/ start_vm VM 103 'win11': OK \(vmid=103 node=pve1\)$/m);
    expect(text).not.toContain("fromphone");
    const data = result.structuredContent as { entries: { tool: string; actor: string }[]; more: boolean };
    expect(data.entries.map((entry) => entry.tool)).toEqual([
      "create_pool",
      "shutdown_vm",
      "create_pool",
      "start_vm",
    ]);
    expect(data.entries[0]?.actor).toBe("dave@example.com");
    expect(data.more).toBe(false);
  });

  it("filters by tool, target, time and limit", async () => {
    const pools = await client.call("get_audit_log", { tool: "create_pool" });
    expect((pools.structuredContent as { total: number }).total).toBe(2);
    const onePool = await client.call("get_audit_log", { tool: "create_pool", limit: 1 });
    expect((onePool.content as { text: string }[])[0]?.text).toMatch(/^1 audited change, newest first:/);
    const vm = await client.call("get_audit_log", { target: "103" });
    expect(
      (vm.structuredContent as { entries: { tool: string }[] }).entries.map((entry) => entry.tool),
    ).toEqual(["shutdown_vm", "start_vm"]);
    expect((await client.call("get_audit_log", { target: "10" })).structuredContent).toMatchObject({
      total: 0,
    });
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect((await client.call("get_audit_log", { since: future })).structuredContent).toMatchObject({
      total: 0,
    });
    expect(textOf(await client.call("get_audit_log", { since: future }))).toBe("No audited changes match.");
    expect((await client.call("get_audit_log", { until: future })).structuredContent).toMatchObject({
      total: 4,
    });
    const one = await client.call("get_audit_log", { limit: 1 });
    expect(one.structuredContent).toMatchObject({ total: 1, more: true });
    expect(textOf(one)).toContain("more entries match");
  });

  it("all_clients adds the same user's other sessions", async () => {
    const withPhone = {
      ...dave,
      otherClients: async () => ["laptop", "phone"],
    };
    const laptop = await asGrant(withPhone);
    const result = await laptop.call("get_audit_log", { all_clients: true });
    expect(textOf(result)).toMatch(
      /create_pool pool fromphone: done \(poolid=fromphone\) \[dave@example\.com:phone\]$/m,
    );
    expect((result.structuredContent as { total: number }).total).toBe(5);
    await laptop.close();
  });
});

describe("sign-in off only on localhost", () => {
  const devEnv = env;

  it("localhost without AUTH_MODE=none still needs sign-in", async () => {
    const strict = { ...devEnv, AUTH_MODE: "" } as Env;
    const response = await handle(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: {
          host: "localhost",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: rpc("tools/list"),
      }),
      strict,
      createExecutionContext(),
    );
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("AUTH_PROVIDER is not set");
  });

  it("/healthz elsewhere says /mcp is refused and why", async () => {
    const response = await handle(
      new Request("https://mcp.example.com/healthz"),
      devEnv,
      createExecutionContext(),
    );
    const body = (await response.json()) as { auth: string; authProblems: string[] };
    expect(body.auth).toBe("not configured: /mcp refused");
    expect(body.authProblems).toContain("AUTH_PROVIDER is not set (access or github).");
    expect(body.authProblems.join(" ")).toContain("MCP_RESOURCE");
  });
});
