// What qemu and lxc guests share: lookup, runtime figures, config views and snapshots.

import type { Ctx } from "../api/context";
import { PveError } from "../api/respond";
import { haStatusOf } from "../state/ha";
import type { GuestState, GuestType, NodeState } from "../state/model";
import { configDigest, sizeOf } from "../state/seed";
import type { Store } from "../state/store";
import { type StartTask, startTask } from "../state/tasks";
import { profileOf } from "../state/version";

const MiB = 1024 * 1024;

export const kindWord = (type: GuestType) => (type === "qemu" ? "VM" : "CT");

export function configPath(type: GuestType, node: string, vmid: number): string {
  return `nodes/${node}/${type === "qemu" ? "qemu-server" : "lxc"}/${vmid}.conf`;
}

/** load_config: the guest must exist on the node given in the URL, with that type. */
export function loadGuest(ctx: Ctx, type: GuestType): GuestState {
  const vmid = ctx.int("vmid");
  const node = ctx.str("node");
  const guest = ctx.store.guests.get(vmid);
  if (!guest || guest.node !== node || guest.type !== type) {
    throw new PveError(`Configuration file '${configPath(type, node, vmid)}' does not exist`);
  }
  return guest;
}

/** AbstractConfig check_lock. */
export function lockError(guest: GuestState): string | null {
  const lock = guest.config.lock;
  return typeof lock === "string" && lock ? `${kindWord(guest.type)} is locked (${lock})` : null;
}

export function checkLock(guest: GuestState): void {
  const err = lockError(guest);
  if (err) throw new PveError(err);
}

export const isTemplate = (g: GuestState) => Number(g.config.template ?? 0) === 1;

/** Size in bytes of the boot disk (qemu) or root filesystem (lxc). */
export function bootDiskSize(g: GuestState): number {
  if (g.type === "lxc") return sizeOf(String(g.config.rootfs ?? ""));
  for (const key of ["scsi0", "virtio0", "sata0", "ide0"]) {
    const v = g.config[key];
    if (typeof v === "string" && !v.includes("media=cdrom")) return sizeOf(v);
  }
  return 0;
}

export function maxMem(g: GuestState): number {
  const m = g.config.memory;
  const mib = typeof m === "number" ? m : Number.parseInt(String(m ?? "512").replace(/^current=/, ""), 10);
  return (Number.isFinite(mib) ? mib : 512) * MiB;
}

export function cpuCount(g: GuestState, node?: NodeState): number {
  if (g.type === "qemu") {
    if (g.config.vcpus !== undefined) return Number(g.config.vcpus);
    return Number(g.config.cores ?? 1) * Number(g.config.sockets ?? 1);
  }
  return Number(g.config.cores ?? node?.cpus ?? 1);
}

export function guestName(g: GuestState): string {
  if (g.type === "qemu") return String(g.config.name ?? `VM ${g.vmid}`);
  return String(g.config.hostname ?? `CT${g.vmid}`);
}

export interface Runtime {
  running: boolean;
  uptime: number;
  cpu: number;
  cpus: number;
  mem: number;
  maxmem: number;
  disk: number;
  maxdisk: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
}

/** Live figures; counters grow with uptime so they look alive between calls. */
export function runtime(g: GuestState, store: Store, nowSec: number): Runtime {
  const node = store.nodes.get(g.node);
  const running = g.status === "running";
  const uptime = running && g.startedAt ? Math.max(0, nowSec - g.startedAt) : 0;
  // Paused by PVE or suspended to RAM by the guest: the vCPUs do not run.
  const paused = g.runState === "paused" || g.runState === "suspended";
  const maxmem = maxMem(g);
  const wobble = 1 + 0.15 * Math.sin(nowSec / 47 + g.vmid);
  return {
    running,
    uptime,
    cpu: running && !paused ? Math.round(g.usage.cpu * wobble * 1e6) / 1e6 : 0,
    cpus: cpuCount(g, node),
    mem: running ? Math.floor(maxmem * g.usage.memFraction) : 0,
    maxmem,
    disk: g.type === "lxc" && running ? g.usage.diskUsed : 0,
    maxdisk: bootDiskSize(g),
    netin: uptime * g.usage.netRate,
    netout: Math.floor(uptime * g.usage.netRate * 0.6),
    diskread: uptime * g.usage.diskRate,
    diskwrite: Math.floor(uptime * g.usage.diskRate * 0.4),
  };
}

/** vmid → pool, built once per request. */
export function poolIndex(store: Store): Map<number, string> {
  const index = new Map<number, string>();
  for (const p of store.pools.values()) for (const vmid of p.vmids) index.set(vmid, p.poolid);
  return index;
}

/** A row of /cluster/resources (also used for pool members). */
export function resourceRow(
  g: GuestState,
  store: Store,
  nowSec: number,
  pools = poolIndex(store),
): Record<string, unknown> {
  const node = store.nodes.get(g.node);
  const rt = runtime(g, store, nowSec);
  const row: Record<string, unknown> = {
    id: `${g.type}/${g.vmid}`,
    type: g.type,
    vmid: g.vmid,
    name: guestName(g),
    node: g.node,
    // pvestatd records `qmpstatus || status`, so a paused VM shows as "paused" here.
    status: node?.online ? (g.type === "qemu" && g.runState === "paused" ? "paused" : g.status) : "unknown",
    maxcpu: rt.cpus,
    maxmem: rt.maxmem,
    maxdisk: rt.maxdisk,
    template: isTemplate(g) ? 1 : 0,
  };
  if (node?.online) {
    Object.assign(row, {
      cpu: rt.cpu,
      mem: rt.mem,
      disk: rt.disk,
      uptime: rt.uptime,
      netin: rt.netin,
      netout: rt.netout,
      diskread: rt.diskread,
      diskwrite: rt.diskwrite,
    });
    // pvestatd reports memhost since 9.0.
    if (g.type === "qemu" && rt.running && profileOf(store.settings).memhost) row.memhost = rt.mem;
  }
  if (g.config.tags !== undefined) row.tags = String(g.config.tags);
  if (g.config.lock !== undefined) row.lock = String(g.config.lock);
  const pool = pools.get(g.vmid);
  if (pool) row.pool = pool;
  const ha = haStatusOf(store, g, nowSec * 1000);
  if (ha.managed) row.hastate = ha.state;
  return row;
}

/** GET .../config: the config with pending changes applied unless `current` is set. */
export function configView(g: GuestState, current: boolean): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...g.config };
  if (!current) {
    Object.assign(conf, g.pending);
    for (const k of g.pendingDelete) delete conf[k];
  }
  conf.digest = configDigest(g.config);
  // The stored hash never leaves the node.
  if (conf.cipassword) conf.cipassword = "**********";
  return conf;
}

/** GET .../pending (PVE::GuestHelpers::config_with_pending_array). */
/** GET .../{vmid}/config: the current config, or a snapshot's with `snapshot`. */
export function configRoute(type: GuestType) {
  return (ctx: Ctx): Record<string, unknown> => {
    const g = loadGuest(ctx, type);
    const snapname = ctx.optStr("snapshot");
    if (snapname) {
      const { snaptime: _t, ...conf } = snapshotConfig(g, snapname);
      return conf;
    }
    return configView(g, ctx.bool("current"));
  };
}

export function pendingView(g: GuestState): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const keys = new Set([...Object.keys(g.config), ...Object.keys(g.pending), ...g.pendingDelete]);
  for (const key of [...keys].sort()) {
    const item: Record<string, unknown> = { key };
    if (g.config[key] !== undefined) item.value = key === "cipassword" ? "**********" : g.config[key];
    // qemu-server masks a pending password with a trailing space ('********** ').
    if (g.pending[key] !== undefined) item.pending = key === "cipassword" ? "********** " : g.pending[key];
    if (g.pendingDelete.includes(key)) item.delete = 1;
    out.push(item);
  }
  out.push({ key: "digest", value: configDigest(g.config) });
  return out;
}

/** GET .../snapshot: the snapshots plus the `current` pseudo-entry. */
export function snapshotList(g: GuestState): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = g.snapshots.map((s) => {
    const item: Record<string, unknown> = { name: s.name, snaptime: s.snaptime, description: s.description };
    if (s.parent) item.parent = s.parent;
    if (g.type === "qemu" && s.vmstate) item.vmstate = 1;
    return item;
  });
  const current: Record<string, unknown> = {
    name: "current",
    digest: configDigest(g.config),
    description: "You are here!",
  };
  if (g.type === "qemu") current.running = g.status === "running" ? 1 : 0;
  if (typeof g.config.parent === "string") current.parent = g.config.parent;
  out.push(current);
  return out;
}

export function snapshotConfig(g: GuestState, name: string): Record<string, unknown> {
  const snap = g.snapshots.find((s) => s.name === name);
  if (!snap) throw new PveError(`snapshot '${name}' does not exist`);
  const out: Record<string, unknown> = { ...snap.config, snaptime: snap.snaptime };
  if (snap.description) out.description = snap.description;
  if (snap.parent) out.parent = snap.parent;
  if (g.type === "qemu" && snap.vmstate) out.vmstate = snap.config.vmstate ?? 1;
  return out;
}

/** Forks a worker for a guest and returns its UPID. */
export function guestTask(ctx: Ctx, g: GuestState, spec: Omit<StartTask, "node" | "id" | "user">): string {
  return startTask(ctx.store, { ...spec, node: g.node, id: String(g.vmid), user: ctx.user }, ctx.now).upid;
}

/** A worker that fails at once with `message` (checks Proxmox does inside the worker). */
export function failingTask(ctx: Ctx, g: GuestState, type: string, message: string): string {
  return guestTask(ctx, g, { type, durationMs: 200, outcome: { kind: "error", message } });
}

/** The disks of a guest config: key, volume id and size. */
export function guestDisks(g: GuestState): { key: string; volid: string; size: number }[] {
  const out: { key: string; volid: string; size: number }[] = [];
  for (const [key, value] of Object.entries(g.config)) {
    if (typeof value !== "string") continue;
    const isDisk =
      g.type === "qemu"
        ? /^(scsi|virtio|sata|ide|efidisk|tpmstate|unused)\d+$/.test(key)
        : /^(rootfs|mp\d+|unused\d+)$/.test(key);
    const volid = value.split(",")[0]?.replace(/^(volume|file)=/, "") ?? "";
    // A cloud-init drive is a CD drive, but its image is a volume of the VM (4 MiB).
    const cloudinit = /cloudinit/.test(volid);
    if (!isDisk || (value.includes("media=cdrom") && !cloudinit)) continue;
    if (!volid.includes(":")) continue;
    out.push({ key, volid, size: sizeOf(value) || (cloudinit ? 4 * MiB : 0) });
  }
  return out;
}

/** Online nodes other than the guest's own: where a migration could go. */
export function migrationTargets(store: Store, g: GuestState): string[] {
  return [...store.nodes.values()].filter((n) => n.online && n.name !== g.node).map((n) => n.name);
}

/** Disks of a guest on non-shared storage (incl. local ISOs in CD drives). */
export function localDisks(store: Store, g: GuestState): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [key, value] of Object.entries(g.config)) {
    if (typeof value !== "string") continue;
    const volid = value.split(",")[0] ?? "";
    const sid = volid.split(":")[0] ?? "";
    const storage = store.storages.get(sid);
    if (!storage || storage.shared || !volid.includes(":")) continue;
    if (g.type === "qemu" && !/^(scsi|virtio|sata|ide|efidisk|tpmstate|unused)\d+$/.test(key)) continue;
    out.push({
      volid,
      size: sizeOf(value),
      drivename: key,
      cdrom: value.includes("media=cdrom") ? 1 : 0,
      is_unused: key.startsWith("unused") ? 1 : 0,
    });
  }
  return out;
}
