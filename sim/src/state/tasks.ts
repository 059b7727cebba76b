// The task engine: workers run in simulated time. A task has a start, a duration and log lines
// that appear while it runs; when its end passes, its effects are applied (lazily, on the next
// request, in end-time order), exactly once.

import { applyEffect } from "./effects";
import type { TaskEffect, TaskOutcome, TaskState } from "./model";
import type { Store } from "./store";
import { formatUpid } from "./upid";

export interface StartTask {
  node: string;
  type: string;
  id: string;
  user: string;
  /** Built-in duration; settings may override or scale it. */
  durationMs: number;
  /**
   * Log lines, spread evenly over the duration (the first appears at once). A function gets the
   * real duration (after the settings), for lines that quote elapsed time.
   */
  lines?: string[] | ((durationMs: number) => string[]);
  outcome?: TaskOutcome;
  /** Applied when the task ends successfully (or with warnings). */
  effects?: TaskEffect[];
  /** Applied right away (e.g. a config lock held while the task runs). */
  startEffects?: TaskEffect[];
  /** Applied when the task is stopped or fails (e.g. releasing that lock). */
  abortEffects?: TaskEffect[];
}

export const INTERRUPTED = "interrupted by signal";

/** A built-in duration as the settings make it: fixed by taskDurationMs, else scaled. */
export function scaledDuration(store: Store, builtinMs: number): number {
  const { taskDurationMs, taskDurationScale } = store.settings;
  return Math.max(0, Math.round(taskDurationMs ?? builtinMs * taskDurationScale));
}

export function startTask(store: Store, spec: StartTask, nowMs: number): TaskState {
  const node = store.nodes.get(spec.node);
  if (!node) throw new Error(`internal: no node ${spec.node}`);
  const durationMs = scaledDuration(store, spec.durationMs);
  const starttime = Math.floor(nowMs / 1000);
  const pid = node.nextPid;
  node.nextPid += 3;
  store.nodes.put(node);
  // pstart is the process start in clock ticks (HZ=100) since the node booted.
  const pstart = Math.max(1, Math.floor((nowMs / 1000 - node.bootTime) * 100));
  const parts = { node: spec.node, pid, pstart, starttime, type: spec.type, id: spec.id, user: spec.user };
  const lines = typeof spec.lines === "function" ? spec.lines(durationMs) : (spec.lines ?? []);
  const task: TaskState = {
    upid: formatUpid(parts),
    ...parts,
    startMs: nowMs,
    durationMs,
    lines: lines.map((t, i) => [lines.length ? Math.floor((durationMs * i) / lines.length) : 0, t]),
    outcome: spec.outcome ?? { kind: "ok" },
    effects: spec.effects ?? [],
    abortEffects: spec.abortEffects ?? [],
    finished: false,
  };
  for (const e of spec.startEffects ?? []) applyEffect(store, e, nowMs);
  store.tasks.put(task);
  store.unfinished.add(task.upid);
  if (durationMs === 0) finishTask(store, task);
  return task;
}

export const taskEndMs = (t: TaskState) => t.killedAtMs ?? t.startMs + t.durationMs;

export function isRunning(t: TaskState, nowMs: number): boolean {
  return !t.finished && nowMs < taskEndMs(t);
}

/** Finishes every task whose end has passed, oldest end first. */
export function tick(store: Store, nowMs: number): void {
  if (store.unfinished.size === 0) return;
  const due: TaskState[] = [];
  for (const upid of store.unfinished) {
    const t = store.tasks.get(upid);
    if (!t) store.unfinished.delete(upid);
    else if (taskEndMs(t) <= nowMs) due.push(t);
  }
  due.sort((a, b) => taskEndMs(a) - taskEndMs(b) || (a.upid < b.upid ? -1 : 1));
  for (const t of due) finishTask(store, t);
}

function finishTask(store: Store, t: TaskState): void {
  const end = taskEndMs(t);
  const failed = t.killedAtMs !== undefined || t.outcome.kind === "error";
  for (const e of failed ? t.abortEffects : t.effects) applyEffect(store, e, end);
  t.finished = true;
  store.tasks.put(t);
  store.unfinished.delete(t.upid);
}

/** Stops a running task (DELETE /nodes/{node}/tasks/{upid}). */
export function killTask(store: Store, t: TaskState, nowMs: number): void {
  if (!isRunning(t, nowMs)) return;
  t.killedAtMs = nowMs;
  finishTask(store, t);
}

function finalLine(t: TaskState): string {
  if (t.killedAtMs !== undefined) return `TASK ERROR: ${INTERRUPTED}`;
  switch (t.outcome.kind) {
    case "ok":
      return "TASK OK";
    case "warnings":
      return `TASK WARNINGS: ${t.outcome.count}`;
    case "error":
      return `TASK ERROR: ${t.outcome.message}`;
  }
}

/** The log file as it reads at `nowMs`. */
export function taskLog(t: TaskState, nowMs: number): string[] {
  const elapsed = Math.min(nowMs, taskEndMs(t)) - t.startMs;
  const out = t.lines
    .filter(([at]) => at <= elapsed || (t.finished && t.killedAtMs === undefined))
    .map(([, l]) => l);
  if (!isRunning(t, nowMs)) out.push(finalLine(t));
  return out;
}

/** Exit status exactly as PVE::Tools::upid_read_status derives it from the last log line. */
export function exitStatus(t: TaskState): string {
  const line = finalLine(t);
  if (line === "TASK OK") return "OK";
  const err = /^TASK ERROR: (.+)$/.exec(line);
  if (err) return err[1] as string;
  const warn = /^TASK (WARNINGS: \d+)$/.exec(line);
  if (warn) return warn[1] as string;
  return "unexpected status";
}
