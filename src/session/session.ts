import { DurableObject } from "cloudflare:workers";
import { clientFromEnv } from "../proxmox/client";
import { ProxmoxError } from "../proxmox/errors";
import { maskSecrets } from "../proxmox/secrets";
import { type ExecStatus, readExecStatus } from "./exec";
import { checkTask, type TaskOutcome } from "./poll";

/**
 * What must outlive a request, for one session (one signed-in user on one client; `local` while
 * sign-in is off): the Proxmox tasks this session started and how each ended, and the audit log
 * of every change. Its alarm polls running tasks to the end, so an outcome is never lost even when
 * the tool stopped waiting or the object was evicted.
 */

export interface TrackedTask {
  upid: string;
  tool: string;
  target: string;
  args: Record<string, unknown>;
  actor: string;
  startedAt: number;
  /** unknown: no longer followed, because Proxmox does not know it any more or it ran past the ceiling. */
  status: "running" | "stopped" | "unknown";
  exitstatus?: string;
  ok?: boolean;
  lastLog?: string[];
  endedAt?: number;
  /** Why the task is unknown. */
  reason?: string;
}

export interface AuditEntry {
  id?: number;
  at?: number;
  actor: string;
  tool: string;
  target: string;
  args: Record<string, unknown>;
  upid?: string;
  /** "started", "OK", "WARNINGS: 1", "done", "failed: ...", "refused: ...". */
  outcome: string;
}

/** A command run through the guest agent, kept because the agent forgets a result once read. */
export interface ExecJob {
  id: string;
  vmid: number;
  node: string;
  pid: number;
  command: string;
  actor: string;
  startedAt: number;
  status: "running" | "exited" | "lost";
  exitcode?: number;
  signal?: number;
  out?: string;
  err?: string;
  outTruncated?: boolean;
  errTruncated?: boolean;
  /** The Session stored only the first EXEC_STORE_LIMIT characters of a stream. */
  storeTruncated?: boolean;
  finishedAt?: number;
  /** Why a job was lost (the agent forgot the pid, the VM rebooted, ...). */
  error?: string;
}

/** Stored per stream: SQLite rows in a Durable Object hold at most 2 MB. */
export const EXEC_STORE_LIMIT = 512 * 1024;
/** How long finished exec results stay readable. */
export const EXEC_RESULT_TTL_MS = 24 * 60 * 60 * 1000;

type Row = Record<string, SqlStorageValue>;

/** Which audit entries to read, newest first. */
export interface AuditQuery {
  limit: number;
  tool?: string;
  /** A guest ID ("101") matches that guest exactly; other text matches anywhere in the target. */
  target?: string;
  /** Unix time in milliseconds, inclusive. */
  since?: number;
  until?: number;
}

/** A task a tool has just started, for trackTask. */
export interface NewTask {
  upid: string;
  tool: string;
  target: string;
  args: Record<string, unknown>;
  actor: string;
  /** A tool polls it itself until then; the alarm takes over only after that. */
  watchedUntil?: number;
}

/** The answer to openWait: a wait id while under the cap, and how many waits are open. */
export interface OpenWait {
  waitId?: string;
  open: number;
  limit: number;
}

/**
 * Waits one session may have open at once. Waits on one task share their poll, but each task
 * waited on costs its own status requests, so this bounds what one user's waits ask of Proxmox.
 */
export const MAX_OPEN_WAITS = 16;

/** How long after its deadline a wait that never said it ended still counts as open. */
const WAIT_LEASE_SLACK_MS = 5_000;

/** What tools call on their Session (over Durable Object RPC). */
export interface SessionApi {
  trackTask(task: NewTask): Promise<void>;
  /** A tool is about to poll this task (or exec job) itself until `until`: the alarm stays out of its way. */
  watch(id: { upid?: string; execJob?: string }, until: number): Promise<void>;
  /**
   * A tool is about to wait on this task until `until` (the alarm stays out of its way), unless
   * the session already has MAX_OPEN_WAITS waits open: then no `waitId`, and the tool answers at once.
   */
  openWait(upid: string, until: number): Promise<OpenWait>;
  /** Stores what a waiting tool (or the alarm) learned about a task, and ends that tool's wait. */
  recordOutcome(outcome: TaskOutcome, waitId?: string): Promise<TrackedTask | null>;
  /** Ends a wait that did not get to an outcome (the call failed or was cancelled). */
  closeWait(waitId: string): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
  getTask(upid: string): Promise<TrackedTask | null>;
  listTasks(options: { limit: number; running?: boolean }): Promise<{ total: number; tasks: TrackedTask[] }>;
  listAudit(query: number | AuditQuery): Promise<AuditEntry[]>;
  startExecJob(job: {
    vmid: number;
    node: string;
    pid: number;
    command: string;
    actor: string;
    watchedUntil?: number;
  }): Promise<ExecJob>;
  pollExecJob(id: string): Promise<ExecJob | null>;
  findExecJob(vmid: number, pid: number): Promise<ExecJob | null>;
}

/** Secrets never reach storage, whatever tool sent them and whatever they are called. */
export function redactArgs(args: Record<string, unknown>): Record<string, unknown> {
  return maskSecrets(args);
}

/** Tasks and exec jobs are followed at most this long; after that they are left for the user to check. */
export const TRACKING_CEILING_MS = 24 * 60 * 60 * 1000;

/** A task whose node answers "no such task" this many times in a row is given up as unknown. */
export const MISSING_TASK_LIMIT = 3;

/** After a waiting tool's deadline, how long the alarm leaves it before taking over. */
const ALARM_HANDOVER_MS = 1000;

/** Checks due this soon are done now rather than in another alarm a moment later. */
const ALARM_SLACK_MS = 250;

/** How long to wait before the alarm checks a running task again: soon at first, then less often. */
export function alarmDelay(ageMs: number): number {
  if (ageMs < 60_000) return 2_000;
  if (ageMs < 10 * 60_000) return 5_000;
  if (ageMs < 60 * 60_000) return 15_000;
  return 60_000;
}

/**
 * The Session's tables, as numbered steps. A Session applies the steps it has not applied yet, in
 * order and each in its own transaction, and records how far it got, so a Durable Object created
 * by an older version catches up when it next wakes. Never change a step that has shipped: add
 * one (an ALTER TABLE, a new index) at the end.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tasks (
    upid TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    target TEXT NOT NULL,
    args TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    exitstatus TEXT,
    ok INTEGER,
    last_log TEXT,
    ended_at INTEGER,
    next_check_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS exec_jobs (
    id TEXT PRIMARY KEY,
    vmid INTEGER NOT NULL,
    node TEXT NOT NULL,
    pid INTEGER NOT NULL,
    command TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    finished_at INTEGER,
    next_check_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    tool TEXT NOT NULL,
    target TEXT NOT NULL,
    args TEXT NOT NULL,
    upid TEXT,
    outcome TEXT NOT NULL
  )`,
  // How many status checks in a row Proxmox answered "no such task" (or "no such node").
  "ALTER TABLE tasks ADD COLUMN misses INTEGER NOT NULL DEFAULT 0",
  // Why a task is no longer followed (status 'unknown').
  "ALTER TABLE tasks ADD COLUMN reason TEXT",
];

export function migrate(storage: DurableObjectStorage, steps: readonly string[] = MIGRATIONS): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  const row = sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'schema'").toArray()[0];
  for (let applied = row?.value ?? 0; applied < steps.length; applied++) {
    storage.transactionSync(() => {
      sql.exec(steps[applied] as string);
      sql.exec(
        "INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        applied + 1,
      );
    });
  }
}

export class Session extends DurableObject<Env> implements SessionApi {
  readonly #sql: SqlStorage;
  /** exec-status reads in flight, so two callers never both read (and lose) one result. */
  readonly #execPolls = new Map<string, Promise<ExecJob | null>>();
  /**
   * Open waits by id, with when each lapses. Kept in memory: if the object is evicted mid-wait
   * the count starts over, which errs on the side of letting a wait through.
   */
  readonly #waits = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    migrate(ctx.storage);
    // A Session wakes for an RPC, an alarm, or after an eviction or a restart. If its alarm was
    // lost meanwhile (a failed setAlarm, a deleted alarm), running tasks would stay unpolled until
    // someone asked; so each wake makes sure an alarm is set, before any call is served.
    ctx.blockConcurrencyWhile(() => this.#scheduleAlarm());
  }

  /** Records a task this session just started (and its audit entry), and makes sure it is followed. */
  async trackTask(task: NewTask) {
    const now = Date.now();
    const args = JSON.stringify(redactArgs(task.args));
    this.#sql.exec(
      `INSERT OR IGNORE INTO tasks (upid, tool, target, args, actor, started_at, status, next_check_at)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?)`,
      task.upid,
      task.tool,
      task.target,
      args,
      task.actor,
      now,
      Math.max(now + alarmDelay(0), (task.watchedUntil ?? 0) + ALARM_HANDOVER_MS),
    );
    this.#sql.exec(
      "INSERT INTO audit (at, actor, tool, target, args, upid, outcome) VALUES (?, ?, ?, ?, ?, ?, 'started')",
      now,
      task.actor,
      task.tool,
      task.target,
      args,
      task.upid,
    );
    await this.#scheduleAlarm();
  }

  async watch(id: { upid?: string; execJob?: string }, until: number): Promise<void> {
    const at = until + ALARM_HANDOVER_MS;
    if (id.upid) {
      this.#sql.exec(
        "UPDATE tasks SET next_check_at = MAX(COALESCE(next_check_at, 0), ?) WHERE upid = ? AND status = 'running'",
        at,
        id.upid,
      );
    }
    if (id.execJob) {
      this.#sql.exec(
        "UPDATE exec_jobs SET next_check_at = MAX(COALESCE(next_check_at, 0), ?) WHERE id = ? AND status = 'running'",
        at,
        id.execJob,
      );
    }
  }

  async openWait(upid: string, until: number): Promise<OpenWait> {
    const now = Date.now();
    for (const [id, lapses] of this.#waits) if (lapses < now) this.#waits.delete(id);
    if (this.#waits.size >= MAX_OPEN_WAITS) return { open: this.#waits.size, limit: MAX_OPEN_WAITS };
    await this.watch({ upid }, until);
    const waitId = crypto.randomUUID();
    this.#waits.set(waitId, until + WAIT_LEASE_SLACK_MS);
    return { waitId, open: this.#waits.size, limit: MAX_OPEN_WAITS };
  }

  async closeWait(waitId: string): Promise<void> {
    this.#waits.delete(waitId);
  }

  /** Stores what a waiting tool (or the alarm) learned about a task. */
  async recordOutcome(outcome: TaskOutcome, waitId?: string): Promise<TrackedTask | null> {
    if (waitId) this.#waits.delete(waitId);
    if (outcome.status === "stopped") {
      this.#sql.exec(
        `UPDATE tasks SET status = 'stopped', exitstatus = ?, ok = ?, last_log = ?, ended_at = COALESCE(ended_at, ?), next_check_at = NULL
         WHERE upid = ?`,
        outcome.exitstatus ?? null,
        outcome.ok ? 1 : 0,
        outcome.lastLog ? JSON.stringify(outcome.lastLog) : null,
        Date.now(),
        outcome.upid,
      );
      this.#sql.exec(
        "UPDATE audit SET outcome = ? WHERE upid = ? AND outcome = 'started'",
        outcome.ok ? (outcome.exitstatus ?? "OK") : `failed: ${outcome.exitstatus ?? "unknown"}`,
        outcome.upid,
      );
    }
    return this.getTask(outcome.upid);
  }

  /** Records a change that is not a task (config update, pool change) or a refused attempt. */
  async audit(entry: AuditEntry): Promise<void> {
    this.#sql.exec(
      "INSERT INTO audit (at, actor, tool, target, args, upid, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
      Date.now(),
      entry.actor,
      entry.tool,
      entry.target,
      JSON.stringify(redactArgs(entry.args)),
      entry.upid ?? null,
      entry.outcome,
    );
  }

  async getTask(upid: string): Promise<TrackedTask | null> {
    const row = this.#sql.exec("SELECT * FROM tasks WHERE upid = ?", upid).toArray()[0];
    return row ? toTask(row) : null;
  }

  async listTasks(options: {
    limit: number;
    running?: boolean;
  }): Promise<{ total: number; tasks: TrackedTask[] }> {
    const where = options.running ? "WHERE status = 'running'" : "";
    const total = Number(this.#sql.exec(`SELECT COUNT(*) AS n FROM tasks ${where}`).one().n);
    const rows = this.#sql
      .exec(`SELECT * FROM tasks ${where} ORDER BY started_at DESC, upid DESC LIMIT ?`, options.limit)
      .toArray();
    return { total, tasks: rows.map(toTask) };
  }

  async listAudit(query: number | AuditQuery): Promise<AuditEntry[]> {
    const q: AuditQuery = typeof query === "number" ? { limit: query } : query;
    const where: string[] = [];
    const params: SqlStorageValue[] = [];
    if (q.tool) {
      where.push("tool = ?");
      params.push(q.tool);
    }
    const target = q.target?.trim();
    if (target && /^\d+$/.test(target)) {
      // "VM 101 'web-01'", "Container 101": the ID as a whole word, so 101 never matches 1010.
      where.push("(target LIKE ? OR target LIKE ?)");
      params.push(`% ${target} %`, `% ${target}`);
    } else if (target) {
      where.push("target LIKE ? ESCAPE '\\'");
      params.push(`%${target.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (q.since !== undefined) {
      where.push("at >= ?");
      params.push(q.since);
    }
    if (q.until !== undefined) {
      where.push("at <= ?");
      params.push(q.until);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    return this.#sql
      .exec(`SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT ?`, ...params, q.limit)
      .toArray()
      .map((row) => ({
        id: Number(row.id),
        at: Number(row.at),
        actor: String(row.actor),
        tool: String(row.tool),
        target: String(row.target),
        args: JSON.parse(String(row.args)),
        upid: row.upid === null ? undefined : String(row.upid),
        outcome: String(row.outcome),
      }));
  }

  /** Records a command just started through the guest agent (and audits the command line, never its input). */
  async startExecJob(job: {
    vmid: number;
    node: string;
    pid: number;
    command: string;
    actor: string;
    watchedUntil?: number;
  }): Promise<ExecJob> {
    const now = Date.now();
    const id = `${job.vmid}-${job.pid}-${now.toString(36)}`;
    this.#sql.exec(
      `INSERT INTO exec_jobs (id, vmid, node, pid, command, actor, started_at, status, next_check_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)`,
      id,
      job.vmid,
      job.node,
      job.pid,
      job.command,
      job.actor,
      now,
      Math.max(now + alarmDelay(0), (job.watchedUntil ?? 0) + ALARM_HANDOVER_MS),
    );
    await this.audit({
      actor: job.actor,
      tool: "guest_exec",
      target: `VM ${job.vmid}`,
      args: { command: job.command, pid: job.pid },
      outcome: "started",
    });
    await this.#scheduleAlarm();
    return (await this.#execJob(id)) as ExecJob;
  }

  async findExecJob(vmid: number, pid: number): Promise<ExecJob | null> {
    const row = this.#sql
      .exec("SELECT id FROM exec_jobs WHERE vmid = ? AND pid = ? ORDER BY started_at DESC LIMIT 1", vmid, pid)
      .toArray()[0];
    return row ? this.#execJob(String(row.id)) : null;
  }

  /** The job as stored; while it runs, asks the agent once (never twice at the same time). */
  async pollExecJob(id: string): Promise<ExecJob | null> {
    const job = await this.#execJob(id);
    if (job?.status !== "running") return job;
    let inflight = this.#execPolls.get(id);
    if (!inflight) {
      inflight = this.#readExec(job).finally(() => this.#execPolls.delete(id));
      this.#execPolls.set(id, inflight);
    }
    return inflight;
  }

  async #readExec(job: ExecJob): Promise<ExecJob | null> {
    let status: ExecStatus;
    try {
      status = await readExecStatus(clientFromEnv(this.env), job);
    } catch (error) {
      this.#sql.exec(
        "UPDATE exec_jobs SET next_check_at = ? WHERE id = ?",
        Date.now() + alarmDelay(Date.now() - job.startedAt),
        job.id,
      );
      throw error;
    }
    if (status.state === "running") {
      // MAX: a tool that said it is watching keeps the alarm away until its deadline.
      this.#sql.exec(
        "UPDATE exec_jobs SET next_check_at = MAX(COALESCE(next_check_at, 0), ?) WHERE id = ?",
        Date.now() + alarmDelay(Date.now() - job.startedAt),
        job.id,
      );
      await this.#scheduleAlarm();
      return job;
    }
    const result =
      status.state === "exited"
        ? {
            exitcode: status.exitcode,
            signal: status.signal,
            out: status.out.slice(0, EXEC_STORE_LIMIT),
            err: status.err.slice(0, EXEC_STORE_LIMIT),
            outTruncated: status.outTruncated || undefined,
            errTruncated: status.errTruncated || undefined,
            storeTruncated:
              status.out.length > EXEC_STORE_LIMIT || status.err.length > EXEC_STORE_LIMIT || undefined,
          }
        : { error: status.error };
    this.#sql.exec(
      "UPDATE exec_jobs SET status = ?, result = ?, finished_at = ?, next_check_at = NULL WHERE id = ?",
      status.state,
      JSON.stringify(result),
      Date.now(),
      job.id,
    );
    this.#sql.exec(
      "UPDATE audit SET outcome = ? WHERE tool = 'guest_exec' AND outcome = 'started' AND args LIKE ?",
      status.state === "exited"
        ? `exit ${status.exitcode ?? `signal ${status.signal}`}`
        : `lost: ${status.error}`,
      `%"pid":${job.pid}}`,
    );
    return this.#execJob(job.id);
  }

  async #execJob(id: string): Promise<ExecJob | null> {
    const row = this.#sql.exec("SELECT * FROM exec_jobs WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    const job: ExecJob = {
      id: String(row.id),
      vmid: Number(row.vmid),
      node: String(row.node),
      pid: Number(row.pid),
      command: String(row.command),
      actor: String(row.actor),
      startedAt: Number(row.started_at),
      status: row.status === "running" ? "running" : row.status === "exited" ? "exited" : "lost",
    };
    if (row.finished_at !== null) job.finishedAt = Number(row.finished_at);
    if (row.result !== null) Object.assign(job, JSON.parse(String(row.result)));
    return job;
  }

  /** Follows every running task and exec job to its end; reschedules itself while any still runs. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#giveUpAfterCeiling(now);
    this.#sql.exec(
      "DELETE FROM exec_jobs WHERE status != 'running' AND finished_at < ?",
      now - EXEC_RESULT_TTL_MS,
    );
    const dueJobs = this.#sql
      .exec("SELECT id FROM exec_jobs WHERE status = 'running' AND next_check_at <= ?", now + ALARM_SLACK_MS)
      .toArray();
    await Promise.all(
      dueJobs.map((row) =>
        this.pollExecJob(String(row.id)).catch((error) => {
          console.warn(
            `session: exec job ${String(row.id)} check failed:`,
            error instanceof Error ? error.message : String(error),
          );
        }),
      ),
    );
    const due = this.#sql
      .exec(
        "SELECT upid, started_at, misses FROM tasks WHERE status = 'running' AND next_check_at <= ?",
        now + ALARM_SLACK_MS,
      )
      .toArray();
    if (due.length > 0) {
      const client = clientFromEnv(this.env);
      await Promise.all(
        due.map(async (row) => {
          const upid = String(row.upid);
          try {
            const outcome = await checkTask(client, upid);
            if (outcome.status === "stopped") {
              await this.recordOutcome(outcome);
              return;
            }
            this.#sql.exec("UPDATE tasks SET misses = 0 WHERE upid = ?", upid);
          } catch (error) {
            if (error instanceof ProxmoxError && error.kind === "not_found") {
              // The node no longer knows the task (or the node is gone): asking again will not help.
              const misses = Number(row.misses ?? 0) + 1;
              if (misses >= MISSING_TASK_LIMIT) {
                this.#markUnknown(
                  upid,
                  `Proxmox no longer knows this task (${error.message}); it is not followed any more`,
                );
                return;
              }
              this.#sql.exec("UPDATE tasks SET misses = ? WHERE upid = ?", misses, upid);
            } else {
              // Proxmox or the tunnel is unreachable: try again later, the task is not forgotten.
              console.warn(
                `session: checking ${upid} failed:`,
                error instanceof Error ? error.message : String(error),
              );
            }
          }
          this.#sql.exec(
            "UPDATE tasks SET next_check_at = ? WHERE upid = ?",
            Date.now() + alarmDelay(Date.now() - Number(row.started_at)),
            upid,
          );
        }),
      );
    }
    // Inside alarm() getAlarm() still reports the alarm being handled, so set the next one outright.
    await this.#scheduleAlarm(true);
  }

  /** A task that is not followed any more: kept with the reason, never polled again. */
  #markUnknown(upid: string, reason: string): void {
    this.#sql.exec(
      "UPDATE tasks SET status = 'unknown', reason = ?, next_check_at = NULL WHERE upid = ? AND status = 'running'",
      reason,
      upid,
    );
    this.#sql.exec(
      "UPDATE audit SET outcome = ? WHERE upid = ? AND outcome = 'started'",
      `unknown: ${reason}`,
      upid,
    );
  }

  /** Nothing is polled forever: tasks and exec jobs older than the ceiling are let go. */
  #giveUpAfterCeiling(now: number): void {
    const hours = TRACKING_CEILING_MS / 3_600_000;
    for (const row of this.#sql
      .exec("SELECT upid FROM tasks WHERE status = 'running' AND started_at < ?", now - TRACKING_CEILING_MS)
      .toArray()) {
      this.#markUnknown(
        String(row.upid),
        `still running after ${hours} h, so it is not followed any more; get_task_status tells how it is doing`,
      );
    }
    const stale = this.#sql
      .exec(
        "SELECT id, pid FROM exec_jobs WHERE status = 'running' AND started_at < ?",
        now - TRACKING_CEILING_MS,
      )
      .toArray();
    for (const row of stale) {
      const error = `still running after ${hours} h, so its result is not fetched any more`;
      this.#sql.exec(
        "UPDATE exec_jobs SET status = 'lost', result = ?, finished_at = ?, next_check_at = NULL WHERE id = ?",
        JSON.stringify({ error }),
        now,
        String(row.id),
      );
      this.#sql.exec(
        "UPDATE audit SET outcome = ? WHERE tool = 'guest_exec' AND outcome = 'started' AND args LIKE ?",
        `lost: ${error}`,
        `%"pid":${Number(row.pid)}}`,
      );
    }
  }

  async #scheduleAlarm(replace = false): Promise<void> {
    const next = this.#sql
      .exec(
        `SELECT MIN(at) AS at FROM (
           SELECT next_check_at AS at FROM tasks WHERE status = 'running' AND next_check_at IS NOT NULL
           UNION ALL
           SELECT next_check_at AS at FROM exec_jobs WHERE status = 'running' AND next_check_at IS NOT NULL)`,
      )
      .one().at;
    if (next === null || next === undefined) return;
    const at = Math.max(Number(next), Date.now() + 100);
    const current = replace ? null : await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

function toTask(row: Row): TrackedTask {
  const task: TrackedTask = {
    upid: String(row.upid),
    tool: String(row.tool),
    target: String(row.target),
    args: JSON.parse(String(row.args)),
    actor: String(row.actor),
    startedAt: Number(row.started_at),
    status: row.status === "running" ? "running" : row.status === "unknown" ? "unknown" : "stopped",
  };
  if (row.reason !== null && row.reason !== undefined) task.reason = String(row.reason);
  if (row.exitstatus !== null) task.exitstatus = String(row.exitstatus);
  if (row.ok !== null) task.ok = Number(row.ok) === 1;
  if (row.last_log !== null) task.lastLog = JSON.parse(String(row.last_log));
  if (row.ended_at !== null) task.endedAt = Number(row.ended_at);
  return task;
}
