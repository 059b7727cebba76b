// 9. Search: what search_api's engine (MiniSearch over the generated index) costs and how well it
// finds everyday intents. Index build on a cold isolate (a fresh worker thread: a new V8 isolate
// that imports the bundle, as a new Worker isolate does), latency per query in the engine and over
// MCP, the bytes it adds to the Worker, and search_api's share of tools/list.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { ROOT } from "./servers.ts";
import {
  bytes,
  type Check,
  type Context,
  median,
  ms,
  p95,
  type SectionResult,
  table,
  timing,
} from "./stats.ts";

/** What search adds to the Worker (library, data, query code): gzip, as wrangler ships it (unminified). */
export const SEARCH_BUNDLE_BUDGET = 40 * 1024;
/** search_api in tools/list before issue 21, and the growth the issue allows. */
const SEARCH_TOOL_BEFORE = 694;
const SEARCH_TOOL_GROWTH = 300;

/** Asked when ../shared/search is absent: the everyday intents of the kind. */
const FALLBACK_INTENTS = [
  { q: "allow port 8443 into VM 130", want: ["POST /nodes/{node}/qemu/{vmid}/firewall/rules"] },
  { q: "mount my NAS over SMB as storage", want: ["POST /storage"] },
  { q: "restart the host", want: ["POST /nodes/{node}/status"] },
  { q: "stop managing VM 120 with HA", want: ["DELETE /cluster/ha/resources/{sid}"] },
  { q: "list the APT repositories configured on a node", want: ["GET /nodes/{node}/apt/repositories"] },
];

interface Intent {
  q: string;
  want: string[];
}

interface SearchModule {
  allOperations: () => unknown[];
  searchEngine: () => unknown;
  searchOperations: (query: string, options: { limit: number }) => { hits: { op: { key: string } }[] };
}

function intents(): { list: Intent[]; source: string } {
  const file = resolve(ROOT, "../shared/search/intents-dev.json");
  if (!existsSync(file)) return { list: FALLBACK_INTENTS, source: "5 built-in intents (../shared absent)" };
  return {
    list: JSON.parse(readFileSync(file, "utf8")) as Intent[],
    source: "the development set (../shared/search/intents-dev.json)",
  };
}

async function bundle(dir: string, name: string, contents: string, minify = false): Promise<string> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    stdin: { contents, resolveDir: ROOT, loader: "ts" },
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    minify,
    logLevel: "warning",
  });
  return outfile;
}

const gzipOf = (file: string) => gzipSync(readFileSync(file)).length;

/** One cold start: a new isolate imports the bundle, builds the operations, then the engine. */
function coldStart(
  file: string,
): Promise<{ load: number; operations: number; engine: number; first: number }> {
  const code = `
    import { parentPort } from "node:worker_threads";
    const t0 = performance.now();
    const m = await import(${JSON.stringify(pathToFileURL(file).href)});
    const t1 = performance.now();
    m.allOperations();
    const t2 = performance.now();
    m.searchEngine();
    const t3 = performance.now();
    m.searchOperations("allow port 8443 into VM 130", { limit: 6 });
    const t4 = performance.now();
    parentPort.postMessage({ load: t1 - t0, operations: t2 - t1, engine: t3 - t2, first: t4 - t3 });
  `;
  return new Promise((done, fail) => {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
    worker.once("message", (m) => {
      done(m);
      void worker.terminate();
    });
    worker.once("error", fail);
  });
}

export async function searchSection(ctx: Context): Promise<SectionResult> {
  const { mode, mcp, log } = ctx;
  const checks: Check[] = [];
  const parts: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "proxmox-mcp-search-"));
  try {
    const entry = await bundle(
      dir,
      "search",
      `export { allOperations } from "./src/api/index.ts";
       export { searchEngine, searchOperations } from "./src/api/search.ts";`,
    );

    // Bytes: the search stack against the API index alone (which read_api and write_api need
    // anyway); the difference is everything search adds, the library and its data included.
    const indexOnly = await bundle(dir, "index", `export { allOperations } from "./src/api/index.ts";`);
    const library = await bundle(dir, "minisearch", `export { default } from "minisearch";`);
    const data = join(dir, "search-index.json");
    writeFileSync(data, readFileSync(resolve(ROOT, "src/api/generated/search-index.json")));
    const added = gzipOf(entry) - gzipOf(indexOnly);
    parts.push(
      table(
        ["bundle (esbuild, unminified as wrangler ships it; gzip)", "size"],
        [
          ["API index + classification (read_api and write_api need it anyway)", bytes(gzipOf(indexOnly))],
          [
            "API index + search (MiniSearch, search-index.json, query and ranking code)",
            bytes(gzipOf(entry)),
          ],
          ["added by search", bytes(added)],
          ["  of which MiniSearch alone", bytes(gzipOf(library))],
          ["  of which search-index.json alone (descriptions, phrases, word lists)", bytes(gzipOf(data))],
        ],
      ),
    );
    checks.push({
      what: "search engine and its data in the Worker (gzip)",
      budget: `≤ ${SEARCH_BUNDLE_BUDGET / 1024} KiB`,
      actual: bytes(added),
      pass: added <= SEARCH_BUNDLE_BUDGET,
      deterministic: true,
    });

    // Cold isolates.
    const runs = mode === "quick" ? 3 : 10;
    const colds: Awaited<ReturnType<typeof coldStart>>[] = [];
    for (let i = 0; i < runs; i++) colds.push(await coldStart(entry));
    log(`search: ${runs} cold isolates`);
    const col = (k: keyof (typeof colds)[number]) => colds.map((c) => c[k]);
    parts.push(
      "",
      `Cold start, ${runs} fresh isolates (worker threads) each importing the bundle; median / p95:`,
      "",
      table(
        ["step", "median / p95"],
        [
          ["import the bundle (parse the code and the JSON)", timing(col("load"))],
          [
            "API index: every operation with its classification (needed by read_api too)",
            timing(col("operations")),
          ],
          ["build the search index (MiniSearch addAll over 675 operations)", timing(col("engine"))],
          ["first query (code not yet optimised)", timing(col("first"))],
        ],
      ),
    );
    checks.push({
      what: "search index build on a cold isolate, median (aim)",
      budget: "< 100 ms",
      actual: `${ms(median(col("engine")))} (then the first query ${ms(median(col("first")))})`,
      pass: median(col("engine")) < 100,
      deterministic: false,
    });

    // Latency per query, warm, in this process; and the score.
    const mod = (await import(pathToFileURL(entry).href)) as SearchModule;
    mod.searchEngine();
    const { list, source } = intents();
    const rounds = mode === "quick" ? 5 : 50;
    const engineTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const { q } of list) {
        const t = performance.now();
        mod.searchOperations(q, { limit: 6 });
        engineTimes.push(performance.now() - t);
      }
    }
    let top3 = 0;
    let top1 = 0;
    for (const { q, want } of list) {
      const keys = mod.searchOperations(q, { limit: 3 }).hits.map((h) => h.op.key);
      if (keys.some((k) => want.includes(k))) top3++;
      if (want.includes(keys[0] as string)) top1++;
    }
    const mcpTimes: number[] = [];
    for (let r = 0; r < (mode === "quick" ? 1 : 5); r++) {
      for (const { q } of list) {
        const t = performance.now();
        const result = await mcp.call("search_api", { query: q });
        mcpTimes.push(performance.now() - t);
        if (result.isError)
          throw new Error(`search_api failed for "${q}": ${JSON.stringify(result.content)}`);
      }
    }
    parts.push(
      "",
      `Queries: ${list.length} intents of ${source}. Top 3: ${top3} of ${list.length}; first: ${top1} of ${list.length}.`,
      "",
      table(
        ["latency per query", "samples", "median / p95"],
        [
          ["the engine (warm isolate)", engineTimes.length, timing(engineTimes)],
          ["search_api over MCP (one tools/call, warm server)", mcpTimes.length, timing(mcpTimes)],
        ],
      ),
    );
    checks.push({
      what: "search_api query latency in the engine, median (aim)",
      budget: "< 5 ms",
      actual: `${ms(median(engineTimes))} (p95 ${ms(p95(engineTimes))})`,
      pass: median(engineTimes) < 5,
      deterministic: false,
    });

    const tool = (await mcp.tools()).find((t) => t.name === "search_api");
    const toolBytes = Buffer.byteLength(JSON.stringify(tool));
    parts.push("", `search_api in tools/list: ${toolBytes} B (${SEARCH_TOOL_BEFORE} B before the engine).`);
    checks.push({
      what: "tools/list, search_api growth for the engine",
      budget: `≤ ${SEARCH_TOOL_GROWTH} B over ${SEARCH_TOOL_BEFORE} B`,
      actual: `${toolBytes - SEARCH_TOOL_BEFORE >= 0 ? "+" : ""}${toolBytes - SEARCH_TOOL_BEFORE} B (${toolBytes} B)`,
      pass: toolBytes - SEARCH_TOOL_BEFORE <= SEARCH_TOOL_GROWTH,
      deterministic: true,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: "9. Search",
    howToRead:
      "search_api's engine (MiniSearch, BM25 with prefix and fuzzy matching, built from the generated index on the first search of an isolate): what it adds to the Worker, the index build on a cold isolate, latency per query, and how many everyday intents it ranks in its top 3. Budgets: at most 40 KiB gzip added, search_api at most 300 B more in tools/list; timings are aims.",
    body: parts.join("\n"),
    checks,
  };
}
