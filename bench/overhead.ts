// 1. Overhead per tool call: get_vm through MCP against the same upstream requests sent directly.

import { rawRpc } from "./clients.ts";
import { type Context, median, ms, type SectionResult, table, timed, timing } from "./stats.ts";

const ARGS = { vmid: 100, node: "pve1" };

export async function overheadSection(ctx: Context): Promise<SectionResult> {
  const { sim, mcp, servers } = ctx;
  const reps = ctx.mode === "full" ? 300 : 30;
  await sim.reset();

  // The upstream requests one get_vm makes; "direct" replays exactly these.
  await sim.clearRequests();
  const probe = await mcp.call("get_vm", ARGS);
  if (probe.isError) throw new Error(`get_vm failed: ${JSON.stringify(probe.content)}`);
  const upstream = (await sim.requests()).map((r) => ({
    method: r.method,
    path: r.path,
    query: r.query as Record<string, string>,
  }));
  const direct = async () => {
    for (const r of upstream) {
      const res = await sim.api(r.method, r.path, r.query);
      if (res.status !== 200) throw new Error(`direct ${r.method} ${r.path}: ${res.status}`);
    }
  };
  const healthz = async () => {
    const res = await fetch(servers.mcpUrl.replace(/\/mcp$/, "/healthz"));
    await res.text();
  };
  const ping = () => rawRpc(servers.mcpUrl, "ping", {});
  // vmid 1 is refused by the input schema: a whole tool call that never reaches Proxmox.
  const refused = () => rawRpc(servers.mcpUrl, "tools/call", { name: "get_vm", arguments: { vmid: 1 } });
  const raw = () => rawRpc(servers.mcpUrl, "tools/call", { name: "get_vm", arguments: ARGS });
  const sdk = () => mcp.call("get_vm", ARGS);
  const paths: [string, () => Promise<unknown>][] = [
    [`direct to the simulator: ${upstream.map((r) => `${r.method} ${r.path}`).join(", ")}`, direct],
    ["MCP get_vm: one JSON-RPC tools/call POST", raw],
    ["MCP get_vm through the v1 SDK client (adds client-side output-schema validation)", sdk],
    ["floor: GET /healthz on the MCP Worker (HTTP only, no MCP)", healthz],
    ["MCP ping (a server built per request, no tool)", ping],
    ["MCP get_vm refused by input validation (no Proxmox request)", refused],
  ];
  const samples = paths.map(() => [] as number[]);
  // Warm-up, then interleave so drift on a shared machine hits every path alike.
  for (let i = 0; i < Math.min(20, reps); i++) for (const [, run] of paths) await run();
  for (let i = 0; i < reps; i++) {
    for (const [j, [, run]] of paths.entries()) (samples[j] as number[]).push((await timed(run)).ms);
  }
  const [directSamples, rawSamples] = samples as [number[], number[]];
  const base = median(directSamples);
  const mcpWork = median(samples[5] as number[]) - median(samples[3] as number[]);
  const added = median(rawSamples) - base;
  const rows = paths.map(([name], j) => {
    const s = samples[j] as number[];
    const compared = j === 1 || j === 2;
    return [
      name,
      timing(s),
      compared ? ms(median(s) - base) : "—",
      compared ? `${(median(s) / base).toFixed(2)}×` : "—",
    ];
  });
  const body = [
    table(["path", "median / p95", "added at median", "ratio at median"], rows),
    "",
    `${reps} interleaved repetitions after ${Math.min(20, reps)} warm-up rounds; arguments \`${JSON.stringify(ARGS)}\`. ` +
      "The last three rows split the MCP path: the HTTP floor of a `wrangler dev` Worker, the JSON-RPC round trip " +
      "with a server built for the request, and a whole tool call short of its Proxmox request. The MCP layer's own " +
      `work is therefore about ${ms(mcpWork)} (refused call minus the floor); the rest of "added" is the Worker's ` +
      "hop to the simulator through wrangler's dev registry, a local proxy between two `wrangler dev` processes " +
      "that the direct path does not take (in production this hop is the tunnel to Proxmox).",
  ].join("\n");
  return {
    title: "1. Overhead per tool call",
    howToRead:
      "Time for one get_vm through the MCP server against the same Proxmox requests sent straight to the simulator. The difference is what the MCP layer adds to every call; aim: under 5 ms at the median (timings are reported, never asserted).",
    body,
    checks: [
      {
        what: "MCP overhead of get_vm at the median (aim)",
        budget: "< 5 ms",
        actual: ms(added),
        pass: added < 5,
        deterministic: false,
      },
    ],
  };
}
