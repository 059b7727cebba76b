// 3. Context cost: what the tool list and big answers cost a model, against raw Proxmox JSON.

import { answerBytes, rawRpc, shownRows, type ToolInfo } from "./clients.ts";
import { bytes, type Check, type Context, type SectionResult, table } from "./stats.ts";

export const TOOLS_LIST_BUDGET = 46 * 1024;
/** What the tool list should stay under; reported, the budget above is what fails a run. */
const TOOLS_LIST_AIM = 40 * 1024;
const GUESTS = 500;

/**
 * Scopes (read always; write for lifecycle, snapshots, backups, pools; exec for guest agent
 * commands, file writes, passwords). The benchmark runs with sign-in off, so a tool's scope is
 * derived from its annotations the way the server assigns them: read-only tools are `read`,
 * guest-agent tools that change something are `exec`, everything else is `write`.
 */
export function scopeOf(tool: ToolInfo): "read" | "write" | "exec" {
  if (tool.annotations?.readOnlyHint) return "read";
  return tool.name.startsWith("guest_") ? "exec" : "write";
}

const toolsBytes = (tools: ToolInfo[]) => Buffer.byteLength(JSON.stringify({ tools }));

export async function contextSection(ctx: Context): Promise<SectionResult> {
  const { sim, mcp, servers } = ctx;
  const checks: Check[] = [];
  const parts: string[] = [];

  // tools/list, as the SDK parses it and as it travels.
  const tools = await mcp.tools();
  const wire = await rawRpc(servers.mcpUrl, "tools/list", {});
  const all = toolsBytes(tools);
  const scopeSets: [string, ("read" | "write" | "exec")[]][] = [
    ["read", ["read"]],
    ["read + write", ["read", "write"]],
    ["read + exec", ["read", "exec"]],
    ["read + write + exec (all)", ["read", "write", "exec"]],
  ];
  const rows = scopeSets.map(([name, scopes]) => {
    const subset = tools.filter((t) => scopes.includes(scopeOf(t)));
    return [name, subset.length, bytes(toolsBytes(subset)), toolsBytes(subset)];
  });
  parts.push(
    table(["scope set", "tools", "tools/list", "bytes"], rows),
    "",
    "A connection gets the tools of the scopes its sign-in granted. The benchmark runs with sign-in off (every " +
      "scope), so the sets are derived here the way the server assigns scopes: read-only tools are `read`, " +
      "guest-agent tools that change something are `exec`, the rest `write`.",
    "",
    `All ${tools.length} tools: ${all} bytes as \`JSON.stringify({tools})\` (the measure test/tools.test.ts uses), ` +
      `${wire.bytes} bytes as the HTTP body of the tools/list response.`,
  );
  const biggest = [...tools]
    .map((t) => ({ name: t.name, size: Buffer.byteLength(JSON.stringify(t)) }))
    .sort((a, b) => b.size - a.size)
    .slice(0, 8);
  parts.push("", `Largest tool definitions: ${biggest.map((t) => `${t.name} ${bytes(t.size)}`).join(", ")}.`);
  checks.push({
    what: "tools/list, all tools",
    budget: `< ${TOOLS_LIST_BUDGET / 1024} KiB`,
    actual: `${bytes(all)} (${all} B)`,
    pass: all < TOOLS_LIST_BUDGET,
    deterministic: true,
  });
  checks.push({
    what: "tools/list, all tools (aim)",
    budget: `< ${TOOLS_LIST_AIM / 1024} KiB`,
    actual: `${bytes(all)} (${all} B)`,
    pass: all < TOOLS_LIST_AIM,
    deterministic: false,
  });

  // Big answers against the raw Proxmox JSON with the same rows.
  await sim.reset({ nodes: 3, guests: GUESTS });
  const resources = await sim.api("GET", "/cluster/resources");
  const rawRows = (JSON.parse(resources.body) as { data: { type: string }[] }).data;
  const rawVmRows = (
    JSON.parse((await sim.api("GET", "/cluster/resources", { type: "vm" })).body) as {
      data: { type: string }[];
    }
  ).data.filter((r) => r.type === "qemu");
  const rawBytes = (rows: unknown[]) => Buffer.byteLength(JSON.stringify({ data: rows }));
  const answerRows: (string | number)[][] = [];
  const cases = [
    { tool: "get_vms", rows: rawVmRows, label: "`/cluster/resources?type=vm`, qemu rows" },
    { tool: "get_cluster_resources", rows: rawRows, label: "`/cluster/resources`" },
  ];
  for (const c of cases) {
    for (const variant of ["all rows", "default arguments"] as const) {
      const args = variant === "all rows" ? { limit: 5000 } : {};
      const result = await mcp.call(c.tool, args);
      if (result.isError) throw new Error(`${c.tool} failed: ${JSON.stringify(result.content)}`);
      const size = answerBytes(result);
      const shown = shownRows(result.structuredContent);
      const raw = rawBytes(c.rows.slice(0, shown ?? c.rows.length));
      const ratio = raw / size.total;
      answerRows.push([
        `${c.tool} (${variant}${shown !== undefined ? `, ${shown} of ${c.rows.length} rows` : ""})`,
        bytes(size.text),
        bytes(size.structured),
        bytes(size.total),
        bytes(raw),
        `${ratio.toFixed(2)}×`,
        `${(raw / size.text).toFixed(2)}×`,
      ]);
      if (variant === "all rows") {
        checks.push({
          what: `${c.tool} answer vs raw JSON, ${GUESTS} guests`,
          budget: "raw ≥ 3× answer (text + structured)",
          actual: `${ratio.toFixed(2)}× (answer ${size.total} B, raw ${raw} B)`,
          pass: ratio >= 3,
          deterministic: true,
        });
      }
    }
  }
  parts.push(
    "",
    `Answers on a simulated cluster of 3 nodes and ${GUESTS} guests. Raw JSON is Proxmox's \`{"data":[...]}\` for the same rows ` +
      `(${cases.map((c) => `${c.tool}: ${c.label}`).join("; ")}), without whitespace.`,
    "",
    table(
      [
        "answer",
        "text",
        "structured",
        "text + structured",
        "raw Proxmox JSON",
        "raw ÷ answer",
        "raw ÷ text alone",
      ],
      answerRows,
    ),
  );

  return {
    title: "3. Context cost",
    howToRead:
      "Bytes a model pays for: the tool list in every conversation (per scope set), and big answers compared with the raw Proxmox JSON holding the same rows. Smaller is better; budgets: all tools under 46 KiB (aim 40), titles and hints included, answers at least 3× smaller than raw.",
    body: parts.join("\n"),
    checks,
  };
}
