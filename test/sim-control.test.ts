// The simulator's control API: reset and scale, settings, fault injection, offline nodes and the
// request log.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { api, control } from "./helpers/pve";

const SECRET = "00000000-0000-4000-8000-000000000000";
const _TOKEN = `PVEAPIToken=root@pam!mcp=${SECRET}`;

async function data<T = unknown>(path: string): Promise<T> {
  const res = await api(path);
  expect(res.status, path).toBe(200);
  return ((await res.json()) as { data: T }).data;
}

interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  contentType: string | null;
  authorized: boolean;
  status: number;
}

async function requests(): Promise<LoggedRequest[]> {
  const res = await env.PVE!.fetch("http://pve/_sim/requests");
  return ((await res.json()) as { requests: LoggedRequest[] }).requests;
}

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

describe("reset", () => {
  it("restores the seeded homelab and reports its size", async () => {
    expect(await control("reset", {})).toEqual({ ok: true, nodes: 3, guests: 18 });
    const resources = await data<{ type: string }[]>("/cluster/resources?type=vm");
    expect(resources).toHaveLength(18);
  });

  it("scales to N nodes and M guests, about two thirds of them VMs, deterministically", async () => {
    expect(await control("reset", { nodes: 5, guests: 300 })).toEqual({ ok: true, nodes: 5, guests: 300 });
    const vms = await data<{ type: string; node: string; vmid: number; name: string; status: string }[]>(
      "/cluster/resources?type=vm",
    );
    expect(vms).toHaveLength(300);
    expect(vms.filter((g) => g.type === "qemu")).toHaveLength(200);
    expect(new Set(vms.map((g) => g.node))).toEqual(new Set(["pve1", "pve2", "pve3", "pve4", "pve5"]));
    const nodes = await data<{ node: string }[]>("/nodes");
    expect(nodes.map((n) => n.node)).toEqual(["pve1", "pve2", "pve3", "pve4", "pve5"]);
    await control("reset", { nodes: 5, guests: 300 });
    const again = await data<typeof vms>("/cluster/resources?type=vm");
    expect(again.map((g) => [g.vmid, g.name, g.node, g.status])).toEqual(
      vms.map((g) => [g.vmid, g.name, g.node, g.status]),
    );
  });

  it("rejects bad reset options", async () => {
    const res = await env.PVE!.fetch("http://pve/_sim/reset", {
      method: "POST",
      body: JSON.stringify({ nodes: 0 }),
    });
    expect(res.status).toBe(400);
  });

  it("undoes state changes, settings and faults", async () => {
    await control("nodes/pve3", { online: false });
    await control("fail", { count: 5, kind: "empty", status: 500, pathPrefix: "/pools" });
    await control("reset");
    expect((await api("/pools")).status).toBe(200);
    expect((await api("/nodes/pve3/status")).status).toBe(200);
  });
});

describe("offline node", () => {
  beforeEach(async () => {
    expect(await control("nodes/pve3", { online: false })).toEqual({ ok: true, node: "pve3", online: false });
  });

  it("shows the node offline and its guests unknown", async () => {
    const nodes = await data<{ node: string; status: string }[]>("/nodes");
    expect(nodes.find((n) => n.node === "pve3")).toEqual(expect.objectContaining({ status: "offline" }));
    const status =
      await data<{ name?: string; online?: number; type: string; quorate?: number }[]>("/cluster/status");
    expect(status.find((s) => s.name === "pve3")?.online).toBe(0);
    expect(status.find((s) => s.type === "cluster")?.quorate).toBe(1);
    const res =
      await data<{ node: string; status: string; type: string; id: string }[]>("/cluster/resources");
    const onPve3 = res.filter((r) => r.node === "pve3" && (r.type === "qemu" || r.type === "lxc"));
    expect(onPve3.length).toBeGreaterThan(0);
    expect(onPve3.every((r) => r.status === "unknown")).toBe(true);
    expect(res.find((r) => r.id === "node/pve3")?.status).toBe("offline");
  });

  it("fails requests proxied to it with 595", async () => {
    const res = await api("/nodes/pve3/qemu");
    expect(res.status).toBe(595);
    expect(res.statusText).toBe("Errors during connection establishment, proxy handshake: No route to host");
    await control("nodes/pve3", { online: true });
    expect((await api("/nodes/pve3/qemu")).status).toBe(200);
  });

  it("answers 'no such cluster node' for a node that does not exist", async () => {
    const res = await api("/nodes/pve9/status");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ data: null, message: "no such cluster node 'pve9'\n" });
  });
});

describe("faults", () => {
  it("json: a Proxmox-style error with the given status and message, count times", async () => {
    await control("fail", { count: 2, status: 503, kind: "json", message: "too many requests" });
    for (let i = 0; i < 2; i++) {
      const res = await api("/version");
      expect(res.status).toBe(503);
      expect(res.statusText).toBe("too many requests");
      expect(res.headers.get("Content-Type")).toBe("application/json;charset=UTF-8");
      expect(await res.json()).toEqual({ data: null, message: "too many requests\n" });
    }
    expect((await api("/version")).status).toBe(200);
  });

  it("empty: the status with no body", async () => {
    await control("fail", { count: 1, status: 502, kind: "empty" });
    const res = await api("/version");
    expect(res.status).toBe(502);
    expect(await res.text()).toBe("");
  });

  it("access-login: a 200 HTML sign-in page from Cloudflare Access", async () => {
    await control("fail", { count: 1, kind: "access-login" });
    const res = await api("/cluster/resources");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("<title>Sign in ・ Cloudflare Access</title>");
    expect(html).toContain("cloudflareaccess.com");
  });

  it("tunnel-error: a Cloudflare 530 error page, or a 502 Bad gateway page", async () => {
    await control("fail", { count: 1, kind: "tunnel-error" });
    const res = await api("/version");
    expect(res.status).toBe(530);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("error code: 1033");
    await control("fail", { count: 1, kind: "tunnel-error", status: 502 });
    const bad = await api("/version");
    expect(bad.status).toBe(502);
    expect(await bad.text()).toContain("Bad gateway");
  });

  it("hang: no answer, so the client's timeout fires", async () => {
    await control("fail", { count: 1, kind: "hang" });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error("client timeout")), 150);
    await expect(api("/version", { signal: controller.signal })).rejects.toThrow();
    clearTimeout(timer);
    expect((await api("/version")).status).toBe(200);
  });

  it("pathPrefix: only matching requests fail", async () => {
    await control("fail", { count: 1, kind: "empty", status: 500, pathPrefix: "/nodes/pve1" });
    expect((await api("/version")).status).toBe(200);
    expect((await api("/nodes/pve2/status")).status).toBe(200);
    expect((await api("/nodes/pve1/status")).status).toBe(500);
    expect((await api("/nodes/pve1/status")).status).toBe(200);
  });
});

describe("settings", () => {
  it("adds latency to API requests", async () => {
    await control("settings", { latencyMs: 150 });
    const order: string[] = [];
    await Promise.all([
      api("/version").then(() => order.push("api")),
      env.PVE!.fetch("http://pve/_sim/requests").then(() => order.push("control")),
    ]);
    expect(order).toEqual(["control", "api"]);
  });

  it("overrides every new task's duration", async () => {
    const { settings } = await control<{ settings: Record<string, unknown> }>("settings", {
      taskDurationMs: 60_000,
    });
    expect(settings).toMatchObject({ taskDurationMs: 60_000 });
    const res = await api("/nodes/pve1/qemu/103/status/start", { method: "POST" });
    const { data: upid } = (await res.json()) as { data: string };
    const status = await data<{ status: string }>(`/nodes/pve1/tasks/${upid}/status`);
    expect(status.status).toBe("running");
  });
});

describe("storages and guests", () => {
  it("fills a storage: its free space drops, and bad values are refused", async () => {
    const GiB = 1024 ** 3;
    expect(await control("storages/nas", { baseUsed: 7000 * GiB })).toMatchObject({
      ok: true,
      baseUsed: 7000 * GiB,
    });
    const nas = await data<{ avail: number; total: number }>("/nodes/pve1/storage/nas/status");
    expect(nas.avail).toBeLessThan(680 * GiB);
    const bad = await env.PVE!.fetch("http://pve/_sim/storages/nas", {
      method: "POST",
      body: JSON.stringify({ total: -1 }),
    });
    expect(bad.status).toBe(400);
    expect(
      (await env.PVE!.fetch("http://pve/_sim/storages/nope", { method: "POST", body: "{}" })).status,
    ).toBe(404);
  });

  it("makes a guest ignore ACPI, or its agent stop answering", async () => {
    expect(await control("guests/101", { ignoresAcpi: true, agentRunning: false })).toEqual({
      ok: true,
      vmid: 101,
      ignoresAcpi: true,
      agentRunning: false,
    });
    const res = await api("/nodes/pve1/qemu/101/status/shutdown", {
      method: "POST",
      body: "timeout=3",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    const { data: upid } = (await res.json()) as { data: string };
    const status = await data<{ exitstatus: string }>(`/nodes/pve1/tasks/${upid}/status`);
    expect(status.exitstatus).toBe("VM quit/powerdown failed - got timeout");
  });
});

describe("request log", () => {
  it("records what clients sent, decoded, without the credentials", async () => {
    await api("/nodes/pve1/storage?content=iso&content=backup");
    await api("/nodes/pve1/qemu/100/status/shutdown", {
      method: "POST",
      body: "timeout=30&forceStop=1",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    const upid = "UPID:pve1:00001234:00ABCDEF:6B000000:qmstart:100:root@pam!mcp:";
    await api(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/log?start=0`);
    await env.PVE!.fetch("http://pve/api2/json/version");
    const log = await requests();
    expect(log).toEqual([
      {
        method: "GET",
        path: "/nodes/pve1/storage",
        query: { content: ["iso", "backup"] },
        body: {},
        contentType: null,
        authorized: true,
        status: 200,
      },
      {
        method: "POST",
        path: "/nodes/pve1/qemu/100/status/shutdown",
        query: {},
        body: { timeout: "30", forceStop: "1" },
        contentType: "application/x-www-form-urlencoded",
        authorized: true,
        status: 200,
      },
      {
        method: "GET",
        path: `/nodes/pve1/tasks/${upid}/log`,
        query: { start: "0" },
        body: {},
        contentType: null,
        authorized: true,
        status: 200,
      },
      {
        method: "GET",
        path: "/version",
        query: {},
        body: {},
        contentType: null,
        authorized: false,
        status: 401,
      },
    ]);
    expect(JSON.stringify(log)).not.toContain(SECRET);
    const cleared = await env.PVE!.fetch("http://pve/_sim/requests", { method: "DELETE" });
    expect(cleared.status).toBe(200);
    expect(await requests()).toEqual([]);
  });

  it("records injected failures with their status", async () => {
    await control("fail", { count: 1, kind: "tunnel-error" });
    await api("/cluster/resources");
    expect(await requests()).toEqual([expect.objectContaining({ path: "/cluster/resources", status: 530 })]);
  });
});
