import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PRODUCT } from "../src/version";

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "curl", version: "1" } },
};

function post(url: string, headers: Record<string, string> = {}) {
  return exports.default.fetch(
    new Request(url, {
      method: "POST",
      headers: {
        Host: new URL(url).host,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        ...headers,
      },
      body: JSON.stringify(initialize),
    }),
  );
}

describe("the /mcp endpoint", () => {
  it("answers an initialize from localhost", async () => {
    const response = await post("http://localhost/mcp");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`"name":"${PRODUCT.name}"`);
  });

  it("refuses to serve without sign-in on any other host", async () => {
    const response = await post("https://mcp.example.com/mcp");
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("served only on localhost");
  });

  it("refuses a foreign browser Origin and a mismatched Host", async () => {
    const origin = await post("http://localhost/mcp", { Origin: "https://evil.example" });
    expect(origin.status).toBe(403);
    expect(await origin.text()).toMatch(/origin/i);
    const host = await post("http://localhost/mcp", { Host: "evil.example" });
    expect(host.status).toBe(403);
    expect(await host.text()).toContain("evil.example");
  });

  const raw = (body: string) =>
    exports.default.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: {
          Host: "localhost",
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "MCP-Protocol-Version": "2025-11-25",
        },
        body,
      }),
    );

  it("answers a body that is not JSON with a parse error, and refuses one over 4 MiB", async () => {
    const malformed = await raw("{not json");
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: -32700 } });
    const huge = await raw(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", pad: "x".repeat(4 * 1024 * 1024) }),
    );
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ id: null, error: { code: -32000 } });
  });

  it("reads the body once and still answers every kind of message", async () => {
    const ping = await raw(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "ping" }));
    expect(ping.status).toBe(200);
    expect(await ping.text()).toContain('"id":7');
    const call = await raw(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 8,
        method: "tools/call",
        params: { name: "get_nodes", arguments: {} },
      }),
    );
    const text = await call.text();
    expect(text).toContain('"id":8');
    expect(text).toContain("pve1: online");
  });
});

describe("/healthz", () => {
  it("reports version and upstream mode without secrets", async () => {
    const response = await exports.default.fetch(new Request("http://localhost/healthz"));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      ok: true,
      verdict: "ok",
      name: PRODUCT.name,
      version: PRODUCT.version,
      upstream: "service-binding",
      auth: "none (localhost)",
      failingGroups: [],
    });
    expect(JSON.stringify(body)).not.toContain(env.PROXMOX_TOKEN_SECRET as string);
  });
});
