// The dashboard view: an MCP App. It learns its focus from the show_dashboard call the host
// renders it for, then gets every figure through the app-only dashboard_refresh tool, which the
// host proxies to the server: the page has no network access of its own.

import {
  App,
  applyDocumentTheme,
  applyHostFonts,
  applyHostStyleVariables,
} from "@modelcontextprotocol/ext-apps";
import { type ChartData, Charts } from "./charts";
import { byId, el } from "./dom";
import {
  type GuestView,
  renderBackups,
  renderGuests,
  renderNodes,
  renderTasks,
  type Snapshot,
} from "./panels";

const TIMEFRAMES = ["hour", "day", "week", "month", "year"] as const;
/** How often an open dashboard refreshes itself; hidden pages wait until they are seen again. */
const REFRESH_MS = 15_000;

const state = {
  focus: {} as { node?: string; vmid?: number },
  chartVmid: undefined as number | undefined,
  timeframe: "hour" as (typeof TIMEFRAMES)[number],
  backupDays: 7,
  snapshot: undefined as Snapshot | undefined,
  view: { filter: "", state: "", sort: "vmid", dir: 1 } as GuestView,
  busy: false,
};

const app = new App({ name: "Proxmox dashboard", version: "1.0.0" });
const charts = new Charts(byId("charts"));
const status = byId("status");

function say(text: string, bad = false): void {
  status.textContent = text;
  status.className = bad ? "bad" : "muted";
}

function args(chartOnly: boolean): Record<string, unknown> {
  const vmid = state.chartVmid ?? state.focus.vmid;
  return {
    ...(state.focus.node ? { node: state.focus.node } : {}),
    ...(vmid !== undefined ? { vmid } : {}),
    timeframe: state.timeframe,
    backup_days: state.backupDays,
    ...(chartOnly ? { chart_only: true } : {}),
  };
}

async function load(chartOnly = false): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  document.body.dataset.loading = "1";
  try {
    const result = await app.callServerTool({ name: "dashboard_refresh", arguments: args(chartOnly) });
    const text = result.content?.find((c) => c.type === "text");
    if (result.isError) {
      say(text && "text" in text ? String(text.text) : "The server could not read the cluster.", true);
      return;
    }
    const data = result.structuredContent as (Snapshot & { chart?: ChartData }) | undefined;
    if (!data) return;
    if (data.chart) renderChart(data.chart);
    if (!chartOnly) {
      state.snapshot = data;
      render();
    }
  } catch (error) {
    say(`Refresh failed: ${error instanceof Error ? error.message : String(error)}`, true);
  } finally {
    state.busy = false;
    delete document.body.dataset.loading;
    document.body.dataset.loaded = String(Date.now());
  }
}

function renderChart(chart: ChartData): void {
  byId("chart-title").textContent = chart.subject === "nodes" ? "Nodes" : chart.subject;
  byId("unfocus").hidden = state.chartVmid === undefined;
  charts.render(chart);
}

function render(): void {
  const s = state.snapshot;
  if (!s) return;
  const c = s.cluster;
  byId("title").textContent = c.name ? `Cluster ${c.name}` : "Proxmox node";
  say(
    `${c.online}/${c.nodes} nodes online${c.quorate === undefined ? "" : c.quorate ? " · quorate" : " · NOT QUORATE"} · updated ${new Date(s.generated * 1000).toLocaleTimeString()}`,
    c.quorate === false || c.online < c.nodes,
  );
  renderNodes(byId("nodes"), s);
  renderGuestTable();
  renderTasks(byId("tasks"), byId("failures"), s);
  renderBackups(byId("backups"), s);
}

function renderGuestTable(): void {
  if (!state.snapshot) return;
  renderGuests(
    byId<HTMLTableElement>("guests"),
    byId("guest-count"),
    state.snapshot,
    state.view,
    (key) => {
      state.view.dir = state.view.sort === key ? (state.view.dir === 1 ? -1 : 1) : 1;
      state.view.sort = key;
      renderGuestTable();
    },
    (vmid) => {
      state.chartVmid = vmid;
      void load(true);
    },
  );
}

function setupControls(): void {
  const group = byId("timeframes");
  for (const tf of TIMEFRAMES) {
    const b = el(
      "button",
      { type: "button", "data-timeframe": tf, "aria-pressed": String(tf === state.timeframe) },
      tf,
    );
    b.addEventListener("click", () => {
      state.timeframe = tf;
      for (const other of group.querySelectorAll("button"))
        other.setAttribute("aria-pressed", String(other === b));
      void load(true);
    });
    group.append(b);
  }
  byId("refresh").addEventListener("click", () => void load());
  byId("unfocus").addEventListener("click", () => {
    state.chartVmid = undefined;
    void load(true);
  });
  byId<HTMLInputElement>("filter").addEventListener("input", (e) => {
    state.view.filter = (e.target as HTMLInputElement).value;
    renderGuestTable();
  });
  byId<HTMLSelectElement>("state").addEventListener("change", (e) => {
    state.view.state = (e.target as HTMLSelectElement).value;
    renderGuestTable();
  });
  byId<HTMLInputElement>("backup-days").addEventListener("change", (e) => {
    const days = Number((e.target as HTMLInputElement).value);
    if (Number.isInteger(days) && days >= 1 && days <= 365) {
      state.backupDays = days;
      void load();
    }
  });
  window.addEventListener("resize", () => charts.resize());
}

function applyContext(ctx: ReturnType<App["getHostContext"]>): void {
  if (!ctx) return;
  if (ctx.theme) {
    applyDocumentTheme(ctx.theme);
    document.documentElement.dataset.theme = ctx.theme;
  }
  if (ctx.styles?.variables) applyHostStyleVariables(ctx.styles.variables);
  if (ctx.styles?.css?.fonts) applyHostFonts(ctx.styles.css.fonts);
}

let timer: ReturnType<typeof setInterval> | undefined;

app.ontoolinput = (params) => {
  const a = (params.arguments ?? {}) as { node?: unknown; vmid?: unknown; backup_days?: unknown };
  state.focus = {
    ...(typeof a.node === "string" ? { node: a.node } : {}),
    ...(a.vmid !== undefined && Number.isInteger(Number(a.vmid)) ? { vmid: Number(a.vmid) } : {}),
  };
  if (Number.isInteger(Number(a.backup_days)) && a.backup_days !== undefined) {
    state.backupDays = Number(a.backup_days);
    byId<HTMLInputElement>("backup-days").value = String(state.backupDays);
  }
  void load();
};
app.onhostcontextchanged = (ctx) => applyContext(ctx);
app.onteardown = async () => {
  if (timer) clearInterval(timer);
  return {};
};

setupControls();
await app.connect();
applyContext(app.getHostContext());
timer = setInterval(() => {
  if (document.visibilityState === "visible") void load();
}, REFRESH_MS);
// A host that sends no tool input (or sent it before we listened) still gets a dashboard.
setTimeout(() => {
  if (!state.snapshot && !state.busy) void load();
}, 1500);
