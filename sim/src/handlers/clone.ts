// Cloning guests (qemu-server PVE/API2/Qemu.pm clone_vm, pve-container PVE/API2/LXC.pm clone_vm).

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import type { GuestConfig, GuestState, GuestType, SnapshotState, TaskEffect } from "../state/model";
import { sizeOf } from "../state/seed";
import { startTask } from "../state/tasks";
import {
  type Allocation,
  allocLines,
  capacityError,
  GiB,
  isCdrom,
  isDiskKey,
  KiB,
  leafName,
  lxcNetWithMac,
  nextDiskName,
  parseDrive,
  printDrive,
  qemuNetWithMac,
  randomUuid,
  renderBytes,
  storageOf,
  usableStorage,
  volname,
} from "./disks";
import { cloneGuestFirewall } from "./fwscope";
import { isTemplate, kindWord, loadGuest, lockError } from "./guests";
import { checkNodeExists, checkPoolExists, freshUsage, sortConfig } from "./guestutil";
import { copyDuration } from "./provision";
import { elapsed, steps } from "./tasklog";

/** Keys a clone never copies (snapshot bookkeeping, runtime state). */
const SNAPSHOT_KEYS = new Set([
  "snapshots",
  "parent",
  "snaptime",
  "vmstate",
  "snapstate",
  "runningcpu",
  "runningmachine",
  "running-nets-host-mtu",
  "lock",
]);

interface CloneDisk {
  key: string;
  from: string;
  volid: string;
  size: number;
  full: boolean;
  cloudinit: boolean;
}

/** Common parameter checks of both clone endpoints, in qemu-server's order. */
function commonChecks(ctx: Ctx, type: GuestType) {
  const { store } = ctx;
  const node = ctx.str("node");
  const pool = ctx.optStr("pool");
  let target = ctx.optStr("target");
  if (target === node || target === "localhost") target = undefined;
  if (pool !== undefined) checkPoolExists(store, pool);
  if (target) checkNodeExists(store, target);
  const storage = ctx.optStr("storage");
  if (storage) {
    const s = usableStorage(store, storage, node);
    const content = type === "qemu" ? "images" : "rootdir";
    if (!s.content.includes(content)) {
      throw paramError({
        storage:
          type === "qemu"
            ? `storage '${storage}' does not support vm images`
            : `storage '${storage}' does not support container directories`,
      });
    }
    if (target) {
      usableStorage(store, storage, target);
      if (!s.shared) throw new PveError(`can't clone to non-shared storage '${storage}'`);
    }
  }
  const g = loadGuest(ctx, type);
  const lock = lockError(g);
  if (lock) throw new PveError(lock);
  const snapname = ctx.optStr("snapname");
  const snap: SnapshotState | undefined = snapname ? g.snapshots.find((s) => s.name === snapname) : undefined;
  if (snapname && !snap) throw new PveError(`snapshot '${snapname}' does not exist`);
  const full = ctx.has("full") ? ctx.bool("full") : !isTemplate(g);
  if (storage !== undefined && !full) throw new PveError("parameter 'storage' not allowed for linked clones");
  if (ctx.has("format") && !full) throw new PveError("parameter 'format' not allowed for linked clones");
  return { g, node, pool, target, storage, snapname, snap, full, oldconf: snap ? snap.config : g.config };
}

/** Whether every volume of a config sits on shared storage (a clone may then go to another node). */
function sharedOnly(ctx: Ctx, type: GuestType, conf: GuestConfig): boolean {
  for (const [key, value] of Object.entries(conf)) {
    if (!isDiskKey(type, key) || typeof value !== "string") continue;
    const v = parseDrive(value).volume;
    if (!v.includes(":")) continue;
    if (!ctx.store.storages.get(storageOf(v))?.shared) return false;
  }
  return true;
}

/** The volume a disk is cloned to. Linked clones of base volumes name their base. */
function cloneTarget(
  ctx: Ctx,
  newid: number,
  from: string,
  full: boolean,
  storage: string | undefined,
  taken: Set<string>,
): string {
  const sid = full ? (storage ?? storageOf(from)) : storageOf(from);
  const s = ctx.store.storages.get(sid);
  if (leafName(from).includes("cloudinit"))
    return s?.path ? `${sid}:${newid}/vm-${newid}-cloudinit.qcow2` : `${sid}:vm-${newid}-cloudinit`;
  const name = nextDiskName(taken, sid, newid);
  if (!full && leafName(from).startsWith("base-")) return `${sid}:${volname(from).split("/")[0]}/${name}`;
  return s?.path ? `${sid}:${newid}/${name}.raw` : `${sid}:${name}`;
}

/** volume_has_feature('clone'): LVM-thin clones base volumes, and snapshots. */
function linkedCloneable(ctx: Ctx, volid: string, snapname: string | undefined): boolean {
  const s = ctx.store.storages.get(storageOf(volid));
  if (leafName(volid).startsWith("base-")) return true;
  return Boolean(snapname) && (s?.type === "lvmthin" || s?.type === "zfspool");
}

function newGuestTemp(newid: number, type: GuestType, node: string, config: GuestConfig): GuestState {
  return {
    vmid: newid,
    type,
    node,
    status: "stopped",
    config,
    pending: {},
    pendingDelete: [],
    snapshots: [],
    usage: freshUsage(newid, type, 0),
  };
}

function cloneQemu(ctx: Ctx): string {
  const { store } = ctx;
  const newid = ctx.int("newid");
  const c = commonChecks(ctx, "qemu");
  const { g, node, target, storage, snapname, full, oldconf } = c;
  if (target && !sharedOnly(ctx, "qemu", oldconf))
    throw new PveError(`can't clone VM to node '${target}' (VM uses local storage)`);
  if (store.guests.has(newid)) throw new PveError(`unable to create VM ${newid}: config file already exists`);
  const running = g.status === "running";

  const newconf: GuestConfig = {};
  const disks: CloneDisk[] = [];
  const taken = new Set<string>();
  for (const key of Object.keys(oldconf).sort()) {
    const value = oldconf[key] as string | number;
    if (SNAPSHOT_KEYS.has(key) || /^unused\d+$/.test(key)) continue;
    if (full && running && !snapname && key === "tpmstate0")
      throw new PveError("cannot clone TPM state while VM is running");
    if (/^net\d+$/.test(key)) {
      newconf[key] = qemuNetWithMac(String(value).replace(/^([a-z0-9_-]+)=[0-9A-Fa-f:]{17}/, "$1"));
      continue;
    }
    if (!isDiskKey("qemu", key)) {
      newconf[key] = value;
      continue;
    }
    const d = parseDrive(String(value));
    const cloudinit = leafName(d.volume).includes("cloudinit");
    if ((isCdrom(d) && !cloudinit) || !d.volume.includes(":")) {
      newconf[key] = value;
      continue;
    }
    const copy = full || cloudinit || key === "tpmstate0";
    if (!copy && !linkedCloneable(ctx, d.volume, snapname)) {
      throw new PveError(
        `Linked clone feature is not supported for${snapname ? " a snapshot of" : ""} '${d.volume}' (${key})`,
      );
    }
    const volid = cloneTarget(ctx, newid, d.volume, copy, storage, taken);
    taken.add(volid);
    disks.push({ key, from: d.volume, volid, size: sizeOf(String(value)), full: copy, cloudinit });
    d.volume = volid;
    newconf[key] = printDrive(d);
  }
  const smbios = String(newconf.smbios1 ?? "").replace(/(^|,)uuid=[^,]*/, "");
  newconf.smbios1 = [`uuid=${randomUuid()}`, ...smbios.split(",").filter(Boolean)].join(",");
  if (newconf.vmgenid) newconf.vmgenid = randomUuid();
  delete newconf.template;
  newconf.name = ctx.optStr("name") ?? `Copy-of-VM-${oldconf.name ?? g.vmid}`;
  const description = ctx.optStr("description");
  if (description) newconf.description = description;

  const allocs: Allocation[] = disks
    .filter((d) => d.full)
    .map((d) => ({ key: d.key, volid: d.volid, size: d.size }));
  const startEffects: TaskEffect[] = [
    {
      kind: "guest-put",
      guest: newGuestTemp(newid, "qemu", node, { description: " qmclone temporary file\n", lock: "clone" }),
    },
  ];
  const abortEffects: TaskEffect[] = [{ kind: "guest-remove", vmid: newid }];
  const base = { node, type: "qmclone", id: String(g.vmid), user: ctx.user, startEffects, abortEffects };
  // A failed clone removes the new guest and, with it, this copy (abortEffects).
  cloneGuestFirewall(store, g.vmid, newid);
  const head: string[] = [];
  if (!snapname && Object.keys(g.pending).length + g.pendingDelete.length > 0)
    head.push(
      `found pending changes for '${[...Object.keys(g.pending), ...g.pendingDelete].join(",")}', discarding for clone`,
    );
  const full2 = capacityError(store, node, allocs);
  if (full2) {
    const lines = [...head];
    for (const d of disks.slice(0, disks.findIndex((x) => x.volid === allocs[full2.index]?.volid) + 1)) {
      lines.push(`create ${d.full ? "full" : "linked"} clone of drive ${d.key} (${d.from})`);
    }
    return startTask(
      store,
      {
        ...base,
        durationMs: 1000,
        lines,
        outcome: { kind: "error", message: `clone failed: ${full2.message}` },
      },
      ctx.now,
    ).upid;
  }

  const copied = allocs.reduce((s, a) => s + a.size, 0);
  const durationMs = copied > 0 ? copyDuration(copied, 700) : 3000;
  const lines = (d: number) => {
    const out = [...head];
    let doneBytes = 0;
    const mirrored: string[] = [];
    for (const disk of disks) {
      out.push(`create ${disk.full ? "full" : "linked"} clone of drive ${disk.key} (${disk.from})`);
      out.push(...allocLines(store, [{ key: disk.key, volid: disk.volid, size: disk.size }]));
      if (!disk.full || disk.cloudinit) continue;
      const size = renderBytes(disk.size);
      if (running && !snapname && disk.key !== "efidisk0") {
        mirrored.push(disk.key);
        out.push(`drive mirror is starting for drive-${disk.key}`);
        for (const p of steps(8)) {
          const at = ((doneBytes + (disk.size * p) / 100) / Math.max(1, copied)) * (d / 1000);
          out.push(
            `drive-${disk.key}: transferred ${renderBytes((disk.size * p) / 100)} of ${size} (${p.toFixed(2)}%) in ${elapsed(at)}${p === 100 ? ", ready" : ""}`,
          );
        }
        out.push("all 'mirror' jobs are ready");
      } else {
        // qemu-img convert reports about every 1%; small volumes (EFI vars, TPM state) finish at once.
        out.push(`transferred 0.0 B of ${size} (0.00%)`);
        for (const p of disk.size < GiB ? [100] : steps(8))
          out.push(`transferred ${renderBytes((disk.size * p) / 100)} of ${size} (${p.toFixed(2)}%)`);
      }
      doneBytes += disk.size;
    }
    for (const key of mirrored) {
      out.push(
        `drive-${key}: Completing block job...`,
        `drive-${key}: Completed successfully.`,
        `drive-${key}: mirror-job finished`,
      );
    }
    return out;
  };

  const guest = newGuestTemp(newid, "qemu", target ?? node, sortConfig(newconf));
  guest.usage = { ...g.usage };
  if (g.os) {
    // A new machine: its own DHCP lease, and cloud-init names it after the VM.
    guest.os = structuredClone(g.os);
    guest.os.ipv4 = dhcpLease(newid);
    if (typeof newconf.name === "string") guest.os.hostname = newconf.name;
  }
  if (g.ignoresAcpi) guest.ignoresAcpi = true;
  const effects: TaskEffect[] = [{ kind: "guest-put", guest }];
  if (c.pool) effects.push({ kind: "pool-add", vmid: newid, poolid: c.pool });
  return startTask(store, { ...base, durationMs, lines, effects }, ctx.now).upid;
}

/** The address the homelab's DHCP server hands a new guest (the seed's scheme). */
function dhcpLease(vmid: number): string {
  return `192.168.1.${100 + (vmid % 150)}`;
}

function cloneLxc(ctx: Ctx): string {
  const { store } = ctx;
  const newid = ctx.int("newid");
  const node = ctx.str("node");
  const existing = store.guests.get(newid);
  if (existing)
    throw new PveError(`${kindWord(existing.type)} ${newid} already exists on node '${existing.node}'`);
  const c = commonChecks(ctx, "lxc");
  const { g, target, storage, snapname, full, oldconf } = c;
  const running = g.status === "running";
  if (full && running && !snapname)
    throw new PveError("Cannot do full clones on a running container without snapshots");
  if (target && !sharedOnly(ctx, "lxc", oldconf))
    throw new PveError(`can't clone CT to node '${target}' (CT uses local storage)`);

  const newconf: GuestConfig = {};
  const disks: CloneDisk[] = [];
  const taken = new Set<string>();
  const keys = Object.keys(oldconf).sort((a, b) =>
    a === "rootfs" ? -1 : b === "rootfs" ? 1 : a < b ? -1 : 1,
  );
  for (const key of keys) {
    const value = oldconf[key] as string | number;
    if (SNAPSHOT_KEYS.has(key) || /^unused\d+$/.test(key)) continue;
    if (/^net\d+$/.test(key)) {
      newconf[key] = lxcNetWithMac(String(value).replace(/,?hwaddr=[^,]*/, ""));
      continue;
    }
    if (!isDiskKey("lxc", key)) {
      newconf[key] = value;
      continue;
    }
    const d = parseDrive(String(value));
    if (!d.volume.includes(":")) {
      newconf[key] = value;
      continue;
    }
    if (!full && !leafName(d.volume).startsWith("base-"))
      throw new PveError(`Linked clone feature for '${d.volume}' is not available`);
    const volid = cloneTarget(ctx, newid, d.volume, full, storage, taken);
    taken.add(volid);
    disks.push({ key, from: d.volume, volid, size: sizeOf(String(value)), full, cloudinit: false });
    d.volume = volid;
    newconf[key] = printDrive(d);
  }
  delete newconf.template;
  const hostname = ctx.optStr("hostname");
  if (hostname) newconf.hostname = hostname;
  const description = ctx.optStr("description");
  if (description) newconf.description = description;

  const allocs: Allocation[] = disks
    .filter((d) => d.full)
    .map((d) => ({ key: d.key, volid: d.volid, size: d.size }));
  const startEffects: TaskEffect[] = [
    { kind: "guest-lock", vmid: g.vmid, lock: "disk" },
    { kind: "guest-put", guest: newGuestTemp(newid, "lxc", node, { lock: "create" }) },
  ];
  const abortEffects: TaskEffect[] = [
    { kind: "guest-lock", vmid: g.vmid, lock: null },
    { kind: "guest-remove", vmid: newid },
  ];
  const base = { node, type: "vzclone", id: String(g.vmid), user: ctx.user, startEffects, abortEffects };
  cloneGuestFirewall(store, g.vmid, newid);
  const noSpace = capacityError(store, node, allocs);
  if (noSpace) {
    return startTask(
      store,
      {
        ...base,
        durationMs: 1000,
        lines: [
          `create full clone of mountpoint ${allocs[noSpace.index]?.key} (${disks[noSpace.index]?.from})`,
        ],
        outcome: { kind: "error", message: `clone failed: ${noSpace.message}` },
      },
      ctx.now,
    ).upid;
  }
  const used = Math.min(
    g.usage.diskUsed,
    disks.reduce((s, d) => s + d.size, 0),
  );
  const lines: string[] = [];
  for (const disk of disks) {
    lines.push(`create ${disk.full ? "full" : "linked"} clone of mountpoint ${disk.key} (${disk.from})`);
    lines.push(...allocLines(store, [{ key: disk.key, volid: disk.volid, size: disk.size }]));
    if (!disk.full) continue;
    const blocks = Math.floor(disk.size / (4 * KiB));
    lines.push(
      `Creating filesystem with ${blocks} 4k blocks and ${Math.floor(blocks / 4)} inodes`,
      `Filesystem UUID: ${randomUuid()}`,
      "Superblock backups stored on blocks: ",
      "\t32768, 98304, 163840, 229376, 294912, 819200, 884736, 1605632",
    );
  }
  if (full) {
    const files = 30_000 + (g.vmid % 97) * 211;
    lines.push(
      "",
      `Number of files: ${files.toLocaleString("en-US")} (reg: ${Math.floor(files * 0.78).toLocaleString("en-US")}, dir: ${Math.floor(files * 0.09).toLocaleString("en-US")}, link: ${Math.floor(files * 0.13).toLocaleString("en-US")})`,
      `Total file size: ${used.toLocaleString("en-US")} bytes`,
      `sent ${Math.floor(used * 1.004).toLocaleString("en-US")} bytes  received ${Math.floor(files * 22).toLocaleString("en-US")} bytes  ${(used / 12).toLocaleString("en-US", { maximumFractionDigits: 2 })} bytes/sec`,
      `total size is ${used.toLocaleString("en-US")}  speedup is 1.00`,
    );
  }
  const guest = newGuestTemp(newid, "lxc", target ?? node, sortConfig(newconf));
  guest.usage = { ...g.usage };
  const effects: TaskEffect[] = [
    { kind: "guest-lock", vmid: g.vmid, lock: null },
    { kind: "guest-put", guest },
  ];
  if (c.pool) effects.push({ kind: "pool-add", vmid: newid, poolid: c.pool });
  return startTask(
    store,
    { ...base, durationMs: full ? copyDuration(used, 1500) : 3000, lines, effects },
    ctx.now,
  ).upid;
}

export const cloneRoutes: Route[] = [
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/clone", handler: cloneQemu },
  { method: "POST", path: "/nodes/{node}/lxc/{vmid}/clone", handler: cloneLxc },
];
