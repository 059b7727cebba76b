import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { forgetHealth } from "../src/index";
import { connect, type TestClient, textOf } from "./helpers/mcp";
import { sim } from "./helpers/sim";

let client: TestClient;

async function doctor() {
  const result = await client.call("check_connection");
  return { text: textOf(result), data: result.structuredContent as Record<string, any> };
}

async function health() {
  forgetHealth();
  const response = await exports.default.fetch(new Request("http://localhost/healthz"));
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  client = await connect("2026-07-28");
});
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.settings({ authFailureDelayMs: 0 });
});

describe("check_connection and /healthz", () => {
  it("a healthy simulator: every step passes", async () => {
    const { text, data } = await doctor();
    expect(data.verdict).toBe("ok");
    expect(text.split("\n")[0]).toBe("Connection: OK");
    expect(text).toContain("ok   reach: Proxmox VE 9.2.11 (release 9.2) answered with the token");
    expect(text).toContain("ok   cluster: cluster homelab: 3 of 3 nodes online, quorate");
    expect(data.groups.every((g: { ok: boolean }) => g.ok)).toBe(true);
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      verdict: "ok",
      proxmox: "9.2.11 (release 9.2)",
      upstream: "service-binding",
    });
    expect(JSON.stringify(body)).not.toContain("root@pam");
  });

  it.each([
    [{ kind: "access-login" }, "Cloudflare Access answered with its sign-in page", "Service Auth policy"],
    [{ kind: "tunnel-error", status: 530 }, "error 1033", "cloudflared"],
    [{ kind: "tunnel-error", status: 502 }, "Cloudflare reached the tunnel but not Proxmox", "cloudflared"],
    [{ kind: "tunnel-error", status: 526 }, "TLS between Cloudflare and Proxmox failed", "originServerName"],
    [
      { kind: "empty", status: 401, message: "Authentication failed!" },
      "Proxmox does not accept the API token",
      "user@realm!name",
    ],
    [
      { kind: "json", status: 403, message: "Permission check failed (/, Sys.Audit)" },
      "needs the privilege Sys.Audit on /",
      "PVEAuditor",
    ],
    [{ kind: "hang" }, "did not answer GET /version", "PROXMOX_TIMEOUT_MS"],
  ] as const)("diagnoses %j", async (fault, detail, fix) => {
    // A read that meets a 502, 503 or 530 is sent once more, so those faults must last two requests.
    const count = "status" in fault && [502, 503, 530].includes(fault.status) ? 2 : 1;
    await sim.fail({ count, ...fault });
    const { text, data } = await doctor();
    expect(data.verdict).toBe("failing");
    const reach = data.checks.find((c: { step: string }) => c.step === "reach");
    expect(reach.ok).toBe(false);
    expect(reach.detail).toContain(detail);
    expect(reach.fix).toContain(fix);
    expect(text).toContain("FAIL reach:");
    await sim.fail({ count, ...fault });
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toMatchObject({ ok: false, verdict: "failing" });
    expect(body.checks.find((c: { step: string }) => c.step === "reach")).toMatchObject({ ok: false });
  });

  it("a token with too few privileges: which tool groups will fail", async () => {
    await sim.agentSettings({ deniedPrivileges: ["VM.GuestAgent.Unrestricted", "VM.Snapshot.Rollback"] });
    const { text, data } = await doctor();
    expect(data.verdict).toBe("degraded");
    expect(data.groups.filter((g: { ok: boolean }) => !g.ok)).toEqual([
      { group: "snapshots", ok: false, missing: ["VM.Snapshot.Rollback"] },
      { group: "guest_agent", ok: false, missing: ["VM.GuestAgent.Unrestricted"] },
    ]);
    expect(text).toContain(
      "FAIL privileges: the token lacks snapshots (VM.Snapshot.Rollback); guest_agent (VM.GuestAgent.Unrestricted)",
    );
    expect(text).toContain("tool groups: read ok, power ok, provision ok, snapshots will fail");
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.failingGroups).toEqual(["snapshots", "guest_agent"]);
  });

  it("a token that cannot even read is failing", async () => {
    await sim.agentSettings({ deniedPrivileges: ["VM.Audit"] });
    const { data } = await doctor();
    expect(data.verdict).toBe("failing");
  });

  it("an offline node makes the verdict degraded", async () => {
    await sim.setNodeOnline("pve3", false);
    const { text, data } = await doctor();
    expect(data.verdict).toBe("degraded");
    expect(text).toContain("FAIL cluster: cluster homelab: 2 of 3 nodes online, quorate");
  });
});
