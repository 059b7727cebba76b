// What Proxmox lets only the `root@pam` user do, judged from option names and values as
// qemu-server (API2/Qemu.pm $check_vm_modify_config_perm, $check_storage_access, check_usb_perm,
// check_hostpci_perm, check_dir_perm, check_rng_perm), pve-container (LXC.pm
// check_ct_modify_config_perm), pve-storage (check_volume_access) and pve-manager
// (API2/Backup.pm assert_param_permission_common) judge them. `$rpcenv->get_user()` of an API
// token is the whole token id, so `root@pam!mcp` is refused like anyone else: these refusals are
// what a real host answers the product. Written from Proxmox's sources, never from the server's own
// host-option policy (a check both sides share cannot catch the server's mistakes).

import type { Ctx } from "../api/context";
import { checkPrivs, permError } from "../api/permissions";
import { PveError, paramError } from "../api/respond";
import type { GuestConfig, GuestState } from "../state/model";
import { isCdrom, isDiskKey, NEW_DISK_RE, parseDrive, printDrive } from "./disks";

export const isRoot = (ctx: Ctx) => ctx.user === "root@pam";

/** raise_param_exc for a flag only root@pam may use (skiplock, force, migration_type, ...). */
export function rootOnly(ctx: Ctx, ...names: string[]): void {
  for (const name of names) {
    if (ctx.params[name] && !isRoot(ctx)) throw paramError({ [name]: "Only root may use this option." });
  }
}

/**
 * check_volume_access dies without a trailing newline, so Perl appends where it died; a plain die
 * is a 500 whose message is that text (pve-storage 9.1, Storage.pm line 651).
 */
export const ARBITRARY_PATHS =
  "Only root can pass arbitrary filesystem paths. at /usr/share/perl5/PVE/Storage.pm line 651.";

/** PVE::Storage::Plugin::parse_volume_id: `<storage>:<name>`; anything else is a raw path. */
const VOLUME_ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i;

/** PVE::Storage::check_volume_access, for the part only root@pam passes: raw paths. */
export function checkVolumeAccess(ctx: Ctx, volid: string): void {
  if (!VOLUME_ID_RE.test(volid) && !isRoot(ctx)) throw new PveError(ARBITRARY_PATHS);
}

/** A privilege check the simulator's ACL can answer (the built-in token holds every privilege). */
function need(ctx: Ctx, path: string, priv: string): void {
  if (ctx.perms) checkPrivs(ctx.perms, path, [priv], false, false);
}

/** A property string's keys; a bare value belongs to the format's default key. */
function props(value: string, defaultKey: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(",")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq < 0) out.set(defaultKey, part);
    else out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

// ---- qemu-server ----------------------------------------------------------------------------

/**
 * The options $check_vm_modify_config_perm grants by a VM.* privilege ($cpuoptions, $memoryoptions,
 * $hwtypeoptions, $generaloptions, $vmpoweroptions, $diskoptions, $cloudinitoptions, vmstate) or
 * leaves to a value check elsewhere (drives, cdrom, tags). Every other option falls into its last
 * branch, "only root can set", new options included: args, hookscript, ivshmem, lock,
 * parallel[n], affinity, hugepages, keephugepages, amd-sev, intel-tdx, spice_enhancements, arch,
 * vmgenid.
 */
const QEMU_GRANTED = new Set(
  (
    "cores cpu runningcpu cpulimit cpuunits numa smp sockets vcpus " +
    "memory balloon shares allow-ksm " +
    "acpi hotplug kvm machine runningmachine scsihw smbios1 tablet vga watchdog audio0 rng0 " +
    "agent autostart bios description keyboard localtime migrate_downtime migrate_speed name onboot " +
    "ostype protection reboot startdate startup tdf template " +
    "freeze boot bootdisk vmstatestorage running-nets-host-mtu " +
    "cicustom cipassword citype ciuser ciupgrade nameserver searchdomain sshkeys vmstate tags cdrom"
  ).split(" "),
);
const QEMU_GRANTED_FAMILY = /^(numa|net|ipconfig|unused|serial|usb|hostpci|virtiofs)\d+$/;

/** $check_vm_modify_config_perm's last branch, for options set or deleted. */
function checkQemuOptionNames(keys: Iterable<string>): void {
  for (const opt of keys) {
    if (isDiskKey("qemu", opt) || QEMU_GRANTED.has(opt) || QEMU_GRANTED_FAMILY.test(opt)) continue;
    throw new PveError(`only root can set '${opt}' config`);
  }
}

/** $check_storage_access: raw paths as drives, import sources and unused volumes. */
function checkQemuStorage(ctx: Ctx, params: GuestConfig): void {
  for (const key of Object.keys(params).sort()) {
    if (!isDiskKey("qemu", key)) continue;
    const drive = parseDrive(String(params[key]));
    const volid = drive.volume;
    if (!volid || volid === "none" || volid === "cloudinit" || /^[^:]+:cloudinit$/.test(volid)) {
      // nothing to check
    } else if (isCdrom(drive) && volid === "cdrom") {
      // The host's own CD drive is a console matter in Proxmox, not a root one.
      need(ctx, "/", "Sys.Console");
    } else if (isCdrom(drive) || !NEW_DISK_RE.test(volid)) {
      checkVolumeAccess(ctx, volid);
    }
    const source = drive.opts.get("import-from");
    if (source !== undefined && !VOLUME_ID_RE.test(source)) checkVolumeAccess(ctx, source);
  }
  for (const key of Object.keys(params).sort()) {
    if (!/^unused\d+$/.test(key)) continue;
    const volid = parseDrive(String(params[key])).volume;
    if (!VOLUME_ID_RE.test(volid)) throw paramError({ [key]: `not a valid volid: ${volid}` });
  }
}

function checkSerial(ctx: Ctx, opt: string, value: string, verb: "set" | "modify" | "delete"): void {
  if (value === "socket" || isRoot(ctx)) return;
  throw new PveError(`only root can ${verb} '${opt}' config for real devices`);
}

/** check_usb_perm: a host device (anything but `spice`) is root's; a mapping needs Mapping.Use. */
function checkUsb(ctx: Ctx, opt: string, value: string): void {
  if (isRoot(ctx)) return;
  const usb = props(value, "host");
  const host = usb.get("host");
  const mapping = usb.get("mapping");
  if (host !== undefined) {
    if (!/^spice$/i.test(host)) throw new PveError(`only root can set '${opt}' config for real devices`);
  } else if (mapping !== undefined) need(ctx, `/mapping/usb/${mapping}`, "Mapping.Use");
  else throw new PveError("either 'host' or 'mapping' must be set.");
}

/** check_hostpci_perm: only a mapped device, and never a romfile, is for anyone but root. */
function checkHostpci(ctx: Ctx, opt: string, value: string): void {
  if (isRoot(ctx)) return;
  const pci = props(value, "host");
  const mapping = pci.get("mapping");
  if (pci.has("host")) throw new PveError(`only root can set '${opt}' config for non-mapped devices`);
  if (mapping === undefined) throw new PveError("either 'host' or 'mapping' must be set.");
  need(ctx, `/mapping/pci/${mapping}`, "Mapping.Use");
  if (pci.has("romfile")) throw paramError({ [opt]: "only root@pam can set 'romfile' option" });
}

/** check_dir_perm and check_rng_perm: virtiofs always names a directory mapping; hwrng is mapped. */
function checkMapped(ctx: Ctx, opt: string, value: string): void {
  if (isRoot(ctx)) return;
  if (/^virtiofs\d+$/.test(opt))
    need(ctx, `/mapping/dir/${props(value, "dirid").get("dirid")}`, "Mapping.Use");
  else if (opt === "rng0" && props(value, "source").get("source") === "/dev/hwrng")
    need(ctx, "/mapping/hwrng", "Mapping.Use");
}

/** The value-dependent device checks for one option (old values of an update included). */
function checkQemuDevice(ctx: Ctx, opt: string, value: string): void {
  if (/^usb\d+$/.test(opt)) checkUsb(ctx, opt, value);
  else if (/^hostpci\d+$/.test(opt)) checkHostpci(ctx, opt, value);
  else if (/^virtiofs\d+$/.test(opt) || opt === "rng0") checkMapped(ctx, opt, value);
}

/** create_vm: the archive, the options, drives and devices, all before anything is locked. */
export function checkQemuCreate(ctx: Ctx, params: GuestConfig, archive: string | undefined): void {
  if (archive !== undefined && archive !== "-") checkVolumeAccess(ctx, archive);
  if (isRoot(ctx) || Object.keys(params).length === 0) return;
  checkQemuStorage(ctx, params);
  checkQemuOptionNames(Object.keys(params));
  for (const [opt, value] of Object.entries(params)) {
    if (/^serial\d+$/.test(opt)) checkSerial(ctx, opt, String(value), "set");
  }
  for (const [opt, value] of Object.entries(params)) checkQemuDevice(ctx, opt, String(value));
}

/**
 * cleanup_drive_path: an update's raw file path (not a device, `cdrom` or `none`) becomes the
 * volume ID of the storage directory it lies in, or the update is refused; root@pam included.
 */
export function cleanupDrivePaths(ctx: Ctx, params: GuestConfig): void {
  for (const key of Object.keys(params).sort()) {
    if (!isDiskKey("qemu", key)) continue;
    const drive = parseDrive(String(params[key]));
    const file = drive.volume;
    if (/^(cdrom|none)$/.test(file)) {
      if (!drive.opts.has("media"))
        params[key] = printDrive({ ...drive, opts: drive.opts.set("media", "cdrom") });
      continue;
    }
    if (/^\/dev\/.+/.test(file) || /^[^:]+:.+$/.test(file) || /^\d+$/.test(file)) continue;
    const volid = pathToVolumeId(ctx, file);
    if (!volid) throw paramError({ [key]: `unable to associate path '${file}' to any storage` });
    if (volid.includes(":iso/") && !drive.opts.has("media")) drive.opts.set("media", "cdrom");
    params[key] = printDrive({ volume: volid, opts: drive.opts });
  }
}

/** PVE::Storage::path_to_volume_id for the directories of path-based storages. */
function pathToVolumeId(ctx: Ctx, path: string): string | undefined {
  for (const s of ctx.store.storages.values()) {
    if (!s.path) continue;
    const base = s.path.replace(/\/+$/, "");
    const iso = new RegExp(`^${escapeRe(base)}/template/iso/([^/]+\\.(?:iso|img))$`, "i").exec(path);
    if (iso) return `${s.storage}:iso/${iso[1]}`;
    const image = new RegExp(`^${escapeRe(base)}/images/(\\d+)/([^/\\s]+)$`).exec(path);
    if (!image) continue;
    const volid = `${s.storage}:${image[1]}/${image[2]}`;
    const owner = ctx.store.guests.get(Number(image[1]));
    if (
      owner &&
      Object.values(owner.config).some((v) => typeof v === "string" && parseDrive(v).volume === volid)
    )
      return volid;
  }
  return undefined;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** update_vm_api before forking: options deleted, then set, then their storage access. */
export function checkQemuUpdate(ctx: Ctx, params: GuestConfig, deletes: readonly string[]): void {
  if (isRoot(ctx)) return;
  checkQemuOptionNames(deletes);
  checkQemuOptionNames(Object.keys(params));
  checkQemuStorage(ctx, params);
}

/**
 * The updatefn's device checks, under the config lock: a device being deleted or replaced is
 * judged by its current value too, so a token cannot remove or swap root's passthrough either.
 * Proxmox writes options it handled before the refused one to the pending section in hash order;
 * here the refusal comes first and nothing changes.
 */
export function checkQemuUpdateDevices(
  ctx: Ctx,
  g: GuestState,
  params: GuestConfig,
  deletes: readonly string[],
): void {
  if (isRoot(ctx)) return;
  const current = (opt: string) => {
    const v = g.config[opt] ?? g.pending[opt];
    return v === undefined ? undefined : String(v);
  };
  for (const opt of deletes) {
    const old = current(opt);
    if (old === undefined) continue;
    if (/^serial\d+$/.test(opt)) checkSerial(ctx, opt, old, "delete");
    else checkQemuDevice(ctx, opt, old);
  }
  for (const [opt, value] of Object.entries(params)) {
    const old = g.config[opt] === undefined ? undefined : String(g.config[opt]);
    if (/^serial\d+$/.test(opt)) {
      if (old !== undefined && old !== "socket") checkSerial(ctx, opt, old, "modify");
      checkSerial(ctx, opt, String(value), "modify");
      continue;
    }
    if (old !== undefined) checkQemuDevice(ctx, opt, old);
    checkQemuDevice(ctx, opt, String(value));
  }
}

// ---- pve-container --------------------------------------------------------------------------

/** classify_mountpoint: an absolute path is a bind mount, or a device under /dev. */
function mountType(volume: string): "volume" | "bind" | "device" {
  if (!volume.startsWith("/")) return "volume";
  return volume.startsWith("/dev/") ? "device" : "bind";
}

/** pve-container's $NEW_DISK_RE: unlike qemu-server's, the storage is not optional. */
const LXC_NEW_DISK_RE = /^[^:\s]+:\d+(\.\d+)?$/;

function featureKeys(value: unknown): Map<string, string> {
  return value === undefined ? new Map() : props(String(value), "");
}

/**
 * check_ct_modify_config_perm: mount points that are not storage volumes, device passthrough,
 * the hook script and feature flags other than nesting (any flag of a privileged container) are
 * root's, each a permission exception (403).
 */
export function checkLxcOptions(
  ctx: Ctx,
  oldconf: GuestConfig | undefined,
  newconf: GuestConfig,
  deletes: readonly string[],
  unprivileged: boolean,
): void {
  if (isRoot(ctx)) return;
  const check = (opt: string, deleting: boolean) => {
    if (opt === "rootfs" || /^mp\d+$/.test(opt)) {
      if (deleting) return;
      const volume = parseDrive(String(newconf[opt])).volume;
      const type = mountType(volume);
      if (type !== "volume") throw permError(`mount point type ${type} is only allowed for root@pam`);
      // A bare size ("8") is not a new disk to this check: it reaches check_volume_access.
      if (!LXC_NEW_DISK_RE.test(volume)) checkVolumeAccess(ctx, volume);
    } else if (/^dev\d+$/.test(opt)) {
      throw permError("configuring device passthrough is only allowed for root@pam");
    } else if (opt === "hookscript") {
      throw permError("changing the hookscript is only allowed for root@pam");
    } else if (opt === "features") {
      if (!unprivileged)
        throw permError("changing feature flags for privileged container is only allowed for root@pam");
      const old = featureKeys(oldconf?.features);
      const now = deleting ? new Map<string, string>() : featureKeys(newconf.features);
      let other = false;
      if (deleting || !old.size) {
        const named = deleting ? old : now;
        other = named.size > (named.has("nesting") ? 1 : 0);
      } else {
        for (const k of new Set([...old.keys(), ...now.keys()])) {
          if (k !== "nesting" && (old.get(k) ?? "") !== (now.get(k) ?? "")) other = true;
        }
      }
      if (other) throw permError("changing feature flags (except nesting) is only allowed for root@pam");
    }
  };
  for (const opt of Object.keys(newconf)) check(opt, false);
  for (const opt of deletes) check(opt, true);
}

// ---- vzdump ---------------------------------------------------------------------------------

/** assert_param_permission_common: given (or deleted) at all, whatever the value. */
export function checkBackupOptions(ctx: Ctx, given: Iterable<string>): void {
  if (isRoot(ctx)) return;
  const keys = new Set(given);
  for (const key of ["tmpdir", "dumpdir", "script", "job-id"]) {
    if (keys.has(key)) throw paramError({ [key]: "Only root may set this option." });
  }
}
