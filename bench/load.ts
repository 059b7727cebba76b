// 5. Load: many MCP sessions at once, each making a mix of read calls.

import { Mcp, textOf } from "./clients.ts";
import { type Context, ms, percentile, type SectionResult, table, timed, timing } from "./stats.ts";

/** The mix: what an assistant exploring a cluster calls, by node and by vmid alone. */
const MIX: [string, Record<string, unknown>][] = [
  ["get_cluster_resources", {}],
  ["get_vm", { vmid: 100, node: "pve1" }],
  ["get_vms", {}],
  ["get_vm", { vmid: 104 }],
  ["get_cluster_status", {}],
  ["get_containers", {}],
  ["get_vm_config", { vmid: 101 }],
  ["get_nodes", {}],
  ["get_node_status", { node: "pve2" }],
  ["get_container", { vmid: 200 }],
  ["get_storages", {}],
  ["get_snapshots", { vmid: 101 }],
  ["get_tasks", { node: "pve1" }],
  ["get_backups", { storage: "nas" }],
  ["get_pools", {}],
  ["get_vm", { vmid: 108, node: "pve3" }],
  ["get_storage_content", { storage: "local", node: "pve1" }],
  ["get_tasks", {}],
  ["get_pool", { poolid: "prod" }],
  ["get_vms", { node: "pve2" }],
];

export async function loadSection(ctx: Context): Promise<SectionResult> {
  const { sim, servers, log } = ctx;
  const sessions = 50;
  const callsPerSession = ctx.mode === "full" ? 20 : 5;
  await sim.reset();

  const connect = await Promise.all(
    Array.from({ length: sessions }, (_, i) => timed(() => Mcp.connect(servers.mcpUrl, `bench-load-${i}`))),
  );
  const clients = connect.map((c) => c.value);
  const latencies: number[] = [];
  const errors: string[] = [];
  log(`load: ${sessions} sessions × ${callsPerSession} calls`);
  await sim.clearRequests();
  const wall = await timed(() =>
    Promise.all(
      clients.map(async (client, s) => {
        for (let i = 0; i < callsPerSession; i++) {
          const [tool, args] = MIX[(s + i) % MIX.length] as [string, Record<string, unknown>];
          try {
            const { ms: took, value } = await timed(() => client.call(tool, args));
            latencies.push(took);
            if (value.isError) errors.push(`${tool}: ${textOf(value).slice(0, 160)}`);
          } catch (error) {
            errors.push(`${tool}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }),
    ),
  );
  const upstream = (await sim.requests()).length;
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  const calls = sessions * callsPerSession;
  const body = [
    table(
      ["figure", "value"],
      [
        ["sessions (each its own MCP client and connection)", sessions],
        ["calls per session, sequential", callsPerSession],
        ["calls in all", calls],
        ["errors (transport failures and isError results)", errors.length],
        ["call latency: median / p95", timing(latencies)],
        ["call latency: p99 / max", `${ms(percentile(latencies, 99))} / ${ms(Math.max(...latencies))}`],
        ["session setup (initialize): median / p95", timing(connect.map((c) => c.ms))],
        ["wall time for all calls", ms(wall.ms)],
        ["throughput", `${((calls / wall.ms) * 1000).toFixed(0)} calls/s`],
        ["Proxmox requests in all / per call", `${upstream} / ${(upstream / calls).toFixed(2)}`],
      ],
    ),
    "",
    `The mix cycles through ${MIX.length} read calls (${[...new Set(MIX.map(([t]) => t))].join(", ")}), ` +
      "each session starting at a different point, against the seeded homelab. All sessions start together. While " +
      "sign-in is off every session is the one local user (one Session Durable Object); a per-user rate limit would " +
      "count all of them together.",
    ...(errors.length ? ["", `Errors (first 5): ${errors.slice(0, 5).join("; ")}`] : []),
  ].join("\n");
  return {
    title: "5. Load",
    howToRead:
      "Many assistants at once against one local server on this machine's cores: every call must succeed; the latency spread shows queueing under load. Errors must be 0.",
    body,
    checks: [
      {
        what: `errors under load (${sessions} sessions × ${callsPerSession} calls)`,
        budget: "0",
        actual: `${errors.length}`,
        pass: errors.length === 0,
        deterministic: true,
      },
    ],
  };
}
