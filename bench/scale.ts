// 6. Scale: the cluster-wide list tools at 50, 500 and 5,000 guests.

import { answerBytes, shownRows } from "./clients.ts";
import { bytes, type Context, type SectionResult, table, timed, timing } from "./stats.ts";

const SIZES = [50, 500, 5000];
const NODES = 3;

export async function scaleSection(ctx: Context): Promise<SectionResult> {
  const { sim, mcp, log } = ctx;
  const reps = ctx.mode === "full" ? 30 : 3;
  const rows: (string | number)[][] = [];
  for (const guests of SIZES) {
    log(`scale: ${guests} guests`);
    await sim.reset({ nodes: NODES, guests });
    const raw = await sim.api("GET", "/cluster/resources");
    const directTimes: number[] = [];
    for (let i = 0; i < reps; i++)
      directTimes.push((await timed(() => sim.api("GET", "/cluster/resources"))).ms);
    for (const [tool, args] of [
      ["get_cluster_resources", {}],
      ["get_vms", {}],
      ["get_vms", { limit: 5000 }],
    ] as [string, Record<string, unknown>][]) {
      const first = await mcp.call(tool, args);
      if (first.isError)
        throw new Error(`${tool} at ${guests} guests failed: ${JSON.stringify(first.content)}`);
      const times: number[] = [];
      for (let i = 0; i < reps; i++) times.push((await timed(() => mcp.call(tool, args))).ms);
      const size = answerBytes(first);
      const structured = first.structuredContent ?? {};
      const shown = shownRows(structured);
      const total = typeof structured.total === "number" ? structured.total : undefined;
      rows.push([
        guests,
        `${tool}${Object.keys(args).length ? ` ${JSON.stringify(args)}` : ""}`,
        timing(times),
        shown !== undefined ? `${shown}${total !== undefined ? ` of ${total}` : ""}` : "—",
        bytes(size.text),
        bytes(size.structured),
        bytes(Buffer.byteLength(raw.body)),
        timing(directTimes),
      ]);
    }
  }
  await sim.reset();
  return {
    title: "6. Scale",
    howToRead:
      "How time and answer size grow with the cluster: lists are bounded by `limit` (default shown first), so a default answer stays flat while the upstream JSON grows with the guests; the direct column is the simulator alone.",
    body: [
      table(
        [
          "guests",
          "call",
          "median / p95",
          "rows shown",
          "text",
          "structured",
          "raw /cluster/resources",
          "direct /cluster/resources: median / p95",
        ],
        rows,
      ),
      "",
      `${NODES} nodes at every size (the simulator's scale knob: \`POST /_sim/reset {"nodes":${NODES},"guests":N}\`); ${reps} timed calls per row after one untimed call. ` +
        "At 500 guests and more the simulated nodes show full CPU and memory (every guest's load lands on 3 nodes); sizes are unaffected.",
    ].join("\n"),
    checks: [],
  };
}
