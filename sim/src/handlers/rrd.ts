// .../rrddata of nodes, guests and storages (PVE::RRD::create_rrd_data over the pve-*-9.0 files).
// pvestatd writes a guest's file under its vmid only, and pmxcfs copies every file to every node,
// so a guest's series follows it across a migration and any node answers for any guest.

import type { Ctx, Route } from "../api/context";
import { PveError } from "../api/respond";
import type { GuestState, NodeState, StorageState } from "../state/model";
import {
  Activity,
  type Cf,
  guestHistory,
  pointTimes,
  type Segment,
  seedKey,
  segmentAt,
  type Timeframe,
} from "../state/rrd";
import type { Store } from "../state/store";
import { bootDiskSize, cpuCount, maxMem } from "./guests";
import { storageRow, usageIndex } from "./storage";

type Point = Record<string, number>;

const round = (v: number, digits = 6) => Math.round(v * 10 ** digits) / 10 ** digits;

function params(ctx: Ctx): { timeframe: Timeframe; cf: Cf } {
  return { timeframe: ctx.str("timeframe") as Timeframe, cf: (ctx.optStr("cf") ?? "AVERAGE") as Cf };
}

function missing(file: string): never {
  throw new PveError(`RRD error: opening '/var/lib/rrdcached/db/${file}': No such file or directory`);
}

/** One guest's curves and fixed figures, shared by its own series and its node's. */
class GuestSeries {
  readonly activity: Activity;
  readonly io: Activity;
  readonly segments: Segment[];
  readonly maxcpu: number;
  readonly maxmem: number;
  readonly maxdisk: number;

  constructor(
    readonly guest: GuestState,
    store: Store,
    key: string,
  ) {
    this.activity = new Activity(`${key}/vm/${guest.vmid}`);
    this.io = new Activity(`${key}/vm/${guest.vmid}/io`);
    this.segments = guestHistory(guest, store.tasks.values());
    this.maxcpu = cpuCount(guest, store.nodes.get(guest.node));
    this.maxmem = maxMem(guest);
    this.maxdisk = bootDiskSize(guest);
  }

  /** The point at time t, or undefined while the guest did not run. */
  running(
    t: number,
    step: number,
    cf: Cf,
  ): { seg: Segment; cpu: number; mem: number; io: number } | undefined {
    const seg = segmentAt(this.segments, t);
    if (!seg.running || !seg.exists) return undefined;
    const level = this.activity.at(t, step, cf);
    const paused = this.guest.runState === "paused" || this.guest.runState === "suspended";
    const cpu = paused ? 0 : Math.min(1, this.guest.usage.cpu * (0.3 + level * 1.4));
    const mem =
      this.maxmem * Math.min(0.98, this.guest.usage.memFraction * (0.85 + 0.2 * Math.min(1, level)));
    return { seg, cpu, mem, io: this.io.at(t, step, cf, 1) };
  }

  point(t: number, step: number, cf: Cf): Point {
    const seg = segmentAt(this.segments, t);
    if (!seg.exists) return { time: t };
    const p: Point = { time: t, maxcpu: this.maxcpu, maxmem: this.maxmem, maxdisk: this.maxdisk, disk: 0 };
    const r = this.running(t, step, cf);
    // A stopped guest's file holds only the sizes (and a zero disk): every counter is unknown.
    if (!r) return p;
    const { usage } = this.guest;
    p.cpu = round(r.cpu);
    p.mem = Math.floor(r.mem);
    p.memhost = Math.floor(r.mem * 1.03);
    if (this.guest.type === "lxc") p.disk = usage.diskUsed;
    p.netin = round(usage.netRate * r.io, 2);
    p.netout = round(usage.netRate * 0.6 * r.io, 2);
    p.diskread = round(usage.diskRate * r.io * 0.7, 2);
    p.diskwrite = round(usage.diskRate * 0.4 * (0.5 + r.io), 2);
    const busy = Math.max(0, r.cpu - 0.5);
    p.pressurecpusome = round(busy * 40, 2);
    p.pressurecpufull = round(busy * 20, 2);
    p.pressureiosome = round(Math.max(0, r.io - 0.8) * 8, 2);
    p.pressureiofull = round(Math.max(0, r.io - 0.8) * 5, 2);
    p.pressurememorysome = round(Math.max(0, r.mem / this.maxmem - 0.9) * 30, 2);
    p.pressurememoryfull = round(Math.max(0, r.mem / this.maxmem - 0.9) * 15, 2);
    return p;
  }
}

function guestRrd(ctx: Ctx): Point[] {
  const vmid = ctx.int("vmid");
  const guest = ctx.store.guests.get(vmid);
  if (!guest) missing(`pve-vm-9.0/${vmid}`);
  const { timeframe, cf } = params(ctx);
  const series = new GuestSeries(guest, ctx.store, seedKey(ctx.store.meta.seed));
  const { step, times } = pointTimes(timeframe, ctx.nowSec);
  return times.map((t) => series.point(t, step, cf));
}

function nodeRrd(ctx: Ctx): Point[] {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  const { timeframe, cf } = params(ctx);
  const key = seedKey(ctx.store.meta.seed);
  const own = new Activity(`${key}/node/${node.name}`);
  // Every guest that ever ran here counts while it was here: history decides, not today's node.
  const guests = [...ctx.store.guests.values()].map((g) => new GuestSeries(g, ctx.store, key));
  const zfs = ctx.store.storagesOn(node.name).some((s) => s.type === "zfspool");
  const { step, times } = pointTimes(timeframe, ctx.nowSec);
  return times.map((t): Point => {
    // The node was down for a moment before its last boot.
    if (t > node.bootTime - 180 && t < node.bootTime) return { time: t };
    const level = own.at(t, step, cf);
    let cpu = node.cpuUsage * (0.5 + level);
    let mem = node.memUsedBase * (0.95 + 0.05 * Math.min(1, level));
    let io = 0;
    let net = 0;
    for (const g of guests) {
      const r = g.running(t, step, cf);
      if (!r || r.seg.node !== node.name) continue;
      cpu += (r.cpu * g.maxcpu) / node.cpus;
      mem += r.mem;
      io += g.guest.usage.diskRate * r.io;
      net += g.guest.usage.netRate * r.io;
    }
    cpu = Math.min(1, cpu);
    mem = Math.min(node.memTotal * 0.97, mem);
    const iowait = Math.min(0.5, io / 4e8 + level * 0.002);
    const arcsize = zfs ? Math.floor(node.memTotal * 0.08 * (0.8 + 0.2 * Math.min(1, level))) : 0;
    const memfree = node.memTotal - mem;
    return {
      time: t,
      loadavg: round(cpu * node.cpus * 1.1 + iowait * 4, 2),
      maxcpu: node.cpus,
      cpu: round(cpu),
      iowait: round(iowait),
      memtotal: node.memTotal,
      memused: Math.floor(mem),
      swaptotal: node.swapTotal,
      swapused: node.swapUsed,
      roottotal: node.rootTotal,
      rootused: node.rootUsed,
      netin: round(net + 1500 * level, 2),
      netout: round(net * 0.7 + 900 * level, 2),
      memfree: Math.floor(memfree),
      // PVE::RRD copies the node's memfree column to memavailable (pve-cluster 9.0).
      memavailable: Math.floor(memfree),
      arcsize,
      pressurecpusome: round(Math.max(0, cpu - 0.6) * 50, 2),
      pressureiosome: round(iowait * 20, 2),
      pressureiofull: round(iowait * 12, 2),
      pressurememorysome: round(Math.max(0, mem / node.memTotal - 0.9) * 40, 2),
      pressurememoryfull: round(Math.max(0, mem / node.memTotal - 0.9) * 20, 2),
    };
  });
}

function storageRrd(ctx: Ctx): Point[] {
  const node = ctx.str("node");
  const id = ctx.str("storage");
  const storage = ctx.store.storages.get(id) as StorageState | undefined;
  if (!storage || (storage.nodes && !storage.nodes.includes(node))) missing(`pve-storage-9.0/${node}/${id}`);
  const { timeframe } = params(ctx);
  const { total, used } = storageRow(ctx.store, storage, node, usageIndex(ctx.store));
  const { times } = pointTimes(timeframe, ctx.nowSec);
  const end = times[times.length - 1] as number;
  const key = `${seedKey(ctx.store.meta.seed)}/storage/${node}/${id}`;
  // Storages fill slowly (about 2 % of their use per week) and wobble a little with churn.
  return times.map((t) => {
    const weeks = (end - t) / (7 * 86400);
    const wobble = (new Activity(key).at(t, 60, "AVERAGE") - 0.5) * 0.004;
    const past = Math.floor(used * Math.max(0.2, 1 - 0.02 * weeks + wobble));
    return { time: t, total, used: Math.min(total, t === end ? used : past) };
  });
}

export const rrdRoutes: Route[] = [
  { method: "GET", path: "/nodes/{node}/rrddata", handler: nodeRrd },
  { method: "GET", path: "/nodes/{node}/qemu/{vmid}/rrddata", handler: guestRrd },
  { method: "GET", path: "/nodes/{node}/lxc/{vmid}/rrddata", handler: guestRrd },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/rrddata", handler: storageRrd },
];
