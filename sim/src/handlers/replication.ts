// Storage replication: /cluster/replication (pve-manager PVE/API2/ReplicationConfig.pm) and the
// per-node status /nodes/{node}/replication (PVE/API2/Replication.pm). pvesr runs every minute;
// the simulator plays its runs lazily: a job that is due has synced at its last schedule point,
// unless its target node is offline (then it fails and counts), and a job marked for removal is
// gone after the next run.

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import type { ReplicationJob } from "../state/clusterconfig";
import { digestOf } from "../state/random";
import type { Store } from "../state/store";
import { guestDisks } from "./guests";
import { dateTime } from "./tasklog";

const perm = (ctx: Ctx, vmid: number, priv: string, noerr = false): boolean => {
  if (!ctx.store.settings.deniedPrivileges.includes(priv)) return true;
  if (noerr) return false;
  throw new PveError(`Permission check failed (/vms/${vmid}, ${priv})`, 403);
};

/** Seconds between runs for the calendar events people use (every N minutes, hourly, 22:30, ...). */
function period(schedule: string | undefined): { every: number; offset: number } {
  const s = (schedule ?? "*/15").trim();
  const minutes = /^\*\/(\d+)$/.exec(s);
  if (minutes) return { every: Math.max(1, Number(minutes[1])) * 60, offset: 0 };
  const hhmm = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (hhmm) return { every: 86400, offset: Number(hhmm[1]) * 3600 + Number(hhmm[2]) * 60 };
  const table: Record<string, number> = { minutely: 60, hourly: 3600, daily: 86400, weekly: 7 * 86400 };
  return { every: table[s] ?? 900, offset: 0 };
}

const lastPoint = (job: ReplicationJob, nowSec: number) => {
  const { every, offset } = period(job.schedule);
  return Math.floor((nowSec - offset) / every) * every + offset;
};

const nextPoint = (job: ReplicationJob, afterSec: number) =>
  lastPoint(job, afterSec) + period(job.schedule).every;

/** One pvesr run of a job at `at`: a sync, or a failure when the guest or target is gone. */
function runJob(store: Store, job: ReplicationJob, at: number): void {
  const guest = store.guests.get(job.guest);
  const target = store.nodes.get(job.target);
  const next: ReplicationJob = { ...job, lastTry: at };
  delete next.error;
  if (!guest) {
    next.error = `guest '${job.guest}' does not exist`;
    next.failCount += 1;
  } else if (!target?.online) {
    next.error = `command '/usr/bin/ssh -e none -o 'BatchMode=yes' -o 'HostKeyAlias=${job.target}' root@${target?.ip ?? job.target} -- pvesr prepare-local-job ${job.id} --scan ${volumes(store, job).join(" ")} --last_sync ${job.lastSync}' failed: exit code 255`;
    next.failCount += 1;
  } else {
    next.lastSync = at;
    next.durationSec = 2 + (Number.parseInt(digestOf(`${job.id}${at}`).slice(0, 4), 16) % 300) / 100;
    next.failCount = 0;
  }
  if (guest) next.source = guest.node;
  store.replication.put(next);
}

/** Plays the runs pvesr would have made up to now. */
function settle(store: Store, nowSec: number): void {
  for (let job of [...store.replication.values()]) {
    // Migrating a guest onto its replication target turns the job around
    // (PVE::ReplicationConfig::switch_replication_job_target): the old source becomes the target.
    const guest = store.guests.get(job.guest);
    if (guest && guest.node === job.target && job.source && job.source !== job.target) {
      job = { ...job, target: job.source, source: guest.node };
      store.replication.put(job);
    }
    if (job.remove_job) {
      // Removal happens on the next pvesr run (every minute).
      if (nowSec >= job.lastTry + 60) store.replication.delete(job.id);
      continue;
    }
    if (job.disable) continue;
    const due = lastPoint(job, nowSec);
    if (due > job.lastTry) runJob(store, job, due);
  }
}

function volumes(store: Store, job: ReplicationJob): string[] {
  const g = store.guests.get(job.guest);
  return g ? guestDisks(g).map((d) => d.volid) : [];
}

/** The job as replication.cfg holds it. */
function configView(job: ReplicationJob): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: job.id,
    type: job.type,
    guest: job.guest,
    jobnum: job.jobnum,
    target: job.target,
  };
  if (job.source) out.source = job.source;
  if (job.schedule) out.schedule = job.schedule;
  if (job.rate !== undefined) out.rate = job.rate;
  if (job.comment) out.comment = job.comment;
  if (job.disable) out.disable = 1;
  if (job.remove_job) out.remove_job = job.remove_job;
  return out;
}

const configDigest = (store: Store) =>
  digestOf(
    JSON.stringify(
      [...store.replication.values()].map(configView).sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1)),
    ),
  );

function findJob(ctx: Ctx): ReplicationJob {
  settle(ctx.store, ctx.nowSec);
  const id = ctx.str("id");
  const job = ctx.store.replication.get(id);
  if (!job) throw new PveError(`no such replication job '${id}'`);
  return job;
}

function list(ctx: Ctx): Record<string, unknown>[] {
  settle(ctx.store, ctx.nowSec);
  return [...ctx.store.replication.values()]
    .filter((j) => perm(ctx, j.guest, "VM.Audit", true))
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map(configView);
}

const REPLICATABLE = new Set(["zfspool"]);

function create(ctx: Ctx): null {
  settle(ctx.store, ctx.nowSec);
  const id = ctx.str("id");
  const [vmid, jobnum] = id.split("-").map(Number) as [number, number];
  perm(ctx, vmid, "VM.Replicate");
  const guest = ctx.store.guests.get(vmid);
  if (!guest) throw new PveError(`Guest '${vmid}' does not exists.`);
  const target = ctx.str("target");
  if (!ctx.store.nodes.has(target)) throw new PveError(`Target '${target}' does not exists.`);
  // get_replicatable_volumes: every disk must be on a storage with the replicate feature (ZFS),
  // unless it opts out with replicate=0.
  const disks = guestDisks(guest).filter(
    (d) => !/(^|,)replicate=0(,|$)/.test(String(guest.config[d.key] ?? "")),
  );
  for (const d of disks) {
    const s = ctx.store.storages.get(d.volid.split(":")[0] as string);
    if (!s || !REPLICATABLE.has(s.type))
      throw new PveError(`missing replicate feature on volume '${d.volid}'`);
  }
  if (disks.length === 0) throw new PveError("No replicatable volumes found");
  // The source check is unverified wording; pvesr refuses to replicate a guest onto its own node.
  if (target === guest.node) throw new PveError("Source and target node can't be the same");
  if (ctx.store.replication.has(id)) throw new PveError(`replication job '${id}' already exists`);
  for (const other of ctx.store.replication.values()) {
    if (other.guest === vmid && other.target === target)
      throw new PveError(`replication job for guest '${vmid}' to target '${target}' already exists`);
  }
  const job: ReplicationJob = {
    id,
    type: "local",
    guest: vmid,
    jobnum,
    target,
    source: ctx.optStr("source") ?? guest.node,
    lastSync: 0,
    lastTry: 0,
    durationSec: 0,
    failCount: 0,
  };
  applyOptions(job, ctx);
  // A new job runs at its first schedule point from now on.
  job.lastTry = lastPoint(job, ctx.nowSec);
  ctx.store.replication.put(job);
  return null;
}

function applyOptions(job: ReplicationJob, ctx: Ctx): void {
  if (ctx.has("schedule")) job.schedule = ctx.str("schedule");
  if (ctx.has("rate")) job.rate = Number(ctx.params.rate);
  if (ctx.has("comment")) job.comment = ctx.str("comment");
  if (ctx.has("disable")) {
    if (ctx.bool("disable")) job.disable = true;
    else delete job.disable;
  }
  if (ctx.has("source")) job.source = ctx.str("source");
  if (ctx.has("remove_job")) job.remove_job = ctx.str("remove_job") as "local" | "full";
}

const OPTIONAL = new Set(["schedule", "rate", "comment", "disable", "source", "remove_job"]);

function update(ctx: Ctx): null {
  const digest = ctx.optStr("digest");
  settle(ctx.store, ctx.nowSec);
  if (digest && digest !== configDigest(ctx.store))
    throw new PveError("detected modified configuration - file changed by other user? Try again.");
  const job = { ...findJob(ctx) };
  perm(ctx, job.guest, "VM.Replicate");
  applyOptions(job, ctx);
  for (const k of (ctx.optStr("delete") ?? "").split(/[,;\s]+/).filter(Boolean)) {
    if (k === "target" || k === "type") throw new PveError(`unable to delete fixed option '${k}'`);
    if (!OPTIONAL.has(k)) throw new PveError(`no such option '${k}'`);
    if (ctx.has(k)) throw new PveError(`cannot set and delete property '${k}' at the same time!`);
    delete (job as unknown as Record<string, unknown>)[k];
  }
  ctx.store.replication.put(job);
  return null;
}

/** DELETE marks the job; the next run removes it (and, unless `keep`, the target's copies). */
function remove(ctx: Ctx): null {
  settle(ctx.store, ctx.nowSec);
  const id = ctx.str("id");
  const job = ctx.store.replication.get(id);
  if (job) perm(ctx, job.guest, "VM.Replicate");
  if (ctx.bool("force")) {
    if (ctx.bool("keep")) throw paramError({ keep: "conflicts with parameter 'force'" });
    ctx.store.replication.delete(id);
    return null;
  }
  if (!job) throw new PveError(`no such job '${id}'`);
  ctx.store.replication.put({ ...job, remove_job: ctx.bool("keep") ? "local" : "full", lastTry: ctx.nowSec });
  return null;
}

/** extract_job_status: the config plus the run state pvesr keeps on the source node. */
function statusView(store: Store, job: ReplicationJob, nowSec: number): Record<string, unknown> {
  const out = configView(job);
  const g = store.guests.get(job.guest);
  if (job.lastSync) out.last_sync = job.lastSync;
  out.last_try = job.lastTry;
  out.duration = Math.round(job.durationSec * 100) / 100;
  out.fail_count = job.failCount;
  if (job.error) out.error = job.error;
  if (!job.disable && !job.remove_job)
    out.next_sync = Math.max(nextPoint(job, job.lastTry), lastPoint(job, nowSec));
  if (g) out.vmtype = g.type;
  return out;
}

function nodeJobs(ctx: Ctx): ReplicationJob[] {
  settle(ctx.store, ctx.nowSec);
  const node = ctx.str("node");
  return [...ctx.store.replication.values()]
    .filter((j) => (ctx.store.guests.get(j.guest)?.node ?? j.source) === node)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

function nodeJob(ctx: Ctx): ReplicationJob {
  const job = nodeJobs(ctx).find((j) => j.id === ctx.str("id"));
  if (!job) throw new PveError(`no such replication job '${ctx.str("id")}'`);
  return job;
}

/** /var/log/pve/replicate/<id>: the log of the last run. */
function runLog(store: Store, job: ReplicationJob): string[] {
  if (!job.lastTry) return [];
  const t = dateTime(job.lastTry);
  const id = job.id;
  const g = store.guests.get(job.guest);
  const vols = volumes(store, job);
  const kind = g?.type === "lxc" ? "CT" : "VM";
  const lines = [
    `${t} ${id}: start replication job`,
    `${t} ${id}: guest => ${kind} ${job.guest}, running => ${g?.status === "running" ? (g.pid ?? 1) : 0}`,
    `${t} ${id}: volumes => ${vols.join(",")}`,
  ];
  if (job.error) return [...lines, `${t} ${id}: end replication job with error: ${job.error}`];
  const snap = `__replicate_${id}_${job.lastSync}__`;
  const prev = `__replicate_${id}_${job.lastSync - period(job.schedule).every}__`;
  for (const v of vols) {
    lines.push(`${t} ${id}: create snapshot '${snap}' on ${v}`);
    lines.push(
      `${t} ${id}: using secure transmission, rate limit: ${job.rate ? `${job.rate} MByte/s` : "none"}`,
    );
    lines.push(`${t} ${id}: incremental sync '${v}' (${prev} => ${snap})`);
    lines.push(`${t} ${id}: successfully imported '${v}'`);
    lines.push(`${t} ${id}: delete previous replication snapshot '${prev}' on ${v}`);
  }
  lines.push(`${t} ${id}: end replication job`);
  return lines;
}

export const replicationRoutes: Route[] = [
  { method: "GET", path: "/cluster/replication", handler: list },
  { method: "POST", path: "/cluster/replication", handler: create },
  {
    method: "GET",
    path: "/cluster/replication/{id}",
    handler: (ctx) => {
      const job = findJob(ctx);
      perm(ctx, job.guest, "VM.Audit");
      return { ...configView(job), digest: configDigest(ctx.store) };
    },
  },
  { method: "PUT", path: "/cluster/replication/{id}", handler: update },
  { method: "DELETE", path: "/cluster/replication/{id}", handler: remove },
  {
    method: "GET",
    path: "/nodes/{node}/replication",
    handler: (ctx) => {
      const guest = ctx.optInt("guest");
      return nodeJobs(ctx)
        .filter((j) => (guest === undefined || j.guest === guest) && perm(ctx, j.guest, "VM.Audit", true))
        .map((j) => statusView(ctx.store, j, ctx.nowSec));
    },
  },
  {
    method: "GET",
    path: "/nodes/{node}/replication/{id}",
    handler: (ctx) => {
      nodeJob(ctx);
      return [{ name: "schedule_now" }, { name: "log" }, { name: "status" }];
    },
  },
  {
    method: "GET",
    path: "/nodes/{node}/replication/{id}/status",
    handler: (ctx) => {
      const job = nodeJob(ctx);
      perm(ctx, job.guest, "VM.Audit");
      return statusView(ctx.store, job, ctx.nowSec);
    },
  },
  {
    method: "GET",
    path: "/nodes/{node}/replication/{id}/log",
    handler: (ctx) => {
      const job = nodeJob(ctx);
      // VM.Audit on the guest or Sys.Audit on the node.
      const denied = ctx.store.settings.deniedPrivileges;
      if (denied.includes("VM.Audit") && denied.includes("Sys.Audit"))
        throw new PveError(`Permission check failed (/vms/${job.guest}, VM.Audit)`, 403);
      const all = runLog(ctx.store, job);
      const start = ctx.optInt("start") ?? 0;
      const limit = ctx.optInt("limit") ?? 50;
      const out = all
        .slice(start, limit === 0 ? undefined : start + limit)
        .map((t, i) => ({ n: start + i + 1, t }));
      ctx.total = all.length || 1;
      return out.length || all.length ? out : [{ n: 1, t: "no content" }];
    },
  },
  {
    method: "POST",
    path: "/nodes/{node}/replication/{id}/schedule_now",
    handler: (ctx) => {
      const job = nodeJob(ctx);
      perm(ctx, job.guest, "VM.Replicate");
      // schedule_job_now: the next pvesr run (within a minute) syncs; the simulator runs it now.
      runJob(ctx.store, job, ctx.nowSec);
      return null;
    },
  },
];
