// /nodes/{node}/tasks (pve-manager PVE/API2/Tasks.pm).

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError, paramError } from "../api/respond";
import type { TaskState } from "../state/model";
import { exitStatus, isRunning, killTask, taskEndMs, taskLog } from "../state/tasks";
import { parseUpid, splitTokenId } from "../state/upid";

/** Task fields as upid_decode gives them, with token tasks split into user + tokenid. */
function decoded(t: TaskState): Record<string, unknown> {
  const [user, tokenid] = splitTokenId(t.user);
  const out: Record<string, unknown> = {
    upid: t.upid,
    node: t.node,
    pid: t.pid,
    pstart: t.pstart,
    starttime: t.starttime,
    type: t.type,
    // A regex capture in Perl, hence a string even for guest ids.
    id: t.id,
    user,
  };
  if (tokenid) out.tokenid = tokenid;
  return out;
}

export function taskListItem(t: TaskState, nowMs: number): Record<string, unknown> {
  const item = decoded(t);
  if (isRunning(t, nowMs)) {
    item.status = "RUNNING";
  } else {
    item.endtime = Math.floor(taskEndMs(t) / 1000);
    item.status = exitStatus(t);
  }
  return item;
}

/** PVE::Tools::upid_normalize_status_type. */
function statusType(status: string | undefined): string {
  if (!status) return "unknown";
  if (status === "OK") return "ok";
  if (/^WARNINGS: \d+$/.test(status)) return "warning";
  if (status === "unexpected status") return "unknown";
  return "error";
}

function list(ctx: Ctx): Record<string, unknown>[] {
  const node = ctx.str("node");
  const start = ctx.optInt("start") ?? 0;
  let limit = ctx.optInt("limit") ?? 50;
  const source = ctx.optStr("source") ?? "archive";
  const userfilter = ctx.optStr("userfilter");
  const typefilter = ctx.optStr("typefilter");
  const vmid = ctx.optInt("vmid");
  const since = ctx.optInt("since");
  const until = ctx.optInt("until");
  const errors = ctx.bool("errors");
  let wanted: Record<string, boolean> = { ok: true, warning: true, error: true, unknown: true };
  if (ctx.has("statusfilter") && !errors) {
    wanted = { ok: false, warning: false, error: false, unknown: false };
    for (const f of splitList(ctx.str("statusfilter"))) wanted[f.toLowerCase()] = true;
  } else if (errors) {
    wanted.ok = false;
  }
  let count = 0;
  const out: Record<string, unknown>[] = [];
  const consider = (t: TaskState, status: string | undefined) => {
    const [user] = splitTokenId(t.user);
    if (userfilter && !user.toLowerCase().includes(userfilter.toLowerCase())) return;
    if (typefilter && t.type !== typefilter) return;
    if (vmid && (!t.id || t.id !== String(vmid))) return;
    if (since !== undefined && t.starttime < since) return;
    if (until !== undefined && t.starttime > until) return;
    if (!wanted[statusType(status)]) return;
    if (count++ < start) return;
    if (limit <= 0) return;
    limit--;
    const item = taskListItem(t, ctx.now);
    out.push(item);
  };
  const onNode = [...ctx.store.tasks.values()].filter((t) => t.node === node);
  if (source === "active" || source === "all") {
    const active = onNode.filter((t) => isRunning(t, ctx.now)).sort((a, b) => b.startMs - a.startMs);
    for (const t of active) consider(t, undefined);
  }
  if (source !== "active") {
    // The index file is read backwards: most recently finished first.
    const archived = onNode
      .filter((t) => !isRunning(t, ctx.now))
      .sort((a, b) => taskEndMs(b) - taskEndMs(a) || (a.upid < b.upid ? 1 : -1));
    for (const t of archived) consider(t, exitStatus(t));
  }
  ctx.total = count;
  return out;
}

function findTask(ctx: Ctx): TaskState | undefined {
  const upid = ctx.str("upid");
  if (!parseUpid(upid)) throw paramError({ upid: "unable to parse worker upid" });
  const t = ctx.store.tasks.get(upid);
  // Each node only has its own task log directory.
  return t && t.node === ctx.str("node") ? t : undefined;
}

function status(ctx: Ctx): Record<string, unknown> {
  const t = findTask(ctx);
  if (!t) throw paramError({ upid: "no such task" });
  const out = decoded(t);
  if (isRunning(t, ctx.now)) {
    out.status = "running";
  } else {
    out.status = "stopped";
    out.exitstatus = exitStatus(t);
  }
  return out;
}

function log(ctx: Ctx): { n: number; t: string }[] {
  const t = findTask(ctx);
  if (ctx.bool("download")) {
    if (ctx.has("start") || ctx.has("limit")) {
      throw new PveError("'download' cannot be used together with 'start' or 'limit' parameters");
    }
  }
  if (!t) {
    ctx.total = 1;
    return [{ n: 1, t: "unable to open file - No such file or directory" }];
  }
  // PVE::Tools::dump_logfile: `start` lines are skipped, `limit` 0 reads to the end.
  const start = ctx.optInt("start") ?? 0;
  let limit = ctx.optInt("limit") ?? 50;
  const all = limit === 0;
  const lines = taskLog(t, ctx.now);
  const out: { n: number; t: string }[] = [];
  let count = 0;
  for (const line of lines) {
    if (count++ < start) continue;
    if (!all) {
      if (limit <= 0) continue;
      limit--;
    }
    out.push({ n: count, t: line });
  }
  if (count === 0) {
    count = 1;
    out.push({ n: 1, t: "no content" });
  }
  ctx.total = count;
  return out;
}

function stop(ctx: Ctx): null {
  const t = findTask(ctx);
  if (!t) throw paramError({ upid: "no such task" });
  killTask(ctx.store, t, ctx.now);
  return null;
}

export const taskRoutes: Route[] = [
  { method: "GET", path: "/nodes/{node}/tasks", handler: list },
  { method: "GET", path: "/nodes/{node}/tasks/{upid}/status", handler: status },
  { method: "GET", path: "/nodes/{node}/tasks/{upid}/log", handler: log },
  { method: "DELETE", path: "/nodes/{node}/tasks/{upid}", handler: stop },
];
