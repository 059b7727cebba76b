// /cluster/backup and /cluster/backup-info (pve-manager PVE/API2/Backup.pm,
// PVE/API2/Cluster/BackupInfo.pm, PVE/VZDump.pm get_included_guests): scheduled vzdump jobs in
// jobs.cfg, the guests and volumes each job covers, and the guests no job covers.

import { nextEvent, parseCalendarEvent } from "../../../src/api/calendar";
import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { checkPrivs, permError } from "../api/permissions";
import { PveError, paramError } from "../api/respond";
import { type BackupJob, JOBS_FILE, type JobValue } from "../state/backup-jobs";
import type { GuestState } from "../state/model";
import { isDiskKey, parseDrive } from "./disks";
import { checkBackupOptions, isRoot } from "./root-only";

const jobsOf = (ctx: Ctx) => ctx.store.config<Record<string, BackupJob>>(JOBS_FILE, () => ({}));

/**
 * cfs_lock_file re-raises what the locked code dies with, and Backup.pm then does `die "$@"`: a
 * parameter exception raised inside becomes a plain 500 with its stringified text.
 */
function stringified<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof PveError) || e.status === 500) throw e;
    let msg = `${e.status} ${e.message}\n`;
    for (const [k, v] of Object.entries(e.errors ?? {})) msg += `${k}: ${v}\n`;
    throw new PveError(msg);
  }
}

const NOT_OPTIONS = new Set(["id", "starttime", "dow", "delete"]);

/** The given vzdump options, as jobs.cfg stores them. */
function givenOptions(ctx: Ctx): Record<string, JobValue> {
  const out: Record<string, JobValue> = {};
  for (const [k, v] of Object.entries(ctx.params)) {
    if (v === undefined || NOT_OPTIONS.has(k)) continue;
    out[k] = typeof v === "boolean" || typeof v === "number" ? v : String(v);
  }
  return out;
}

/** $convert_to_schedule and $schedule_param_check. */
function scheduleOf(ctx: Ctx, opts: Record<string, JobValue>, create: boolean): void {
  const start = ctx.optStr("starttime");
  if (opts.schedule !== undefined) {
    if (start !== undefined) throw paramError({ starttime: "'starttime' and 'schedule' cannot both be set" });
  } else if (start === undefined) {
    if (create) throw paramError({ schedule: "neither 'starttime' nor 'schedule' were set" });
  } else {
    const dow = ctx.has("dow") ? splitList(ctx.str("dow")).join(",") : "";
    opts.schedule = !dow || dow === "mon,tue,wed,thu,fri,sat,sun" ? start : `${dow} ${start}`;
  }
}

/** PVE::VZDump::verify_vzdump_parameters. */
function verifyVzdump(opts: Record<string, JobValue>, checkMissing: boolean): void {
  if (opts.all && opts.vmid) throw paramError({ all: "option conflicts with option 'vmid'" });
  if (opts.exclude && opts.vmid) throw paramError({ exclude: "option conflicts with option 'vmid'" });
  if (opts.pool && opts.vmid) throw paramError({ pool: "option conflicts with option 'vmid'" });
  const template = opts["notes-template"];
  if (typeof template === "string") {
    if (template.includes("\n")) throw paramError({ "notes-template": "contains a line feed\n" });
    const problems: string[] = [];
    for (const m of template.matchAll(/\\(.)/g)) {
      if (!/^[n\\]$/.test(m[1] as string)) problems.push(`escape sequence '\\${m[1]}' at char ${m.index}`);
    }
    for (const m of template.matchAll(/\{\{([^\s{}]+)\}\}/g)) {
      const v = m[1] as string;
      if (!/^(cluster|guestname|node|vmid)$/.test(v))
        problems.push(`variable '${v}' at char ${(m.index ?? 0) + 2}`);
    }
    if (problems.length) throw paramError({ "notes-template": `found unknown: ${problems.join(", ")}\n` });
  }
  if (opts.exclude !== undefined && !opts.pool) opts.all = true;
  if (checkMissing && !(opts.all || opts.stop || opts.pool) && !opts.vmid) {
    throw paramError({ vmid: "property is missing" });
  }
}

/** assert_param_permission_common/_create/_update: what only root@pam may set, and storage rights. */
function checkParamPermissions(
  ctx: Ctx,
  opts: Record<string, JobValue>,
  removed: readonly string[] = [],
): void {
  if (isRoot(ctx)) return;
  checkBackupOptions(ctx, Object.keys(opts));
  checkBackupOptions(ctx, removed);
  const perms = ctx.perms;
  if (!perms) return;
  if (["bwlimit", "ionice", "performance"].some((k) => opts[k] !== undefined)) {
    checkPrivs(perms, "/", ["Sys.Modify"], false, false);
  }
  if (typeof opts.storage === "string") {
    checkPrivs(perms, `/storage/${opts.storage}`, ["Datastore.Allocate"], false, false);
  }
  if (typeof opts.pool === "string") {
    if (!ctx.store.pools.has(opts.pool)) throw permError(`pool '${opts.pool}' does not exist`);
    checkPrivs(perms, `/pool/${opts.pool}`, ["VM.Backup"], false, false);
  }
}

/** A property string option (prune-backups, fleecing, performance) as the API returns it. */
function propertyObject(text: string, defaultKey?: string): Record<string, JobValue> {
  const out: Record<string, JobValue> = {};
  for (const part of text.split(",")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const [k, v] = eq < 0 ? [defaultKey ?? part, part] : [part.slice(0, eq), part.slice(eq + 1)];
    out[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

function jobView(id: string, job: BackupJob, nowSec: number): Record<string, unknown> {
  const out: Record<string, unknown> = { id, type: "vzdump" };
  for (const [k, v] of Object.entries(job.options)) {
    if (k === "prune-backups" || k === "performance") out[k] = propertyObject(String(v));
    else if (k === "fleecing") out[k] = propertyObject(String(v), "enabled");
    else out[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  const schedule = job.options.schedule;
  const ev = typeof schedule === "string" ? parseCalendarEvent(schedule) : null;
  const next = ev ? nextEvent(ev, nowSec) : undefined;
  if (next !== undefined) out["next-run"] = next;
  return out;
}

function getJob(ctx: Ctx): [string, BackupJob] {
  const id = ctx.str("id");
  const job = jobsOf(ctx)[id];
  if (!job) throw paramError({ id: `No such job '${id}'` });
  return [id, job];
}

function create(ctx: Ctx): null {
  const opts = givenOptions(ctx);
  checkParamPermissions(ctx, opts);
  scheduleOf(ctx, opts, true);
  if (opts.enabled === undefined) opts.enabled = true;
  const id = ctx.optStr("id") ?? crypto.randomUUID();
  return stringified(() => {
    const jobs = jobsOf(ctx);
    if (jobs[id]) throw new PveError(`Job '${id}' already exists`);
    verifyVzdump(opts, true);
    const order = Math.max(0, ...Object.values(jobs).map((j) => j.order)) + 1;
    jobs[id] = { order, options: opts };
    ctx.store.putConfig(JOBS_FILE, jobs);
    return null;
  });
}

function update(ctx: Ctx): null {
  const opts = givenOptions(ctx);
  const removed = ctx.has("delete") ? splitList(ctx.str("delete")) : [];
  checkParamPermissions(ctx, opts, removed);
  scheduleOf(ctx, opts, false);
  return stringified(() => {
    const jobs = jobsOf(ctx);
    if (!Object.keys(opts).length && !removed.length) throw new PveError("no options specified");
    verifyVzdump(opts, false);
    const job = jobs[ctx.str("id")];
    if (!job) throw new PveError("no such vzdump job");
    // Dies without a newline, so Perl adds where (pve-manager 9.1 API2/Backup.pm).
    if (job.options.dumpdir !== undefined && !isRoot(ctx))
      throw new PveError(
        "only root@pam may edit jobs with a 'dumpdir' option. at /usr/share/perl5/PVE/API2/Backup.pm line 85.",
      );
    const o = job.options;
    for (const k of removed) {
      if (k === "id" || k === "type" || k === "schedule")
        throw paramError({ delete: `unknown option '${k}'` });
      delete o[k];
    }
    Object.assign(o, opts);
    if (o.exclude !== undefined && o.pool === undefined) o.all = true;
    // One selection at a time: the one just given wins.
    if (opts.vmid !== undefined) {
      delete o.all;
      delete o.exclude;
      delete o.pool;
    } else if (opts.all) {
      delete o.vmid;
      delete o.pool;
    } else if (o.pool !== undefined) {
      delete o.vmid;
      delete o.all;
      delete o.exclude;
    }
    verifyVzdump(o, true);
    ctx.store.putConfig(JOBS_FILE, jobs);
    return null;
  });
}

function remove(ctx: Ctx): null {
  return stringified(() => {
    const [id] = getJob(ctx);
    const jobs = jobsOf(ctx);
    delete jobs[id];
    ctx.store.putConfig(JOBS_FILE, jobs);
    return null;
  });
}

/** PVE::VZDump::get_included_guests: the VMIDs a job selects (all minus exclude, a list, or a pool). */
function includedVmids(ctx: Ctx, job: BackupJob): number[] {
  const o = job.options;
  let ids: number[];
  if (typeof o.pool === "string") ids = ctx.store.pools.get(o.pool)?.vmids ?? [];
  else if (o.vmid !== undefined) ids = splitList(String(o.vmid)).map(Number);
  else if (o.all) {
    const excluded = new Set(splitList(String(o.exclude ?? "")).map(Number));
    ids = [...ctx.store.guests.values()].map((g) => g.vmid).filter((v) => !excluded.has(v));
  } else return [];
  return ids.filter((vmid) => {
    const g = ctx.store.guests.get(vmid);
    return !g || o.node === undefined || g.node === o.node;
  });
}

const canAudit = (ctx: Ctx, vmid: number) =>
  !ctx.perms || checkPrivs(ctx.perms, `/vms/${vmid}`, ["VM.Audit"], false, true);

const guestName = (g: GuestState) =>
  String(g.type === "qemu" ? (g.config.name ?? "") : (g.config.hostname ?? ""));

/** QemuConfig / LXC::Config get_backup_volumes: each disk, whether vzdump includes it, and why. */
function backupVolumes(g: GuestState): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const keys = Object.keys(g.config)
    .filter((k) => isDiskKey(g.type, k))
    .sort();
  for (const key of keys) {
    const drive = parseDrive(String(g.config[key]));
    let included: number;
    let reason: string;
    if (g.type === "qemu") {
      if (drive.opts.get("media") === "cdrom") continue;
      const backup = drive.opts.get("backup");
      included = backup === undefined ? 1 : /^(1|on|yes|true)$/.test(backup) ? 1 : 0;
      // QemuConfig.pm: the reason says whether `backup` was set at all, not what it was set to.
      reason = `backup=${backup === undefined ? "yes" : "no"}`;
      if (key.startsWith("efidisk") && g.config.bios !== "ovmf") {
        included = 0;
        reason = "efidisk but no OVMF BIOS";
      }
    } else if (key === "rootfs") {
      [included, reason] = [1, "rootfs"];
    } else if (drive.volume.startsWith("/")) {
      [included, reason] = [0, "not a volume"];
    } else if (/^(1|on|yes|true)$/.test(drive.opts.get("backup") ?? "")) {
      [included, reason] = [1, "enabled"];
    } else {
      [included, reason] = [0, "disabled"];
    }
    out.push({ id: `${g.vmid}:${key}`, name: drive.volume, included, reason, leaf: 1 });
  }
  return out;
}

function includedVolumes(ctx: Ctx): Record<string, unknown> {
  const [, job] = getJob(ctx);
  const children: Record<string, unknown>[] = [];
  for (const vmid of includedVmids(ctx, job)) {
    if (!canAudit(ctx, vmid)) continue;
    const g = ctx.store.guests.get(vmid);
    if (!g) {
      children.push({ id: vmid, type: "unknown", leaf: 1 });
      continue;
    }
    const disks = backupVolumes(g);
    children.push({
      id: vmid,
      type: g.type,
      name: guestName(g),
      children: disks,
      leaf: disks.length ? 0 : 1,
    });
  }
  return { children };
}

function notBackedUp(ctx: Ctx): Record<string, unknown>[] {
  const covered = new Set<number>();
  for (const job of Object.values(jobsOf(ctx))) for (const v of includedVmids(ctx, job)) covered.add(v);
  return [...ctx.store.guests.values()]
    .filter((g) => !covered.has(g.vmid) && canAudit(ctx, g.vmid))
    .sort((a, b) => a.vmid - b.vmid)
    .map((g) => {
      const row: Record<string, unknown> = { vmid: g.vmid, type: g.type };
      const name = guestName(g);
      if (name) row.name = name;
      return row;
    });
}

export const backupJobRoutes: Route[] = [
  {
    method: "GET",
    path: "/cluster/backup",
    handler: (ctx) =>
      Object.entries(jobsOf(ctx))
        .sort(([, a], [, b]) => a.order - b.order)
        .map(([id, job]) => jobView(id, job, ctx.nowSec)),
  },
  { method: "POST", path: "/cluster/backup", handler: create },
  {
    method: "GET",
    path: "/cluster/backup/{id}",
    handler: (ctx) => {
      const [id, job] = getJob(ctx);
      const { "next-run": _next, ...rest } = jobView(id, job, ctx.nowSec);
      return rest;
    },
  },
  { method: "PUT", path: "/cluster/backup/{id}", handler: update },
  { method: "DELETE", path: "/cluster/backup/{id}", handler: remove },
  { method: "GET", path: "/cluster/backup/{id}/included_volumes", handler: includedVolumes },
  { method: "GET", path: "/cluster/backup-info", handler: () => [{ subdir: "not-backed-up" }] },
  { method: "GET", path: "/cluster/backup-info/not-backed-up", handler: notBackedUp },
];
