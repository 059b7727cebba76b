import type { ProxmoxClient } from "../proxmox/client";
import { isTransient } from "../proxmox/errors";
import { exitStatusIsError, parseUpid } from "../proxmox/upid";

/**
 * The one place a UPID gets polled. A tool waiting on its task and the Session's alarm both use
 * `checkTask`; tools wait with `waitForTask`, which polls quickly at first and backs off, and
 * reads new task-log lines only when someone wants progress.
 */

export interface TaskOutcome {
  upid: string;
  node: string;
  status: "running" | "stopped";
  /** Proxmox's exit status: "OK", "WARNINGS: N" or the error text. */
  exitstatus?: string;
  /** Set once stopped: OK and WARNINGS count as success, as Proxmox itself counts them. */
  ok?: boolean;
  /** Last log lines, for a failed task (and the latest line while running, when read). */
  lastLog?: string[];
  /** Set when the wait ended while Proxmox could not be asked: why the last status request failed. */
  pollError?: string;
}

export interface TaskProgress {
  elapsedMs: number;
  /** Latest task-log line. */
  line?: string;
  /** 0-100 when the log shows a percentage. */
  percent?: number;
}

/** Progress percentages as vzdump, clone, migrate and restore print them. */
export function percentFromLog(line: string): number | undefined {
  const match = /(\d{1,3}(?:\.\d+)?)\s?%/.exec(line);
  if (!match) return undefined;
  const value = Number(match[1]);
  return value >= 0 && value <= 100 ? value : undefined;
}

async function lastLogLines(
  client: ProxmoxClient,
  node: string,
  upid: string,
  count: number,
): Promise<string[]> {
  const { data, total } = await client.callWithTotal("GET /nodes/{node}/tasks/{upid}/log", {
    node,
    upid,
    start: 0,
    limit: 50,
  });
  if ((total ?? 0) <= 50) return data.map((line) => line.t).slice(-count);
  const tail = await client.call("GET /nodes/{node}/tasks/{upid}/log", {
    node,
    upid,
    start: Math.max(0, (total ?? 0) - count),
    limit: count,
  });
  return tail.map((line) => line.t);
}

/** One status request; for a failed task also its last log lines. */
export async function checkTask(
  client: ProxmoxClient,
  upid: string,
  signal?: AbortSignal,
): Promise<TaskOutcome> {
  const parsed = parseUpid(upid);
  if (!parsed) throw new Error(`not a UPID: ${upid}`);
  const status = await client.call(
    "GET /nodes/{node}/tasks/{upid}/status",
    { node: parsed.node, upid: parsed.upid },
    { signal },
  );
  if (status.status === "running") return { upid, node: parsed.node, status: "running" };
  const ok = !exitStatusIsError(status.exitstatus);
  const outcome: TaskOutcome = {
    upid,
    node: parsed.node,
    status: "stopped",
    exitstatus: status.exitstatus,
    ok,
  };
  // The log only explains a failure; not being able to read it must not hide the outcome.
  if (!ok) outcome.lastLog = await lastLogLines(client, parsed.node, parsed.upid, 5).catch(() => undefined);
  return outcome;
}

/** The longest pause between two status requests while a tool waits. */
export const MAX_POLL_MS = 750;

/**
 * Poll intervals: 250 ms at first, backing off to 750 ms, so a result arrives under half a second
 * after the task ends at the median (about 0.8 s at worst), for about 1.3 status requests per
 * second of waiting. The Session's alarm stays away while a tool waits, so these are the only
 * status requests.
 */
export function nextPollDelay(attempt: number): number {
  return Math.min(MAX_POLL_MS, Math.round(250 * 1.3 ** attempt));
}

/** While a tool reports progress, the task log is read at most this often (elapsed time goes out on every poll). */
export const LOG_READ_MS = 2000;

export interface WaitOptions {
  /** How long to wait at most. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called after each poll while running; the log behind it is read at most every LOG_READ_MS. */
  onProgress?: (progress: TaskProgress) => Promise<void> | void;
  sleep?: (ms: number) => Promise<void>;
}

/** After a failed status request, the pause before the next one: 0.5 s, doubling, at most 5 s. */
export function retryDelay(failures: number): number {
  return Math.min(5000, 500 * 2 ** Math.max(0, failures - 1));
}

/**
 * Waits until the task stops or the time is up; returns the last known outcome. A status request
 * that fails transiently (a 5xx, a tunnel or Access page, a dropped connection) does not end the
 * wait: it is retried with backoff until the deadline, and if the deadline passes first the
 * outcome says the task may still run (`pollError`). Errors that asking again cannot fix (no such
 * task, no permission) end the wait at once.
 */
export async function waitForTask(
  client: ProxmoxClient,
  upid: string,
  options: WaitOptions,
): Promise<TaskOutcome> {
  const started = Date.now();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const parsed = parseUpid(upid);
  if (!parsed) throw new Error(`not a UPID: ${upid}`);
  let logSeen = 0;
  let logReadAt: number | undefined;
  let lastLine: string | undefined;
  let percent: number | undefined;
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    let outcome: TaskOutcome;
    try {
      outcome = await checkTask(client, upid, options.signal);
      failures = 0;
    } catch (error) {
      if (!isTransient(error) || options.signal?.aborted) throw error;
      failures++;
      const remaining = options.timeoutMs - (Date.now() - started);
      if (remaining <= 0) {
        return {
          upid,
          node: parsed.node,
          status: "running",
          pollError: error instanceof Error ? error.message : String(error),
          lastLog: lastLine ? [lastLine] : undefined,
        };
      }
      await sleep(Math.min(retryDelay(failures), remaining));
      continue;
    }
    if (outcome.status === "stopped") return outcome;
    if (options.onProgress) {
      if (logReadAt === undefined || Date.now() - logReadAt >= LOG_READ_MS) {
        logReadAt = Date.now();
        try {
          const { data, total } = await client.callWithTotal(
            "GET /nodes/{node}/tasks/{upid}/log",
            { node: parsed.node, upid: parsed.upid, start: logSeen, limit: 500 },
            { signal: options.signal },
          );
          logSeen = Math.max(logSeen, total ?? logSeen + data.length);
          for (const line of data) {
            if (!line.t || line.t === "no content") continue;
            lastLine = line.t;
            percent = percentFromLog(line.t) ?? percent;
          }
        } catch (error) {
          // Progress is a courtesy: a log read that fails for a moment is skipped, not fatal.
          if (!isTransient(error) || options.signal?.aborted) throw error;
        }
      }
      await options.onProgress({ elapsedMs: Date.now() - started, line: lastLine, percent });
    }
    const remaining = options.timeoutMs - (Date.now() - started);
    if (remaining <= 0 || options.signal?.aborted) {
      return { ...outcome, lastLog: lastLine ? [lastLine] : undefined };
    }
    await sleep(Math.min(nextPollDelay(attempt), remaining));
  }
}
