// The dashboard in a real browser: headless Chromium shows the server's ui:// view through the
// test host page (host/), which bridges it to the MCP server running against the simulator.
// Runs under Node (`npm run test:browser`, part of `npm test`): the vitest suites run inside
// workerd, which cannot start a browser.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Frame } from "playwright-core";
import { ROOT } from "../../bench/servers.ts";
import { control, findChromium, openDashboard, type Session, viewFrame } from "./harness.ts";

const XSS_NAME = "<img src=x onerror=alert(1)>";
const required = !!(process.env.CI || process.env.REQUIRE_BROWSER);
const chromiumPath = findChromium();
if (!chromiumPath && required) {
  throw new Error("The browser test needs chromium (apt-get install chromium); .ci/run installs it.");
}
const skip = chromiumPath
  ? false
  : "no chromium installed: the dashboard's browser test is skipped (apt-get install chromium to run it)";
if (skip) console.log(`# ${skip}`);

/** Pixels drawn (not transparent) in a region of each chart canvas, per chart. */
function inkPerChart(frame: Frame, region: "axis" | "plot") {
  return frame.evaluate((where) => {
    // Runs in the page (this file is type-checked for Node, without the DOM's types).
    const doc = (globalThis as any).document;
    const out: Record<string, number> = {};
    for (const box of doc.querySelectorAll("[data-chart]")) {
      const canvas = box.querySelector("canvas");
      const ctx = canvas?.getContext("2d");
      if (!canvas || !ctx) continue;
      // uPlot draws the y axis (ticks and their labels) in the left 74 px, the lines right of it.
      const x0 = where === "axis" ? 0 : 80;
      const x1 = where === "axis" ? 70 : canvas.width;
      const { data } = ctx.getImageData(x0, 0, x1 - x0, canvas.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) ink++;
      out[box.dataset.chart ?? "?"] = ink;
    }
    return out;
  }, region);
}

describe("the dashboard in a real browser", { skip }, () => {
  let session: Session;
  let frame: Frame;

  before(async () => {
    session = await openDashboard({
      // A name as a hand-edited guest config may hold it: it must show as text, never as markup.
      prepare: (servers) => control(servers, "guests/101", { name: XSS_NAME }),
    });
    frame = await viewFrame(session.page);
  });

  after(async () => {
    await session?.close();
  });

  it("draws every chart with axis labels and lines", async () => {
    const axis = await inkPerChart(frame, "axis");
    const plot = await inkPerChart(frame, "plot");
    assert.deepEqual(Object.keys(plot).sort(), ["cpu", "io", "mem", "net"]);
    for (const [chart, ink] of Object.entries(plot))
      assert.ok(ink > 500, `${chart} chart is blank (${ink} pixels)`);
    for (const [chart, ink] of Object.entries(axis))
      assert.ok(ink > 100, `${chart} chart has no axis labels (${ink} pixels)`);
    const legend = await frame.locator("[data-chart='cpu'] .u-legend").textContent();
    for (const node of ["pve1", "pve2", "pve3"]) assert.match(legend ?? "", new RegExp(node));
    assert.equal(await frame.locator("[data-chart='cpu']").getAttribute("data-timeframe"), "hour");
  });

  it("shows each node's memory gauge as the node reports it", async () => {
    const res = await fetch(`${session.servers.simOrigin}/api2/json/nodes/pve2/status`, {
      headers: { Authorization: "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000" },
    });
    const status = ((await res.json()) as { data: { memory: { used: number; total: number } } }).data;
    const expected = Math.round((status.memory.used / status.memory.total) * 100);
    const shown = await frame.locator(".gauge[data-node='pve2'][data-metric='mem'] .value").textContent();
    assert.ok(
      Math.abs(Number.parseInt(shown ?? "", 10) - expected) <= 1,
      `gauge shows ${shown}, the node reports ${expected}%`,
    );
    const gauges = await frame.locator(".card[data-node='pve1'] .gauge").count();
    assert.ok(gauges >= 4, "CPU, memory, root disk and at least one storage gauge");
  });

  it("switches the charts' timeframe", async () => {
    const cpu = frame.locator("[data-chart='cpu']");
    const hourFrom = Number(await cpu.getAttribute("data-from"));
    await frame.click("#timeframes button[data-timeframe='week']");
    await frame.waitForSelector("[data-chart='cpu'][data-timeframe='week']", { timeout: 30_000 });
    const from = Number(await cpu.getAttribute("data-from"));
    const to = Number(await cpu.getAttribute("data-to"));
    assert.ok(to - from > 6 * 86400, `a week spans ${(to - from) / 86400} days`);
    assert.ok(from < hourFrom - 5 * 86400);
    assert.equal(
      await frame.locator("#timeframes button[data-timeframe='week']").getAttribute("aria-pressed"),
      "true",
    );
    const plot = await inkPerChart(frame, "plot");
    for (const [chart, ink] of Object.entries(plot))
      assert.ok(ink > 500, `${chart} chart is blank after the switch`);
  });

  it("filters the guest table and sorts it", async () => {
    const all = await frame.locator("#guests tbody tr").count();
    assert.ok(all >= 15, `${all} guests shown`);
    await frame.fill("#filter", "k8s");
    const names = await frame.locator("#guests tbody td.name").allTextContents();
    assert.deepEqual(names, ["k8s-master", "k8s-worker-1", "k8s-worker-2"]);
    assert.equal(await frame.locator("#guest-count").textContent(), `3 of ${all}`);
    await frame.fill("#filter", "");
    await frame.selectOption("#state", "stopped");
    for (const status of await frame.locator("#guests tbody tr td:nth-child(3)").allTextContents())
      assert.equal(status.trim(), "stopped");
    await frame.selectOption("#state", "");
    await frame.click("#guests th[data-key='vmid']");
    const first = await frame.locator("#guests tbody tr").first().getAttribute("data-vmid");
    assert.equal(first, "205", "a second click on ID sorts descending");
  });

  it("shows a guest named like markup as text", async () => {
    const cell = frame.locator("#guests tbody tr[data-vmid='101'] td.name");
    assert.equal(await cell.textContent(), XSS_NAME);
    assert.equal(await frame.locator("img").count(), 0);
    assert.deepEqual(session.dialogs, []);
  });

  it("gets its data through the app-only refresh tool the host proxies", async () => {
    const host = await session.page.evaluate(
      () => (globalThis as unknown as { __host: { ready: boolean; error?: string } }).__host,
    );
    assert.deepEqual(host, { ready: true });
    // The host page itself: initialize, tools/list, show_dashboard, the view's resource. Every
    // call after that came from the view, through the bridge.
    const calls = session.host.calls.filter((c) => !c.startsWith("notifications/"));
    assert.deepEqual(calls.slice(0, 4), [
      "initialize",
      "tools/list",
      "tools/call show_dashboard",
      "resources/read",
    ]);
    const fromView = calls.slice(4);
    assert.ok(fromView.length >= 2, fromView.join(", ")); // the first refresh and the timeframe switch
    assert.ok(
      fromView.every((c) => c === "tools/call dashboard_refresh"),
      fromView.join(", "),
    );
  });

  it("saves a screenshot", async () => {
    const out = process.env.DASHBOARD_SCREENSHOT ?? join(ROOT, "test", "browser", ".out", "dashboard.png");
    mkdirSync(join(out, ".."), { recursive: true });
    await frame.click("#timeframes button[data-timeframe='day']");
    await frame.waitForSelector("[data-chart='cpu'][data-timeframe='day']", { timeout: 30_000 });
    await frame.click("#guests th[data-key='vmid']");
    // Headless Chromium paints a frame only inside the viewport: make the viewport as tall as the
    // view, then let the charts' last frame reach the compositor before the capture.
    const box = await session.page.locator("#view").boundingBox();
    await session.page.setViewportSize({
      width: 1280,
      height: Math.ceil((box?.y ?? 0) + (box?.height ?? 900)),
    });
    await session.page.waitForTimeout(2500);
    const png = await session.page.locator("#view").screenshot({ path: out, animations: "disabled" });
    // A blank capture compresses to a few kilobytes; the dashboard is far more.
    assert.ok(png.length > 40_000, `the screenshot looks blank (${png.length} bytes)`);
  });
});
