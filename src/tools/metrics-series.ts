import { type Cell, row } from "../mcp/format";

/**
 * Turning Proxmox RRD rows (one object per step, every column of the file) into what a model
 * can read: per series min / average / max / last in a human unit with the time of the peak, and
 * a short table of at most about 60 points. A day of one-minute points is 1440 rows of 18 columns
 * in Proxmox's answer; the summary says the same in a few hundred bytes.
 */

export type RrdRow = Record<string, number>;
export type Timeframe = "hour" | "day" | "week" | "month" | "year";
export type Cf = "AVERAGE" | "MAX";

export interface SeriesDef {
  /** The RRD column. */
  key: string;
  /** The name the answer uses. */
  name: string;
  unit: "%" | "GiB" | "KiB/s" | "load";
  /** Multiplier from Proxmox's unit (fraction, bytes, bytes/s) to `unit`. */
  scale: number;
  /** The column holding this series' capacity (maxmem for mem), in the same raw unit. */
  capacity?: string;
  /** Part of the downsampled table (pressure stays in the summary only). */
  table?: boolean;
}

const GiB = 1024 ** 3;
const KiB = 1024;

const pressure = (kind: "cpu" | "io" | "memory", level: "some" | "full"): SeriesDef => ({
  key: `pressure${kind}${level}`,
  name: `pressure_${kind}_${level}`,
  unit: "%",
  scale: 1,
});

export const GUEST_SERIES: SeriesDef[] = [
  { key: "cpu", name: "cpu", unit: "%", scale: 100, table: true },
  { key: "mem", name: "mem", unit: "GiB", scale: 1 / GiB, capacity: "maxmem", table: true },
  { key: "netin", name: "netin", unit: "KiB/s", scale: 1 / KiB, table: true },
  { key: "netout", name: "netout", unit: "KiB/s", scale: 1 / KiB, table: true },
  { key: "diskread", name: "diskread", unit: "KiB/s", scale: 1 / KiB, table: true },
  { key: "diskwrite", name: "diskwrite", unit: "KiB/s", scale: 1 / KiB, table: true },
  pressure("cpu", "some"),
  pressure("cpu", "full"),
  pressure("io", "some"),
  pressure("io", "full"),
  pressure("memory", "some"),
  pressure("memory", "full"),
];

export const NODE_SERIES: SeriesDef[] = [
  { key: "cpu", name: "cpu", unit: "%", scale: 100, table: true },
  { key: "loadavg", name: "load", unit: "load", scale: 1, table: true },
  { key: "iowait", name: "iowait", unit: "%", scale: 100, table: true },
  { key: "memused", name: "mem", unit: "GiB", scale: 1 / GiB, capacity: "memtotal", table: true },
  { key: "swapused", name: "swap", unit: "GiB", scale: 1 / GiB, capacity: "swaptotal" },
  { key: "rootused", name: "rootfs", unit: "GiB", scale: 1 / GiB, capacity: "roottotal" },
  { key: "arcsize", name: "zfs_arc", unit: "GiB", scale: 1 / GiB },
  { key: "netin", name: "netin", unit: "KiB/s", scale: 1 / KiB, table: true },
  { key: "netout", name: "netout", unit: "KiB/s", scale: 1 / KiB, table: true },
  pressure("cpu", "some"),
  pressure("io", "some"),
  pressure("io", "full"),
  pressure("memory", "some"),
  pressure("memory", "full"),
];

export const STORAGE_SERIES: SeriesDef[] = [
  { key: "used", name: "used", unit: "GiB", scale: 1 / GiB, capacity: "total", table: true },
];

/** Rounded for the answer: two decimals below 100, whole numbers above. */
export function tidy(value: number): number {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 1 ? 1 : 2;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface SeriesSummary {
  name: string;
  unit: string;
  min: number;
  avg: number;
  max: number;
  last: number;
  /** Epoch seconds of the step with the highest value. */
  peakAt: number;
  /** What the series is out of (GiB of memory, GiB of disk), when Proxmox says. */
  of?: number;
}

export const SUMMARY_COLUMNS = ["series", "unit", "min", "avg", "max", "last", "peak_time", "of"];

export function summarize(rows: RrdRow[], defs: SeriesDef[]): SeriesSummary[] {
  const out: SeriesSummary[] = [];
  for (const def of defs) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let n = 0;
    let last = 0;
    let peakAt = 0;
    let capacity: number | undefined;
    for (const r of rows) {
      const v = r[def.key];
      if (typeof v !== "number" || !Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) {
        max = v;
        peakAt = r.time ?? 0;
      }
      sum += v;
      n++;
      last = v;
      const c = def.capacity ? r[def.capacity] : undefined;
      if (typeof c === "number" && c > 0) capacity = c;
    }
    // A series Proxmox never filled (a stopped guest, a node without ZFS) says nothing.
    if (n === 0 || (def.key === "arcsize" && max === 0)) continue;
    out.push({
      name: def.name,
      unit: def.unit,
      min: tidy(min * def.scale),
      avg: tidy((sum / n) * def.scale),
      max: tidy(max * def.scale),
      last: tidy(last * def.scale),
      peakAt,
      ...(capacity !== undefined ? { of: tidy(capacity * def.scale) } : {}),
    });
  }
  return out;
}

export const summaryCells = (s: SeriesSummary): Cell[] =>
  row([s.name, s.unit, s.min, s.avg, s.max, s.last, s.peakAt, s.of]);

/** At most `maxPoints` rows: each the average (or, for MAX, the peak) of consecutive steps. */
export function downsample(
  rows: RrdRow[],
  defs: SeriesDef[],
  cf: Cf,
  maxPoints: number,
): { columns: string[]; rows: Cell[][] } {
  const table = defs.filter((d) => d.table && rows.some((r) => typeof r[d.key] === "number"));
  const columns = ["time", ...table.map((d) => `${d.name}_${unitSuffix(d.unit)}`)];
  const size = Math.max(1, Math.ceil(rows.length / maxPoints));
  const out: Cell[][] = [];
  for (let i = 0; i < rows.length; i += size) {
    const bucket = rows.slice(i, i + size);
    const cells: Cell[] = [bucket[bucket.length - 1]?.time ?? null];
    for (const d of table) {
      const values = bucket.map((r) => r[d.key]).filter((v): v is number => typeof v === "number");
      if (values.length === 0) {
        cells.push(null);
        continue;
      }
      const v = cf === "MAX" ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / values.length;
      cells.push(tidy(v * d.scale));
    }
    out.push(cells);
  }
  return { columns, rows: out };
}

function unitSuffix(unit: SeriesDef["unit"]): string {
  switch (unit) {
    case "%":
      return "pct";
    case "GiB":
      return "gib";
    case "KiB/s":
      return "kibps";
    case "load":
      return "avg";
  }
}

/** How many table points a timeframe gets: two-minute steps for the hour, else about 60. */
export const TABLE_POINTS: Record<Timeframe, number> = { hour: 30, day: 48, week: 56, month: 60, year: 60 };

/** "12.5 MiB/s" from a KiB/s figure, "3.2 GiB", "45%". */
export function human(value: number, unit: string): string {
  if (unit === "KiB/s") {
    if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} GiB/s`;
    if (value >= 1024) return `${(value / 1024).toFixed(1)} MiB/s`;
    return `${tidy(value)} KiB/s`;
  }
  if (unit === "%") return `${tidy(value)}%`;
  if (unit === "GiB") return `${tidy(value)} GiB`;
  return String(tidy(value));
}

/** "14:05" within a day, "Nov 28 14:05" beyond (UTC), for when a peak happened. */
export function when(epochSec: number, timeframe: Timeframe): string {
  const iso = new Date(epochSec * 1000).toISOString();
  const hm = iso.slice(11, 16);
  if (timeframe === "hour" || timeframe === "day") return `${hm} UTC`;
  return `${iso.slice(0, 10)} ${hm} UTC`;
}

export function summaryLine(s: SeriesSummary, timeframe: Timeframe): string {
  const of = s.of !== undefined ? ` of ${human(s.of, s.unit)}` : "";
  return `${s.name}: avg ${human(s.avg, s.unit)}, max ${human(s.max, s.unit)} at ${when(s.peakAt, timeframe)}, min ${human(s.min, s.unit)}, last ${human(s.last, s.unit)}${of}`;
}
