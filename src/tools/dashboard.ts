import { RESOURCE_MIME_TYPE, registerAppResource } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { DASHBOARD_HTML } from "../app/dist/dashboard-html";
import { node, vmid, wholeNumber } from "../mcp/args";
import { type Cell, duration, row, tableSchema } from "../mcp/format";
import { checkTool } from "../mcp/surface";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import { GUEST_COLUMNS, type Snapshot, takeSnapshot } from "./dashboard-data";

/** The view's address. Hosts cache resources by URI (Claude Desktop does), so a new build changes it. */
export const DASHBOARD_URI = "ui://proxmox-mcp/dashboard.html";

const backupDays = wholeNumber("backup_days", {
  min: 1,
  max: 365,
  hint: "days without a backup before a guest is flagged",
}).default(7);

const focus = { node: node.optional(), vmid: vmid.optional() };

const col = (name: string) => GUEST_COLUMNS.indexOf(name);
const cell = (r: Cell[], name: string) => r[col(name)] ?? null;

/** What the model (and a host without apps) reads: a few lines, never the whole guest table. */
function summarize(s: Snapshot) {
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
    .slice(0, 5)
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
    lines.push(`In no backup job: ${s.backups.notInJob.slice(0, 15).map(named).join(", ")}`);
  if (s.backups.note) lines.push(s.backups.note);
  const data = {
    cluster: s.cluster,
    guests: { total: rows.length, ...byState },
    busiest: { columns: ["vmid", "name", "node", "cpu_pct", "cores", "mem_gib"], rows: busiest },
    tasks: { running: s.running.rows.length, failed_24h: s.failures.rows.length },
    no_recent_backup: stale,
  };
  return { text: lines.join("\n"), data };
}

const showDashboardTool = tool({
  name: "show_dashboard",
  title: "Cluster dashboard",
  description:
    "Live cluster dashboard (an app view; text elsewhere): nodes, guests by state, busiest, running and failed tasks, " +
    "guests with no backup in backup_days.",
  input: z.object({ ...focus, backup_days: backupDays }),
  output: z.object({
    cluster: z.object({
      name: z.string().optional(),
      quorate: z.boolean().optional(),
      nodes: z.number(),
      online: z.number(),
    }),
    guests: z.record(z.string(), z.number()),
    busiest: tableSchema(),
    tasks: z.object({ running: z.number(), failed_24h: z.number() }),
    no_recent_backup: z.array(z.number()),
  }),
  scope: "read",
  annotations: READ_ONLY,
  ui: { resourceUri: DASHBOARD_URI },
  handler: (deps) => async (args) => {
    const snapshot = await takeSnapshot(deps, {
      focus: { node: args.node, vmid: args.vmid },
      timeframe: "hour",
      backupDays: args.backup_days,
      noChart: true,
    });
    return summarize(snapshot as Snapshot);
  },
});

const refreshTool = tool({
  name: "dashboard_refresh",
  title: "Refresh the dashboard",
  description: "Data for the dashboard view (use show_dashboard).",
  input: z.object({
    ...focus,
    timeframe: z.enum(["hour", "day", "week", "month", "year"]).default("hour"),
    backup_days: backupDays,
    chart_only: z.boolean().default(false),
  }),
  // The view reads the snapshot (src/tools/dashboard-data.ts); listing its fields here would cost
  // every conversation bytes for a tool no model calls.
  output: z.object({ requests: z.number() }).passthrough(),
  scope: "read",
  annotations: READ_ONLY,
  ui: { visibility: ["app"] },
  handler: (deps) => async (args) => {
    const data = await takeSnapshot(deps, {
      focus: { node: args.node, vmid: args.vmid },
      timeframe: args.timeframe,
      backupDays: args.backup_days,
      chartOnly: args.chart_only,
    });
    return { text: `Dashboard data (${data.requests} Proxmox requests).`, data: data as never };
  },
});

export function registerDashboardTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, showDashboardTool);
  defineTool(server, deps, refreshTool);
  if (checkTool(deps.surface, showDashboardTool.name, "read") || deps.surface.only) return;
  registerAppResource(
    server,
    "Cluster dashboard",
    DASHBOARD_URI,
    { description: "Live view of the Proxmox cluster: gauges, charts, guests, tasks, backups." },
    async () => ({
      contents: [
        {
          uri: DASHBOARD_URI,
          mimeType: RESOURCE_MIME_TYPE,
          text: DASHBOARD_HTML,
          // Everything arrives through tool results: the view needs no domain at all.
          _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: false } },
        },
      ],
    }),
  );
}
