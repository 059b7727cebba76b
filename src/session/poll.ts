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
  /** Set when the session already had as many waits open as it may: this one was not waited for. */
  notWaited?: { open: number; limit: number };
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
  /**
   * Waits given the same key (the upstream and the UPID, see `shareKey`) share one poll in this
   * isolate: N concurrent waiters on one task cost about what one does.
   */
  share?: string;
}

/** After a failed status request, the pause before the next one: 0.5 s, doubling, at most 5 s. */
export function retryDelay(failures: number): number {
  return Math.min(5000, 500 * 2 ** Math.max(0, failures - 1));
}

/** The key under which waits on one task of one upstream share their poll. */
export function shareKey(upstream: string, upid: string): string {
  return `${upstream}\n${upid}`;
}

/** One status request (and, when due, a log read); its answer is what every waiter sees. */
type Check = { ok: true; outcome: TaskOutcome } | { ok: false; error: unknown };

interface InFlight {
  owner: symbol;
  done: Promise<void>;
  /** Settles when the owner stopped waiting before its request came back: someone else asks again. */
  orphaned: Promise<void>;
  orphan: () => void;
}

/**
 * The poll of one task, shared by everyone waiting on it. Nothing runs on its own: each waiter
 * sleeps on its own timer until the shared schedule says a status request is due, the first to
 * wake sends it and the others await that one. So every request runs in the context of a request
 * that is still waiting, and a poll nobody waits on any more simply stops.
 */
class TaskPoll {
  readonly waiters = new Set<symbol>();
  /** Waiters that report progress: the log is read only while one does. */
  readonly progressWaiters = new Set<symbol>();
  /** How many checks have come back; a waiter remembers the last one it saw. */
  seq = 0;
  last?: Check;
  /** When the next status request is due. */
  nextAt = 0;
  attempt = 0;
  failures = 0;
  inFlight?: InFlight;
  logSeen = 0;
  logReadAt?: number;
  lastLine?: string;
  percent?: number;

  constructor(
    readonly client: ProxmoxClient,
    readonly upid: string,
    readonly node: string,
    readonly taskId: string,
  ) {}

  /** A check newer than `seen`: one already back, the one in flight, or a new one. */
  async next(
    me: symbol,
    seen: number,
    signal: AbortSignal | undefined,
    abort: Promise<void>,
    stallMs: number,
  ): Promise<void> {
    while (this.seq <= seen) {
      this.inFlight ??= this.#send(me);
      const inFlight = this.inFlight;
      const stalled = inFlight.owner === me ? undefined : timer(stallMs);
      await Promise.race([inFlight.done, inFlight.orphaned, abort, ...(stalled ? [stalled.promise] : [])]);
      stalled?.cancel();
      if (signal?.aborted) throw signal.reason ?? new Error("aborted");
      // Another waiter's request that never came back (its caller went away): ask again.
      if (this.seq <= seen && this.inFlight === inFlight && inFlight.owner !== me) this.inFlight = undefined;
    }
  }

  #send(owner: symbol): InFlight {
    let orphan = () => {};
    const orphaned = new Promise<void>((resolve) => {
      orphan = resolve;
    });
    const inFlight: InFlight = { owner, orphaned, orphan, done: Promise.resolve() };
    inFlight.done = this.#check().then((check) => {
      this.last = check;
      this.seq++;
      if (this.inFlight === inFlight) this.inFlight = undefined;
    });
    return inFlight;
  }

  async #check(): Promise<Check> {
    let outcome: TaskOutcome;
    try {
      outcome = await checkTask(this.client, this.upid);
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.nextAt = Date.now() + retryDelay(this.failures);
      return { ok: false, error };
    }
    if (outcome.status === "running" && this.progressWaiters.size > 0) {
      if (this.logReadAt === undefined || Date.now() - this.logReadAt >= LOG_READ_MS) {
        this.logReadAt = Date.now();
        try {
          const { data, total } = await this.client.callWithTotal("GET /nodes/{node}/tasks/{upid}/log", {
            node: this.node,
            upid: this.taskId,
            start: this.logSeen,
            limit: 500,
          });
          this.logSeen = Math.max(this.logSeen, total ?? this.logSeen + data.length);
          for (const line of data) {
            if (!line.t || line.t === "no content") continue;
            this.lastLine = line.t;
            this.percent = percentFromLog(line.t) ?? this.percent;
          }
        } catch (error) {
          // Progress is a courtesy: a log read that fails for a moment is skipped, not fatal.
          if (!isTransient(error)) return { ok: false, error };
        }
      }
    }
    this.nextAt = Date.now() + nextPollDelay(this.attempt++);
    return { ok: true, outcome };
  }

  leave(me: symbol): void {
    this.waiters.delete(me);
    this.progressWaiters.delete(me);
    if (this.inFlight?.owner === me) {
      const inFlight = this.inFlight;
      this.inFlight = undefined;
      inFlight.orphan();
    }
  }
}

/** Polls waited on right now in this isolate, by share key. */
const sharedPolls = new Map<string, TaskPoll>();

function timer(ms: number): { promise: Promise<void>; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | null = null;
  const promise = new Promise<void>((resolve) => {
    id = setTimeout(resolve, Math.max(0, ms));
  });
  return {
    promise,
    cancel: () => {
      if (id !== null) clearTimeout(id);
    },
  };
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise<void>(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/**
 * Waits until the task stops or the time is up; returns the last known outcome. A status request
 * that fails transiently (a 5xx, a tunnel or Access page, a dropped connection) does not end the
 * wait: it is retried with backoff until the deadline, and if the deadline passes first the
 * outcome says the task may still run (`pollError`). Errors that asking again cannot fix (no such
 * task, no permission) end the wait at once. With `share`, concurrent waits on the task share
 * one poll; a wait of 0 ms takes the latest check (or the one in flight) and returns.
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
  let poll = options.share ? sharedPolls.get(options.share) : undefined;
  if (!poll) {
    poll = new TaskPoll(client, upid, parsed.node, parsed.upid);
    if (options.share) sharedPolls.set(options.share, poll);
  }
  const me = Symbol(upid);
  poll.waiters.add(me);
  if (options.onProgress) poll.progressWaiters.add(me);
  let seen = 0;
  const abort = aborted(options.signal);
  try {
    for (;;) {
      const remainingAtStart = options.timeoutMs - (Date.now() - started);
      // Someone else's request is given until our deadline (and the client's own timeout) to come back.
      await poll.next(me, seen, options.signal, abort, Math.max(0, remainingAtStart) + 30_000);
      seen = poll.seq;
      const check = poll.last as Check;
      const remaining = options.timeoutMs - (Date.now() - started);
      if (!check.ok) {
        if (!isTransient(check.error) || options.signal?.aborted) throw check.error;
        if (remaining <= 0) {
          return {
            upid,
            node: parsed.node,
            status: "running",
            pollError: check.error instanceof Error ? check.error.message : String(check.error),
            lastLog: poll.lastLine ? [poll.lastLine] : undefined,
          };
        }
      } else {
        const outcome = check.outcome;
        if (outcome.status === "stopped") return outcome;
        if (options.onProgress) {
          await options.onProgress({
            elapsedMs: Date.now() - started,
            line: poll.lastLine,
            percent: poll.percent,
          });
        }
        if (remaining <= 0 || options.signal?.aborted) {
          return { ...outcome, lastLog: poll.lastLine ? [poll.lastLine] : undefined };
        }
      }
      const due = Math.max(0, poll.nextAt - Date.now());
      await sleep(Math.min(due, Math.max(0, options.timeoutMs - (Date.now() - started))));
    }
  } finally {
    poll.leave(me);
    if (poll.waiters.size === 0 && options.share && sharedPolls.get(options.share) === poll) {
      sharedPolls.delete(options.share);
    }
  }
}
