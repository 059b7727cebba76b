import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, expectError, expectOk, type TestClient, TOOL_ERA, tableRows } from "./helpers/mcp";
import { api } from "./helpers/pve";
import { sim } from "./helpers/sim";

async function upstream() {
  return (await sim.requests()).map(
    (r) => `${r.method} ${r.path}${r.query.timeframe ? `?${r.query.timeframe}` : ""}`,
  );
}

describe("get_metrics", () => {
  let client: TestClient;

  beforeAll(async () => {
    client = await connect(TOOL_ERA);
  }, 30_000);
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
  });

  it("summarizes a VM's hour per series with units and the peak's time, from one RRD request", async () => {
    await sim.clearRequests();
    const { text, data } = await expectOk(client, "get_metrics", { vmid: 102 });
    // Finding the guest's node, then its RRD; a second call finds the node in the cache.
    expect(await upstream()).toEqual(["GET /cluster/resources", "GET /nodes/pve1/qemu/102/rrddata?hour"]);
    expect(data.target).toEqual({ kind: "qemu", node: "pve1", vmid: 102, name: "db-01" });
    expect(data).toMatchObject({ timeframe: "hour", cf: "AVERAGE", step: 60, requests: 2 });
    expect((await expectOk(client, "get_metrics", { vmid: 102, timeframe: "day" })).data.requests).toBe(1);
    const series = Object.fromEntries(tableRows(data.summary).map((r) => [r.series, r]));
    expect(Object.keys(series)).toEqual(
      expect.arrayContaining(["cpu", "mem", "netin", "netout", "diskread", "diskwrite", "pressure_cpu_some"]),
    );
    expect(series.cpu).toMatchObject({ unit: "%" });
    expect(series.mem).toMatchObject({ unit: "GiB", of: 8 });
    const cpu = series.cpu as Record<string, number>;
    expect(cpu.min).toBeLessThanOrEqual(cpu.avg as number);
    expect(cpu.avg).toBeLessThanOrEqual(cpu.max as number);
    expect(cpu.peak_time).toBeGreaterThanOrEqual(data.from);
    expect(cpu.peak_time).toBeLessThanOrEqual(data.to);
    // The raw hour has 60 points; the table has at most 30 (two-minute averages).
    expect(data.samples.columns).toEqual([
      "time",
      "cpu_pct",
      "mem_gib",
      "netin_kibps",
      "netout_kibps",
      "diskread_kibps",
      "diskwrite_kibps",
    ]);
    expect(data.samples.rows.length).toBe(30);
    expect(text).toMatch(/^VM 102 db-01 on pve1, last hour \(60 points every 1m, averages\):/);
    expect(text).toMatch(/\ncpu: avg [\d.]+%, max [\d.]+% at \d\d:\d\d UTC, min [\d.]+%, last [\d.]+%/);
    expect(text).toMatch(/\nmem: .* of 8 GiB/);
  });

  it("matches Proxmox's own numbers: the summary's max is the highest raw value", async () => {
    const { data } = await expectOk(client, "get_metrics", { vmid: 101, timeframe: "day", cf: "MAX" });
    const raw = (await (await api("/nodes/pve1/qemu/101/rrddata?timeframe=day&cf=MAX")).json()) as {
      data: Record<string, number>[];
    };
    const cpu = tableRows(data.summary).find((r) => r.series === "cpu") as Record<string, number>;
    const rawMax = Math.max(...raw.data.map((p) => p.cpu ?? 0));
    expect(cpu.max).toBeCloseTo(rawMax * 100, 1);
    expect(data.samples.rows.length).toBe(48);
  });

  it("answers for containers, nodes and storages, and says when a guest did not run", async () => {
    const ct = await expectOk(client, "get_metrics", { vmid: 201, timeframe: "week" });
    expect(ct.data.target).toMatchObject({ kind: "lxc", node: "pve1", vmid: 201 });
    expect(ct.data.step).toBe(1800);
    const node = await expectOk(client, "get_metrics", { node: "pve2", timeframe: "month" });
    expect(tableRows(node.data.summary).map((r) => r.series)).toEqual(
      expect.arrayContaining([
        "cpu",
        "load",
        "iowait",
        "mem",
        "swap",
        "rootfs",
        "netin",
        "netout",
        "pressure_io_some",
      ]),
    );
    expect(node.data.samples.rows.length).toBe(60);
    const st = await expectOk(client, "get_metrics", {
      node: "pve1",
      storage: "local-lvm",
      timeframe: "year",
    });
    expect(tableRows(st.data.summary)[0]).toMatchObject({ series: "used", unit: "GiB" });
    const stopped = await expectOk(client, "get_metrics", { vmid: 103 });
    expect(stopped.text).toContain("The guest did not run in this timeframe");
    expect(stopped.data.summary).toBeUndefined();
  });

  it("ranks the busiest guests of the cluster with a bounded number of requests", async () => {
    await sim.reset({ nodes: 3, guests: 60 });
    await sim.clearRequests();
    const { text, data } = await expectOk(client, "get_metrics", { top: "cpu", timeframe: "day", limit: 3 });
    const requests = await upstream();
    expect(requests[0]).toBe("GET /cluster/resources");
    expect(requests.length).toBe(data.requests);
    expect(requests.length).toBeLessThanOrEqual(13);
    const ranked = tableRows(data.ranking);
    expect(ranked).toHaveLength(3);
    expect(data.ranking.columns).toEqual([
      "vmid",
      "name",
      "node",
      "type",
      "avg_cores",
      "max_cores",
      "peak_time",
      "last_cores",
    ]);
    expect((ranked[0] as Record<string, number>).avg_cores).toBeGreaterThanOrEqual(
      (ranked[1] as Record<string, number>).avg_cores as number,
    );
    expect(text).toMatch(/^Busiest guests in the cluster by cpu, last day/);
    const onNode = await expectOk(client, "get_metrics", { top: "netin", node: "pve2" });
    for (const r of tableRows(onNode.data.ranking)) expect(r.node).toBe("pve2");
  });

  it("refuses what it cannot measure, before asking Proxmox", async () => {
    await sim.clearRequests();
    expect(await expectError(client, "get_metrics", {})).toMatch(/Say what to measure/);
    expect(await expectError(client, "get_metrics", { node: "pve1", timeframe: "decade" })).toMatch(
      /timeframe/,
    );
    expect(await expectError(client, "get_metrics", { storage: "local" })).toMatch(/storage needs node/);
    expect(await expectError(client, "get_metrics", { top: "temperature" })).toMatch(/top/);
    for (const bad of [[3], true, "1e2", 13])
      expect(await expectError(client, "get_metrics", { top: "cpu", limit: bad })).toMatch(/limit must be/);
    expect(await upstream()).toEqual([]);
    expect(await expectError(client, "get_metrics", { vmid: 999 })).toMatch(/no VM or container with ID 999/);
    expect(await expectError(client, "get_metrics", { vmid: 102, node: "pve2" })).toMatch(
      /is on node pve1, not pve2/,
    );
    expect(await expectError(client, "get_metrics", { node: "nope" })).toMatch(/There is no node 'nope'/);
  });
});
