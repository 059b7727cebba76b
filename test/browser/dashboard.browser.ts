// The dashboard in a real browser: headless Chromium shows the server's ui:// view through the
// test host page (host/), which bridges it to the MCP server running against the simulator.
// Runs under Node (`npm run test:browser`, part of `npm test`): the vitest suites run inside
// workerd, which cannot start a browser.
//
// Each cluster (the seeded homelab, then 500 guests) is shown at 1280 and 420 px, with a light
// and a dark host theme and with no theme on a dark system: inline it must be a card of at most
// 500 px, and the button must bring the full dashboard in the host's fullscreen.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Frame } from "playwright-core";
import { ROOT } from "../../bench/servers.ts";
import { layout, lowContrast, near, pixels } from "./checks.ts";
import {
  control,
  findChromium,
  openDashboard,
  openFull,
  type Session,
  showView,
  type View,
  type ViewOptions,
} from "./harness.ts";

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

/** Where `npm run screenshot` writes docs/dashboard.png and docs/dashboard-inline.png. */
const SHOTS = process.env.DASHBOARD_SCREENSHOTS ?? join(ROOT, "test", "browser", ".out");
const WIDTHS = [1280, 420];
const THEMES: Pick<ViewOptions, "theme" | "scheme">[] = [
  { theme: "light" },
  { theme: "dark" },
  { theme: "none", scheme: "dark" },
];
const themeName = (t: Pick<ViewOptions, "theme" | "scheme">) =>
  t.theme === "none" ? `no theme, ${t.scheme} system` : `${t.theme} theme`;

/** Pixels drawn (not transparent) in a region of each chart canvas, per chart. */
function inkPerChart(frame: Frame, region: "axis" | "plot") {
  return frame.evaluate((where) => {
    const doc = (globalThis as any).document;
    const out: Record<string, number> = {};
    for (const box of doc.querySelectorAll("[data-chart]")) {
      const canvas = box.querySelector("canvas");
      const ctx = canvas?.getContext("2d");
      if (!canvas || !ctx) continue;
      // The y axis (its labels) is the left 30 px or more; the lines start past 60 px.
      const x0 = where === "axis" ? 0 : 60;
      const x1 = where === "axis" ? 30 : canvas.width;
      const { data } = ctx.getImageData(x0, 0, x1 - x0, canvas.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) ink++;
      out[box.dataset.chart ?? "?"] = ink;
    }
    return out;
  }, region);
}

/** Calls the view made through the host (after the host's own four). */
function viewCalls(session: Session, view: View): string[] {
  const calls = session.host.calls.slice(view.firstCall).filter((c) => !c.startsWith("notifications/"));
  assert.deepEqual(calls.slice(0, 4), [
    "initialize",
    "tools/list",
    "tools/call show_dashboard",
    "resources/read",
  ]);
  return calls.slice(4);
}

async function assertLayout(view: View, what: string, mode: "inline" | "fullscreen"): Promise<void> {
  const l = await layout(view.frame, 32);
  if (mode === "inline") {
    assert.ok(l.height <= 500, `${what}: the inline card is ${l.height} px tall`);
    assert.ok(l.frameHeight >= l.height - 1, `${what}: the host's frame (${l.frameHeight} px) scrolls`);
  }
  assert.deepEqual(l.scrollers, [], `${what}: elements scroll on their own`);
  assert.ok(l.overflowX <= 1, `${what}: the page is ${l.overflowX} px wider than the frame`);
  assert.equal(l.selects, 0, `${what}: a <select>`);
  assert.deepEqual(l.smallControls, [], `${what}: controls under 32 px`);
  const { checked, low } = await lowContrast(view.frame, view.hostBackground);
  assert.ok(checked >= 20, `${what}: only ${checked} texts measured`);
  assert.deepEqual(low, [], `${what}: text below 4.5:1`);
}

/** A ring: the arc's pixels differ from what is behind it (a corner of its box), the hole shows that. */
async function assertRing(session: Session, view: View, what: string): Promise<void> {
  const ring = view.frame.locator(".gauge .ring-box").first();
  const size = (await ring.boundingBox())?.width ?? 48;
  const r = (15 / 36) * size;
  const [page, arc, above, below] = await pixels(session.page, ring, [
    [-size / 2 + 1, -size / 2 + 1],
    [0, -r],
    [0, -r * 0.55],
    [0, r * 0.55],
  ]);
  assert.ok(page);
  assert.ok(arc && !near(arc, page), `${what}: no ring drawn (${arc} on ${page})`);
  for (const hole of [above, below])
    assert.ok(hole && near(hole, page), `${what}: the gauge is filled like a pie (${hole} on ${page})`);
}

describe("the dashboard in a real browser", { skip }, () => {
  let session: Session;

  before(async () => {
    session = await openDashboard();
  });

  after(async () => {
    await session?.close();
  });

  for (const cluster of ["seeded", "500 guests"] as const) {
    describe(`on the ${cluster} cluster`, () => {
      before(async () => {
        const body = cluster === "seeded" ? {} : { nodes: 3, guests: 500 };
        const res = await fetch(`${session.servers.simOrigin}/_sim/reset`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200);
      });

      for (const width of WIDTHS) {
        for (const t of THEMES) {
          it(`at ${width} px, ${themeName(t)}: a card of at most 500 px, then the full view in fullscreen`, async () => {
            const what = `${cluster}, ${width} px, ${themeName(t)}`;
            const view = await showView(session, { width, ...t });
            // First paint from the result the host handed over: not a single request of its own.
            await session.page.waitForTimeout(300);
            assert.deepEqual(viewCalls(session, view), [], `${what}: the view asked for data at first paint`);
            assert.match((await view.frame.textContent("#tiles")) ?? "", /\d+running/);
            await assertLayout(view, `${what}, inline`, "inline");
            const shot = join(
              ROOT,
              "test",
              "browser",
              ".out",
              `${cluster}-${width}-${t.theme}`.replace(/ /g, "-"),
            );
            await session.page.screenshot({ path: `${shot}-inline.png` });

            await openFull(view);
            const host = await session.page.evaluate(() => (globalThis as any).__host);
            assert.deepEqual(host.modeRequests, ["fullscreen"]);
            assert.equal(host.displayMode, "fullscreen");
            assert.deepEqual(viewCalls(session, view), ["tools/call dashboard_refresh"]);
            await assertLayout(view, `${what}, fullscreen`, "fullscreen");
            await assertRing(session, view, what);
            await session.page.screenshot({ path: `${shot}-full.png` });
          });
        }
      }

      if (cluster === "500 guests") {
        it("pages through 500 guests 50 at a time and filters with chips", async () => {
          const view = await showView(session, { width: 1280, theme: "light" });
          await openFull(view);
          const { frame } = view;
          assert.equal(await frame.locator("#guests tbody tr").count(), 50);
          assert.match((await frame.textContent("#pages")) ?? "", /1–50 of 500/);
          await frame.click("#pages button[data-page='1']");
          assert.match((await frame.textContent("#pages")) ?? "", /51–100 of 500/);
          await frame.click(".chip[data-show='stale']");
          const stale = Number(/of (\d+)/.exec((await frame.textContent("#pages")) ?? "")?.[1] ?? 0);
          assert.ok(stale > 50, `${stale} guests without a recent backup`);
          const backups = (await frame.textContent("#backups")) ?? "";
          assert.match(backups, new RegExp(`${stale} of 500 guests have no backup`));
          assert.ok(
            (await frame.locator("#stale .pill").count()) <= 24,
            "the backup panel names a few and counts the rest",
          );
        });
      }

      if (cluster === "seeded") {
        describe("with every part checked", () => {
          let view: View;
          before(async () => {
            view = await showView(session, { width: 1280, theme: "light" });
          });

          it("keeps the card useful where the host has no fullscreen", async () => {
            const inlineOnly = await showView(session, {
              width: 420,
              theme: "light",
              query: { fullscreen: "0" },
            });
            assert.equal(await inlineOnly.frame.locator("#open-full").isVisible(), false);
            assert.match((await inlineOnly.frame.textContent("#attention")) ?? "", /\S/);
            assert.equal(await inlineOnly.frame.locator("#busiest li").count(), 3);
            const touch = await showView(session, { width: 420, theme: "dark", query: { touch: "1" } });
            const small = (await layout(touch.frame, 44)).smallControls;
            assert.deepEqual(small, [], "controls under 44 px on a touch device");
            view = await showView(session, { width: 1280, theme: "light" });
          });

          it("saves the inline card's picture", async () => {
            await session.page.setViewportSize({ width: 760, height: 900 });
            await session.page.waitForTimeout(800);
            mkdirSync(SHOTS, { recursive: true });
            const png = await session.page
              .locator("#app")
              .screenshot({ path: join(SHOTS, "dashboard-inline.png"), animations: "disabled" });
            assert.ok(png.length > 15_000, `the card's screenshot looks blank (${png.length} bytes)`);
            await session.page.setViewportSize({ width: 1280, height: 900 });
          });

          it("draws every chart with axis labels and lines, in the host's font", async () => {
            await openFull(view);
            const { frame } = view;
            const axis = await inkPerChart(frame, "axis");
            const plot = await inkPerChart(frame, "plot");
            assert.deepEqual(Object.keys(plot).sort(), ["cpu", "io", "mem", "net"]);
            for (const [chart, ink] of Object.entries(plot))
              assert.ok(ink > 500, `${chart} chart is blank (${ink} pixels)`);
            for (const [chart, ink] of Object.entries(axis))
              assert.ok(ink > 50, `${chart} chart has no axis labels (${ink} pixels)`);
            const legend = await frame.locator("[data-chart='cpu'] .u-legend").textContent();
            for (const node of ["pve1", "pve2", "pve3"]) assert.match(legend ?? "", new RegExp(node));
            assert.equal(await frame.locator("[data-chart='cpu']").getAttribute("data-timeframe"), "hour");
            const font = await frame.evaluate(
              () =>
                (globalThis as any).getComputedStyle((globalThis as any).document.querySelector(".u-legend"))
                  .fontFamily,
            );
            assert.match(font, /Liberation Sans/);
            // In and out of one node: one colour, out dashed.
            const markers = await frame.evaluate(() =>
              [
                ...(globalThis as any).document.querySelectorAll("[data-chart='net'] .u-series .u-marker"),
              ].map((m: any) => [m.style.borderColor, m.style.borderStyle]),
            );
            assert.deepEqual(markers[0], [markers[1][0], "solid"]);
            assert.equal(markers[1][1], "dashed");
            assert.notEqual(markers[0][0], markers[2][0], "two nodes share a colour");
          });

          it("shows each node's memory gauge as the node reports it", async () => {
            const res = await fetch(`${session.servers.simOrigin}/api2/json/nodes/pve2/status`, {
              headers: { Authorization: "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000" },
            });
            const status = ((await res.json()) as { data: { memory: { used: number; total: number } } }).data;
            const expected = Math.round((status.memory.used / status.memory.total) * 100);
            const shown = await view.frame
              .locator(".gauge[data-node='pve2'][data-metric='mem'] .value")
              .textContent();
            assert.ok(
              Math.abs(Number.parseInt(shown ?? "", 10) - expected) <= 1,
              `gauge shows ${shown}, the node reports ${expected}%`,
            );
            const gauges = await view.frame.locator(".card[data-node='pve1'] .gauge").count();
            assert.ok(gauges >= 4, "CPU, memory, root disk and at least one storage gauge");
          });

          it("switches the charts' timeframe", async () => {
            const { frame } = view;
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
            for (const [chart, ink] of Object.entries(await inkPerChart(frame, "plot")))
              assert.ok(ink > 500, `${chart} chart is blank after the switch`);
          });

          it("filters the guest table with the text box and the chips, and sorts it", async () => {
            const { frame } = view;
            const all = await frame.locator("#guests tbody tr").count();
            assert.ok(all >= 15, `${all} guests shown`);
            await frame.fill("#filter", "k8s");
            const names = await frame.locator("#guests tbody td.name").allTextContents();
            assert.deepEqual(names, ["k8s-master", "k8s-worker-1", "k8s-worker-2"]);
            assert.equal(await frame.locator("#guest-count").textContent(), `3 of ${all}`);
            await frame.fill("#filter", "");
            await frame.click(".chip[data-show='stopped']");
            const statuses = await frame.locator("#guests tbody td[data-col='status']").allTextContents();
            assert.ok(statuses.length > 0);
            for (const status of statuses) assert.equal(status.trim(), "stopped");
            await frame.click(".chip[data-show='']");
            await frame.click("#guests th[data-key='vmid'] button");
            const first = await frame.locator("#guests tbody tr").first().getAttribute("data-vmid");
            assert.equal(first, "205", "a second click on ID sorts descending");
          });

          it("gets its data through the app-only refresh tool the host proxies", async () => {
            const host = await session.page.evaluate(
              () => (globalThis as any).__host as { ready: boolean; error?: string },
            );
            assert.equal(host.ready, true);
            assert.equal(host.error, undefined);
            const fromView = viewCalls(session, view);
            assert.ok(fromView.length >= 2, fromView.join(", ")); // the full view and the timeframe switch
            assert.ok(
              fromView.every((c) => c === "tools/call dashboard_refresh"),
              fromView.join(", "),
            );
          });

          it("saves the full dashboard's picture", async () => {
            const { frame } = view;
            await frame.click("#timeframes button[data-timeframe='day']");
            await frame.waitForSelector("[data-chart='cpu'][data-timeframe='day']", { timeout: 30_000 });
            // Headless Chromium paints only inside the viewport: make it as tall as the dashboard,
            // then let the charts' last frame reach the compositor before the capture.
            const height = await frame.evaluate(
              () => (globalThis as any).document.documentElement.scrollHeight,
            );
            await session.page.setViewportSize({ width: 1280, height: Math.ceil(height) });
            await session.page.waitForTimeout(2500);
            const png = await session.page.screenshot({
              path: join(SHOTS, "dashboard.png"),
              animations: "disabled",
            });
            assert.ok(png.length > 40_000, `the screenshot looks blank (${png.length} bytes)`);
            await session.page.setViewportSize({ width: 1280, height: 900 });
          });

          it("shows a guest named like markup as text, inline and in fullscreen", async () => {
            // A name as a hand-edited guest config may hold it: it must show as text, never as markup.
            await control(session.servers, "guests/101", { name: XSS_NAME });
            const hostile = await showView(session, { width: 1280, theme: "light" });
            await openFull(hostile);
            await hostile.frame.fill("#filter", "onerror");
            const cell = hostile.frame.locator("#guests tbody tr[data-vmid='101'] td.name");
            assert.equal(await cell.textContent(), XSS_NAME);
            assert.equal(await hostile.frame.locator("img").count(), 0);
            assert.deepEqual(session.dialogs, []);
          });
        });
      }
    });
  }
});
