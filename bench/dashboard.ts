// 8. Metrics and the dashboard: get_metrics against Proxmox's raw rrddata, the dashboard view's
// size, the inline card's height in headless Chromium, and what one refresh costs at 500 guests.

import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { findChromium } from "../test/browser/harness.ts";
import { startHost } from "../test/browser/host-server.ts";
import { answerBytes, rawRpc, type ToolResult } from "./clients.ts";
import type { Servers } from "./servers.ts";
import { bytes, type Check, type Context, type SectionResult, table } from "./stats.ts";

const GUESTS = 500;
const VIEW_BUDGET = 100 * 1024;
/** The inline card's height, as hosts that render MCP Apps ask (Claude's guidance). */
const CARD_BUDGET = 500;
const CARD_WIDTHS = [1280, 420, 320];

/**
 * The inline card's height at each width, as the test host page shows it in headless Chromium;
 * undefined where no chromium is installed.
 */
async function cardHeights(servers: Servers): Promise<Map<number, number> | undefined> {
  const executablePath = findChromium();
  if (!executablePath) return undefined;
  const host = await startHost(servers.mcpUrl);
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 1 });
    const heights = new Map<number, number>();
    for (const width of CARD_WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${host.url}?theme=light`);
      const frame = await (await page.waitForSelector("iframe#app", { timeout: 60_000 })).contentFrame();
      if (!frame) throw new Error("the view's iframe has no frame");
      await frame.waitForSelector("body[data-painted] #trend canvas", { timeout: 60_000 });
      heights.set(
        width,
        // Runs in the page: the DOM's types are not in this Node project.
        await frame.evaluate(() => {
          const doc = (
            globalThis as { document?: { documentElement: { getBoundingClientRect(): { height: number } } } }
          ).document;
          return Math.ceil(doc?.documentElement.getBoundingClientRect().height ?? 0);
        }),
      );
    }
    return heights;
  } finally {
    await browser.close();
    await host.close();
  }
}
const TIMEFRAMES = ["hour", "day", "week", "month", "year"] as const;

export async function dashboardSection(ctx: Context): Promise<SectionResult> {
  const checks: Check[] = [];
  const parts: string[] = [];
  const { sim, mcp, servers } = ctx;

  // The view, as a host reads it: at the address show_dashboard names (it changes with each build).
  const listed = await rawRpc(servers.mcpUrl, "tools/list", {});
  const showTool = (
    listed.result.tools as { name: string; _meta?: { ui?: { resourceUri?: string } } }[]
  ).find((t) => t.name === "show_dashboard");
  const uri = showTool?._meta?.ui?.resourceUri;
  if (!uri) throw new Error("show_dashboard names no view (_meta.ui.resourceUri)");
  const read = await rawRpc(servers.mcpUrl, "resources/read", { uri });
  const html = ((read.result.contents as { text?: string }[])[0]?.text ?? "") as string;
  const viewGzip = gzipSync(html, { level: 9 }).length;
  checks.push({
    what: "dashboard view (one HTML file, gzip)",
    budget: "≤ 100 KiB",
    actual: `${bytes(viewGzip)} (${bytes(Buffer.byteLength(html))} uncompressed)`,
    pass: viewGzip <= VIEW_BUDGET,
    deterministic: true,
  });

  // get_metrics against the raw rrddata of the same timeframe, on the homelab cluster.
  await sim.reset();
  const rows: (string | number)[][] = [];
  const targets = [
    { label: "VM 102", args: { vmid: 102 }, path: "/nodes/pve1/qemu/102/rrddata" },
    { label: "node pve1", args: { node: "pve1" }, path: "/nodes/pve1/rrddata" },
    {
      label: "storage local-lvm@pve1",
      args: { node: "pve1", storage: "local-lvm" },
      path: "/nodes/pve1/storage/local-lvm/rrddata",
    },
  ];
  for (const target of targets) {
    for (const timeframe of TIMEFRAMES) {
      await sim.clearRequests();
      const answer = (await mcp.call("get_metrics", { ...target.args, timeframe })) as ToolResult;
      if (answer.isError) throw new Error(`get_metrics ${target.label} ${timeframe} failed`);
      const requests = (await sim.requests()).length;
      const raw = await sim.api("GET", target.path, { timeframe });
      const rawBytes = Buffer.byteLength(raw.body);
      const size = answerBytes(answer);
      const ratio = rawBytes / size.total;
      rows.push([
        target.label,
        timeframe,
        rawBytes,
        size.text,
        size.structured,
        size.total,
        `${ratio.toFixed(1)}×`,
        requests,
      ]);
      if (!target.label.startsWith("storage")) {
        checks.push({
          what: `get_metrics ${target.label}, ${timeframe}, vs raw rrddata`,
          budget: "raw ≥ 5× answer",
          actual: `${ratio.toFixed(1)}× (answer ${size.total} B, raw ${rawBytes} B, ${requests} Proxmox request${requests === 1 ? "" : "s"})`,
          pass: ratio >= 5,
          deterministic: true,
        });
      }
    }
  }
  parts.push(
    "get_metrics against Proxmox's `{\"data\":[...]}` rrddata for the same timeframe (homelab cluster; the answer is text plus structured content). A storage's RRD holds only two columns, so its raw answer is small and carries no budget.",
    "",
    table(
      [
        "target",
        "timeframe",
        "raw rrddata",
        "text",
        "structured",
        "answer",
        "raw ÷ answer",
        "Proxmox requests",
      ],
      rows,
    ),
  );

  // The ranking and the dashboard at 500 guests.
  await sim.reset({ nodes: 3, guests: GUESTS });
  await sim.clearRequests();
  const top = (await mcp.call("get_metrics", { top: "cpu", timeframe: "day" })) as ToolResult;
  const topRequests = (await sim.requests()).length;
  checks.push({
    what: `get_metrics top=cpu, ${GUESTS} guests`,
    budget: "≤ 13 Proxmox requests",
    actual: `${topRequests} requests, answer ${answerBytes(top).total} B`,
    pass: topRequests <= 13 && !top.isError,
    deterministic: true,
  });

  const refreshRows: (string | number)[][] = [];
  const measure = async (label: string, name: string, args: Record<string, unknown>) => {
    await sim.clearRequests();
    const rpc = await rawRpc(servers.mcpUrl, "tools/call", { name, arguments: args });
    const result = rpc.result as unknown as ToolResult;
    if (result.isError) throw new Error(`${name} failed at ${GUESTS} guests`);
    const requests = (await sim.requests()).length;
    const structured = Buffer.byteLength(JSON.stringify(result.structuredContent ?? {}));
    refreshRows.push([label, rpc.bytes, structured, answerBytes(result).text, requests]);
    return { bytes: rpc.bytes, requests };
  };
  const show = await measure("show_dashboard (model)", "show_dashboard", {});
  const refresh = await measure("dashboard_refresh (one refresh of the view)", "dashboard_refresh", {});
  await measure("dashboard_refresh, timeframe switch (chart only)", "dashboard_refresh", {
    timeframe: "week",
    part: "chart",
  });
  await measure("dashboard_refresh, the inline card", "dashboard_refresh", { part: "card" });
  checks.push({
    what: `dashboard refresh, ${GUESTS} guests`,
    budget: "≤ 20 Proxmox requests",
    actual: `${refresh.requests} requests, ${bytes(refresh.bytes)} on the wire`,
    pass: refresh.requests <= 20,
    deterministic: true,
  });
  checks.push({
    what: `show_dashboard answer, ${GUESTS} guests`,
    budget: "≤ 4 KiB on the wire",
    actual: bytes(show.bytes),
    pass: show.bytes <= 4096,
    deterministic: true,
  });
  parts.push(
    "",
    `The dashboard on a simulated cluster of 3 nodes and ${GUESTS} guests: bytes of the HTTP response (JSON-RPC), of the structured content the view reads, of the text the model reads, and the Proxmox requests behind each.`,
    "",
    table(["call", "HTTP response", "structured", "text", "Proxmox requests"], refreshRows),
  );
  const heights: (string | number)[][] = [];
  const cardCheck = (cluster: string, measured: Map<number, number> | undefined) => {
    const tallest = measured ? Math.max(...measured.values()) : undefined;
    for (const width of CARD_WIDTHS) heights.push([cluster, width, measured?.get(width) ?? "no chromium"]);
    checks.push({
      what: `inline card height, ${cluster}, ${CARD_WIDTHS.join("/")} px wide`,
      budget: `≤ ${CARD_BUDGET} px`,
      actual: tallest === undefined ? "not measured: no chromium installed" : `${tallest} px at most`,
      pass: tallest !== undefined && tallest <= CARD_BUDGET,
      deterministic: true,
    });
  };
  cardCheck(`${GUESTS} guests`, await cardHeights(servers));
  await sim.reset();
  cardCheck("seeded cluster", await cardHeights(servers));
  parts.push(
    "",
    "The inline card's height (the view's document, light theme) as the test host page shows it in headless Chromium:",
    "",
    table(["cluster", "frame width (px)", "card height (px)"], heights),
  );
  return {
    title: "8. Metrics and dashboard",
    howToRead:
      "Sizes are exact. get_metrics must say in its summary and ~60-point table what Proxmox says in hundreds or thousands of points (budget: at least 5× smaller for nodes and guests); the dashboard view must stay a small single file (100 KiB gzip), its inline card at most 500 px tall at any width and cluster size, and a refresh a bounded number of Proxmox requests whatever the cluster's size.",
    body: parts.join("\n"),
    checks,
  };
}
