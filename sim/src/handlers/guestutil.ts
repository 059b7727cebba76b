// Helpers shared by the handlers that create, change and move guests.

import type { Ctx } from "../api/context";
import { PveError } from "../api/respond";
import type { GuestConfig, GuestState, GuestType, GuestUsage, TaskState, VolumeState } from "../state/model";
import type { Store } from "../state/store";
import { isRunning, killTask, scaledDuration, taskEndMs } from "../state/tasks";
import { GiB } from "./disks";

/** The request parameters that are config keys, as config values (booleans become 1/0). */
export function configParams(ctx: Ctx, control: ReadonlySet<string>): GuestConfig {
  const out: GuestConfig = {};
  for (const [key, value] of Object.entries(ctx.params)) {
    if (control.has(key) || value === undefined || value === null) continue;
    if (typeof value === "boolean") out[key] = value ? 1 : 0;
    else if (typeof value === "number") out[key] = value;
    else out[key] = String(value);
  }
  return out;
}

/** RPCEnvironment check_pool_exist: a permission error, not a plain 500. */
export function checkPoolExists(store: Store, pool: string): void {
  if (!store.pools.has(pool))
    throw new PveError(`Permission check failed (pool '${pool}' does not exist)`, 403);
}

/** PVE::Cluster::check_node_exists. */
export function checkNodeExists(store: Store, node: string): void {
  if (!store.nodes.has(node)) throw new PveError(`no such cluster node '${node}'`);
}

/** A stored volume (ISO, template, backup) as the node sees it. */
export function findVolume(store: Store, node: string, volid: string): VolumeState | undefined {
  for (const v of store.volumes.values()) {
    if (v.volid !== volid) continue;
    const s = store.storages.get(v.storage);
    if (!s) continue;
    if (s.shared || v.node === node) return v;
  }
  return undefined;
}

/** The file a file-based volume lives in (dumps, templates, ISOs). */
export function volumePath(store: Store, volid: string): string {
  const sid = volid.split(":")[0] ?? "";
  const name = volid.slice(sid.length + 1);
  const s = store.storages.get(sid);
  const base = s?.path ?? `/mnt/pve/${sid}`;
  const dir = name.replace(
    /^(iso|vztmpl|backup)\//,
    (m) => ({ "iso/": "template/iso/", "vztmpl/": "template/cache/", "backup/": "dump/" })[m] ?? m,
  );
  return `${base}/${dir}`;
}

/** Runtime figures for a guest the simulator creates: modest, stable, derived from the vmid. */
export function freshUsage(vmid: number, type: GuestType, diskBytes: number): GuestUsage {
  const r = (vmid * 2654435761) >>> 0;
  const f = (shift: number) => ((r >>> shift) & 0xff) / 255;
  return {
    cpu: Math.round((0.004 + f(0) * 0.03) * 10000) / 10000,
    memFraction: Math.round((0.2 + f(8) * 0.3) * 10000) / 10000,
    diskUsed: Math.floor(Math.min(diskBytes, (type === "lxc" ? 0.6 : 2.2) * GiB + f(16) * GiB)),
    netRate: 300 + Math.floor(f(24) * 4000),
    diskRate: 2000 + Math.floor(f(4) * 50_000),
  };
}

/** PVE::GuestHelpers::get_unique_tags: split, de-duplicated, sorted, joined with ";". */
export function uniqueTags(tags: string): string {
  const seen = new Set<string>();
  for (const t of tags.split(/[;, ]+/)) if (t) seen.add(t);
  return [...seen].sort().join(";");
}

/** A running task of one of these types for a guest (its flock holder). */
export function runningTask(
  store: Store,
  vmid: number,
  types: string[],
  nowMs: number,
): TaskState | undefined {
  for (const upid of store.unfinished) {
    const t = store.tasks.get(upid);
    if (t && t.id === String(vmid) && types.includes(t.type) && isRunning(t, nowMs)) return t;
  }
  return undefined;
}

/**
 * Tasks that hold a guest's config file lock (flock) for their whole run without setting a
 * `lock:` in the config: a clone (of its source) and a migration. Other config writers wait 10 s
 * for the lock and then give up.
 */
export function flockError(store: Store, g: GuestState, nowMs: number): string | null {
  const types = g.type === "qemu" ? ["qmclone", "qmigrate"] : ["vzmigrate"];
  if (!runningTask(store, g.vmid, types, nowMs)) return null;
  const dir = g.type === "qemu" ? "qemu-server" : "lxc";
  return `can't lock file '/var/lock/${dir}/lock-${g.vmid}.conf' - got timeout`;
}

/**
 * A restore over a guest that is starting: the start task holds the config flock while it starts
 * the guest (vm_start under lock_config), and restore waits only 1 s for it (lock_config_full
 * with timeout 1). If the start ends within that second, the guest is running by then.
 */
export function restoreBlockedByStart(store: Store, g: GuestState, nowMs: number): string | null {
  const start = runningTask(store, g.vmid, [g.type === "qemu" ? "qmstart" : "vzstart"], nowMs);
  if (!start) return null;
  if (start.startMs + start.durationMs - nowMs <= 1000)
    return g.type === "qemu" ? "vm is running" : "can't overwrite running container";
  return g.type === "qemu"
    ? `can't lock file '/var/lock/qemu-server/lock-${g.vmid}.conf' - got timeout`
    : `can't lock file '/run/lock/lxc/pve-config-${g.vmid}.lock' - got timeout`;
}

/** Config files are written in key order. */
export function sortConfig(config: GuestConfig): GuestConfig {
  const out: GuestConfig = {};
  for (const key of Object.keys(config).sort()) out[key] = config[key] as string | number;
  return out;
}

/** Deep copy of a config without the keys a copy must not carry. */
export function copyConfig(config: GuestConfig, drop: (key: string) => boolean): GuestConfig {
  const out: GuestConfig = {};
  for (const [k, v] of Object.entries(config)) if (!drop(k)) out[k] = v;
  return out;
}

/**
 * A running shutdown task holds the config lock while it waits for the guest. Stop either aborts it
 * (overrule-shutdown) or waits up to 10 s for the lock. Returns the lines and extra wait, or a failure.
 */
export function shutdownInTheWay(
  ctx: Ctx,
  g: GuestState,
  shutdownType: string,
): { lines: string[]; waitMs: number; error?: string } {
  const t = runningTask(ctx.store, g.vmid, [shutdownType], ctx.now);
  if (!t || t.node !== g.node) return { lines: [], waitMs: 0 };
  if (ctx.bool("overrule-shutdown")) {
    killTask(ctx.store, t, ctx.now);
    return { lines: [`overruled ${shutdownType} tasks: ${t.upid}`], waitMs: 0 };
  }
  const remaining = taskEndMs(t) - ctx.now;
  if (remaining > scaledDuration(ctx.store, 10_000)) {
    const dir = g.type === "qemu" ? "qemu-server" : "lxc";
    return {
      lines: [],
      waitMs: 10_000,
      error: `can't lock file '/var/lock/${dir}/lock-${g.vmid}.conf' - got timeout`,
    };
  }
  return { lines: [], waitMs: remaining };
}
