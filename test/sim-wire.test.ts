import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";

const AUTH = "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000";

function call(path: string, init: RequestInit = {}, auth: string | null = AUTH): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth !== null) headers.set("Authorization", auth);
  return env.PVE!.fetch(`http://pve${path.startsWith("/_sim") ? "" : "/api2/json"}${path}`, {
    ...init,
    headers,
  });
}

async function control(path: string, body: unknown = {}): Promise<unknown> {
  const res = await env.PVE!.fetch(`http://pve/_sim/${path}`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0 });
});

describe("envelope", () => {
  it("answers /version with the Proxmox envelope and headers", async () => {
    const res = await call("/version");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json;charset=UTF-8");
    expect(res.headers.get("Server")).toBe("pve-api-daemon/3.0");
    expect(await res.json()).toEqual({
      data: { version: "9.1.2", release: "9.1", repoid: expect.stringMatching(/^[0-9a-f]{8,64}$/) },
    });
  });
});
