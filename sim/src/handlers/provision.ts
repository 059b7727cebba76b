// Creating, restoring, destroying and templating guests (qemu-server PVE/API2/Qemu.pm create_vm,
// destroy_vm, template; pve-container PVE/API2/LXC.pm create_vm, destroy_vm, template).

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import type {
  BackedUpGuest,
  GuestConfig,
  GuestState,
  GuestType,
  TaskEffect,
  VolumeState,
} from "../state/model";
import { sizeOf } from "../state/seed";
import { startTask } from "../state/tasks";
import {
  type Allocation,
  allocLines,
  capacityError,
  cryptPassword,
  type Drive,
  formatSize,
  freeLines,
  GiB,
  guestVolumes,
  imageStorage,
  isCdrom,
  isDiskKey,
  KiB,
  leafName,
  lxcNetWithMac,
  MiB,
  NEW_DISK_RE,
  nextDiskName,
  parseDrive,
  printDrive,
  qemuNetWithMac,
  randomMac,
  randomUuid,
  renderBytes,
  storageOf,
  uriUnescape,
  usableStorage,
  validateSshKeys,
  volname,
} from "./disks";
import { bootDiskSize, guestDisks, guestTask, isTemplate, kindWord, loadGuest, lockError } from "./guests";
import {
  checkPoolExists,
  configParams,
  copyConfig,
  findVolume,
  flockError,
  freshUsage,
  restoreBlockedByStart,
  sortConfig,
  uniqueTags,
  volumePath,
} from "./guestutil";
import { checkLxcOptions, checkQemuCreate, checkVolumeAccess, rootOnly } from "./root-only";
import { ctimeString, steps } from "./tasklog";

const RUNNING_QEMU = "10.1.2";

/** Options of POST /nodes/{node}/qemu that are not config keys. */
const QEMU_CONTROL = new Set([
  "node",
  "vmid",
  "archive",
  "bwlimit",
  "force",
  "pool",
  "start",
  "storage",
  "unique",
  "live-restore",
  "ha-managed",
  "import-working-storage",
]);

/** Options of POST /nodes/{node}/lxc that are not config keys (or are never stored). */
const LXC_CONTROL = new Set([
  "node",
  "vmid",
  "ostemplate",
  "password",
  "ssh-public-keys",
  "storage",
  "force",
  "restore",
  "unique",
  "pool",
  "ignore-unpack-errors",
  "bwlimit",
  "start",
  "ha-managed",
]);

// Built-in durations (ms); the settings scale or replace them.
const DURATION = {
  create: 2500,
  perDisk: 400,
  lxcCreate: 6000,
  start: 1500,
  destroy: 2000,
  template: 2000,
  failFast: 800,
};

/** Restores and clones copy data: about a second per GiB read, within 10-60 s. */
export const copyDuration = (bytes: number, perGiBms = 900) =>
  Math.min(60_000, Math.max(10_000, Math.round((bytes / GiB) * perGiBms)));

const emptyGuest = (vmid: number, type: GuestType, node: string, config: GuestConfig): GuestState => ({
  vmid,
  type,
  node,
  status: "stopped",
  config,
  pending: {},
  pendingDelete: [],
  snapshots: [],
  usage: freshUsage(vmid, type, 0),
});

/** get_default_bootdevices: the first disk, the first CD drive, the first NIC. */
function defaultBoot(config: GuestConfig): string {
  const order: string[] = [];
  const drives = Object.keys(config)
    .filter((k) => /^(ide|sata|scsi|virtio)\d+$/.test(k))
    .sort((a, b) => {
      const rank = (k: string) => ["ide", "sata", "scsi", "virtio"].indexOf(k.replace(/\d+$/, ""));
      return rank(a) - rank(b) || Number(a.replace(/\D+/, "")) - Number(b.replace(/\D+/, ""));
    });
  const disk = drives.find((k) => !String(config[k]).includes("media=cdrom"));
  const cd = drives.find((k) => String(config[k]).includes("media=cdrom"));
  const net = Object.keys(config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))[0];
  for (const k of [disk, cd, net]) if (k) order.push(k);
  return `order=${order.join(";")}`;
}

/** $check_drive_param and $check_storage_access of qemu-server, before anything is forked. */
function checkQemuDrives(ctx: Ctx, params: GuestConfig, defaultStorage: string | undefined): void {
  const node = ctx.str("node");
  for (const key of Object.keys(params).sort()) {
    if (!isDiskKey("qemu", key)) continue;
    const d = parseDrive(String(params[key]));
    if (!d.volume || d.volume === "none" || d.volume === "cdrom") continue;
    const m = NEW_DISK_RE.exec(d.volume);
    if (d.opts.has("import-from") && (!m || Number(m[2]) !== 0)) {
      throw paramError({
        [key]: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>",
      });
    }
    if (m && !isCdrom(d)) {
      const sid = m[1] ?? defaultStorage;
      if (!sid) throw new PveError("no storage ID specified (and no default storage)");
      imageStorage(ctx.store, sid, node, "qemu");
      continue;
    }
    if (!d.volume.includes(":")) continue;
    usableStorage(ctx.store, storageOf(d.volume), node);
    if (volname(d.volume).startsWith("iso/") && !isCdrom(d))
      throw paramError({ [key]: "explicit 'media=cdrom' is required for iso images" });
  }
}

/** The size (bytes) a new qemu volume gets: GiB for disks, fixed sizes for EFI vars and TPM state. */
function newVolumeSize(key: string, gib: number, d: Drive, lvm: boolean): number {
  if (key === "efidisk0") return lvm ? 4 * MiB : d.opts.get("efitype") === "4m" ? 528 * KiB : 128 * KiB;
  if (key === "tpmstate0") return 4 * MiB;
  return Math.floor(gib * 1024 * 1024) * KiB;
}

interface Planned {
  config: GuestConfig;
  allocs: Allocation[];
  /** Per allocation, the lines create_disks prints. */
  created: string[][];
  /** A missing volume, reported inside the task. */
  missing?: string;
}

/** create_disks: allocates new volumes and records sizes of the existing ones. */
function planQemuDisks(
  ctx: Ctx,
  vmid: number,
  params: GuestConfig,
  defaultStorage: string | undefined,
  taken: Set<string>,
): Planned {
  const { store } = ctx;
  const node = ctx.str("node");
  const config: GuestConfig = {};
  const allocs: Allocation[] = [];
  const created: string[][] = [];
  let missing: string | undefined;
  for (const key of Object.keys(params).sort()) {
    const value = params[key] as string | number;
    if (!isDiskKey("qemu", key)) {
      config[key] = value;
      continue;
    }
    const d = parseDrive(String(value));
    if (!d.volume || d.volume === "none" || d.volume === "cdrom") {
      d.opts.delete("size");
      config[key] = printDrive(d);
      continue;
    }
    if (d.volume === "cloudinit" || volname(d.volume) === "cloudinit") {
      const sid = d.volume.includes(":") ? storageOf(d.volume) : defaultStorage;
      if (!sid) throw new PveError("no storage ID specified (and no default storage)");
      const s = usableStorage(store, sid, node);
      const volid = s.path ? `${sid}:${vmid}/vm-${vmid}-cloudinit.qcow2` : `${sid}:vm-${vmid}-cloudinit`;
      d.volume = volid;
      d.opts.set("media", "cdrom");
      d.opts.delete("format");
      taken.add(volid);
      allocs.push({ key, volid, size: 4 * MiB });
      config[key] = printDrive(d);
      created.push([`${key}: successfully created disk '${config[key]}'`]);
      continue;
    }
    const m = NEW_DISK_RE.exec(d.volume);
    if (m && !isCdrom(d)) {
      const sid = (m[1] ?? defaultStorage) as string;
      const s = usableStorage(store, sid, node);
      const name = nextDiskName(taken, sid, vmid);
      const volid = s.path ? `${sid}:${vmid}/${name}.qcow2` : `${sid}:${name}`;
      // import-from copies an existing image (a guest disk or an import/ volume) into the new disk.
      const source = d.opts.get("import-from");
      const sourceSize = source === undefined ? 0 : importSize(ctx, source);
      if (source !== undefined && sourceSize === 0) {
        missing ??= `cannot import from '${source}' - could not get size of ${source}`;
        continue;
      }
      const size = source === undefined ? newVolumeSize(key, Number(m[2]), d, !s.path) : sourceSize;
      taken.add(volid);
      d.volume = volid;
      d.opts.delete("format");
      d.opts.delete("import-from");
      d.opts.set("size", formatSize(size));
      allocs.push({ key, volid, size });
      config[key] = printDrive(d);
      created.push([
        ...(source === undefined
          ? []
          : [
              `transferred 0.0 B of ${renderBytes(size)} (0.00%)`,
              `transferred ${renderBytes(size)} of ${renderBytes(size)} (100.00%)`,
            ]),
        `${key}: successfully created disk '${config[key]}'`,
      ]);
      continue;
    }
    if (d.volume.includes(":")) {
      const vol = findVolume(store, node, d.volume);
      if (vol) d.opts.set("size", formatSize(vol.size));
      else if (!store.guests.has(vmid)) missing ??= `volume ${d.volume} does not exist`;
    }
    config[key] = printDrive(d);
  }
  return { config, allocs, created, ...(missing ? { missing } : {}) };
}

/** The size of an import-from source: a disk of some guest, or a stored (import) volume. */
function importSize(ctx: Ctx, source: string): number {
  const node = ctx.str("node");
  const stored = findVolume(ctx.store, node, source);
  if (stored) return stored.size;
  for (const g of ctx.store.guests.values()) {
    const shared = ctx.store.storages.get(storageOf(source))?.shared;
    if (!shared && g.node !== node) continue;
    const disk = guestDisks(g).find((d) => d.volid === source);
    if (disk) return disk.size;
  }
  return 0;
}

/** Lines until (not including) allocation `failedAt`. */
function createdLines(ctx: Ctx, plan: Planned, failedAt = plan.allocs.length): string[] {
  const out: string[] = [];
  plan.allocs.slice(0, failedAt).forEach((a, i) => {
    out.push(...allocLines(ctx.store, [a]), ...(plan.created[i] ?? []));
  });
  return out;
}

/** What a backup archive brings back: the guest stored with it, else the live guest, else a guess. */
function backedUp(ctx: Ctx, vol: VolumeState): BackedUpGuest {
  if (vol.guest) return structuredClone(vol.guest);
  const type: GuestType = vol.subtype ?? (vol.volid.includes("vzdump-lxc-") ? "lxc" : "qemu");
  const live = vol.vmid !== undefined ? ctx.store.guests.get(vol.vmid) : undefined;
  if (live && live.type === type) {
    return {
      type,
      config: copyConfig(live.config, (k) => k === "lock" || k === "parent" || /^unused\d+$/.test(k)),
      usage: { ...live.usage },
      ...(live.os ? { os: structuredClone(live.os) } : {}),
    };
  }
  const size = Math.max(8 * GiB, Math.ceil((vol.size * 2.5) / GiB) * GiB);
  const config: GuestConfig =
    type === "qemu"
      ? {
          name: `restored-${vol.vmid ?? "vm"}`,
          cores: 2,
          memory: "2048",
          net0: `virtio=${randomMac()},bridge=vmbr0`,
          ostype: "l26",
          scsi0: `local-lvm:vm-${vol.vmid ?? 0}-disk-0,size=${formatSize(size)}`,
          scsihw: "virtio-scsi-single",
        }
      : {
          arch: "amd64",
          hostname: `restored-${vol.vmid ?? "ct"}`,
          memory: 512,
          net0: `name=eth0,bridge=vmbr0,hwaddr=${randomMac()},ip=dhcp,type=veth`,
          ostype: "debian",
          rootfs: `local-lvm:vm-${vol.vmid ?? 0}-disk-0,size=${formatSize(size)}`,
          swap: 512,
          unprivileged: 1,
        };
  return { type, config, usage: freshUsage(vol.vmid ?? 100, type, size) };
}

/** The backup volume named by `archive`/`ostemplate`, checked as restore does before forking. */
function backupVolume(ctx: Ctx, volid: string): VolumeState {
  const node = ctx.str("node");
  if (!volid.includes(":")) throw new PveError(`unable to parse volume ID '${volid}'`);
  usableStorage(ctx.store, storageOf(volid), node);
  const vol = findVolume(ctx.store, node, volid);
  if (!vol) throw new PveError(`volume '${volid}' does not exist`);
  return vol;
}

/** Re-allocates the disks of a backed-up config for `vmid` (restore_vma_archive, recover_config). */
function restoreDisks(
  ctx: Ctx,
  type: GuestType,
  vmid: number,
  source: GuestConfig,
  storage: string | undefined,
): { config: GuestConfig; allocs: Allocation[] } {
  const node = ctx.str("node");
  const config: GuestConfig = {};
  const allocs: Allocation[] = [];
  const taken = new Set<string>();
  for (const key of Object.keys(source).sort()) {
    const value = source[key] as string | number;
    if (/^unused\d+$/.test(key) || key === "lock" || key === "parent" || key === "vmstate") continue;
    if (!isDiskKey(type, key)) {
      config[key] = value;
      continue;
    }
    const d = parseDrive(String(value));
    if (isCdrom(d) && !leafName(d.volume).includes("cloudinit")) {
      config[key] = value;
      continue;
    }
    if (!d.volume.includes(":")) {
      config[key] = value;
      continue;
    }
    const sid = storage ?? storageOf(d.volume);
    const s = imageStorage(ctx.store, sid, node, type);
    if (leafName(d.volume).includes("cloudinit")) {
      const volid = s.path ? `${sid}:${vmid}/vm-${vmid}-cloudinit.qcow2` : `${sid}:vm-${vmid}-cloudinit`;
      d.volume = volid;
      config[key] = printDrive(d);
      allocs.push({ key, volid, size: 4 * MiB });
      continue;
    }
    const name = nextDiskName(taken, sid, vmid);
    const volid = s.path ? `${sid}:${vmid}/${name}.${type === "qemu" ? "qcow2" : "raw"}` : `${sid}:${name}`;
    taken.add(volid);
    d.volume = volid;
    config[key] = printDrive(d);
    allocs.push({ key, volid, size: sizeOf(String(value)) });
  }
  return { config, allocs };
}

// ---- qemu: create and restore ----------------------------------------------------------------

function createQemu(ctx: Ctx): string {
  const { store } = ctx;
  const node = ctx.str("node");
  const vmid = ctx.int("vmid");
  const archive = ctx.optStr("archive");
  const pool = ctx.optStr("pool");
  const storage = ctx.optStr("storage");
  const params = configParams(ctx, QEMU_CONTROL);
  if (params.sshkeys !== undefined) validateSshKeys(uriUnescape(String(params.sshkeys)));
  if (pool !== undefined) checkPoolExists(store, pool);
  if (storage !== undefined) usableStorage(store, storage, node);
  if (archive) {
    for (const key of Object.keys(params).sort()) {
      if (isDiskKey("qemu", key) || /^unused\d+$/.test(key))
        throw paramError({ [key]: "option conflicts with option 'archive'" });
    }
  }
  if (params.cdrom !== undefined) {
    const v = String(params.cdrom);
    params.ide2 = /media=/.test(v) ? v : `${v},media=cdrom`;
    delete params.cdrom;
  }
  checkQemuCreate(ctx, params, archive);
  checkQemuDrives(ctx, params, storage);
  for (const key of Object.keys(params)) {
    if (/^net\d+$/.test(key)) params[key] = qemuNetWithMac(String(params[key]));
  }
  const emsg = `unable to ${archive ? "restore" : "create"} VM ${vmid} -`;
  const vol = archive ? backupVolume(ctx, archive) : undefined;
  const existing = store.guests.get(vmid);
  if (existing) {
    if (!(archive && ctx.bool("force")) || existing.node !== node || existing.type !== "qemu")
      throw new PveError(
        `${emsg} ${kindWord(existing.type)} ${vmid} already exists on node '${existing.node}'`,
      );
    const lock = lockError(existing);
    if (lock) throw new PveError(`${emsg} ${lock}`);
  }
  if (vol) return restoreQemu(ctx, vol, params, emsg, existing);

  const plan = planQemuDisks(ctx, vmid, params, storage, new Set());
  const startEffects: TaskEffect[] = [
    { kind: "guest-put", guest: emptyGuest(vmid, "qemu", node, { lock: "create" }) },
  ];
  const abortEffects: TaskEffect[] = [{ kind: "guest-remove", vmid }];
  const base = { node, type: "qmcreate", id: String(vmid), user: ctx.user, startEffects, abortEffects };
  const full = plan.missing ? { index: -1, message: plan.missing } : capacityError(store, node, plan.allocs);
  if (full) {
    const lines = full.index >= 0 ? createdLines(ctx, plan, full.index) : [];
    return startTask(
      store,
      {
        ...base,
        durationMs: DURATION.failFast,
        lines,
        outcome: { kind: "error", message: `${emsg} ${full.message}` },
      },
      ctx.now,
    ).upid;
  }

  const config = plan.config;
  if (config.cipassword !== undefined) config.cipassword = cryptPassword();
  if (config.tags !== undefined) config.tags = uniqueTags(String(config.tags));
  config.meta = `creation-qemu=${RUNNING_QEMU},ctime=${ctx.nowSec}`;
  if (config.boot === undefined) config.boot = defaultBoot(config);
  if (config.smbios1 === undefined) config.smbios1 = `uuid=${randomUuid()}`;
  if (config.vmgenid === undefined || config.vmgenid === "1") config.vmgenid = randomUuid();
  // check_and_pin_machine_string: Windows guests get a pinned machine version on create.
  const machine = config.machine === undefined ? "" : String(config.machine);
  if (/^win/.test(String(config.ostype ?? "")) && (machine === "" || machine === "pc" || machine === "q35"))
    config.machine = `${machine === "q35" ? "pc-q35" : "pc-i440fx"}-10.1+pve0`;
  const guest = emptyGuest(vmid, "qemu", node, sortConfig(config));
  guest.usage = freshUsage(vmid, "qemu", bootDiskSize(guest));
  // A new VM has no operating system yet, so nothing answers the ACPI power button.
  guest.ignoresAcpi = true;

  const effects: TaskEffect[] = [{ kind: "guest-put", guest }];
  if (pool) effects.push({ kind: "pool-add", vmid, poolid: pool });
  const lines = createdLines(ctx, plan);
  let durationMs = DURATION.create + DURATION.perDisk * plan.allocs.length;
  if (ctx.bool("start")) {
    lines.push("Execute autostart");
    effects.push({ kind: "guest-running", vmid });
    durationMs += DURATION.start;
  }
  return startTask(store, { ...base, durationMs, lines, effects }, ctx.now).upid;
}

function restoreQemu(
  ctx: Ctx,
  vol: VolumeState,
  params: GuestConfig,
  emsg: string,
  existing: GuestState | undefined,
): string {
  const { store } = ctx;
  const node = ctx.str("node");
  const vmid = ctx.int("vmid");
  const pool = ctx.optStr("pool");
  const startEffects: TaskEffect[] = existing
    ? [{ kind: "guest-lock", vmid, lock: "create" }]
    : [{ kind: "guest-put", guest: emptyGuest(vmid, "qemu", node, { lock: "create" }) }];
  // On failure qemu-server only removes the 'create' lock (remove_lock); a new config goes away.
  const abortEffects: TaskEffect[] = existing
    ? [{ kind: "guest-lock", vmid, lock: null }]
    : [{ kind: "guest-remove", vmid }];
  const base = { node, type: "qmrestore", id: String(vmid), user: ctx.user, startEffects, abortEffects };
  const fail = (message: string, lines: string[] = []) =>
    startTask(
      store,
      { ...base, durationMs: DURATION.failFast, lines, outcome: { kind: "error", message } },
      ctx.now,
    ).upid;

  if (existing && Number(existing.config.protection ?? 0) === 1)
    return fail(`${emsg} - protection mode enabled`);
  if (existing && existing.status === "running") return fail(`${emsg} vm is running`);
  const starting = existing && restoreBlockedByStart(store, existing, ctx.now);
  if (starting) return fail(`${emsg} ${starting}`);
  const source = backedUp(ctx, vol);
  if (source.type !== "qemu") return fail(`${emsg} unable to restore '${vol.volid}' - not a VMA archive`);

  let plan: { config: GuestConfig; allocs: Allocation[] };
  try {
    plan = restoreDisks(ctx, "qemu", vmid, source.config, ctx.optStr("storage"));
  } catch (e) {
    if (e instanceof PveError) return fail(`${emsg} ${e.errors ? Object.values(e.errors)[0] : e.message}`);
    throw e;
  }
  const path = volumePath(store, vol.volid);
  const tmp = `/var/tmp/vzdumptmp${(vmid * 7919) % 1_000_000}`;
  const decompress = vol.format.endsWith(".zst")
    ? `zstd -q -d -c ${path} | vma extract -v -r ${tmp}.fifo - ${tmp}`
    : vol.format.endsWith(".gz")
      ? `zcat ${path} | vma extract -v -r ${tmp}.fifo - ${tmp}`
      : vol.format.endsWith(".lzo")
        ? `lzop -d -c ${path} | vma extract -v -r ${tmp}.fifo - ${tmp}`
        : `vma extract -v -r ${tmp}.fifo ${path} ${tmp}`;
  const disks = plan.allocs.filter((a) => !a.volid.includes("cloudinit"));
  const total = disks.reduce((s, a) => s + a.size, 0);
  const head = [
    ...(existing ? freeLines(store, guestVolumes(existing)) : []),
    `restore vma archive: ${decompress}`,
    `CFG: size: ${600 + Object.keys(source.config).length * 12} name: qemu-server.conf`,
    ...disks.map((a, i) => `DEV: dev_id=${i + 1} size: ${a.size} devname: drive-${a.key}`),
    `CTIME: ${ctimeString(vol.ctime)}`,
  ];
  const full = capacityError(store, node, plan.allocs);
  if (full) {
    const lines = [...head, ...allocLines(store, plan.allocs.slice(0, full.index))];
    return fail(`${emsg} ${full.message}`, lines);
  }

  const config = { ...plan.config };
  for (const [key, value] of Object.entries(params)) config[key] = value;
  if (ctx.bool("unique")) {
    for (const key of Object.keys(config))
      if (/^net\d+$/.test(key))
        config[key] = qemuNetWithMac(String(config[key]).replace(/=([0-9A-F:]{17})/i, ""));
  }
  const guest = emptyGuest(vmid, "qemu", node, sortConfig(config));
  guest.usage = { ...source.usage };
  if (source.os) guest.os = source.os;
  const durationMs = copyDuration(total, 800);
  const lines = (d: number) => {
    const out = [...head];
    for (const a of plan.allocs) {
      out.push(...allocLines(store, [a]), `new volume ID is '${a.volid}'`);
    }
    for (const a of disks) {
      const lv = store.storages.get(storageOf(a.volid));
      const dev =
        lv?.type === "lvmthin" ? `/dev/${lv.vgname}/${leafName(a.volid)}` : volumePath(store, a.volid);
      out.push(`map 'drive-${a.key}' to '${dev}' (write zeros = 0)`);
    }
    for (const p of steps(10)) {
      out.push(
        `progress ${p}% (read ${Math.floor((total * p) / 100)} bytes, duration ${Math.floor((d * p) / 100_000)} sec)`,
      );
    }
    const sparse = Math.max(0, total - source.usage.diskUsed);
    out.push(
      `total bytes read ${total}, sparse bytes ${sparse} (${total ? ((sparse * 100) / total).toFixed(1) : "0.0"}%)`,
      "space reduction due to 4K zero blocks 1.42%",
      "rescan volumes...",
    );
    if (Number(config.template ?? 0) === 1) out.push("Convert to template.");
    return out;
  };
  const effects: TaskEffect[] = [{ kind: "guest-put", guest }];
  if (pool) effects.push({ kind: "pool-add", vmid, poolid: pool });
  if (ctx.bool("start") && Number(config.template ?? 0) !== 1) effects.push({ kind: "guest-running", vmid });
  return startTask(
    store,
    {
      ...base,
      durationMs: durationMs + (ctx.bool("start") ? DURATION.start : 0),
      lines: (d) => [...lines(d), ...(ctx.bool("start") ? ["Execute autostart"] : [])],
      effects,
    },
    ctx.now,
  ).upid;
}

// ---- lxc: create and restore ----------------------------------------------------------------

/** OS detection from the template name (PVE::LXC::Setup), else "unmanaged". */
function ostypeOf(template: string): string {
  const file = template.split("/").pop() ?? "";
  const known = [
    "debian",
    "devuan",
    "ubuntu",
    "centos",
    "fedora",
    "opensuse",
    "archlinux",
    "alpine",
    "gentoo",
    "nixos",
  ];
  return known.find((os) => file.startsWith(`${os}-`)) ?? "unmanaged";
}

function createLxc(ctx: Ctx): string {
  const { store } = ctx;
  const node = ctx.str("node");
  const vmid = ctx.int("vmid");
  const restore = ctx.bool("restore");
  const force = ctx.bool("force");
  const pool = ctx.optStr("pool");
  const storage = ctx.optStr("storage") ?? "local";
  const ostemplate = ctx.str("ostemplate");
  const existing = store.guests.get(vmid);
  const same = existing && existing.node === node && existing.type === "lxc";
  if (!(same && restore && force)) {
    if (existing)
      throw new PveError(`${kindWord(existing.type)} ${vmid} already exists on node '${existing.node}'`);
  } else if (existing) {
    if (existing.status === "running") throw new PveError("can't overwrite running container");
    if (Number(existing.config.protection ?? 0) === 1)
      throw new PveError(`unable to restore CT ${vmid} - protection mode enabled`);
  }
  const keys = ctx.optStr("ssh-public-keys");
  if (keys !== undefined) validateSshKeys(keys);
  if (pool !== undefined) checkPoolExists(store, pool);
  const { unprivileged, ...options } = configParams(ctx, LXC_CONTROL);
  const unprivilegedCt = restore ? unprivileged === 1 : unprivileged !== 0;
  checkLxcOptions(ctx, undefined, options, [], unprivilegedCt);
  checkVolumeAccess(ctx, ostemplate);
  if (!ostemplate.includes(":")) throw new PveError(`unable to parse volume ID '${ostemplate}'`);
  usableStorage(store, storageOf(ostemplate), node);

  const params = configParams(ctx, LXC_CONTROL);
  const mounts: GuestConfig = {};
  for (const key of Object.keys(params)) {
    if (isDiskKey("lxc", key)) {
      const v = String(params[key]);
      mounts[key] = /^\d+(\.\d+)?$/.test(v) ? `${storage}:${v}` : v;
      delete params[key];
    } else if (/^unused\d+$/.test(key)) {
      delete params[key];
    }
  }
  if (Object.keys(mounts).length > 0 && mounts.rootfs === undefined)
    throw new PveError("mount points configured, but 'rootfs' not set - aborting");
  for (const value of Object.values(mounts)) {
    const d = parseDrive(String(value));
    if (d.volume.includes(":")) imageStorage(store, storageOf(d.volume), node, "lxc");
  }
  if (mounts.rootfs === undefined) imageStorage(store, storage, node, "lxc");
  for (const key of Object.keys(params)) {
    if (/^net\d+$/.test(key)) params[key] = lxcNetWithMac(String(params[key]));
  }
  const emsg = `unable to ${restore ? "restore" : "create"} CT ${vmid} -`;

  const vol = restore ? backupVolume(ctx, ostemplate) : findVolume(store, node, ostemplate);
  const startEffects: TaskEffect[] = existing
    ? [{ kind: "guest-lock", vmid, lock: "create" }]
    : [{ kind: "guest-put", guest: emptyGuest(vmid, "lxc", node, { lock: "create" }) }];
  const abortEffects: TaskEffect[] = existing
    ? [{ kind: "guest-lock", vmid, lock: null }]
    : [{ kind: "guest-remove", vmid }];
  const base = {
    node,
    type: restore ? "vzrestore" : "vzcreate",
    id: String(vmid),
    user: ctx.user,
    startEffects,
    abortEffects,
  };
  const fail = (message: string, lines: string[] = []) =>
    startTask(
      store,
      {
        ...base,
        durationMs: DURATION.failFast,
        lines,
        outcome: { kind: "error", message: `${emsg} ${message}` },
      },
      ctx.now,
    ).upid;

  const starting = same && restore && existing && restoreBlockedByStart(store, existing, ctx.now);
  if (starting) return fail(starting);
  const path = volumePath(store, ostemplate);
  const source = vol && restore ? backedUp(ctx, vol) : undefined;
  if (source && source.type !== "lxc")
    return fail(`unable to restore '${ostemplate}' - not a container backup`);
  let mountSource: GuestConfig = mounts;
  if (Object.keys(mounts).length === 0) {
    mountSource = {};
    if (source) {
      for (const [k, v] of Object.entries(source.config)) {
        if (isDiskKey("lxc", k)) mountSource[k] = v;
      }
    } else {
      mountSource.rootfs = `${storage}:4`;
    }
  }
  // Allocate: new volumes from <storage>:<GiB>, restored ones on `storage` with their old size.
  const config: GuestConfig = {};
  const allocs: Allocation[] = [];
  const taken = new Set<string>();
  for (const key of Object.keys(mountSource).sort((a, b) =>
    a === "rootfs" ? -1 : b === "rootfs" ? 1 : a < b ? -1 : 1,
  )) {
    const d = parseDrive(String(mountSource[key]));
    const m = NEW_DISK_RE.exec(d.volume);
    let sid: string;
    let size: number;
    if (m) {
      sid = m[1] ?? storage;
      size = Math.floor(Number(m[2]) * 1024 * 1024) * KiB;
    } else if (source && mounts[key] === undefined) {
      sid = storage;
      size = sizeOf(String(mountSource[key]));
      try {
        imageStorage(store, sid, node, "lxc");
      } catch (e) {
        if (e instanceof PveError) return fail(e.errors ? String(Object.values(e.errors)[0]) : e.message);
        throw e;
      }
    } else {
      config[key] = String(mountSource[key]);
      continue;
    }
    const s = store.storages.get(sid);
    const name = nextDiskName(taken, sid, vmid);
    const volid = s?.path ? `${sid}:${vmid}/${name}.raw` : `${sid}:${name}`;
    taken.add(volid);
    d.volume = volid;
    d.opts.set("size", formatSize(size));
    config[key] = printDrive(d);
    allocs.push({ key, volid, size });
  }

  const blocks = (bytes: number) => Math.floor(bytes / 4096);
  const mkfs = (a: Allocation) => [
    ...allocLines(store, [a]),
    `Creating filesystem with ${blocks(a.size)} 4k blocks and ${Math.floor(blocks(a.size) / 4)} inodes`,
    `Filesystem UUID: ${randomUuid()}`,
    "Superblock backups stored on blocks: ",
    "\t32768, 98304, 163840, 229376, 294912, 819200, 884736, 1605632",
  ];
  const full = capacityError(store, node, allocs);
  if (full) {
    const done = allocs.slice(0, full.index).flatMap(mkfs);
    return fail(full.message, [
      ...(source ? [`recovering backed-up configuration from '${ostemplate}'`] : []),
      ...done,
    ]);
  }
  const lines: string[] = [];
  if (source) lines.push(`recovering backed-up configuration from '${ostemplate}'`);
  for (const a of allocs) lines.push(...mkfs(a));
  if (!vol) {
    lines.push(
      `extracting archive '${path}'`,
      `tar: ${path}: Cannot open: No such file or directory`,
      "tar: Error is not recoverable: exiting now",
    );
    return fail(
      `command 'lxc-usernsexec -m u:0:100000:65536 -m g:0:100000:65536 -- tar xpf - --zstd --totals --one-file-system -p --sparse --numeric-owner --acls --xattrs '--xattrs-include=user.*' '--xattrs-include=security.capability' '--warning=no-file-ignored' '--warning=no-xattr-write' -C /var/lib/lxc/${vmid}/rootfs --skip-old-files --anchored --exclude './dev/*'' failed: exit code 2`,
      lines,
    );
  }
  const read = source ? Math.max(vol.size, source.usage.diskUsed) : Math.round(vol.size * 3.8);
  if (source) lines.push(`restoring '${ostemplate}' now..`);
  lines.push(
    `extracting archive '${path}'`,
    `Total bytes read: ${read} (${(read / GiB).toFixed(1)}GiB, 212MiB/s)`,
  );
  if (source) lines.push("merging backed-up and given configuration..");
  else {
    lines.push("Detected container architecture: amd64");
    for (const alg of ["rsa", "ecdsa", "ed25519"]) {
      lines.push(
        `Creating SSH host key 'ssh_host_${alg}_key' - this may take some time ...`,
        `done: SHA256:${fingerprint()} root@${params.hostname ?? `CT${vmid}`}`,
      );
    }
  }

  // update_pct_config, then the defaults create_vm sets.
  const merged: GuestConfig = source
    ? copyConfig(
        source.config,
        (k) => isDiskKey("lxc", k) || /^unused\d+$/.test(k) || k === "lock" || k === "parent",
      )
    : { arch: "amd64", ostype: ostypeOf(ostemplate) };
  for (const [k, v] of Object.entries(params)) merged[k] = v;
  Object.assign(merged, config);
  if (ctx.bool("unique") && source) {
    for (const key of Object.keys(merged))
      if (/^net\d+$/.test(key))
        merged[key] = lxcNetWithMac(String(merged[key]).replace(/,?hwaddr=[^,]*/, ""));
  }
  if (merged.tags !== undefined) merged.tags = uniqueTags(String(merged.tags));
  merged.hostname ??= `CT${vmid}`;
  merged.memory ??= 512;
  merged.swap ??= 512;
  // A new container is unprivileged unless asked otherwise (create_vm: `$unprivileged = 1 if
  // !defined`); the flag is extracted from the parameters, so `0` is never written.
  if (restore ? ctx.bool("unprivileged") : ctx.params.unprivileged !== false) merged.unprivileged = 1;
  else if (!restore) delete merged.unprivileged;
  const guest = emptyGuest(vmid, "lxc", node, sortConfig(merged));
  guest.usage = source
    ? { ...source.usage }
    : freshUsage(vmid, "lxc", bootDiskSize({ ...guest, config: merged }));

  const effects: TaskEffect[] = [{ kind: "guest-put", guest }];
  if (pool) effects.push({ kind: "pool-add", vmid, poolid: pool });
  let durationMs = source ? copyDuration(read, 1500) : DURATION.lxcCreate;
  if (ctx.bool("start")) {
    effects.push({ kind: "guest-running", vmid });
    durationMs += DURATION.start;
  }
  return startTask(store, { ...base, durationMs, lines, effects }, ctx.now).upid;
}

/** An ssh-keygen SHA256 fingerprint: 32 random bytes, base64 without padding. */
function fingerprint(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))).replace(/=+$/, "");
}

// ---- destroy ---------------------------------------------------------------------------------

function destroy(type: GuestType) {
  return (ctx: Ctx): string => {
    const g = loadGuest(ctx, type);
    const kind = kindWord(type);
    rootOnly(ctx, "skiplock");
    if (Number(g.config.protection ?? 0) === 1)
      throw new PveError(`can't remove ${kind} ${g.vmid} - protection mode enabled`);
    const taskType = type === "qemu" ? "qmdestroy" : "vzdestroy";
    if (type === "lxc") {
      // pve-container checks the lock early, before forking.
      const lock = lockError(g);
      if (lock) throw new PveError(lock);
      if (g.status === "running" && !ctx.bool("force"))
        throw new PveError(`unable to destroy CT ${g.vmid} - container is running`);
    } else {
      if (g.status === "running") throw new PveError(`VM ${g.vmid} is running - destroy failed`);
      const lock = !ctx.bool("skiplock") && lockError(g);
      if (lock)
        return guestTask(ctx, g, {
          type: taskType,
          durationMs: 300,
          outcome: { kind: "error", message: lock },
        });
    }
    const flock = flockError(ctx.store, g, ctx.now);
    if (flock)
      return guestTask(ctx, g, {
        type: taskType,
        durationMs: 10_000,
        outcome: { kind: "error", message: flock },
      });
    const lines: string[] = [];
    if (g.status === "running") lines.push(`forced to stop CT ${g.vmid} before destroying!`);
    // A base volume that linked clones still use stays (destroy_vm only warns about it).
    const others = [...ctx.store.guests.values()].filter((o) => o.vmid !== g.vmid).flatMap(guestVolumes);
    for (const v of guestVolumes(g)) {
      if (others.some((o) => o.startsWith(`${v}/`))) {
        lines.push(
          `Could not remove disk '${v}', check manually: base volume '${volname(v)}' is still in use by linked clones`,
        );
      } else {
        lines.push(...freeLines(ctx.store, [v]));
      }
    }
    if (ctx.bool("purge")) lines.push(`purging ${kind} ${g.vmid} from related configurations..`);
    const startEffects: TaskEffect[] = [];
    if (g.status === "running") startEffects.push({ kind: "guest-stopped", vmid: g.vmid });
    startEffects.push({ kind: "guest-lock", vmid: g.vmid, lock: "destroyed" });
    return guestTask(ctx, g, {
      type: taskType,
      durationMs: DURATION.destroy,
      lines,
      startEffects,
      effects: [{ kind: "guest-remove", vmid: g.vmid }],
      abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
    });
  };
}

// ---- template --------------------------------------------------------------------------------

function template(type: GuestType) {
  return (ctx: Ctx): string => {
    const g = loadGuest(ctx, type);
    const lock = lockError(g);
    if (lock) throw new PveError(lock);
    if (type === "qemu" && g.snapshots.length > 0)
      throw new PveError("unable to create template, because VM contains snapshots");
    if (isTemplate(g) && !(type === "qemu" && ctx.has("disk")))
      throw new PveError("you can't convert a template to a template");
    if (g.status === "running") {
      throw new PveError(
        type === "qemu"
          ? "you can't convert a VM to template if VM is running"
          : "you can't convert a CT to template if the CT is running",
      );
    }
    const only = ctx.optStr("disk");
    const set: GuestConfig = { template: 1 };
    const lines: string[] = [];
    for (const d of guestDisks(g)) {
      if (d.key.startsWith("unused") || (only && d.key !== only)) continue;
      const name = leafName(d.volid);
      if (!name.startsWith("vm-")) continue;
      const base = name.replace(/^vm-/, "base-");
      const s = ctx.store.storages.get(storageOf(d.volid));
      const prefix = volname(d.volid).slice(0, -name.length);
      set[d.key] = String(g.config[d.key]).replace(d.volid, `${storageOf(d.volid)}:${prefix}${base}`);
      if (s?.type === "lvmthin") {
        lines.push(
          `  Renamed "${name}" to "${base}" in volume group "${s.vgname}"`,
          `  Logical volume ${s.vgname}/${base} changed.`,
          "  WARNING: Combining activation change with other commands is not advised.",
        );
      }
    }
    return guestTask(ctx, g, {
      type: type === "qemu" ? "qmtemplate" : "vztemplate",
      durationMs: DURATION.template,
      lines,
      effects: [{ kind: "guest-config", vmid: g.vmid, set }],
    });
  };
}

export const provisionRoutes: Route[] = [
  { method: "POST", path: "/nodes/{node}/qemu", handler: createQemu },
  { method: "POST", path: "/nodes/{node}/lxc", handler: createLxc },
  { method: "DELETE", path: "/nodes/{node}/qemu/{vmid}", handler: destroy("qemu") },
  { method: "DELETE", path: "/nodes/{node}/lxc/{vmid}", handler: destroy("lxc") },
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/template", handler: template("qemu") },
  { method: "POST", path: "/nodes/{node}/lxc/{vmid}/template", handler: template("lxc") },
];
