import type { ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { ProxmoxError } from "../proxmox/errors";
import { parseUpid } from "../proxmox/upid";
import { shareKey, type TaskOutcome, waitForTask } from "../session/poll";
import { wholeNumber } from "./args";
import { duration } from "./format";
import { plainLine } from "./plain";
import { type ToolAnswer, type ToolDeps, ToolError } from "./tool";

/**
 * Everything a tool that changes the cluster does the same way: guard rails (allowlists,
 * protection, confirmation), starting a Proxmox task, recording it in the Session, waiting for it
 * with progress notifications, and the audit log.
 */

export const DEFAULT_WAIT_SECONDS = 60;
export const MAX_WAIT_SECONDS = 240;

export const waitArgs = {
  wait: z.boolean().default(true),
  wait_seconds: wholeNumber("wait_seconds", {
    min: 1,
    max: MAX_WAIT_SECONDS,
    hint: "how long to wait for the task, in seconds",
  }).default(DEFAULT_WAIT_SECONDS),
};

// Tool descriptions say "Needs confirm"; without it the answer says what would happen.
export const confirmArg = z.boolean().default(false);

/** What a change names as its target: a guest (vmid, node, name) or a pool. */
export interface ChangeTarget {
  vmid?: number;
  node?: string;
  name?: string;
  pool?: string;
}

/**
 * The structured result of every tool that changes something, one shape for all of them so
 * tools/list stays small: what happened (`state`), the action in words, its target, and for a
 * Proxmox task its UPID and exit status. A failed change is an error result instead.
 * - needs_confirm: nothing was done; `action` says what would be, call again with confirm: true.
 * - done: the change happened (the task ended OK or with warnings, see exitstatus).
 * - started: the task was started and not waited for (wait: false).
 * - running: the wait ended before the change did (a task the Session now follows, a guest OS
 *   still shutting down).
 * - unknown: Proxmox could not be asked about the task until the wait ended; it stays tracked.
 */
export const changeSchema = z.object({
  state: z.enum(["needs_confirm", "done", "started", "running", "unknown"]),
  action: z.string(),
  target: z
    .object({
      vmid: z.number().optional(),
      node: z.string().optional(),
      name: z.string().optional(),
      pool: z.string().optional(),
    })
    .optional(),
  upid: z.string().optional(),
  exitstatus: z.string().optional(),
});
export type ChangeResult = z.infer<typeof changeSchema>;
export type ChangeAnswer = ToolAnswer<ChangeResult>;

/** A guest as a change target, without the fields that are not known. */
export function guestTarget(guest: { vmid: number; node?: string; name?: string }): ChangeTarget {
  return {
    vmid: guest.vmid,
    ...(guest.node ? { node: guest.node } : {}),
    ...(guest.name ? { name: guest.name } : {}),
  };
}

/**
 * A UPID on a line of its own, after "task: ", so copying it never takes a full stop or a
 * parenthesis along (wait_for_task would refuse that).
 */
export function taskLine(upid: string): string {
  return `task: ${upid}`;
}

/** The answer of a destructive tool called without confirm: nothing happened, here is what would. */
export function preview(tool: string, what: string, target?: ChangeTarget): ChangeAnswer {
  return {
    text: `Not done: ${what} Call ${tool} again with confirm: true to go ahead.`,
    data: { state: "needs_confirm", action: what, ...(target ? { target } : {}) },
  };
}

/** The answer of a change that is not a task (config update, pool, guest agent call): done. */
export function changed(text: string, action: string, target?: ChangeTarget): ChangeAnswer {
  return { text, data: { state: "done", action, ...(target ? { target } : {}) } };
}

/** Audits a change that is not a task, then runs it; failures are audited too. */
export async function auditedChange<T>(
  deps: ToolDeps,
  entry: { tool: string; target: string; args: Record<string, unknown> },
  change: () => Promise<T>,
): Promise<T> {
  try {
    const result = await change();
    await deps.session.audit({ ...entry, actor: deps.actor, outcome: "done" });
    return result;
  } catch (error) {
    await deps.session.audit({ ...entry, actor: deps.actor, outcome: `failed: ${messageOf(error)}` });
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface TaskSpec {
  tool: string;
  /** What the audit log and the answers name, e.g. "VM 101". */
  target: string;
  /** The same target for the structured result. */
  subject: ChangeTarget;
  args: Record<string, unknown>;
  /** One sentence for the answer, e.g. "Start VM 101 'web-01'". */
  action: string;
  start: () => Promise<string | null>;
  wait: boolean;
  waitSeconds: number;
  /** Called once the task ended well: a sentence to add to "done" (e.g. what the guest does now). */
  afterDone?: () => Promise<string | undefined>;
}

/**
 * Starts a Proxmox task, tracks it in the Session, and (unless wait is false) waits for it with
 * progress notifications. A task that outlives the wait stays tracked: the Session's alarm
 * follows it to the end.
 */
export async function runTask(deps: ToolDeps, ctx: ServerContext, spec: TaskSpec): Promise<ChangeAnswer> {
  let upid: string | null;
  try {
    upid = await spec.start();
  } catch (error) {
    await deps.session.audit({
      actor: deps.actor,
      tool: spec.tool,
      target: spec.target,
      args: spec.args,
      outcome: `failed: ${messageOf(error)}`,
    });
    throw error;
  }
  if (!upid || !parseUpid(upid)) {
    // Some calls finish synchronously (e.g. POST config with background_delay) and return null.
    await deps.session.audit({
      actor: deps.actor,
      tool: spec.tool,
      target: spec.target,
      args: spec.args,
      outcome: "done",
    });
    const note = spec.afterDone ? await spec.afterDone() : undefined;
    return changed(`${spec.action}: done.${note ? ` ${note}` : ""}`, spec.action, spec.subject);
  }
  await deps.session.trackTask({
    upid,
    tool: spec.tool,
    target: spec.target,
    args: spec.args,
    actor: deps.actor,
    watchedUntil: spec.wait ? Date.now() + spec.waitSeconds * 1000 : undefined,
  });
  if (!spec.wait) {
    return {
      text: `${spec.action}: started. Follow it with wait_for_task or get_task_status.\n${taskLine(upid)}`,
      data: { state: "started", action: spec.action, target: spec.subject, upid },
    };
  }
  const outcome = await waitWithProgress(deps, ctx, upid, spec.waitSeconds);
  const note =
    outcome.status === "stopped" && outcome.ok && spec.afterDone ? await spec.afterDone() : undefined;
  return describeOutcome(spec.action, outcome, spec.waitSeconds, spec.subject, note);
}

/**
 * Waits on a task, sending MCP progress notifications when the client asked for them. Waits on
 * one task share one poll; a session that already has its limit of waits open gets the task's
 * state at once instead (`notWaited`).
 */
export async function waitWithProgress(
  deps: ToolDeps,
  ctx: ServerContext,
  upid: string,
  waitSeconds: number,
): Promise<TaskOutcome> {
  const token = ctx.mcpReq._meta?.progressToken;
  let lastProgress = 0;
  const share = shareKey(deps.client.upstreamLabel + (deps.upstream.PROXMOX_URL ?? ""), upid);
  // This tool polls now; the Session's alarm takes over only if the wait ends first.
  const wait = await deps.session.openWait(upid, Date.now() + waitSeconds * 1000);
  if (!wait.waitId) {
    const now = await waitForTask(deps.client, upid, { timeoutMs: 0, signal: ctx.mcpReq.signal, share });
    if (now.status === "stopped") await deps.session.recordOutcome(now);
    return { ...now, notWaited: { open: wait.open, limit: wait.limit } };
  }
  let outcome: TaskOutcome;
  try {
    outcome = await waitForTask(deps.client, upid, {
      timeoutMs: waitSeconds * 1000,
      signal: ctx.mcpReq.signal,
      share,
      onProgress:
        token === undefined
          ? undefined
          : async (progress) => {
              // progress must only grow: elapsed seconds do, and the percentage goes in the message.
              const elapsed = Math.max(lastProgress + 0.001, progress.elapsedMs / 1000);
              lastProgress = elapsed;
              const parts = [`${duration(progress.elapsedMs / 1000)} elapsed`];
              if (progress.percent !== undefined) parts.push(`${progress.percent}%`);
              if (progress.line) parts.push(plainLine(progress.line));
              await ctx.mcpReq
                .notify({
                  method: "notifications/progress",
                  params: { progressToken: token, progress: elapsed, message: parts.join(", ") },
                })
                .catch(() => undefined);
            },
    });
  } catch (error) {
    await deps.session.closeWait(wait.waitId).catch(() => undefined);
    throw error;
  }
  await deps.session.recordOutcome(outcome, wait.waitId);
  return outcome;
}

/** Why a wait was not waited for, and how to follow the task instead. */
export function notWaitedNote(limit: { open: number; limit: number }): string {
  return (
    `Not waited for: this session already has ${limit.open} waits open (at most ${limit.limit}). ` +
    "It stays tracked: get_task_status with this upid says how it is doing, get_tracked_tasks how it ended, " +
    "and wait_for_task can wait once other waits have ended."
  );
}

/** How a waited-for task ended, in words and as a change result; a failed task is an error. */
export function describeOutcome(
  action: string,
  outcome: TaskOutcome,
  waitedSeconds: number,
  target?: ChangeTarget,
  note?: string,
): ChangeAnswer {
  const base = { action, ...(target ? { target } : {}), upid: outcome.upid };
  const follow =
    "It stays tracked: call wait_for_task with this upid to keep waiting, or get_tracked_tasks later to see how it ended.";
  if (outcome.status === "running" && outcome.notWaited) {
    return {
      text: `${action}: started. ${notWaitedNote(outcome.notWaited)}\n${taskLine(outcome.upid)}`,
      data: { state: "started", ...base },
    };
  }
  if (outcome.status === "running" && outcome.pollError) {
    return {
      text:
        `${action}: started, but Proxmox could not be asked how it is going (${outcome.pollError}), ` +
        `so it may still be running after ${waitedSeconds} s. ${follow}\n${taskLine(outcome.upid)}`,
      data: { state: "unknown", ...base },
    };
  }
  if (outcome.status === "running") {
    return {
      text: `${action}: still running after ${waitedSeconds} s. ${follow}\n${taskLine(outcome.upid)}`,
      data: { state: "running", ...base },
    };
  }
  if (outcome.ok) {
    const warn =
      outcome.exitstatus && outcome.exitstatus !== "OK" ? ` with ${outcome.exitstatus.toLowerCase()}` : "";
    return {
      text: `${action}: done${warn}.${note ? ` ${note}` : ""}\n${taskLine(outcome.upid)}`,
      data: { state: "done", ...base, ...(outcome.exitstatus ? { exitstatus: outcome.exitstatus } : {}) },
    };
  }
  const log = outcome.lastLog?.length ? `\nLast log lines:\n${outcome.lastLog.join("\n")}` : "";
  throw new ToolError(
    `${action} failed: ${outcome.exitstatus ?? "unknown error"}.\n${taskLine(outcome.upid)}${log}`,
  );
}

/** Proxmox says the guest config is missing: the guest was deleted or moved meanwhile. */
export function isMissing(error: unknown): boolean {
  return error instanceof ProxmoxError && error.kind === "not_found";
}
