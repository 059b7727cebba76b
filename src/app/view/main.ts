// The dashboard view: an MCP App. Inline it is a card painted from the show_dashboard result the
// host hands it (no request for the first paint); a button asks the host for fullscreen, where the
// full dashboard loads through the app-only dashboard_refresh tool, which the host proxies to the
// server: the page has no network access of its own.

import type { McpUiDisplayMode, McpUiHostContext } from "@modelcontextprotocol/ext-apps";
import { HostBridge, type ToolResult } from "./bridge";
import { type Card, clusterLine, isCard, renderCard } from "./card";
import { type ChartData, Charts, TrendChart } from "./charts";
import { byId, el } from "./dom";
import {
  CHIPS,
  type GuestView,
  renderBackups,
  renderGuests,
  renderNodes,
  renderTasks,
  type Snapshot,
} from "./panels";
import { applyHostContext, onSchemeChange } from "./theme";

const TIMEFRAMES = ["hour", "day", "week", "month", "year"] as const;
/** Refresh while seen: the card every minute, the full dashboard every 30 s. */
const REFRESH_MS = { inline: 60_000, fullscreen: 30_000 };
/** A host that sends no tool result (or sent it before we listened) still gets a card. */
const NO_RESULT_MS = 3_000;

const state = {
  mode: "inline" as "inline" | "fullscreen",
  focus: {} as { node?: string; vmid?: number },
  chartVmid: undefined as number | undefined,
  timeframe: "hour" as (typeof TIMEFRAMES)[number],
  backupDays: 7,
  card: undefined as Card | undefined,
  snapshot: undefined as Snapshot | undefined,
  view: { filter: "", show: "", sort: "vmid", dir: 1, page: 0 } as GuestView,
  busy: false,
  /** The host handed over show_dashboard's result (an error too): no need to ask for a card. */
  handed: false,
  /** Whether the frame is on screen (a card scrolled out of the chat needs no refresh). */
  onScreen: true,
  lastLoad: 0,
};

const host = new HostBridge();
const charts = new Charts(byId("charts"));
const trend = new TrendChart(byId("trend"));

function say(id: "card-status" | "status", text: string, bad = false): void {
  const node = byId(id);
  node.textContent = text;
  node.className = `${id === "card-status" ? "clip " : ""}${bad ? "bad" : "muted"}`;
}

function errorText(result: ToolResult): string {
  const text = result.content?.find((c) => c.type === "text")?.text;
  return text ?? "The server could not read the cluster.";
}

function baseArgs(): Record<string, unknown> {
  return {
    ...(state.focus.node ? { node: state.focus.node } : {}),
    ...(state.focus.vmid !== undefined ? { vmid: state.focus.vmid } : {}),
    backup_days: state.backupDays,
  };
}

function showCard(result: ToolResult): void {
  state.handed = true;
  if (result.isError) {
    say("card-status", errorText(result), true);
    return;
  }
  if (!isCard(result.structuredContent)) return;
  state.card = result.structuredContent;
  renderCard(state.card, trend);
  document.body.dataset.painted = String(Date.now());
}

/** One refresh: the card inline, everything (or the charts alone) in fullscreen. */
async function load(part: "card" | "all" | "chart"): Promise<void> {
  if (state.busy) return;
  state.busy = true;
  state.lastLoad = Date.now();
  document.body.dataset.loading = "1";
  const where = part === "card" ? "card-status" : "status";
  try {
    const vmid = state.chartVmid ?? state.focus.vmid;
    const args =
      part === "card"
        ? { ...baseArgs(), part }
        : {
            ...baseArgs(),
            ...(vmid !== undefined ? { vmid } : {}),
            timeframe: state.timeframe,
            part,
          };
    const result = await host.callTool("dashboard_refresh", args);
    if (result.isError) return say(where, errorText(result), true);
    if (part === "card") return showCard(result);
    const data = result.structuredContent as (Snapshot & { chart?: ChartData }) | undefined;
    if (!data) return;
    if (data.chart) renderChart(data.chart);
    if (part === "all") {
      state.snapshot = data;
      renderFull();
    }
  } catch (error) {
    say(where, `Refresh failed: ${error instanceof Error ? error.message : String(error)}`, true);
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

function renderFull(): void {
  const s = state.snapshot;
  if (!s) return;
  byId("title").textContent = s.cluster.name ? `Cluster ${s.cluster.name}` : "Proxmox node";
  const line = clusterLine(s.cluster);
  say("status", `${line.text} · updated ${new Date(s.generated * 1000).toLocaleTimeString()}`, line.bad);
  renderNodes(byId("nodes"), s);
  renderGuestTable();
  renderTasks(byId("tasks"), byId("failures"), s);
  renderBackups(byId("backups"), s, () => {
    setChip("stale");
    byId("guests").scrollIntoView({ block: "start" });
  });
}

function renderGuestTable(): void {
  if (!state.snapshot) return;
  renderGuests(
    byId<HTMLTableElement>("guests"),
    byId("guest-count"),
    byId("pages"),
    state.snapshot,
    state.view,
    {
      onSort: (key) => {
        state.view.dir = state.view.sort === key ? (state.view.dir === 1 ? -1 : 1) : 1;
        state.view.sort = key;
        state.view.page = 0;
        renderGuestTable();
      },
      onPick: (vmid) => {
        state.chartVmid = vmid;
        void load("chart");
      },
      onPage: (page) => {
        state.view.page = page;
        renderGuestTable();
      },
    },
  );
}

function setChip(show: string): void {
  state.view.show = show;
  state.view.page = 0;
  for (const chip of byId("chips").querySelectorAll("button"))
    chip.setAttribute("aria-pressed", String(chip.dataset.show === show));
  renderGuestTable();
}

function setMode(mode: McpUiDisplayMode | undefined): void {
  const next = mode === "fullscreen" ? "fullscreen" : "inline";
  const changed = next !== state.mode;
  state.mode = next;
  document.body.dataset.mode = next;
  byId("card").hidden = next !== "inline";
  byId("full").hidden = next !== "fullscreen";
  updateOpenButton();
  if (next === "fullscreen" && (changed || !state.snapshot)) {
    if (state.snapshot) {
      renderFull();
      charts.resize();
    }
    void load("all");
  }
  if (next === "inline" && state.card) trend.restyle();
}

function updateOpenButton(): void {
  const modes = host.context.availableDisplayModes;
  // Where the host offers no fullscreen, the card is all there is.
  byId("open-full").hidden = !(Array.isArray(modes) && modes.includes("fullscreen"));
}

async function requestMode(mode: McpUiDisplayMode): Promise<void> {
  try {
    setMode(await host.requestDisplayMode(mode));
  } catch (error) {
    say(
      mode === "fullscreen" ? "card-status" : "status",
      `The host did not switch: ${error instanceof Error ? error.message : String(error)}`,
      true,
    );
  }
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
      void load("chart");
    });
    group.append(b);
  }
  const chips = byId("chips");
  for (const [show, label] of CHIPS) {
    const chip = el(
      "button",
      { type: "button", class: "chip", "data-show": show, "aria-pressed": String(show === "") },
      label,
    );
    chip.addEventListener("click", () => setChip(show));
    chips.append(chip);
  }
  byId("open-full").addEventListener("click", () => void requestMode("fullscreen"));
  byId("close-full").addEventListener("click", () => void requestMode("inline"));
  byId("card-refresh").addEventListener("click", () => void load("card"));
  byId("refresh").addEventListener("click", () => void load("all"));
  byId("unfocus").addEventListener("click", () => {
    state.chartVmid = undefined;
    void load("chart");
  });
  byId<HTMLInputElement>("filter").addEventListener("input", (e) => {
    state.view.filter = (e.target as HTMLInputElement).value;
    state.view.page = 0;
    renderGuestTable();
  });
  byId<HTMLInputElement>("backup-days").addEventListener("change", (e) => {
    const days = Number((e.target as HTMLInputElement).value);
    if (Number.isInteger(days) && days >= 1 && days <= 365) {
      state.backupDays = days;
      void load("all");
    }
  });
  window.addEventListener("resize", () => {
    if (state.mode === "fullscreen") charts.resize();
    else trend.restyle();
  });
  onSchemeChange(() => {
    charts.restyle();
    trend.restyle();
  });
  new IntersectionObserver((entries) => {
    state.onScreen = entries.some((e) => e.isIntersecting);
  }).observe(document.body);
}

let lastLook = "";

function onContext(ctx: McpUiHostContext): void {
  applyHostContext(ctx);
  // Canvas colours and fonts are drawn in, so a new theme redraws the charts; a new size does not.
  const look = JSON.stringify([ctx.theme, ctx.styles]);
  if (look !== lastLook) {
    lastLook = look;
    charts.restyle();
    trend.restyle();
  }
  setMode(ctx.displayMode);
}

host.ontoolinput = (a) => {
  state.focus = {
    ...(typeof a.node === "string" ? { node: a.node } : {}),
    ...(a.vmid !== undefined && Number.isInteger(Number(a.vmid)) ? { vmid: Number(a.vmid) } : {}),
  };
  if (a.backup_days !== undefined && Number.isInteger(Number(a.backup_days))) {
    state.backupDays = Number(a.backup_days);
    byId<HTMLInputElement>("backup-days").value = String(state.backupDays);
  }
};
host.ontoolresult = (result) => showCard(result);
host.oncontext = onContext;

let timer: ReturnType<typeof setInterval> | undefined;
host.onteardown = () => {
  if (timer) clearInterval(timer);
};

setupControls();
const context = await host.connect();
applyHostContext(context);
lastLook = JSON.stringify([context.theme, context.styles]);
setMode(context.displayMode);
host.watchSize(document.documentElement);
timer = setInterval(() => {
  if (document.visibilityState !== "visible" || !state.onScreen || state.busy) return;
  if (Date.now() - state.lastLoad < REFRESH_MS[state.mode]) return;
  void load(state.mode === "fullscreen" ? "all" : "card");
}, 5_000);
state.lastLoad = Date.now();
setTimeout(() => {
  if (!state.handed && !state.busy && state.mode === "inline") void load("card");
}, NO_RESULT_MS);
