import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit, text, unixTime } from "../mcp/args";
import { compact } from "../mcp/format";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import type { AuditEntry } from "../session/session";

const entrySchema = z.object({
  at: z.number().describe("Unix time"),
  actor: z.string(),
  tool: z.string(),
  target: z.string(),
  args: z.record(z.string(), z.unknown()),
  outcome: z.string(),
  upid: z.string().optional(),
  session: z.string().optional(),
});
type Entry = z.infer<typeof entrySchema>;

/** "2026-11-22 10:04:05 UTC": seconds matter when reading what happened in which order. */
function when(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function argsText(args: Record<string, unknown>): string {
  const text = Object.entries(args)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

function line(e: Entry): string {
  const args = argsText(e.args);
  return `${when(e.at)} ${e.tool} ${e.target}: ${e.outcome}${args ? ` (${args})` : ""}${e.session ? ` [${e.session}]` : ""}`;
}

const getAuditLogTool = tool({
  name: "get_audit_log",
  title: "Changes made (audit log)",
  description:
    "Changes made in this session and how each ended, newest first; all_clients adds your other clients.",
  scope: "read",
  input: z.object({
    tool: text("tool", {
      hint: "a tool name such as start_vm",
      max: 64,
      check: (v) => (/^[a-z][a-z0-9_]*$/.test(v) ? null : "tool must be a tool name such as start_vm"),
    }).optional(),
    target: text("target", { hint: "a vmid or text, e.g. 101", max: 128 })
      .optional()
      .describe("vmid or text, e.g. 101"),
    since: unixTime("since").optional().describe("Unix time."),
    until: unixTime("until").optional(),
    all_clients: z.boolean().default(false),
    limit: limit(30, 500),
  }),
  output: z.object({ total: z.number(), more: z.boolean(), entries: z.array(entrySchema) }),
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const query = {
      limit: args.limit + 1,
      tool: args.tool,
      target: args.target,
      since: args.since === undefined ? undefined : args.since * 1000,
      until: args.until === undefined ? undefined : args.until * 1000 + 999,
    };
    const sessions = [{ name: undefined as string | undefined, session: deps.session }];
    if (args.all_clients) sessions.push(...(await deps.otherSessions()));
    const lists = await Promise.all(
      sessions.map(async ({ name, session }) =>
        (await session.listAudit(query)).map((entry) => toEntry(entry, name)),
      ),
    );
    const all = lists.flat().sort((a, b) => b.at - a.at);
    const entries = all.slice(0, args.limit);
    const more = all.length > entries.length;
    if (entries.length === 0) {
      return { text: "No audited changes match.", data: { total: 0, more: false, entries } };
    }
    const note = more ? `\n… more entries match; raise limit or narrow since/until to see them.` : "";
    return {
      text: `${entries.length} audited change${entries.length === 1 ? "" : "s"}, newest first:\n${entries.map(line).join("\n")}${note}`,
      data: { total: entries.length, more, entries },
    };
  },
});

export function registerAuditTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getAuditLogTool);
}

function toEntry(entry: AuditEntry, session: string | undefined): Entry {
  return compact({
    at: Math.floor((entry.at ?? 0) / 1000),
    actor: entry.actor,
    tool: entry.tool,
    target: entry.target,
    args: entry.args,
    outcome: entry.outcome,
    upid: entry.upid,
    session,
  });
}
