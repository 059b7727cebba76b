// Changing guest configs and disk sizes (qemu-server PVE/API2/Qemu.pm update_vm/update_vm_async and
// resize_vm, pve-container PVE/API2/LXC/Config.pm update_vm and PVE/API2/LXC.pm resize_vm).

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { propertySchema } from "../api/validate";
import { API_SCHEMA } from "../generated/api-schema";
import type { GuestConfig, GuestState, GuestType } from "../state/model";
import { configDigest, sizeOf } from "../state/seed";
import { exitStatus, isRunning, scaledDuration, tick } from "../state/tasks";
import {
  type Allocation,
  allocLines,
  capacityError,
  cryptPassword,
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
  storageOf,
  uriUnescape,
  usableStorage,
  validateSshKeys,
  volname,
} from "./disks";
import { guestTask, loadGuest, lockError } from "./guests";
import { configParams, findVolume, flockError, uniqueTags } from "./guestutil";
import {
  checkLxcOptions,
  checkQemuUpdate,
  checkQemuUpdateDevices,
  cleanupDrivePaths,
  rootOnly,
} from "./root-only";
import { storageRow } from "./storage";

const QEMU_CONTROL = new Set([
  "node",
  "vmid",
  "skiplock",
  "delete",
  "revert",
  "force",
  "digest",
  "background_delay",
  "skip_cloud_init",
  "import-working-storage",
]);
const LXC_CONTROL = new Set(["node", "vmid", "delete", "revert", "digest"]);

/** Options a running VM takes at once (qemu-server vmconfig_hotplug_pending $fast_plug_option, cloud-init). */
const QEMU_FAST = new Set([
  "name",
  "onboot",
  "description",
  "protection",
  "tags",
  "startup",
  "shares",
  "hotplug",
  "vmstatestorage",
  "hookscript",
  "migrate_downtime",
  "migrate_speed",
  "tdf",
  "ciuser",
  "citype",
  "ciupgrade",
  "cicustom",
  "sshkeys",
  "nameserver",
  "searchdomain",
  "balloon",
]);

/** Options a running container takes at once (pve-container vmconfig_hotplug_pending). */
const LXC_HOT = new Set([
  "cpulimit",
  "cpuunits",
  "memory",
  "swap",
  "cores",
  "description",
  "onboot",
  "protection",
  "tags",
  "startup",
  "hookscript",
  "timezone",
]);

const DIGEST_MISMATCH: Record<GuestType, string> = {
  qemu: "checksum mismatch (file change by other user?)",
  // PVE::Tools::assert_if_modified
  lxc: "detected modified configuration - file changed by other user? Try again.",
};

/** parse_hotplug_features: "1" is the default set, "0" none. */
function hotplugFeatures(g: GuestState): Set<string> {
  const v = String(g.config.hotplug ?? "network,disk,usb");
  if (v === "0") return new Set();
  if (v === "1") return new Set(["network", "disk", "usb"]);
  return new Set(v.split(","));
}

function isHot(g: GuestState, key: string): boolean {
  if (g.type === "lxc") return LXC_HOT.has(key) || /^(net|mp)\d+$/.test(key);
  if (QEMU_FAST.has(key) || /^ipconfig\d+$/.test(key)) return true;
  const hot = hotplugFeatures(g);
  if (/^net\d+$/.test(key)) return hot.has("network");
  if (/^usb\d+$/.test(key)) return hot.has("usb");
  if (key === "cores" || key === "vcpus") return hot.has("cpu");
  if (key === "memory") return hot.has("memory");
  if (/^(scsi|virtio)\d+$/.test(key)) return hot.has("disk");
  // CD media can be changed live; other IDE/SATA devices cannot be hot-plugged.
  if (/^(ide|sata)\d+$/.test(key)) return isCdrom(parseDrive(String(g.pending[key] ?? g.config[key] ?? "")));
  return false;
}

/** add_unused_volume: the first free unused<N>, unless the volume is listed already. */
function addUnused(config: GuestConfig, volid: string): void {
  for (const [k, v] of Object.entries(config)) if (/^unused\d+$/.test(k) && v === volid) return;
  for (let n = 0; ; n++) {
    if (config[`unused${n}`] === undefined) {
      config[`unused${n}`] = volid;
      return;
    }
  }
}

/** A disk value that is dropped keeps its volume as unused<N> (a CD or passthrough does not). */
function retireDrive(
  g: GuestState,
  config: GuestConfig,
  value: string | number | undefined,
  force: boolean,
): string[] {
  if (value === undefined) return [];
  const d = parseDrive(String(value));
  if (isCdrom(d) || !d.volume.includes(":")) return [];
  const inSnapshot = g.snapshots.some((s) =>
    Object.values(s.config).some((v) => typeof v === "string" && parseDrive(v).volume === d.volume),
  );
  if (force && !inSnapshot) return [d.volume];
  if (!inSnapshot) addUnused(config, d.volume);
  return [];
}

interface Change {
  /** The log line of the update and any warnings. */
  lines: string[];
  allocs: Allocation[];
  apply: () => void;
}

/**
 * Computes a config update the way update_vm does it: everything is written to pending, then applied
 * (stopped guest) or hot-plugged where possible (running guest). Returns a change to apply, or throws.
 */
function planUpdate(
  ctx: Ctx,
  g: GuestState,
  params: GuestConfig,
  deletes: string[],
  force: boolean,
  reverts: string[] = [],
): Change {
  const { store } = ctx;
  const node = ctx.str("node");
  const conf: GuestConfig = { ...g.config };
  const pending: GuestConfig = { ...g.pending };
  let pendingDelete = [...g.pendingDelete];
  for (const key of reverts) {
    delete pending[key];
    pendingDelete = pendingDelete.filter((k) => k !== key);
  }
  const lines: string[] = [];
  const allocs: Allocation[] = [];
  const freed: string[] = [];
  const taken = new Set(guestVolumes(g));
  const protectedGuest = Number(conf.protection ?? 0) === 1 && params.protection === undefined;

  for (const opt of deletes) {
    const val = conf[opt] ?? pending[opt];
    if (val === undefined) {
      lines.push(`cannot delete '${opt}' - not set in current configuration!`);
      continue;
    }
    delete pending[opt];
    if (/^unused\d+$/.test(opt)) {
      if (protectedGuest)
        throw new PveError(
          `can't remove unused disk '${parseDrive(String(val)).volume}' - protection mode enabled`,
        );
      freed.push(parseDrive(String(val)).volume);
      delete conf[opt];
    } else if (isDiskKey(g.type, opt)) {
      if (g.type === "lxc" && opt === "rootfs")
        throw new PveError("unable to delete required option 'rootfs'");
      if (protectedGuest) throw new PveError(`can't remove drive '${opt}' - protection mode enabled`);
      if (!pendingDelete.includes(opt)) pendingDelete.push(opt);
    } else if (opt === "tags") {
      delete conf.tags;
    } else if (!pendingDelete.includes(opt)) {
      pendingDelete.push(opt);
    }
  }

  for (const opt of Object.keys(params).sort()) {
    let value = params[opt] as string | number;
    if (pending[opt] !== undefined && String(pending[opt]) === String(value)) continue;
    if (isDiskKey(g.type, opt)) {
      const d = parseDrive(String(value));
      const m = NEW_DISK_RE.exec(d.volume);
      if (m && !isCdrom(d)) {
        const sid = m[1];
        if (!sid) throw new PveError("no storage ID specified (and no default storage)");
        const s = usableStorage(store, sid, node);
        const name = nextDiskName(taken, sid, g.vmid);
        const volid = s.path
          ? `${sid}:${g.vmid}/${name}.${g.type === "qemu" ? "qcow2" : "raw"}`
          : `${sid}:${name}`;
        const size =
          opt === "efidisk0" || opt === "tpmstate0" ? 4 * MiB : Math.floor(Number(m[2]) * 1024 * 1024) * KiB;
        taken.add(volid);
        d.volume = volid;
        d.opts.delete("format");
        d.opts.set("size", formatSize(size));
        allocs.push({ key: opt, volid, size });
        value = printDrive(d);
        if (g.type === "qemu") lines.push(`${opt}: successfully created disk '${value}'`);
      } else if (d.volume === "none" || d.volume === "cdrom") {
        d.opts.delete("size");
        value = printDrive(d);
      } else if (d.volume.includes(":") && !leafName(d.volume).includes("cloudinit")) {
        const vol = findVolume(store, node, d.volume);
        if (vol) {
          d.opts.set("size", formatSize(vol.size));
          value = printDrive(d);
        } else if (!taken.has(d.volume)) {
          throw new PveError(`volume ${d.volume} does not exist`);
        }
      }
      pending[opt] = value;
    } else if (opt === "cipassword") {
      conf.cipassword = /^\$(?:[156]|2[ay])(\$.+){2}/.test(String(value)) ? value : cryptPassword();
    } else if (opt === "tags") {
      pending.tags = uniqueTags(String(value));
    } else if (opt === "boot") {
      const order = /(?:^|,)order=([^,]+)/.exec(String(value))?.[1];
      for (const dev of order ? order.split(";") : []) {
        const exists = conf[dev] !== undefined || pending[dev] !== undefined || params[dev] !== undefined;
        if (!exists || deletes.includes(dev))
          throw new PveError(`invalid bootorder: device '${dev}' does not exist'`);
      }
      pending.boot = value;
    } else if (/^net\d+$/.test(opt)) {
      pending[opt] = g.type === "qemu" ? qemuNetWithMac(String(value)) : lxcNetWithMac(String(value));
    } else {
      pending[opt] = value;
    }
    pendingDelete = pendingDelete.filter((k) => k !== opt);
  }

  // cleanup_pending: drop pending values equal to the current ones and deletes of unset keys.
  for (const [k, v] of Object.entries(pending))
    if (conf[k] !== undefined && String(conf[k]) === String(v)) delete pending[k];
  pendingDelete = pendingDelete.filter((k) => conf[k] !== undefined);

  const running = g.status === "running";
  const hot = (k: string) => !running || isHot({ ...g, config: conf, pending }, k);
  return {
    lines,
    allocs,
    apply: () => {
      for (const k of [...pendingDelete]) {
        if (!hot(k)) continue;
        if (isDiskKey(g.type, k)) freed.push(...retireDrive(g, conf, conf[k], force));
        delete conf[k];
        pendingDelete = pendingDelete.filter((x) => x !== k);
      }
      for (const [k, v] of Object.entries(pending)) {
        if (!hot(k)) continue;
        if (
          isDiskKey(g.type, k) &&
          conf[k] !== undefined &&
          parseDrive(String(conf[k])).volume !== parseDrive(String(v)).volume
        )
          freed.push(...retireDrive(g, conf, conf[k], false));
        conf[k] = v;
        delete pending[k];
      }
      g.config = conf;
      g.pending = pending;
      g.pendingDelete = pendingDelete;
      store.guests.put(g);
      lines.push(...freeLines(store, freed));
    },
  };
}

/** The option names a config update may touch (schema properties, [n] families resolved). */
function knownOption(type: GuestType, key: string): boolean {
  const schema = API_SCHEMA[`PUT /nodes/{node}/${type}/{vmid}/config`];
  return (
    propertySchema(schema?.parameters.properties, key) !== undefined &&
    !["node", "vmid", "digest", "delete", "revert"].includes(key)
  );
}

/** Parameter checks done before anything is locked or forked. */
function parseUpdate(ctx: Ctx, type: GuestType): { params: GuestConfig; deletes: string[] } {
  const params = configParams(ctx, type === "qemu" ? QEMU_CONTROL : LXC_CONTROL);
  if (params.sshkeys !== undefined) validateSshKeys(uriUnescape(String(params.sshkeys)));
  const deletes = ctx.has("delete")
    ? ctx
        .str("delete")
        .split(/[\s,;]+/)
        .filter(Boolean)
    : [];
  const reverts = ctx.has("revert")
    ? ctx
        .str("revert")
        .split(/[\s,;]+/)
        .filter(Boolean)
    : [];
  if (deletes.length + reverts.length + Object.keys(params).length === 0)
    throw new PveError("no options specified");
  if (type === "qemu" && params.cdrom !== undefined) {
    const v = String(params.cdrom);
    params.ide2 = /media=/.test(v) ? v : `${v},media=cdrom`;
    delete params.cdrom;
  }
  for (const opt of reverts) {
    if (!knownOption(type, opt)) throw paramError({ revert: `unknown option '${opt}'` });
    if (params[opt] !== undefined)
      throw paramError({ delete: `you can't use '-${opt}' and -revert ${opt}' at the same time` });
  }
  for (let opt of deletes) {
    if (type === "qemu" && opt === "cdrom") opt = "ide2";
    if (params[opt] !== undefined)
      throw paramError({ delete: `you can't use '-${opt}' and -delete ${opt}' at the same time` });
    if (reverts.includes(opt))
      throw paramError({ revert: `you can't use '-delete ${opt}' and -revert ${opt}' at the same time` });
    if (!knownOption(type, opt) && !/^unused\d+$/.test(opt))
      throw paramError({ delete: `unknown option '${opt}'` });
  }
  if (type === "qemu") cleanupDrivePaths(ctx, params);
  const node = ctx.str("node");
  for (const key of Object.keys(params)) {
    if (!isDiskKey(type, key)) continue;
    const d = parseDrive(String(params[key]));
    const m = NEW_DISK_RE.exec(d.volume);
    if (m && !isCdrom(d) && m[1]) imageStorage(ctx.store, m[1], node, type);
    else if (d.volume.includes(":")) {
      usableStorage(ctx.store, storageOf(d.volume), node);
      if (type === "qemu" && volname(d.volume).startsWith("iso/") && !isCdrom(d))
        throw paramError({ [key]: "explicit 'media=cdrom' is required for iso images" });
    }
  }
  return { params, deletes: deletes.map((o) => (type === "qemu" && o === "cdrom" ? "ide2" : o)) };
}

/** Reverts: a pending change is dropped (the current value stays); returns the reverted keys. */
function reverted(ctx: Ctx): string[] {
  return ctx.has("revert")
    ? ctx
        .str("revert")
        .split(/[\s,;]+/)
        .filter(Boolean)
    : [];
}

/** load_and_check_config: digest, lock, balloon. */
function checkConfig(ctx: Ctx, g: GuestState, params: GuestConfig): void {
  const digest = ctx.optStr("digest");
  if (g.type === "lxc") {
    const lock = lockError(g);
    if (lock) throw new PveError(lock);
  }
  if (digest && digest !== configDigest(g.config)) throw new PveError(DIGEST_MISMATCH[g.type]);
  if (g.type === "qemu") {
    const lock = !ctx.bool("skiplock") && lockError(g);
    if (lock) throw new PveError(lock);
    if (params.memory !== undefined || params.balloon !== undefined) {
      const mem = Number.parseInt(
        String(params.memory ?? g.pending.memory ?? g.config.memory ?? "512").replace(/^current=/, ""),
        10,
      );
      const balloon = Number(params.balloon ?? g.pending.balloon ?? g.config.balloon ?? 0);
      if (balloon && balloon > mem)
        throw new PveError("balloon value too large (must be smaller than assigned memory)");
    }
  }
  const flock = flockError(ctx.store, g, ctx.now);
  if (flock) throw new PveError(flock);
}

/** The "update VM <id>: -key value ..." line, with the password hidden. */
function updateLine(ctx: Ctx, vmid: number): string {
  const skip = new Set([
    "node",
    "vmid",
    "digest",
    "background_delay",
    "skip_cloud_init",
    "import-working-storage",
  ]);
  const parts: string[] = [];
  for (const key of Object.keys(ctx.params).sort()) {
    if (skip.has(key)) continue;
    const v = ctx.params[key];
    parts.push(
      `-${key}`,
      key === "cipassword" ? "<hidden>" : typeof v === "boolean" ? (v ? "1" : "0") : String(v),
    );
  }
  return `update VM ${vmid}: ${parts.join(" ")}`;
}

function updateQemuSync(ctx: Ctx): null {
  rootOnly(ctx, "skiplock");
  const g = loadGuest(ctx, "qemu");
  const { params, deletes } = parseUpdate(ctx, "qemu");
  checkQemuUpdate(ctx, params, deletes);
  checkConfig(ctx, g, params);
  checkQemuUpdateDevices(ctx, g, params, deletes);
  const change = planUpdate(ctx, g, params, deletes, ctx.bool("force"), reverted(ctx));
  const full = capacityError(ctx.store, g.node, change.allocs);
  if (full) throw new PveError(full.message);
  change.apply();
  return null;
}

async function updateQemuAsync(ctx: Ctx): Promise<string | null> {
  rootOnly(ctx, "skiplock");
  const g = loadGuest(ctx, "qemu");
  const { params, deletes } = parseUpdate(ctx, "qemu");
  checkQemuUpdate(ctx, params, deletes);
  checkConfig(ctx, g, params);
  const lines = [updateLine(ctx, g.vmid)];
  let outcome: { kind: "error"; message: string } | undefined;
  try {
    checkQemuUpdateDevices(ctx, g, params, deletes);
    const change = planUpdate(ctx, g, params, deletes, ctx.bool("force"), reverted(ctx));
    const full = capacityError(ctx.store, g.node, change.allocs);
    if (full) throw new PveError(full.message);
    change.apply();
    lines.push(...allocLines(ctx.store, change.allocs), ...change.lines);
  } catch (e) {
    if (!(e instanceof PveError)) throw e;
    outcome = { kind: "error", message: e.errors ? Object.values(e.errors).join("\n") : e.message };
  }
  const task = guestTask(ctx, g, {
    type: "qmconfig",
    durationMs: 500,
    lines,
    ...(outcome ? { outcome } : {}),
  });
  const delay = ctx.optInt("background_delay");
  if (!delay) return task;
  // Waits up to background_delay seconds: null when the task ended fine, an error when it failed.
  const t = ctx.store.tasks.get(task);
  const wait = Math.min(delay * 1000, scaledDuration(ctx.store, 500));
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  tick(ctx.store, Date.now());
  if (!t || isRunning(t, Date.now())) return task;
  const status = exitStatus(t);
  if (status === "OK" || status.startsWith("WARNINGS")) return null;
  throw new PveError(`failed to update VM ${g.vmid}: ${status}`);
}

function updateLxc(ctx: Ctx): null {
  const g = loadGuest(ctx, "lxc");
  const { params, deletes } = parseUpdate(ctx, "lxc");
  checkConfig(ctx, g, params);
  const unprivileged = Number(g.config.unprivileged ?? 0) === 1;
  checkLxcOptions(ctx, g.config, {}, [...deletes, ...reverted(ctx)], unprivileged);
  checkLxcOptions(ctx, g.config, params, [], unprivileged);
  const change = planUpdate(ctx, g, params, deletes, false, reverted(ctx));
  const full = capacityError(ctx.store, g.node, change.allocs);
  if (full) throw new PveError(full.message);
  change.apply();
  return null;
}

// ---- resize ----------------------------------------------------------------------------------

function resize(type: GuestType) {
  return (ctx: Ctx): string => {
    const g = loadGuest(ctx, type);
    if (type === "qemu") rootOnly(ctx, "skiplock");
    const disk = ctx.str("disk");
    const sizeStr = ctx.str("size");
    const fail = (message: string) =>
      guestTask(ctx, g, { type: "resize", durationMs: 300, outcome: { kind: "error", message } });
    // Everything below runs in the worker (since qemu-server 8.0 / pve-container 5.0).
    const digest = ctx.optStr("digest");
    if (digest && digest !== configDigest(g.config)) return fail(DIGEST_MISMATCH[type]);
    const lock = !(type === "qemu" && ctx.bool("skiplock")) && lockError(g);
    if (lock) return fail(lock);
    const flock = flockError(ctx.store, g, ctx.now);
    if (flock) return fail(flock);
    const value = g.config[disk];
    if (value === undefined) return fail(`disk '${disk}' does not exist`);
    const d = parseDrive(String(value));
    if (!d.volume?.includes(":")) return fail(`disk '${disk}' has no associated volume`);
    if (isCdrom(d)) return fail("you can't resize a cdrom");
    const size = sizeOf(String(value));
    const m = /^(\+)?(\d+(?:\.\d+)?)([KMGT])?$/.exec(sizeStr) as RegExpExecArray;
    const unit = { K: KiB, M: MiB, G: GiB, T: 1024 * GiB }[m[3] as "K" | "M" | "G" | "T"] ?? 1;
    let newsize = Number(m[2]) * unit;
    if (m[1]) newsize += size;
    newsize = Math.floor(newsize);
    if (newsize < size) return fail("shrinking disks is not supported");
    if (newsize === size) return guestTask(ctx, g, { type: "resize", durationMs: 300 });
    const s = ctx.store.storages.get(storageOf(d.volume));
    const full = capacityError(ctx.store, g.node, [{ key: disk, volid: d.volume, size: newsize - size }]);
    if (full && s) {
      const avail = storageRow(ctx.store, s, g.node).avail;
      const extents = (b: number) => Math.max(0, Math.floor(b / (4 * MiB)));
      return fail(
        s.type === "lvmthin"
          ? `lvextend '${s.vgname}/${leafName(d.volume)}' error:   Insufficient free space: ${extents(newsize - size)} extents needed, but only ${extents(avail)} available`
          : full.message,
      );
    }
    const lines: string[] = [];
    if (s?.type === "lvmthin") {
      const ext = (b: number) => `${(b / GiB).toFixed(2)} GiB (${Math.floor(b / (4 * MiB))} extents)`;
      lines.push(
        `  Size of logical volume ${s.vgname}/${leafName(d.volume)} changed from ${ext(size)} to ${ext(newsize)}.`,
        `  Logical volume ${s.vgname}/${leafName(d.volume)} successfully resized.`,
      );
    }
    if (type === "lxc") {
      const dev = s?.type === "lvmthin" ? `/dev/${s.vgname}/${leafName(d.volume)}` : `/dev/loop${g.vmid % 8}`;
      const blocks = Math.floor(newsize / 4096);
      if (g.status === "running") {
        lines.push(
          "resize2fs 1.47.2 (1-Jan-2025)",
          `Filesystem at ${dev} is mounted on /tmp; on-line resizing required`,
          `old_desc_blocks = ${Math.ceil(size / (128 * MiB))}, new_desc_blocks = ${Math.ceil(newsize / (128 * MiB))}`,
          `The filesystem on ${dev} is now ${blocks} (4k) blocks long.`,
        );
      } else {
        lines.push(
          "e2fsck 1.47.2 (1-Jan-2025)",
          "Pass 1: Checking inodes, blocks, and sizes",
          "Pass 2: Checking directory structure",
          "Pass 3: Checking directory connectivity",
          "Pass 4: Checking reference counts",
          "Pass 5: Checking group summary information",
          `${dev}: 41234/${Math.floor(size / 16384)} files (0.3% non-contiguous), 912345/${Math.floor(size / 4096)} blocks`,
          "resize2fs 1.47.2 (1-Jan-2025)",
          `Resizing the filesystem on ${dev} to ${blocks} (4k) blocks.`,
          `The filesystem on ${dev} is now ${blocks} (4k) blocks long.`,
        );
      }
    }
    d.opts.set("size", formatSize(newsize));
    return guestTask(ctx, g, {
      type: "resize",
      durationMs: 1200,
      lines,
      effects: [{ kind: "guest-config", vmid: g.vmid, set: { [disk]: printDrive(d) } }],
    });
  };
}

/**
 * PUT cloudinit (qemu-server's vmconfig_update_cloudinit_drive): rewrites the cloud-init drive
 * from the config so a stopped VM's next boot, or a running VM's next cloud-init run, sees it.
 * A VM without a cloud-init drive has nothing to regenerate, and Proxmox returns quietly.
 */
function regenerateCloudinit(ctx: Ctx): null {
  const g = loadGuest(ctx, "qemu");
  const hasDrive = Object.entries(g.config).some(
    ([key, value]) => /^(ide|sata|scsi)\d+$/.test(key) && /cloudinit/.test(String(value)),
  );
  if (!hasDrive) return null;
  ctx.store.guests.put(g);
  return null;
}

export const configRoutes: Route[] = [
  { method: "PUT", path: "/nodes/{node}/qemu/{vmid}/cloudinit", handler: regenerateCloudinit },
  { method: "PUT", path: "/nodes/{node}/qemu/{vmid}/config", handler: updateQemuSync },
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/config", handler: updateQemuAsync },
  { method: "PUT", path: "/nodes/{node}/lxc/{vmid}/config", handler: updateLxc },
  { method: "PUT", path: "/nodes/{node}/qemu/{vmid}/resize", handler: resize("qemu") },
  { method: "PUT", path: "/nodes/{node}/lxc/{vmid}/resize", handler: resize("lxc") },
];
