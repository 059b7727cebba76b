import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DASHBOARD_URI } from "../src/tools/dashboard";
import { connect, expectError, expectOk, type TestClient, TOOL_ERA, tableRows } from "./helpers/mcp";
import { sim } from "./helpers/sim";

describe("show_dashboard", () => {
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

  it("names its ui:// view, and the refresh tool is for the view only", async () => {
    const tools = (await client.listTools()) as unknown as { name: string; _meta?: Record<string, any> }[];
    const show = tools.find((t) => t.name === "show_dashboard");
    expect(show?._meta).toEqual({ ui: { resourceUri: DASHBOARD_URI }, "ui/resourceUri": DASHBOARD_URI });
    // The address names the build, so hosts that cache views by address load a new one.
    expect(DASHBOARD_URI).toMatch(/^ui:\/\/proxmox-mcp\/dashboard-[0-9a-f]{12}\.html$/);
    const refresh = tools.find((t) => t.name === "dashboard_refresh");
    expect(refresh?._meta).toEqual({ ui: { visibility: ["app"] } });
  });

  it("serves the view as one self-contained HTML file with no data in it", async () => {
    const [view] = await client.readResource(DASHBOARD_URI);
    expect(view).toMatchObject({ uri: DASHBOARD_URI, mimeType: "text/html;profile=mcp-app" });
    expect(view?._meta?.ui).toMatchObject({ csp: { connectDomains: [], resourceDomains: [] } });
    const html = view?.text ?? "";
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("default-src 'none'");
    // Nothing loaded from anywhere: no src= or href= to another document, no cluster data baked in.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    for (const name of ["pihole", "db-01", "pve1", "homelab"]) expect(html).not.toContain(name);
    // Hosts' guidance: a colour-scheme meta tag, and a transparent page the host's background shows through.
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    const gzipped = await new Response(
      new Blob([html]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    expect(gzipped.byteLength).toBeLessThan(100 * 1024);
  });

  it("answers the model with a compact summary of the whole cluster", async () => {
    const { text, data } = await expectOk(client, "show_dashboard");
    const lines = text.split("\n");
    expect(lines[0]).toBe("Cluster homelab: 3/3 nodes online, quorate");
    expect(lines[1]).toMatch(
      /^pve1: cpu [\d.]+% of \d+, mem [\d.]+\/[\d.]+ GiB, root [\d.]+\/[\d.]+ GiB, up /,
    );
    expect(text).toMatch(/\nGuests: 17 \(\d+ running, \d+ stopped, 1 paused\)/);
    expect(text).toMatch(/\nBusiest now: \d+ \S+ [\d.]+% of \d+ \(pve\d\)/);
    expect(text).toMatch(/\nRunning tasks: /);
    expect(text).toMatch(/\nFailed in the last day: /);
    expect(text).toMatch(/\nNo backup within 7 days: .*103 win11/);
    // /cluster/backup-info/not-backed-up names the guests no backup job covers.
    expect(text).toMatch(/\nIn no backup job: .*110 test-vm/);
    expect(data.cluster).toEqual({ name: "homelab", quorate: true, nodes: 3, online: 3 });
    expect(data.guests.total).toBe(17);
    expect(data.no_recent_backup).toContain(103);
    expect(data.no_recent_backup_count).toBe(data.no_recent_backup.length);
    expect(data.backup_days).toBe(7);
    expect(text.length).toBeLessThan(1500);
  });

  it("carries what the inline card paints: counts, the busiest, what is nearly full and the hour's trend", async () => {
    // A storage filled to 95% is named in the text and in the card's attention list.
    const filled = await env.PVE?.fetch("http://pve/_sim/storages/nas", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ baseUsed: Math.round(0.93 * 2 * 1024 ** 4), total: 2 * 1024 ** 4 }),
    });
    expect(filled?.status).toBe(200);
    await sim.clearRequests();
    const { text, data } = await expectOk(client, "show_dashboard");
    const nas = tableRows(data.near_full).find((r) => r.name === "nas");
    expect(nas).toMatchObject({ what: "storage", used_pct: expect.any(Number) });
    expect(nas?.used_pct).toBeGreaterThanOrEqual(90);
    expect(text).toMatch(/\nNearly full: .*storage nas 9\d(\.\d)?%/);
    expect(data.busiest.rows.length).toBeLessThanOrEqual(5);
    expect(data.guests.running).toBeGreaterThan(0);
    // The hour's trend: one CPU and one memory line for the whole cluster, 30 points at most.
    expect(data.trend.subject).toBe("nodes");
    expect(data.trend.cpu_pct.length).toBeLessThanOrEqual(30);
    expect(data.trend.mem_pct.length).toBe(data.trend.cpu_pct.length);
    expect(data.trend.step_s).toBeGreaterThan(0);
    const known = [...data.trend.cpu_pct, ...data.trend.mem_pct].filter((v) => v !== null);
    expect(known.length).toBeGreaterThan(30);
    expect(Math.min(...known)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...known)).toBeLessThanOrEqual(100);
    // Memory is a share of the cluster's RAM: in the seeded cluster, well above nothing.
    expect(Math.max(...data.trend.mem_pct.filter((v: number | null) => v !== null))).toBeGreaterThan(5);
    const requests = await sim.requests();
    expect(requests.filter((r) => r.path.endsWith("/rrddata")).map((r) => r.path)).toEqual([
      "/nodes/pve1/rrddata",
      "/nodes/pve2/rrddata",
      "/nodes/pve3/rrddata",
    ]);
    // The view's card refresh answers the same card.
    const card = await expectOk(client, "dashboard_refresh", { part: "card" });
    expect(card.data.cluster).toEqual(data.cluster);
    expect(card.data.no_recent_backup_count).toBe(data.no_recent_backup_count);
    expect(card.data.guests).toEqual(data.guests);
    expect(card.data.requests).toBeGreaterThan(0);
  });

  it("gives the view nodes, storages, guests, tasks, backups and chart lines in one refresh", async () => {
    await sim.clearRequests();
    const { data } = await expectOk(client, "dashboard_refresh", { timeframe: "day" });
    const requests = await sim.requests();
    expect(data.requests).toBe(requests.length);
    expect(requests.length).toBeLessThanOrEqual(20);
    expect(tableRows(data.nodes).map((n) => n.node)).toEqual(["pve1", "pve2", "pve3"]);
    const guests = tableRows(data.guests);
    expect(guests.find((g) => g.vmid === 101)).toMatchObject({
      name: "web-01",
      status: "running",
      tags: "prod;web",
      pool: "prod",
    });
    expect(data.chart).toMatchObject({ timeframe: "day", subject: "nodes", io: "iowait_pct" });
    expect(data.chart.lines.map((l: { label: string }) => l.label)).toEqual(["pve1", "pve2", "pve3"]);
    expect(data.chart.time.length).toBeLessThanOrEqual(120);
    expect(data.chart.lines[0].cpu.length).toBe(data.chart.time.length);
    // The timeframe switch asks for the chart alone.
    await sim.clearRequests();
    const chart = await expectOk(client, "dashboard_refresh", {
      vmid: 201,
      timeframe: "week",
      part: "chart",
    });
    expect((await sim.requests()).map((r) => r.path)).toEqual([
      "/cluster/resources",
      "/nodes/pve1/lxc/201/rrddata",
    ]);
    expect(chart.data.chart).toMatchObject({ subject: "CT 201", io: "disk_kibps" });
    expect(chart.data.guests).toBeUndefined();
  });

  it("focuses on one node, and explains unknown targets", async () => {
    const { text, data } = await expectOk(client, "show_dashboard", { node: "pve2" });
    expect(text.split("\n")[0]).toBe("Cluster homelab: 3/3 nodes online, quorate (showing node pve2)");
    expect(text).not.toMatch(/\npve1:/);
    expect(data.guests.total).toBeGreaterThan(0);
    expect(await expectError(client, "show_dashboard", { node: "nope" })).toMatch(
      /There is no node 'nope'.*pve1, pve2, pve3/,
    );
    expect(await expectError(client, "show_dashboard", { vmid: 999 })).toMatch(
      /no VM or container with ID 999/,
    );
    expect(await expectError(client, "show_dashboard", { backup_days: 0 })).toMatch(
      /backup_days must be at least 1/,
    );
    for (const bad of [[7], true, null, "1e2"])
      expect(await expectError(client, "show_dashboard", { backup_days: bad })).toMatch(
        /backup_days must be a number or a string of digits/,
      );
    expect((await expectOk(client, "show_dashboard", { backup_days: "30" })).text).toMatch(
      /within 30 days|last 30 days/,
    );
  });
});
