import { z } from "zod";
import { type Cell, duration, row, tableSchema } from "../mcp/format";
import type { Chart } from "./dashboard-chart";
import { GUEST_COLUMNS, type Snapshot } from "./dashboard-data";

/**
 * The dashboard at a glance: what show_dashboard answers (the model reads its text; the view
 * paints its inline card from the structured part, with no request of its own) and what the
 * view's card refresh returns. Bounded whatever the cluster's size.
 */

/** A node or storage this full (memory, root disk, storage) needs attention. */
export const NEAR_FULL = 0.9;
/** The few busiest guests the card lists. */
const BUSIEST = 5;
/** Guests without a recent backup named in the structured answer; the count says how many in all. */
const STALE_LISTED = 50;
/** Points of the card's trend line (the hour's 60 averaged in pairs). */
const TREND_POINTS = 30;

export const cardSchema = z.object({
  generated: z.number(),
  cluster: z.object({
    name: z.string().optional(),
    quorate: z.boolean().optional(),
    nodes: z.number(),
    online: z.number(),
  }),
  guests: z.record(z.string(), z.number()),
  busiest: tableSchema(),
  tasks: z.object({ running: z.number(), failed_24h: z.number() }),
  backup_days: z.number(),
  no_recent_backup: z.array(z.number()),
  no_recent_backup_count: z.number(),
  near_full: tableSchema(),
  trend: z
    .object({
      subject: z.string(),
      from: z.number(),
      step_s: z.number(),
      cpu_pct: z.array(z.number().nullable()),
      mem_pct: z.array(z.number().nullable()),
    })
    .optional(),
});
export type Card = z.infer<typeof cardSchema>;

const col = (name: string) => GUEST_COLUMNS.indexOf(name);
const cell = (r: Cell[], name: string) => r[col(name)] ?? null;
const num = (v: Cell | undefined) => (typeof v === "number" ? v : null);
const r1 = (v: number) => Math.round(v * 10) / 10;

/** Pairs of points averaged, so the card's line has at most TREND_POINTS. */
function halve(values: (number | null)[]): (number | null)[] {
  const size = Math.max(1, Math.ceil(values.length / TREND_POINTS));
  const out: (number | null)[] = [];
  for (let i = 0; i < values.length; i += size) {
    const known = values.slice(i, i + size).filter((v): v is number => v !== null);
    out.push(known.length ? r1(known.reduce((a, b) => a + b, 0) / known.length) : null);
  }
  return out;
}

/** The chart's lines summed into one CPU and one memory line, as percentages of what exists. */
function trendOf(s: Snapshot): Card["trend"] {
  const chart = s.chart;
  if (!chart || chart.time.length < 2) return undefined;
  let cpu: (number | null)[];
  let mem: (number | null)[];
  if (chart.subject === "nodes" || chart.subject.startsWith("node ")) {
    const nodes = new Map(s.nodes.rows.map((r) => [String(r[0]), r]));
    const cores = chart.lines.map((l) => num(nodes.get(l.label)?.[3]) ?? 0);
    const maxmem = chart.lines.map((l) => num(nodes.get(l.label)?.[5]) ?? 0);
    const totalCores = cores.reduce((a, b) => a + b, 0);
    const totalMem = maxmem.reduce((a, b) => a + b, 0);
    const sum = (pick: (line: Chart["lines"][number], i: number) => number | null) =>
      chart.time.map((_, i) => {
        let total = 0;
        for (const line of chart.lines) {
          const v = pick(line, i);
          if (v === null) return null;
          total += v;
        }
        return total;
      });
    cpu = sum((l, i) => {
      const v = l.cpu[i] ?? null;
      const k = cores[chart.lines.indexOf(l)] ?? 0;
      return v === null ? null : v * k;
    }).map((v) => (v === null || !totalCores ? null : v / totalCores));
    mem = sum((l, i) => l.mem[i] ?? null).map((v) => (v === null || !totalMem ? null : (v / totalMem) * 100));
  } else {
    const line = chart.lines[0];
    if (!line) return undefined;
    const focus = s.guests.rows.find((r) => cell(r, "vmid") === s.focus.vmid);
    const maxmem = num(focus ? cell(focus, "maxmem_gib") : null);
    cpu = line.cpu;
    mem = line.mem.map((v) => (v === null || !maxmem ? null : (v / maxmem) * 100));
  }
  const step = Math.max(1, Math.ceil(chart.time.length / TREND_POINTS));
  return {
    subject: chart.subject,
    from: chart.time[step - 1] ?? chart.time[0] ?? 0,
    step_s: ((chart.time[1] ?? 0) - (chart.time[0] ?? 0)) * step,
    cpu_pct: halve(cpu),
    mem_pct: halve(mem),
  };
}

function nearFull(s: Snapshot): Cell[][] {
  const out: Cell[][] = [];
  for (const n of s.nodes.rows) {
    const [name, status, , , mem, maxmem, root, maxroot] = n;
    if (status !== "online") continue;
    for (const [what, used, size] of [
      ["memory", mem, maxmem],
      ["root disk", root, maxroot],
    ] as const) {
      const u = num(used ?? null);
      const t = num(size ?? null);
      if (u !== null && t && u / t >= NEAR_FULL) out.push(row([what, name, name, r1((u / t) * 100)]));
    }
  }
  for (const st of s.storages.rows) {
    const [storage, node, shared, used, size] = st;
    const u = num(used ?? null);
    const t = num(size ?? null);
    if (u !== null && t && u / t >= NEAR_FULL)
      out.push(row(["storage", storage, shared ? null : node, r1((u / t) * 100)]));
  }
  // A shared storage appears once per node: say it once.
  const seen = new Set<string>();
  return out
    .filter((r) => {
      const key = r.join("|");
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => Number(b[3]) - Number(a[3]));
}

/** The card's data, and the few lines the model reads (never the whole guest table). */
export function cardOf(s: Snapshot): { text: string; data: Card } {
  const rows = s.guests.rows;
  const byState: Record<string, number> = {};
  for (const r of rows) {
    const state = String(cell(r, "status"));
    byState[state] = (byState[state] ?? 0) + 1;
  }
  const busiest = rows
    .filter((r) => typeof cell(r, "cpu_pct") === "number")
    .map((r) => ({ r, cores: ((cell(r, "cpu_pct") as number) / 100) * Number(cell(r, "cores") ?? 1) }))
    .sort((a, b) => b.cores - a.cores)
    .slice(0, BUSIEST)
    .map(({ r }) =>
      row([
        cell(r, "vmid"),
        cell(r, "name"),
        cell(r, "node"),
        cell(r, "cpu_pct"),
        cell(r, "cores"),
        cell(r, "mem_gib"),
      ]),
    );
  const names = new Map(rows.map((r) => [cell(r, "vmid"), cell(r, "name")]));
  const named = (v: number) => `${v}${names.get(v) ? ` ${names.get(v)}` : ""}`;
  const full = nearFull(s);
  const lines: string[] = [];
  const c = s.cluster;
  lines.push(
    `${c.name ? `Cluster ${c.name}` : "Standalone node"}: ${c.online}/${c.nodes} nodes online${c.quorate === undefined ? "" : c.quorate ? ", quorate" : ", NOT QUORATE"}` +
      (s.focus.node
        ? ` (showing node ${s.focus.node})`
        : s.focus.vmid !== undefined
          ? ` (focused on ${named(s.focus.vmid)})`
          : ""),
  );
  for (const n of s.nodes.rows) {
    const [name, status, cpu, cores, mem, maxmem, root, maxroot, uptime] = n;
    lines.push(
      status === "online"
        ? `${name}: cpu ${cpu}% of ${cores}, mem ${mem}/${maxmem} GiB, root ${root}/${maxroot} GiB, up ${duration(uptime as number)}`
        : `${name}: ${String(status).toUpperCase()}`,
    );
  }
  lines.push(
    `Guests: ${rows.length} (${Object.entries(byState)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")})`,
  );
  if (busiest.length)
    lines.push(
      `Busiest now: ${busiest.map((b) => `${b[0]} ${b[1] ?? ""} ${b[3]}% of ${b[4]} (${b[2]})`).join("; ")}`,
    );
  if (full.length)
    lines.push(
      `Nearly full: ${full.map((f) => `${f[0]} ${f[1]}${f[2] && f[2] !== f[1] ? ` on ${f[2]}` : ""} ${f[3]}%`).join("; ")}`,
    );
  lines.push(
    s.running.rows.length
      ? `Running tasks: ${s.running.rows.map((t) => `${t[2]} ${t[3] || ""} on ${t[1]}${typeof t[6] === "number" ? ` ${t[6]}%` : ""}`).join("; ")}`
      : "Running tasks: none",
  );
  lines.push(
    s.failures.rows.length
      ? `Failed in the last day: ${s.failures.rows.map((t) => `${t[2]} ${t[3] || ""} on ${t[1]}: ${t[6]}`).join("; ")}`
      : "Failed in the last day: none",
  );
  const stale = s.backups.stale;
  lines.push(
    stale.length
      ? `No backup within ${s.backups.days} days: ${stale.slice(0, 15).map(named).join(", ")}${stale.length > 15 ? ` and ${stale.length - 15} more` : ""}`
      : `Every guest has a backup from the last ${s.backups.days} days.`,
  );
  if (s.backups.notInJob?.length)
    lines.push(
      `In no backup job: ${s.backups.notInJob.slice(0, 15).map(named).join(", ")}${s.backups.notInJob.length > 15 ? ` and ${s.backups.notInJob.length - 15} more` : ""}`,
    );
  if (s.backups.note) lines.push(s.backups.note);
  const trend = trendOf(s);
  const data: Card = {
    generated: s.generated,
    cluster: s.cluster,
    guests: { total: rows.length, ...byState },
    busiest: { columns: ["vmid", "name", "node", "cpu_pct", "cores", "mem_gib"], rows: busiest },
    tasks: { running: s.running.rows.length, failed_24h: s.failures.rows.length },
    backup_days: s.backups.days,
    no_recent_backup: stale.slice(0, STALE_LISTED),
    no_recent_backup_count: stale.length,
    near_full: { columns: ["what", "name", "node", "used_pct"], rows: full },
    ...(trend ? { trend } : {}),
  };
  return { text: lines.join("\n"), data };
}
