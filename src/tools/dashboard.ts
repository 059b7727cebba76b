import { RESOURCE_MIME_TYPE, registerAppResource } from "@modelcontextprotocol/ext-apps/server";
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { DASHBOARD_HTML, DASHBOARD_VERSION } from "../app/dist/dashboard-html";
import { node, vmid, wholeNumber } from "../mcp/args";
import { checkTool } from "../mcp/surface";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import { cardOf, cardSchema } from "./dashboard-card";
import { type Snapshot, takeSnapshot } from "./dashboard-data";

/** The view's address. Hosts cache resources by URI (Claude Desktop does), so a new build changes it. */
export const DASHBOARD_URI = `ui://proxmox-mcp/dashboard-${DASHBOARD_VERSION}.html`;

const backupDays = wholeNumber("backup_days", {
  min: 1,
  max: 365,
  hint: "days without a backup before a guest is flagged",
}).default(7);

const focus = { node: node.optional(), vmid: vmid.optional() };

const showDashboardTool = tool({
  name: "show_dashboard",
  title: "Cluster dashboard",
  description:
    "Live cluster dashboard (an app view; text elsewhere): nodes, guests by state, busiest, running and failed tasks, " +
    "guests with no backup in backup_days.",
  input: z.object({ ...focus, backup_days: backupDays }),
  output: cardSchema,
  scope: "read",
  annotations: READ_ONLY,
  ui: { resourceUri: DASHBOARD_URI },
  handler: (deps) => async (args) => {
    // The hour's chart feeds the card's trend line: the view paints the card from this answer.
    const snapshot = await takeSnapshot(deps, {
      focus: { node: args.node, vmid: args.vmid },
      timeframe: "hour",
      backupDays: args.backup_days,
    });
    return cardOf(snapshot as Snapshot);
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
    // card: what show_dashboard answers (the inline card); chart: the charts alone (a timeframe
    // switch); all: everything the full view shows.
    part: z.enum(["all", "card", "chart"]).default("all"),
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
      timeframe: args.part === "card" ? "hour" : args.timeframe,
      backupDays: args.backup_days,
      chartOnly: args.part === "chart",
    });
    const text = `Dashboard data (${data.requests} Proxmox requests).`;
    if (args.part === "card")
      return { text, data: { ...cardOf(data as Snapshot).data, requests: data.requests } as never };
    return { text, data: data as never };
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
