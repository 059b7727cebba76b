import { DurableObject } from "cloudflare:workers";
import { clientFromEnv } from "../proxmox/client";
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
  status: "running" | "stopped";
  exitstatus?: string;
  ok?: boolean;
  lastLog?: string[];
  endedAt?: number;
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

type Row = Record<string, SqlStorageValue>;

/** What tools call on their Session (over Durable Object RPC). */
export interface SessionApi {
  trackTask(task: {
    upid: string;
    tool: string;
    target: string;
    args: Record<string, unknown>;
    actor: string;
  }): Promise<void>;
  recordOutcome(outcome: TaskOutcome): Promise<TrackedTask | null>;
  audit(entry: AuditEntry): Promise<void>;
  getTask(upid: string): Promise<TrackedTask | null>;
  listTasks(options: { limit: number; running?: boolean }): Promise<{ total: number; tasks: TrackedTask[] }>;
  listAudit(limit: number): Promise<AuditEntry[]>;
}

/** Keys whose values never reach storage, whatever tool sent them. */
const SECRET_KEYS = /pass(word)?|secret|token|cipassword/i;

export function redactArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    out[key] = SECRET_KEYS.test(key) ? "***" : value;
  }
  return out;
}

/** How long to wait before the alarm checks a running task again: soon at first, then less often. */
export function alarmDelay(ageMs: number): number {
  if (ageMs < 60_000) return 2_000;
  if (ageMs < 10 * 60_000) return 5_000;
  if (ageMs < 60 * 60_000) return 15_000;
  return 60_000;
}

export class Session extends DurableObject<Env> implements SessionApi {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS tasks (
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
    )`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      actor TEXT NOT NULL,
      tool TEXT NOT NULL,
      target TEXT NOT NULL,
      args TEXT NOT NULL,
      upid TEXT,
      outcome TEXT NOT NULL
    )`);
  }

  /** Records a task this session just started (and its audit entry), and makes sure it is followed. */
  async trackTask(task: {
    upid: string;
    tool: string;
    target: string;
    args: Record<string, unknown>;
    actor: string;
  }) {
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
      now + alarmDelay(0),
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

  /** Stores what a waiting tool (or the alarm) learned about a task. */
  async recordOutcome(outcome: TaskOutcome): Promise<TrackedTask | null> {
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

  async listAudit(limit: number): Promise<AuditEntry[]> {
    return this.#sql
      .exec("SELECT * FROM audit ORDER BY id DESC LIMIT ?", limit)
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

  /** Follows every running task to its end; reschedules itself while any is still running. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const due = this.#sql
      .exec("SELECT upid, started_at FROM tasks WHERE status = 'running' AND next_check_at <= ?", now)
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
          } catch (error) {
            // Proxmox or the tunnel is unreachable: try again later, the task is not forgotten.
            console.warn(
              `session: checking ${upid} failed:`,
              error instanceof Error ? error.message : String(error),
            );
          }
          this.#sql.exec(
            "UPDATE tasks SET next_check_at = ? WHERE upid = ?",
            Date.now() + alarmDelay(Date.now() - Number(row.started_at)),
            upid,
          );
        }),
      );
    }
    await this.#scheduleAlarm();
  }

  async #scheduleAlarm(): Promise<void> {
    const next = this.#sql
      .exec(
        "SELECT MIN(next_check_at) AS at FROM tasks WHERE status = 'running' AND next_check_at IS NOT NULL",
      )
      .one().at;
    if (next === null || next === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    const at = Math.max(Number(next), Date.now() + 100);
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
    status: row.status === "running" ? "running" : "stopped",
  };
  if (row.exitstatus !== null) task.exitstatus = String(row.exitstatus);
  if (row.ok !== null) task.ok = Number(row.ok) === 1;
  if (row.last_log !== null) task.lastLog = JSON.parse(String(row.last_log));
  if (row.ended_at !== null) task.endedAt = Number(row.ended_at);
  return task;
}
