// 7. Deployable size: what `wrangler deploy --dry-run` would upload, gzipped.

import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { WRANGLER } from "./servers.ts";
import { bytes, type SectionResult, table } from "./stats.ts";

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** "1479.16 KiB" → bytes. */
function parseSize(value: string, unit: string): number {
  const factor = unit === "MiB" ? MiB : unit === "KiB" ? 1024 : 1;
  return Math.round(Number(value) * factor);
}

/** Bundles `tree` (see snapshotTree) as `wrangler deploy` would. */
export async function bundleSection(tree: string): Promise<SectionResult> {
  const outdir = mkdtempSync(join(tmpdir(), "proxmox-mcp-bundle-"));
  try {
    // The top-level environment is what `wrangler deploy` ships.
    const { stdout, stderr } = await run(
      process.execPath,
      [WRANGLER, "deploy", "--dry-run", "--outdir", outdir, "--env="],
      { cwd: tree, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, maxBuffer: 16 * MiB },
    );
    const output = `${stdout}\n${stderr}`;
    const total = /Total Upload:\s*([\d.]+)\s*(KiB|MiB|B)\s*\/\s*gzip:\s*([\d.]+)\s*(KiB|MiB|B)/.exec(output);
    if (!total) throw new Error(`wrangler deploy --dry-run printed no "Total Upload" line:\n${output}`);
    const upload = parseSize(total[1] as string, total[2] as string);
    const gzip = parseSize(total[3] as string, total[4] as string);
    const startupLine = /Worker Startup Time:\s*([\d.]+)\s*ms/.exec(output);
    const modules = readdirSync(outdir).filter((f) => f.endsWith(".js") || f.endsWith(".mjs"));
    const ownGzip = modules.reduce((sum, f) => sum + gzipSync(readFileSync(join(outdir, f))).length, 0);
    const rows: (string | number)[][] = [
      ["upload (wrangler)", bytes(upload)],
      ["gzip (wrangler)", bytes(gzip)],
      [`gzip of ${modules.join(", ")} (zlib, default level)`, bytes(ownGzip)],
      [
        "startup time (wrangler)",
        startupLine ? `${startupLine[1]} ms` : "not reported: wrangler prints it only on a real deploy",
      ],
    ];
    return {
      title: "7. Deployable size",
      howToRead:
        "What `wrangler deploy --dry-run --outdir` bundles for the top-level (production) environment; the gzip figure is what counts against Workers' size limit. Budget: under 1 MiB gzip.",
      body: table(["figure", "value"], rows),
      checks: [
        {
          what: "bundle size (gzip)",
          budget: "< 1 MiB",
          actual: bytes(gzip),
          pass: gzip < MiB,
          deterministic: true,
        },
      ],
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
