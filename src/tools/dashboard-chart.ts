import type { ToolDeps } from "../mcp/tool";
import { ProxmoxError } from "../proxmox/errors";
import type { ClusterResourcesGetItem } from "../proxmox/generated/pve-api";
import type { RrdRow, Timeframe } from "./metrics-series";

/** The dashboard's charts: one RRD per line (each node, or the focused guest), thinned for drawing. */

/** Chart points: Proxmox's hour is 60, longer timeframes are averaged down to this many. */
export const CHART_POINTS = 120;

type Resource = ClusterResourcesGetItem;

export interface Chart {
  timeframe: Timeframe;
  /** Whose lines: the nodes, or one guest. */
  subject: string;
  time: number[];
  /** One line per node (or the guest): per metric, one value per time (null while unknown). */
  lines: {
    label: string;
    cpu: (number | null)[];
    mem: (number | null)[];
    netin: (number | null)[];
    netout: (number | null)[];
    io: (number | null)[];
  }[];
  /** What the io values are: disk read+write KiB/s (guests), I/O wait % (nodes). */
  io: "disk_kibps" | "iowait_pct";
}

/** Counts Proxmox requests so the answer can report them (the bench reads this). */
export class Counter {
  n = 0;
  constructor(private readonly deps: ToolDeps) {}
  get client() {
    this.n++;
    return this.deps.client;
  }
}

/** Averages consecutive points (or takes their peak) so a chart has at most `max` of them. */
function thin(rows: RrdRow[], max: number): RrdRow[] {
  const size = Math.max(1, Math.ceil(rows.length / max));
  if (size === 1) return rows;
  const out: RrdRow[] = [];
  for (let i = 0; i < rows.length; i += size) {
    const bucket = rows.slice(i, i + size);
    const merged: RrdRow = { time: bucket[bucket.length - 1]?.time ?? 0 };
    const keys = new Set(bucket.flatMap((r) => Object.keys(r)));
    keys.delete("time");
    for (const k of keys) {
      const values = bucket.map((r) => r[k]).filter((v): v is number => typeof v === "number");
      if (values.length) merged[k] = values.reduce((a, b) => a + b, 0) / values.length;
    }
    out.push(merged);
  }
  return out;
}

const r1 = (v: number | undefined) => (v === undefined ? null : Math.round(v * 10) / 10);
const r2 = (v: number | undefined) => (v === undefined ? null : Math.round(v * 100) / 100);

export async function chartFor(
  c: Counter,
  subject: { nodes: string[] } | { guest: Resource },
  timeframe: Timeframe,
): Promise<Chart> {
  if ("guest" in subject) {
    const g = subject.guest;
    const params = { node: g.node as string, vmid: g.vmid as number, timeframe };
    const rows = thin(
      g.type === "lxc"
        ? await c.client.call("GET /nodes/{node}/lxc/{vmid}/rrddata", params)
        : await c.client.call("GET /nodes/{node}/qemu/{vmid}/rrddata", params),
      CHART_POINTS,
    );
    return {
      timeframe,
      subject: `${g.type === "lxc" ? "CT" : "VM"} ${g.vmid}`,
      time: rows.map((r) => r.time ?? 0),
      io: "disk_kibps",
      lines: [
        {
          label: String(g.name ?? g.vmid),
          cpu: rows.map((r) => r1(r.cpu === undefined ? undefined : r.cpu * 100)),
          mem: rows.map((r) => r2(r.mem === undefined ? undefined : r.mem / 1024 ** 3)),
          netin: rows.map((r) => r1(r.netin === undefined ? undefined : r.netin / 1024)),
          netout: rows.map((r) => r1(r.netout === undefined ? undefined : r.netout / 1024)),
          io: rows.map((r) =>
            r1(r.diskread === undefined ? undefined : ((r.diskread ?? 0) + (r.diskwrite ?? 0)) / 1024),
          ),
        },
      ],
    };
  }
  const all = await Promise.all(
    subject.nodes.map(async (node) => {
      try {
        return {
          node,
          rows: thin(await c.client.call("GET /nodes/{node}/rrddata", { node, timeframe }), CHART_POINTS),
        };
      } catch (error) {
        if (error instanceof ProxmoxError) return { node, rows: [] as RrdRow[] };
        throw error;
      }
    }),
  );
  const time = all.find((a) => a.rows.length)?.rows.map((r) => r.time ?? 0) ?? [];
  return {
    timeframe,
    subject: subject.nodes.length === 1 ? `node ${subject.nodes[0]}` : "nodes",
    time,
    io: "iowait_pct",
    lines: all.map(({ node, rows }) => {
      const at = new Map(rows.map((r) => [r.time, r]));
      const pick = (f: (r: RrdRow) => number | undefined) =>
        time.map((t) => {
          const r = at.get(t);
          return r ? r1(f(r)) : null;
        });
      return {
        label: node,
        cpu: pick((r) => (r.cpu === undefined ? undefined : r.cpu * 100)),
        mem: time.map((t) => {
          const r = at.get(t);
          return r2(r?.memused === undefined ? undefined : r.memused / 1024 ** 3);
        }),
        netin: pick((r) => (r.netin === undefined ? undefined : r.netin / 1024)),
        netout: pick((r) => (r.netout === undefined ? undefined : r.netout / 1024)),
        io: pick((r) => (r.iowait === undefined ? undefined : r.iowait * 100)),
      };
    }),
  };
}
