// `npm run bench` (full) and `npm run bench:quick` (what CI runs): starts the simulator and the
// MCP server with wrangler dev, measures, writes a Markdown report, stops the servers.
//
//   node bench/run.ts [--quick] [--out FILE] [--committed]
//
// The Workers run from a copy of the sources taken at the start: the working tree, or with
// --committed the sources at HEAD.
//
// Timings are reported, never asserted. Deterministic budgets (request counts, byte sizes, error
// counts) are checked and each violation is named; with BENCH_STRICT=1 a violation fails the run
// (after the report is written). A section that cannot run always fails it.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { apiSection } from "./api.ts";
import { bundleSection } from "./bundle.ts";
import { Mcp, Sim } from "./clients.ts";
import { contextSection } from "./context.ts";
import { dashboardSection } from "./dashboard.ts";
import { economySection } from "./economy.ts";
import { fuzzSection } from "./fuzz.ts";
import { loadSection } from "./load.ts";
import { overheadSection } from "./overhead.ts";
import { scaleSection } from "./scale.ts";
import { searchSection } from "./search.ts";
import { interrupted, ROOT, removeScratch, type Servers, snapshotTree, startServers } from "./servers.ts";
import type { Check, Context, Mode, SectionResult } from "./stats.ts";
import { waitingSection } from "./waiting.ts";
import { workflowsSection } from "./workflows.ts";

// Paths below are relative to the repository root, wherever the script is started from.
process.chdir(ROOT);

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    // Measure the sources at HEAD rather than the working tree.
    committed: { type: "boolean", default: false },
    // Run only these sections (comma-separated step names, e.g. "fuzz"); the report says so.
    only: { type: "string" },
  },
});
const only = values.only ? new Set(values.only.split(",").map((name) => name.trim())) : undefined;
const mode: Mode = values.quick ? "quick" : "full";
// A partial run (--only) never replaces the full report.
const out =
  values.out ??
  (only ? "bench/.out/REPORT-only.md" : mode === "full" ? "bench/REPORT.md" : "bench/.out/REPORT-quick.md");
const t0 = performance.now();
/** 1-minute load average when the run started: other work on the machine shows in the timings. */
const loadAtStart = loadavg()[0] ?? 0;
const startedAt = new Date();
const log = (line: string) =>
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

function gitStatus(): string[] {
  try {
    return execFileSync("git", ["status", "--porcelain"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    })
      .split("\n")
      .filter(Boolean);
  } catch {
    return [];
  }
}

function machine(servers: Servers | undefined): string {
  const cpu = cpus();
  // The servers bundle the working tree, so say which folders differ from the commit.
  const changed = [
    ...new Set(
      gitStatus()
        // "XY path", or "XY old -> new" for a rename.
        .map((line) => (line.slice(3).split(" -> ").pop() ?? "").split("/").slice(0, 2).join("/"))
        .filter((path) => !path.startsWith("bench")),
    ),
  ];
  const wrangler = (() => {
    try {
      return (JSON.parse(readFileSync("node_modules/wrangler/package.json", "utf8")) as { version: string })
        .version;
    } catch {
      return "unknown";
    }
  })();
  const rows = [
    ["date", `${startedAt.toISOString()} (start of the run)`],
    [
      "mode",
      `${mode === "full" ? "full (`npm run bench`)" : "quick (`npm run bench:quick`, few repetitions)"}${only ? `, only ${[...only].join(", ")} (\`--only\`)` : ""}`,
    ],
    ["CPU", `${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores`],
    [
      "memory",
      `${(totalmem() / 1024 ** 3).toFixed(1)} GiB (${(freemem() / 1024 ** 3).toFixed(1)} GiB free at start)`,
    ],
    [
      "load average (1 min)",
      `${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (other work on this machine makes timings noisier)`,
    ],
    ["Node", process.version],
    ["wrangler", wrangler],
    [
      "commit",
      `${git(["rev-parse", "--short", "HEAD"]) || "unknown"}${
        values.committed
          ? " (committed sources only: `--committed`)"
          : changed.length
            ? `, with uncommitted changes in ${changed.join(", ")}`
            : ""
      }`,
    ],
  ];
  if (servers) {
    rows.push([
      "servers",
      `two \`wrangler dev\` processes (simulator, MCP server) on free local ports; ready ${servers.startupSeconds.toFixed(1)} s after spawning`,
    ]);
  }
  return rows.map(([k, v]) => `- ${k}: ${v}`).join("\n");
}

function render(sections: SectionResult[], servers: Servers | undefined, failures: string[]): string {
  const checks = sections.flatMap((s) => s.checks);
  const budgetRows = checks.map(
    (c: Check) =>
      `| ${c.what} | ${c.budget} | ${c.actual.replace(/\|/g, "\\|").replace(/\n/g, " ")} | ${c.pass ? "pass" : c.deterministic ? "**FAIL**" : "missed (timing, not asserted)"} |`,
  );
  return [
    "# Benchmark report",
    "",
    "Written by `bench/run.ts` (`npm run bench`; `npm run bench:quick` writes its report under bench/.out/).",
    "Medians and 95th percentiles of wall-clock timings on this machine; counts and sizes are exact.",
    "",
    "## Machine",
    "",
    machine(servers),
    "",
    "## Budgets",
    "",
    "How to read this: deterministic budgets (request counts, sizes, errors) are exact and fail the run under BENCH_STRICT=1; timing aims are reported only.",
    "",
    "| what | budget | actual | result |",
    "| --- | --- | --- | --- |",
    ...budgetRows,
    ...(failures.length ? ["", "Sections that could not run:", ...failures.map((f) => `- ${f}`)] : []),
    "",
    ...sections.flatMap((s) => [`## ${s.title}`, "", `How to read this: ${s.howToRead}`, "", s.body, ""]),
  ].join("\n");
}

async function main(): Promise<number> {
  const sections: SectionResult[] = [];
  const failures: string[] = [];
  const tree = snapshotTree({ committed: values.committed });
  log(`mode ${mode}; bundling (wrangler deploy --dry-run)`);
  const bundle = await bundleSection(tree);
  log("starting the simulator and the MCP server (wrangler dev)");
  const servers = await startServers(tree, resolve("bench/.out/logs"));
  try {
    log(
      `ready in ${servers.startupSeconds.toFixed(1)} s: MCP ${servers.mcpUrl}, simulator ${servers.simOrigin}`,
    );
    const mcp = await Mcp.connect(servers.mcpUrl);
    const ctx: Context = { mode, servers, sim: new Sim(servers.simOrigin), mcp, log };
    const tools = await mcp.tools();
    const steps: [string, () => Promise<SectionResult>][] = [
      ["overhead", () => overheadSection(ctx)],
      ["economy", () => economySection(ctx, tools)],
      ["context", () => contextSection(ctx)],
      ["waiting", () => waitingSection(ctx, tools)],
      ["load", () => loadSection(ctx)],
      ["scale", () => scaleSection(ctx)],
      ["fuzz", () => fuzzSection(ctx, tools)],
      ["api", () => apiSection(ctx)],
      ["search", () => searchSection(ctx)],
      ["dashboard", () => dashboardSection(ctx)],
      ["workflows", () => workflowsSection(ctx)],
    ];
    for (const [name, step] of steps) {
      if (interrupted.signal) break;
      if (only && !only.has(name)) continue;
      log(name);
      try {
        sections.push(await step());
      } catch (error) {
        // A broken section is a broken harness: report it and fail the run.
        const message = `${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
        log(`FAILED ${message}`);
        failures.push(message.split("\n")[0] as string);
      }
    }
    sections.push(bundle);
    await mcp.close().catch(() => undefined);
  } finally {
    log("stopping the servers");
    await servers.stop();
    removeScratch(dirname(tree));
  }
  sections.sort((a, b) => a.title.localeCompare(b.title, "en", { numeric: true }));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, render(sections, servers, failures));
  log(`report written to ${out}`);

  const violated = sections.flatMap((s) => s.checks).filter((c) => c.deterministic && !c.pass);
  for (const c of violated)
    process.stderr.write(`BUDGET VIOLATED: ${c.what}: ${c.actual} (budget ${c.budget})\n`);
  if (violated.length && process.env.BENCH_STRICT !== "1")
    process.stderr.write("(budget violations are reported only; BENCH_STRICT=1 makes them fail the run)\n");
  for (const f of failures) process.stderr.write(`SECTION FAILED: ${f}\n`);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  // A broken harness always fails the run. Budgets the product does not meet yet are reported
  // (above and in the report) and fail the run only with BENCH_STRICT=1, so CI keeps the harness
  // honest without blocking every change on a known gap.
  const strict = process.env.BENCH_STRICT === "1";
  return failures.length || (strict && violated.length) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
