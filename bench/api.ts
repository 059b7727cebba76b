// 8. The whole API: how every operation of the schema is classified (scope or refusal), what the
// three API tools cost in tools/list, and what read_api answers cost against Proxmox's JSON.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { answerBytes, shownRows } from "./clients.ts";
import { ROOT } from "./servers.ts";
import { bytes, type Check, type Context, type SectionResult, table } from "./stats.ts";

const API_TOOLS = ["search_api", "read_api", "write_api"];
export const API_TOOLS_BUDGET = 3 * 1024;
const GUESTS = 500;

interface IndexedOp {
  method: string;
  path: string;
  class: { scope?: string; denied?: string };
}

/** The server's own index and classification table, bundled from src/api for this process. */
async function loadOperations(): Promise<IndexedOp[]> {
  const dir = mkdtempSync(join(tmpdir(), "proxmox-mcp-api-"));
  try {
    const outfile = join(dir, "index.mjs");
    await build({
      entryPoints: [join(ROOT, "src/api/index.ts")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "neutral",
      logLevel: "warning",
    });
    const mod = (await import(pathToFileURL(outfile).href)) as { allOperations: () => IndexedOp[] };
    return mod.allOperations();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Operations in the schema file the project targets, when it is next to the repository. */
function schemaOperationCount(): number | undefined {
  const file = resolve(ROOT, "../shared/proxmox/pve-9.2-apidoc.json");
  if (!existsSync(file)) return undefined;
  let count = 0;
  const walk = (nodes: { info?: Record<string, unknown>; children?: unknown[] }[]) => {
    for (const node of nodes) {
      count += Object.keys(node.info ?? {}).length;
      if (node.children) walk(node.children as never);
    }
  };
  walk(JSON.parse(readFileSync(file, "utf8")));
  return count;
}

export async function apiSection(ctx: Context): Promise<SectionResult> {
  const { sim, mcp } = ctx;
  const checks: Check[] = [];
  const parts: string[] = [];

  const ops = await loadOperations();
  const byScope = new Map<string, number>();
  const denied = new Map<string, string[]>();
  let unclassified = 0;
  for (const op of ops) {
    if (op.class.denied)
      denied.set(op.class.denied, [...(denied.get(op.class.denied) ?? []), `${op.method} ${op.path}`]);
    else if (op.class.scope) byScope.set(op.class.scope, (byScope.get(op.class.scope) ?? 0) + 1);
    else unclassified++;
  }
  const reachable = [...byScope.values()].reduce((a, b) => a + b, 0);
  const deniedCount = [...denied.values()].reduce((a, b) => a + b.length, 0);
  const inSchema = schemaOperationCount();
  parts.push(
    table(
      ["scope", "operations"],
      [
        ...["read", "write", "exec", "admin"].map((scope) => [scope, byScope.get(scope) ?? 0]),
        ["reachable (sum)", reachable],
        ["never sent", deniedCount],
        ["classified", reachable + deniedCount],
        ["in the index", ops.length],
        ["in the schema file", inSchema ?? "not found (../shared missing)"],
      ],
    ),
    "",
    "Never sent, by reason:",
    "",
    table(
      ["reason", "operations"],
      [...denied].map(([reason, list]) => [reason, `${list.length}: ${list.join(", ")}`]),
    ),
  );
  checks.push({
    what: "API operations classified (scope or refusal with a reason)",
    budget: "every operation of the schema",
    actual: `${reachable + deniedCount} of ${inSchema ?? ops.length} (${reachable} reachable, ${deniedCount} never sent, ${unclassified} unclassified)`,
    pass: unclassified === 0 && (inSchema === undefined || ops.length === inSchema),
    deterministic: true,
  });

  const tools = (await mcp.tools()).filter((t) => API_TOOLS.includes(t.name));
  const toolBytes = Buffer.byteLength(JSON.stringify({ tools }));
  parts.push(
    "",
    `The three API tools in tools/list: ${toolBytes} bytes (${tools.map((t) => `${t.name} ${Buffer.byteLength(JSON.stringify(t))} B`).join(", ")}).`,
  );
  checks.push({
    what: "tools/list, search_api + read_api + write_api",
    budget: `< ${API_TOOLS_BUDGET / 1024} KiB`,
    actual: `${bytes(toolBytes)} (${toolBytes} B, ${tools.length} tools)`,
    pass: tools.length === 3 && toolBytes < API_TOOLS_BUDGET,
    deterministic: true,
  });

  // read_api on /cluster/resources against the raw JSON Proxmox sends for the same request.
  await sim.reset({ nodes: 3, guests: GUESTS });
  const raw = await sim.api("GET", "/cluster/resources");
  const rawBytes = Buffer.byteLength(raw.body);
  const rawRows = (JSON.parse(raw.body) as { data: unknown[] }).data;
  const rows: (string | number)[][] = [];
  for (const [variant, args] of [
    ["default arguments", {}],
    ["limit 1000", { limit: 1000 }],
    ["limit 1000, fields id, name, status", { limit: 1000, fields: ["id", "name", "status"] }],
  ] as const) {
    const result = await mcp.call("read_api", { path: "/cluster/resources", ...args });
    if (result.isError) throw new Error(`read_api failed: ${JSON.stringify(result.content)}`);
    const size = answerBytes(result);
    const shown = shownRows(result.structuredContent) ?? 0;
    const sameRows = Buffer.byteLength(JSON.stringify({ data: rawRows.slice(0, shown) }));
    rows.push([
      `read_api /cluster/resources (${variant}, ${shown} of ${rawRows.length} rows)`,
      bytes(size.total),
      bytes(rawBytes),
      `${(rawBytes / size.total).toFixed(2)}×`,
      `${(sameRows / size.total).toFixed(2)}×`,
    ]);
    if (variant === "default arguments") {
      checks.push({
        what: `read_api /cluster/resources vs Proxmox's JSON, ${GUESTS} guests`,
        budget: "raw ≥ 3× answer (text + structured)",
        actual: `${(rawBytes / size.total).toFixed(2)}× (answer ${size.total} B, raw ${rawBytes} B)`,
        pass: rawBytes / size.total >= 3,
        deterministic: true,
      });
    }
  }
  parts.push(
    "",
    `read_api on a simulated cluster of 3 nodes and ${GUESTS} guests, against the raw JSON of the same request. ` +
      "An answer is bounded by limit and a 12 KB text budget and tells how to page; the last column compares it with " +
      "the raw JSON of only the rows it shows (text and structured content both carry them).",
    "",
    table(
      ["answer", "text + structured", "raw Proxmox JSON", "raw ÷ answer", "same rows raw ÷ answer"],
      rows,
    ),
  );

  return {
    title: "8. The whole API",
    howToRead:
      "How the three API tools cover the schema: operations per scope and those never sent (with why), their tools/list cost, and read_api answers against raw JSON. Budgets: every operation classified, the three tools under 3 KiB, read_api at least 3× smaller than Proxmox's JSON.",
    body: parts.join("\n"),
    checks,
  };
}
