import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit, node, text, unixTime, upid, vmid, wholeNumber } from "../mcp/args";
import {
  changeSchema,
  confirmArg,
  MAX_WAIT_SECONDS,
  notWaitedNote,
  preview,
  taskLine as upidLine,
  waitWithProgress,
} from "../mcp/changes";
import { type Cell, compact, duration, moreNote, row, tableSchema, timestamp } from "../mcp/format";
import { onNode } from "../mcp/guests";
import { assertAllowed } from "../mcp/policy";
import { changes, defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import { exitStatusIsError, parseUpid, type Upid } from "../proxmox/upid";
import { checkTask, type TaskOutcome, waitForTask } from "../session/poll";

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

/** A task table's columns; a running task's row ends at its status. */
const TASK_COLUMNS = ["upid", "node", "type", "id", "user", "starttime", "status", "endtime", "ok"];

const taskCells = (t: TaskRow): Cell[] =>
  row([t.upid, t.node, t.type, t.id, t.user, t.starttime, t.status, t.endtime, t.ok]);

function taskLine(t: TaskRow): string {
  const took = t.endtime ? ` after ${duration(t.endtime - t.starttime)}` : "";
  const state =
    t.status === "running"
      ? `running for ${duration(Date.now() / 1000 - t.starttime)}`
      : `${t.ok === false ? "FAILED: " : ""}${t.status}${took}`;
  return `${timestamp(t.starttime)} ${t.type}${t.id ? ` ${t.id}` : ""} on ${t.node}: ${state}, by ${t.user} | ${t.upid}`;
}

const getTasksTool = tool({
  name: "get_tasks",
  title: "List tasks",
  description:
    "Recent tasks, newest first, with outcome and UPID; one node's history (with filters) or the whole cluster.",
  input: z.object({
    node: node.optional(),
    vmid: vmid.optional(),
    type: text("type", {
      hint: "a task type such as qmstart",
      max: 64,
      check: (v) =>
        /^[a-zA-Z0-9_-]+$/.test(v) ? null : "type must be a task type such as qmstart or vzdump",
    })
      .optional()
      .describe("e.g. qmstart, vzdump"),
    errors: z.boolean().default(false),
    running: z.boolean().default(false),
    since: unixTime("since").optional().describe("Unix time."),
    limit: limit(25, 1000),
  }),
  output: z.object({ total: z.number(), ...tableSchema().shape }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
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
      data: { total, columns: TASK_COLUMNS, rows: shown.map(taskCells) },
    };
  },
});

const getTaskStatusTool = tool({
  name: "get_task_status",
  title: "Task status",
  description: "Whether a task (UPID) still runs or how it ended, with the last log lines of a failure.",
  input: z.object({ upid: upid }),
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
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
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

export function registerTaskTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getTasksTool);
  defineTool(server, deps, getTaskStatusTool);
}

function parsed(value: string): Upid {
  const task = parseUpid(value);
  if (!task) {
    throw new ToolError(
      `'${value}' is not a valid Proxmox task ID. A UPID looks like UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam: (with the trailing colon).`,
    );
  }
  return task;
}

const outcomeSchema = z.object({
  upid: z.string(),
  status: z.enum(["running", "stopped"]),
  exitstatus: z.string().optional(),
  ok: z.boolean().optional(),
  lastLog: z.array(z.string()).optional(),
  note: z.string().optional().describe("why the task was not waited for, and how to follow it"),
});

function outcomeText(task: Upid, outcome: TaskOutcome): string {
  const subject = `Task ${task.type}${task.id ? ` ${task.id}` : ""} on ${task.node}`;
  if (outcome.status === "running" && outcome.notWaited) {
    return `${subject} is still running. ${notWaitedNote(outcome.notWaited)}\n${upidLine(task.upid)}`;
  }
  if (outcome.status === "running" && outcome.pollError) {
    return `${subject}: Proxmox could not be asked how it is going (${outcome.pollError}); it may still be running. Call wait_for_task again to keep waiting.`;
  }
  if (outcome.status === "running") {
    return `${subject} is still running after ${duration(Date.now() / 1000 - task.starttime)}. Call wait_for_task again to keep waiting.`;
  }
  if (outcome.ok) return `${subject} finished: ${outcome.exitstatus}.`;
  const log = outcome.lastLog?.length ? `\nLast log lines:\n${outcome.lastLog.join("\n")}` : "";
  return `${subject} FAILED: ${outcome.exitstatus}.${log}`;
}

const waitForTaskTool = tool({
  name: "wait_for_task",
  title: "Wait for task",
  description: "Wait (bounded) for a task to end, with progress; says how it ended or that it still runs.",
  input: z.object({
    upid: upid,
    wait_seconds: wholeNumber("wait_seconds", {
      min: 1,
      max: MAX_WAIT_SECONDS,
      hint: "how long to wait, in seconds",
    })
      .default(60)
      .describe(`Longest wait, max ${MAX_WAIT_SECONDS}.`),
  }),
  output: outcomeSchema,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args, ctx) => {
    const task = parsed(args.upid);
    const tracked = await deps.session.getTask(task.upid);
    let outcome: TaskOutcome;
    if (tracked?.status === "stopped") {
      // Known already (the Session followed it): no need to ask Proxmox again.
      outcome = {
        upid: tracked.upid,
        node: task.node,
        status: "stopped",
        exitstatus: tracked.exitstatus,
        ok: tracked.ok,
        lastLog: tracked.lastLog,
      };
    } else {
      outcome = await onNode(deps, task.node, () =>
        waitWithProgress(deps, ctx, task.upid, args.wait_seconds),
      );
    }
    return {
      text: outcomeText(task, outcome),
      data: compact({
        upid: task.upid,
        status: outcome.status,
        exitstatus: outcome.exitstatus,
        ok: outcome.ok,
        lastLog: outcome.ok === false ? outcome.lastLog : undefined,
        note:
          outcome.status === "running" && outcome.notWaited ? notWaitedNote(outcome.notWaited) : undefined,
      }),
    };
  },
});

const getTaskLogTool = tool({
  name: "get_task_log",
  title: "Task log",
  description: "A task's log, paged with start and limit.",
  input: z.object({
    upid: upid,
    start: wholeNumber("start", { min: 0, max: 10_000_000, hint: "the first log line" }).default(0),
    limit: limit(100, 1000),
  }),
  output: z.object({
    upid: z.string(),
    total: z.number(),
    start: z.number(),
    lines: z.array(z.string()),
    next: z.number().optional(),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const task = parsed(args.upid);
    const { data, total } = await onNode(deps, task.node, () =>
      deps.client.callWithTotal("GET /nodes/{node}/tasks/{upid}/log", {
        node: task.node,
        upid: task.upid,
        start: args.start,
        limit: args.limit,
      }),
    );
    const lines = data.map((line) => line.t);
    const count = total ?? lines.length;
    const next = args.start + lines.length < count ? args.start + lines.length : undefined;
    const header = `Task ${task.type}${task.id ? ` ${task.id}` : ""} on ${task.node}: lines ${lines.length ? `${args.start + 1}-${args.start + lines.length}` : "none"} of ${count}`;
    const footer = next !== undefined ? `\n… more: call again with start=${next}.` : "";
    return {
      text: [header, ...lines].join("\n") + footer,
      data: compact({ upid: task.upid, total: count, start: args.start, lines, next }),
    };
  },
});

const stopTaskTool = tool({
  name: "stop_task",
  title: "Stop task",
  description: "Abort a running task. Needs confirm.",
  input: z.object({ upid: upid, confirm: confirmArg }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args, ctx) => {
    const task = parsed(args.upid);
    assertAllowed(deps.policy, {
      node: task.node,
      vmid: /^\d+$/.test(task.id) ? Number(task.id) : undefined,
    });
    const before = await onNode(deps, task.node, () => checkTask(deps.client, task.upid, ctx.mcpReq.signal));
    const subject = `task ${task.type}${task.id ? ` ${task.id}` : ""} on ${task.node}`;
    const target = {
      node: task.node,
      ...(/^\d+$/.test(task.id) ? { vmid: Number(task.id) } : {}),
    };
    if (before.status === "stopped")
      throw new ToolError(`The ${subject} already ended: ${before.exitstatus}.`);
    if (!args.confirm) {
      return preview(
        "stop_task",
        `This aborts the ${subject}, running for ${duration(Date.now() / 1000 - task.starttime)}; what it did so far may be rolled back or left half done.`,
        target,
      );
    }
    await deps.client.call("DELETE /nodes/{node}/tasks/{upid}", { node: task.node, upid: task.upid });
    const after = await waitForTask(deps.client, task.upid, {
      timeoutMs: 10_000,
      signal: ctx.mcpReq.signal,
    });
    await deps.session.recordOutcome(after);
    await deps.session.audit({
      actor: deps.actor,
      tool: "stop_task",
      target: subject,
      args: { upid: task.upid },
      upid: task.upid,
      outcome: after.status === "stopped" ? `stopped: ${after.exitstatus}` : "stop requested",
    });
    const action = `Stop the ${subject}`;
    return {
      text: `${
        after.status === "stopped"
          ? `Stopped the ${subject}: it ended with ${after.exitstatus}.`
          : `Asked Proxmox to stop the ${subject}; it is still winding down.`
      }\n${upidLine(task.upid)}`,
      data: {
        state: after.status === "stopped" ? ("done" as const) : ("running" as const),
        action,
        target,
        upid: task.upid,
        ...(after.exitstatus ? { exitstatus: after.exitstatus } : {}),
      },
    };
  },
});

const getTrackedTasksTool = tool({
  name: "get_tracked_tasks",
  title: "Tasks started here",
  description: "Tasks this session started, newest first, with how each ended.",
  input: z.object({
    running: z.boolean().default(false),
    limit: limit(20, 200),
  }),
  output: z.object({
    total: z.number(),
    tasks: z.array(
      z.object({
        upid: z.string(),
        tool: z.string(),
        target: z.string(),
        started: z.number(),
        status: z.string().describe("running, OK, WARNINGS: N, the error, or unknown (no longer followed)"),
        ok: z.boolean().optional(),
        reason: z.string().optional().describe("why an unknown task is no longer followed"),
      }),
    ),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const page = await deps.session.listTasks({ limit: args.limit, running: args.running });
    // Refresh the ones still running so the answer is current, not as of the last alarm.
    const tasks = await Promise.all(
      page.tasks.map(async (task) => {
        if (task.status !== "running") return task;
        try {
          return (await deps.session.recordOutcome(await checkTask(deps.client, task.upid))) ?? task;
        } catch {
          return task;
        }
      }),
    );
    const rows = tasks.map((t) =>
      compact({
        upid: t.upid,
        tool: t.tool,
        target: t.target,
        started: Math.floor(t.startedAt / 1000),
        status:
          t.status === "running"
            ? "running"
            : t.status === "unknown"
              ? "unknown"
              : (t.exitstatus ?? "unknown"),
        ok: t.status === "stopped" ? t.ok : undefined,
        reason: t.status === "unknown" ? t.reason : undefined,
      }),
    );
    const state = (r: (typeof rows)[number]) =>
      r.status === "running"
        ? "running"
        : r.reason !== undefined
          ? `unknown: ${r.reason}`
          : r.ok
            ? r.status
            : `FAILED: ${r.status}`;
    const lines = rows.map((r) => `${timestamp(r.started)} ${r.tool} ${r.target}: ${state(r)} | ${r.upid}`);
    const header = rows.length
      ? `${page.total} task${page.total === 1 ? "" : "s"} started in this session`
      : "This session has not started any task yet.";
    return {
      text: [header, ...lines].join("\n") + moreNote(rows.length, page.total, "tasks"),
      data: { total: page.total, tasks: rows },
    };
  },
});

export function registerTaskControlTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, waitForTaskTool);
  defineTool(server, deps, getTaskLogTool);
  defineTool(server, deps, stopTaskTool);
  defineTool(server, deps, getTrackedTasksTool);
}
