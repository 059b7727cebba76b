// Tool answers as a chat host shows them, for the listing's screenshots (`npm run screenshots`,
// after `npm run screenshot` has drawn the dashboard). Starts the simulator and the MCP server
// (`wrangler dev`, seeded cluster), asks them as a client would, and draws each exchange on a
// small chat page in headless Chromium: the person's request, the tool call under the tool's
// title, the text answer the model reads and the structured result beside it.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { Mcp } from "../../bench/clients.ts";
import { ROOT, snapshotTree, startServers } from "../../bench/servers.ts";
import { findChromium } from "./harness.ts";

interface Exchange {
  file: string;
  ask: string;
  tool: string;
  args: Record<string, unknown>;
}

const EXCHANGES: Exchange[] = [
  { file: "answer-guests.png", ask: "Which VMs are running, and where?", tool: "get_vms", args: {} },
  {
    file: "answer-busiest.png",
    ask: "What has been using the most CPU today?",
    tool: "get_metrics",
    args: { top: "cpu", timeframe: "day" },
  },
];

/** The chat page: fixed markup, every value from the server set as text by the page script. */
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light">
<style>
body{margin:0;background:#f4f1ea;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f1e1c}
main{width:1120px;margin:0 auto;padding:28px 40px 36px}
.user{margin-left:auto;max-width:70%;width:fit-content;background:#e8e2d6;border-radius:18px;padding:10px 16px;margin-bottom:18px}
.call{background:#fff;border:1px solid #ddd6c8;border-radius:12px;overflow:hidden}
.call>header{display:flex;gap:10px;align-items:baseline;padding:10px 16px;border-bottom:1px solid #ece6da;background:#fbf9f5}
.call>header b{font-weight:600}.call>header code{color:#6b6457;font-size:13px}
.args{padding:8px 16px;font:12.5px/1.5 ui-monospace,Menlo,monospace;color:#6b6457;border-bottom:1px solid #ece6da;white-space:pre-wrap}
.panes{display:grid;grid-template-columns:3fr 2fr}
.pane{padding:12px 16px;min-width:0}.pane+.pane{border-left:1px solid #ece6da;background:#fcfbf8}
.pane h3{margin:0 0 6px;font-size:12px;letter-spacing:.04em;text-transform:uppercase;color:#8a8270}
pre{margin:0;font:12.5px/1.55 ui-monospace,Menlo,monospace;white-space:pre-wrap;word-break:break-word}
#structured{font-size:12px;white-space:pre;overflow:hidden}
.error{color:#b42318}
.reply{margin-top:16px;color:#3d3a33}
</style></head><body><main>
<div class="user" id="ask"></div>
<section class="call"><header><b id="title"></b><code id="tool"></code></header>
<div class="args" id="args"></div>
<div class="panes"><div class="pane"><h3>Text answer</h3><pre id="text"></pre></div>
<div class="pane"><h3>Structured result</h3><pre id="structured"></pre></div></div></section>
</main></body></html>`;

/** Characters of a line that fit the structured pane. */
const WIDTH = 56;
const cut = (json: string, max: number) => (json.length > max ? `${json.slice(0, max - 1)}…` : json);

/**
 * Compact JSON, one top-level field per line and a table's rows one per line, long values cut:
 * what fits beside the text.
 */
function structuredPreview(value: unknown, depth = 0): string[] {
  if (!value || typeof value !== "object") return ["(none)"];
  const pad = "  ".repeat(depth);
  return Object.entries(value as Record<string, unknown>).flatMap(([key, field]) => {
    if (key === "rows" && Array.isArray(field)) {
      const shown = field
        .slice(0, 8)
        .map((row) => `${pad}  ${cut(JSON.stringify(row), WIDTH - pad.length - 2)}`);
      const more = field.length > 8 ? [`${pad}  … ${field.length - 8} more`] : [];
      return [`${pad}${key}:`, ...shown, ...more];
    }
    const json = JSON.stringify(field) ?? "";
    if (
      depth === 0 &&
      json.length > WIDTH - key.length - 2 &&
      field &&
      typeof field === "object" &&
      !Array.isArray(field)
    )
      return [`${pad}${key}:`, ...structuredPreview(field, depth + 1)];
    return [`${pad}${key}: ${cut(json, WIDTH - pad.length - key.length - 2)}`];
  });
}

const executablePath = findChromium();
if (!executablePath)
  throw new Error("no chromium installed (apt-get install chromium, or set CHROMIUM_PATH)");
const outDir = join(ROOT, "docs");
mkdirSync(outDir, { recursive: true });
const servers = await startServers(snapshotTree(), join(ROOT, "test", "browser", ".out", "logs"));
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const mcp = await Mcp.connect(servers.mcpUrl, "screenshots");
  const titles = new Map((await mcp.tools()).map((t) => [t.name, (t as { title?: string }).title ?? t.name]));
  const page = await browser.newPage({ viewport: { width: 1200, height: 600 }, deviceScaleFactor: 1 });
  for (const exchange of EXCHANGES) {
    const result = await mcp.call(exchange.tool, exchange.args);
    const text = result.content.map((c) => c.text ?? "").join("\n");
    if (result.isError) throw new Error(`${exchange.tool} failed: ${text}`);
    await page.setContent(PAGE);
    await page.evaluate(
      (fill) => {
        const doc = (globalThis as any).document;
        for (const [id, value] of Object.entries(fill)) doc.getElementById(id).textContent = value;
      },
      {
        ask: exchange.ask,
        title: titles.get(exchange.tool) ?? exchange.tool,
        tool: exchange.tool,
        args: JSON.stringify(exchange.args),
        text,
        structured: structuredPreview(result.structuredContent).join("\n"),
      },
    );
    const height = await page.evaluate(() => (globalThis as any).document.querySelector("main").scrollHeight);
    await page.setViewportSize({ width: 1200, height: Math.ceil(height) });
    const path = join(outDir, exchange.file);
    await page.screenshot({ path, fullPage: true });
    console.log(`wrote ${path}`);
  }
  await mcp.close();
} finally {
  await browser.close();
  await servers.stop();
}
