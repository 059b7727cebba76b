import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { node, storage, vmid, wholeNumber } from "../mcp/args";
import { type Cell, row, tableSchema } from "../mcp/format";
import { onNode } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import { ProxmoxError } from "../proxmox/errors";
import {
  type Cf,
  downsample,
  GUEST_SERIES,
  human,
  NODE_SERIES,
  type RrdRow,
  type SeriesDef,
  STORAGE_SERIES,
  SUMMARY_COLUMNS,
  summarize,
  summaryCells,
  summaryLine,
  TABLE_POINTS,
  tidy,
  when,
} from "./metrics-series";

const TIMEFRAMES = ["hour", "day", "week", "month", "year"] as const;
const TOP_SERIES = ["cpu", "mem", "netin", "netout", "diskread", "diskwrite"] as const;
type TopSeries = (typeof TOP_SERIES)[number];

/** At most this many guests' RRD files are read for a ranking, whatever the cluster's size. */
export const TOP_CANDIDATES = 12;
const PARALLEL = 6;

const input = z.object({
  node: node.optional(),
  vmid: vmid.optional(),
  storage: storage.optional(),
  timeframe: z.enum(TIMEFRAMES).default("hour"),
  cf: z.enum(["AVERAGE", "MAX"]).default("AVERAGE"),
  top: z.enum(TOP_SERIES).optional(),
  limit: wholeNumber("limit", { min: 1, max: TOP_CANDIDATES, hint: "how many guests to rank" }).default(5),
});

const output = z.object({
  target: z.object({
    kind: z.enum(["node", "qemu", "lxc", "storage", "top"]),
    node: z.string().optional(),
    vmid: z.number().optional(),
    name: z.string().optional(),
    storage: z.string().optional(),
    series: z.string().optional(),
  }),
  timeframe: z.enum(TIMEFRAMES),
  cf: z.enum(["AVERAGE", "MAX"]),
  step: z.number(),
  from: z.number(),
  to: z.number(),
  summary: tableSchema().optional(),
  samples: tableSchema().optional(),
  ranking: tableSchema().optional(),
  requests: z.number(),
  note: z.string().optional(),
});

type Output = z.output<typeof output>;
type Input = z.output<typeof input>;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function frame(rows: RrdRow[]): { step: number; from: number; to: number } {
  const first = rows[0]?.time ?? 0;
  const last = rows[rows.length - 1]?.time ?? 0;
  return { step: rows.length > 1 ? (rows[1]?.time ?? 0) - first : 0, from: first, to: last };
}

/** Summary, samples and text for one RRD. */
function describeSeries(
  rows: RrdRow[],
  defs: SeriesDef[],
  args: Input,
  heading: string,
  target: Output["target"],
  requests: number,
): { text: string; data: Output } {
  const summaries = summarize(rows, defs);
  const { step, from, to } = frame(rows);
  const lines = [
    `${heading}, last ${args.timeframe} (${rows.length} points every ${step >= 3600 ? `${step / 3600}h` : `${step / 60}m`}, ${args.cf === "MAX" ? "peaks" : "averages"}):`,
  ];
  let note: string | undefined;
  if (
    summaries.length === 0 ||
    (target.kind !== "node" && target.kind !== "storage" && !summaries.some((s) => s.name === "cpu"))
  ) {
    note =
      target.kind === "storage"
        ? "Proxmox has no usage recorded for this storage in this timeframe."
        : "The guest did not run in this timeframe: Proxmox recorded only its sizes.";
    lines.push(note);
  }
  for (const s of summaries) lines.push(summaryLine(s, args.timeframe));
  const data: Output = {
    target,
    timeframe: args.timeframe,
    cf: args.cf,
    step,
    from,
    to,
    requests,
    ...(summaries.length
      ? {
          summary: { columns: SUMMARY_COLUMNS, rows: summaries.map(summaryCells) },
          samples: downsample(rows, defs, args.cf, TABLE_POINTS[args.timeframe]),
        }
      : {}),
    ...(note ? { note } : {}),
  };
  return { text: lines.join("\n"), data };
}

const rrdParams = (args: Input) => ({ timeframe: args.timeframe, cf: args.cf as Cf });

async function guestMetrics(deps: ToolDeps, args: Input & { vmid: number }) {
  const where = await deps.locator.locate(args.vmid);
  if (args.node && args.node !== where.node) {
    throw new ToolError(
      `${where.type === "qemu" ? "VM" : "Container"} ${args.vmid} is on node ${where.node}, not ${args.node}. Omit node or pass node=${where.node}.`,
    );
  }
  const params = { node: where.node, vmid: args.vmid, ...rrdParams(args) };
  const rows =
    where.type === "qemu"
      ? await deps.client.call("GET /nodes/{node}/qemu/{vmid}/rrddata", params)
      : await deps.client.call("GET /nodes/{node}/lxc/{vmid}/rrddata", params);
  const word = where.type === "qemu" ? "VM" : "CT";
  return describeSeries(
    rows,
    GUEST_SERIES,
    args,
    `${word} ${args.vmid}${where.name ? ` ${where.name}` : ""} on ${where.node}`,
    compactTarget({ kind: where.type, node: where.node, vmid: args.vmid, name: where.name }),
    where.cached ? 1 : 2,
  );
}

function compactTarget(t: Output["target"]): Output["target"] {
  for (const key of Object.keys(t) as (keyof typeof t)[]) if (t[key] === undefined) delete t[key];
  return t;
}

async function storageMetrics(deps: ToolDeps, args: Input & { storage: string }) {
  if (!args.node) {
    throw new ToolError(
      "storage needs node: Proxmox records storage usage per node (get_storages lists where each storage is).",
    );
  }
  const nodeName = args.node;
  const rows = await onNode(deps, nodeName, () =>
    deps.client.call("GET /nodes/{node}/storage/{storage}/rrddata", {
      node: nodeName,
      storage: args.storage,
      ...rrdParams(args),
    }),
  );
  return describeSeries(
    rows,
    STORAGE_SERIES,
    args,
    `Storage ${args.storage} on ${nodeName}`,
    { kind: "storage", node: nodeName, storage: args.storage },
    1,
  );
}

async function nodeMetrics(deps: ToolDeps, args: Input & { node: string }) {
  const nodeName = args.node;
  const rows = await onNode(deps, nodeName, () =>
    deps.client.call("GET /nodes/{node}/rrddata", { node: nodeName, ...rrdParams(args) }),
  );
  return describeSeries(rows, NODE_SERIES, args, `Node ${nodeName}`, { kind: "node", node: nodeName }, 1);
}

/** What one guest did over the timeframe, in the ranked series' unit (cores for CPU). */
function rankValue(rows: RrdRow[], series: TopSeries, cf: Cf) {
  let sum = 0;
  let n = 0;
  let max = Number.NEGATIVE_INFINITY;
  let peakAt = 0;
  let last = 0;
  for (const r of rows) {
    const raw = r[series];
    if (typeof raw !== "number") continue;
    const v = series === "cpu" ? raw * (r.maxcpu ?? 1) : raw;
    sum += v;
    n++;
    last = v;
    if (v > max) {
      max = v;
      peakAt = r.time ?? 0;
    }
  }
  if (n === 0) return undefined;
  const scale = series === "mem" ? 1 / 1024 ** 3 : series === "cpu" ? 1 : 1 / 1024;
  const avg = (sum / n) * scale;
  return {
    avg: tidy(avg),
    max: tidy(max * scale),
    last: tidy(last * scale),
    peakAt,
    key: cf === "MAX" ? max * scale : avg,
  };
}

const TOP_UNIT: Record<TopSeries, string> = {
  cpu: "cores",
  mem: "GiB",
  netin: "KiB/s",
  netout: "KiB/s",
  diskread: "KiB/s",
  diskwrite: "KiB/s",
};

/**
 * The busiest guests by one series. One /cluster/resources call picks the candidates (running
 * guests, by what they do now and their average since start), then only the first
 * TOP_CANDIDATES guests' RRD files are read: the request count stays bounded at any cluster size.
 */
async function topMetrics(deps: ToolDeps, args: Input & { top: TopSeries }) {
  const series = args.top;
  const resources = await deps.client.call("GET /cluster/resources", { type: "vm" });
  const running = resources.filter(
    (r) => (r.status === "running" || r.status === "paused") && (!args.node || r.node === args.node),
  );
  if (args.node && !resources.some((r) => r.node === args.node) && running.length === 0) {
    await onNode(deps, args.node, () =>
      deps.client.call("GET /nodes/{node}/status", { node: args.node as string }),
    );
  }
  const now = (r: (typeof resources)[number]): number => {
    const uptime = Math.max(1, r.uptime ?? 1);
    switch (series) {
      case "cpu":
        return (r.cpu ?? 0) * (r.maxcpu ?? 1);
      case "mem":
        return r.mem ?? 0;
      default:
        return ((r[series] as number | undefined) ?? 0) / uptime;
    }
  };
  const candidates = [...running].sort((a, b) => now(b) - now(a)).slice(0, TOP_CANDIDATES);
  const ranked = await mapLimit(candidates, PARALLEL, async (r) => {
    const params = { node: r.node as string, vmid: r.vmid as number, ...rrdParams(args) };
    try {
      const rows =
        r.type === "lxc"
          ? await deps.client.call("GET /nodes/{node}/lxc/{vmid}/rrddata", params)
          : await deps.client.call("GET /nodes/{node}/qemu/{vmid}/rrddata", params);
      return { r, value: rankValue(rows, series, args.cf), rows };
    } catch (error) {
      // One node being away must not hide the others' guests.
      if (error instanceof ProxmoxError) return { r, value: undefined, rows: [] as RrdRow[] };
      throw error;
    }
  });
  const shown = ranked
    .filter((x) => x.value !== undefined)
    .sort((a, b) => (b.value?.key ?? 0) - (a.value?.key ?? 0))
    .slice(0, args.limit);
  const unit = TOP_UNIT[series];
  const columns = ["vmid", "name", "node", "type", `avg_${unit}`, `max_${unit}`, "peak_time", `last_${unit}`];
  const rows: Cell[][] = shown.map(({ r, value }) =>
    row([r.vmid, r.name, r.node, r.type, value?.avg, value?.max, value?.peakAt, value?.last]),
  );
  const sample = ranked.find((x) => x.rows.length)?.rows ?? [];
  const { step, from, to } = frame(sample);
  const scope = args.node ? `on ${args.node}` : "in the cluster";
  const lines = [
    `Busiest guests ${scope} by ${series}, last ${args.timeframe} (${args.cf === "MAX" ? "by peak" : "by average"}; ${running.length} running, ${candidates.length} compared):`,
    ...shown.map(
      ({ r, value }, i) =>
        `${i + 1}. ${r.vmid} ${r.name ?? ""} (${r.node}): avg ${human(value?.avg ?? 0, unit)}, max ${human(value?.max ?? 0, unit)} at ${when(value?.peakAt ?? 0, args.timeframe)}`,
    ),
  ];
  if (shown.length === 0) lines.push("No running guest recorded this series in the timeframe.");
  const data: Output = {
    target: compactTarget({ kind: "top", node: args.node, series }),
    timeframe: args.timeframe,
    cf: args.cf,
    step,
    from,
    to,
    ranking: { columns, rows },
    requests: 1 + candidates.length,
  };
  return { text: lines.join("\n"), data };
}

const getMetricsTool = tool({
  name: "get_metrics",
  title: "Metrics history",
  description:
    "History of a node, vmid or node+storage (CPU, memory, network, disk I/O, load, pressure): min/avg/max/last, " +
    "peak time, ~60 points. cf=MAX for peaks. top=<series> ranks the busiest guests instead.",
  input,
  output,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    if (args.top) return topMetrics(deps, { ...args, top: args.top });
    if (args.vmid !== undefined) {
      if (args.storage) throw new ToolError("Give vmid or storage, not both.");
      return guestMetrics(deps, { ...args, vmid: args.vmid });
    }
    if (args.storage) return storageMetrics(deps, { ...args, storage: args.storage });
    if (args.node) return nodeMetrics(deps, { ...args, node: args.node });
    throw new ToolError(
      "Say what to measure: node (a node), vmid (a VM or container), node+storage, or top=cpu to rank the busiest guests.",
    );
  },
});

export function registerMetricsTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getMetricsTool);
}
