import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { describe, limit, node, upid, vmid } from "../mcp/args";
import { compact, duration, moreNote, timestamp } from "../mcp/format";
import { onNode } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps, ToolError } from "../mcp/tool";
import { exitStatusIsError, parseUpid } from "../proxmox/upid";

const taskRowSchema = z.object({
  upid: z.string(),
  node: z.string(),
  type: z.string().describe("qmstart, vzdump, qmigrate, ..."),
  id: z.string().optional().describe("usually the guest ID"),
  user: z.string(),
  starttime: z.number(),
  endtime: z.number().optional(),
  status: z.string().describe("running, OK, WARNINGS: N, or the error"),
  ok: z.boolean().optional().describe("finished successfully; absent while running"),
});
type TaskRow = z.infer<typeof taskRowSchema>;

interface RawTask {
  upid: string;
  node: string;
  type: string;
  id?: string;
  user: string;
  tokenid?: string;
  starttime: number;
  endtime?: number;
  status?: string;
}

function toTaskRow(task: RawTask): TaskRow {
  const running =
    !task.endtime && (task.status === undefined || task.status === "RUNNING" || task.status === "running");
  const status = running ? "running" : (task.status ?? "unknown");
  return compact({
    upid: task.upid,
    node: task.node,
    type: task.type,
    id: task.id || undefined,
    user: task.tokenid ? `${task.user}!${task.tokenid}` : task.user,
    starttime: task.starttime,
    endtime: task.endtime,
    status,
    ok: running ? undefined : !exitStatusIsError(status),
  });
}

function taskLine(t: TaskRow): string {
  const took = t.endtime ? ` after ${duration(t.endtime - t.starttime)}` : "";
  const state =
    t.status === "running"
      ? `running for ${duration(Date.now() / 1000 - t.starttime)}`
      : `${t.ok === false ? "FAILED: " : ""}${t.status}${took}`;
  return `${timestamp(t.starttime)} ${t.type}${t.id ? ` ${t.id}` : ""} on ${t.node}: ${state}, by ${t.user} | ${t.upid}`;
}

export function registerTaskTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, {
    name: "get_tasks",
    title: "List tasks",
    description:
      "Recent Proxmox tasks (start, backup, migrate, ...), newest first, with outcome and UPID. Give `node` for its full " +
      "history with filters, or omit it for recent tasks across the cluster. get_task_status follows one task.",
    input: z.object({
      node: node.optional().describe("Only tasks of this node (enables the history filters)."),
      vmid: vmid.optional().describe("Only tasks about this guest."),
      type: z.string().max(64).optional().describe("Only this task type, e.g. qmstart, vzdump, qmigrate."),
      errors: z.boolean().default(false).describe("Only failed tasks."),
      running: z.boolean().default(false).describe("Only tasks still running."),
      since: z.coerce.number().int().min(0).optional().describe("Only tasks started after this Unix time."),
      limit: limit(25, 1000).describe(describe.limit),
    }),
    output: z.object({ total: z.number(), tasks: z.array(taskRowSchema) }),
    annotations: READ_ONLY,
    handler: async (args) => {
      let rows: TaskRow[];
      let total: number;
      if (args.node) {
        const nodeName = args.node;
        const { data, total: upstreamTotal } = await onNode(deps, nodeName, () =>
          deps.client.callWithTotal("GET /nodes/{node}/tasks", {
            node: nodeName,
            vmid: args.vmid,
            typefilter: args.type,
            errors: args.errors || undefined,
            // A running task has no status yet and would slip through `errors`.
            source: args.running ? "active" : args.errors ? "archive" : "all",
            since: args.since,
            limit: args.limit,
          }),
        );
        rows = data.map((task) => toTaskRow(task as RawTask));
        if (args.running) rows = rows.filter((row) => row.status === "running");
        total = args.running ? rows.length : Math.max(upstreamTotal ?? rows.length, rows.length);
      } else {
        const data = await deps.client.call("GET /cluster/tasks", {});
        rows = data.map((task) => toTaskRow(task as RawTask));
        rows = rows.filter(
          (row) =>
            (!args.vmid || row.id === String(args.vmid)) &&
            (!args.type || row.type === args.type) &&
            (!args.errors || row.ok === false) &&
            (!args.running || row.status === "running") &&
            (!args.since || row.starttime >= args.since),
        );
        total = rows.length;
      }
      rows.sort((a, b) => b.starttime - a.starttime);
      const shown = rows.slice(0, args.limit);
      const header = shown.length
        ? `${total} task${total === 1 ? "" : "s"}${args.node ? ` on ${args.node}` : " across the cluster"}`
        : `No matching tasks${args.node ? ` on ${args.node}` : ""}.`;
      return {
        text: [header, ...shown.map(taskLine)].join("\n") + moreNote(shown.length, total, "tasks"),
        data: { total, tasks: shown },
      };
    },
  });

  defineTool(server, deps, {
    name: "get_task_status",
    title: "Task status",
    description:
      "Whether a Proxmox task (by UPID) is still running or how it ended; a failed task comes with its last log lines. " +
      "The node is read from the UPID.",
    input: z.object({ upid: upid.describe("Task ID, UPID:node:...") }),
    output: z.object({
      upid: z.string(),
      node: z.string(),
      type: z.string(),
      id: z.string().optional(),
      user: z.string(),
      status: z.enum(["running", "stopped"]),
      exitstatus: z.string().optional(),
      ok: z.boolean().optional().describe("finished successfully; absent while running"),
      starttime: z.number(),
      lastLog: z.array(z.string()).optional().describe("last log lines of a failed task"),
    }),
    annotations: READ_ONLY,
    handler: async (args) => {
      const parsed = parseUpid(args.upid);
      if (!parsed) {
        throw new ToolError(
          `'${args.upid}' is not a valid Proxmox task ID. A UPID looks like UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam: (with the trailing colon).`,
        );
      }
      const status = await onNode(deps, parsed.node, () =>
        deps.client.call("GET /nodes/{node}/tasks/{upid}/status", { node: parsed.node, upid: parsed.upid }),
      );
      const running = status.status === "running";
      const ok = running ? undefined : !exitStatusIsError(status.exitstatus);
      let lastLog: string[] | undefined;
      if (ok === false) {
        const { data, total } = await deps.client.callWithTotal("GET /nodes/{node}/tasks/{upid}/log", {
          node: parsed.node,
          upid: parsed.upid,
          start: 0,
          limit: 50,
        });
        let lines = data.map((line) => line.t);
        if ((total ?? 0) > 50) {
          const tail = await deps.client.call("GET /nodes/{node}/tasks/{upid}/log", {
            node: parsed.node,
            upid: parsed.upid,
            start: Math.max(0, (total ?? 0) - 5),
            limit: 5,
          });
          lines = tail.map((line) => line.t);
        }
        lastLog = lines.slice(-5);
      }
      const user = status.tokenid ? `${status.user}!${status.tokenid}` : status.user;
      const data = compact({
        upid: status.upid,
        node: status.node,
        type: status.type,
        id: status.id || undefined,
        user,
        status: status.status,
        exitstatus: status.exitstatus,
        ok,
        starttime: status.starttime,
        lastLog,
      });
      const subject = `Task ${status.type}${data.id ? ` ${data.id}` : ""} on ${status.node} (started ${timestamp(status.starttime)} by ${user})`;
      const outcome = running
        ? `is still running after ${duration(Date.now() / 1000 - status.starttime)}.`
        : ok
          ? `finished: ${status.exitstatus}.`
          : `FAILED: ${status.exitstatus}.`;
      const text = [`${subject} ${outcome}`, ...(lastLog ? ["Last log lines:", ...lastLog] : [])].join("\n");
      return { text, data };
    },
  });
}
