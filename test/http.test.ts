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
