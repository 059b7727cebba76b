// Guest disks: drive strings, sizes, volume names, allocation on a storage and its free space
// (qemu-server create_disks / PVE::Storage vdisk_alloc, pve-container create_disks).

import { PveError, paramError } from "../api/respond";
import type { GuestConfig, GuestState, GuestType, StorageState } from "../state/model";
import type { Store } from "../state/store";
import { storageRow } from "./storage";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** A disk key of a qemu config (drive) or a container config (mount point). */
export function isDiskKey(type: GuestType, key: string): boolean {
  return type === "qemu"
    ? /^((ide|sata|scsi|virtio)\d+|efidisk0|tpmstate0)$/.test(key)
    : /^(rootfs|mp\d+)$/.test(key);
}

/** `<storage>:<size in GiB>` asks for a new volume (PVE::QemuServer::Drive NEW_DISK_RE). */
export const NEW_DISK_RE = /^(?:([^/:\s]+):)?(\d+(?:\.\d+)?)$/;

/** A drive or mount point property string: the volume (default key) and the other options. */
export interface Drive {
  volume: string;
  opts: Map<string, string>;
}

export function parseDrive(value: string): Drive {
  const opts = new Map<string, string>();
  let volume = "";
  for (const part of value.split(",")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq < 0) volume = part;
    else if (["file", "volume"].includes(part.slice(0, eq))) volume = part.slice(eq + 1);
    else opts.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { volume, opts };
}

/** print_drive / print_ct_mountpoint: the volume first, then the options in key order. */
export function printDrive(d: Drive): string {
  const rest = [...d.opts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [d.volume, ...rest.map(([k, v]) => `${k}=${v}`)].join(",");
}

export const isCdrom = (d: Drive) => d.opts.get("media") === "cdrom";

/** PVE::JSONSchema::format_size: the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  const kb = Math.floor(bytes / KiB);
  if (kb * KiB !== bytes) return String(bytes);
  const mb = Math.floor(kb / 1024);
  if (mb * 1024 !== kb) return `${kb}K`;
  const gb = Math.floor(mb / 1024);
  if (gb * 1024 !== mb) return `${mb}M`;
  const tb = Math.floor(gb / 1024);
  if (tb * 1024 !== gb) return `${gb}G`;
  return `${tb}T`;
}

/** PVE::Tools::render_bytes: "32.0 GiB", "512.0 MiB", "0.0 B". */
export function renderBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The storage id of a volume id ("local-lvm:vm-100-disk-0" → "local-lvm"). */
export const storageOf = (volid: string) => volid.split(":")[0] ?? "";

/** The volume name ("local-lvm:vm-100-disk-0" → "vm-100-disk-0"; linked clones keep their base/). */
export const volname = (volid: string) => volid.slice(volid.indexOf(":") + 1);

/** The LV (or file) a volume name ends in: "base-107-disk-0/vm-150-disk-0" → "vm-150-disk-0". */
export const leafName = (volid: string) => volname(volid).split("/").pop() ?? "";

/** Every volume name a guest refers to, in its config, pending changes and snapshots. */
export function guestVolumes(g: GuestState): string[] {
  const out: string[] = [];
  const scan = (conf: GuestConfig) => {
    for (const [key, value] of Object.entries(conf)) {
      if (typeof value !== "string") continue;
      if (!isDiskKey(g.type, key) && !/^unused\d+$/.test(key) && key !== "vmstate") continue;
      const v = key === "vmstate" ? value : parseDrive(value).volume;
      if (v.includes(":")) out.push(v);
    }
  };
  scan(g.config);
  scan(g.pending);
  for (const s of g.snapshots) scan(s.config);
  return out;
}

/** vdisk_alloc's name: the first free vm-<vmid>-disk-N on that storage. */
export function nextDiskName(taken: Set<string>, storage: string, vmid: number): string {
  for (let n = 0; ; n++) {
    const name = `vm-${vmid}-disk-${n}`;
    const used = [...taken].some((v) => storageOf(v) === storage && leafName(v) === name);
    if (!used) return name;
  }
}

/** storage_check_enabled on a node: the storage exists, is enabled and configured there. */
export function usableStorage(store: Store, sid: string, node: string): StorageState {
  const s = store.storages.get(sid);
  if (!s) throw new PveError(`storage '${sid}' does not exist`);
  if (!s.enabled) throw new PveError(`storage '${sid}' is disabled`);
  if (s.nodes && !s.nodes.includes(node))
    throw new PveError(`storage '${sid}' is not available on node '${node}'`);
  return s;
}

/** A storage that must hold guest images (qemu) or container volumes (lxc). */
export function imageStorage(store: Store, sid: string, node: string, type: GuestType): StorageState {
  const s = usableStorage(store, sid, node);
  const content = type === "qemu" ? "images" : "rootdir";
  if (!s.content.includes(content)) {
    throw paramError({
      storage:
        type === "qemu"
          ? `storage '${sid}' does not support vm images`
          : `storage '${sid}' does not support container directories`,
    });
  }
  return s;
}

/** A new volume a task will allocate. */
export interface Allocation {
  key: string;
  volid: string;
  size: number;
}

/**
 * The first allocation that does not fit, as the storage tool reports it, or null. Sizes are
 * checked against the storage's free space on the node, one after the other.
 */
export function capacityError(
  store: Store,
  node: string,
  allocs: Allocation[],
): { index: number; message: string } | null {
  const free = new Map<string, number>();
  for (const [index, a] of allocs.entries()) {
    const sid = storageOf(a.volid);
    const s = store.storages.get(sid);
    if (!s) continue;
    const avail = free.get(sid) ?? storageRow(store, s, node).avail;
    if (a.size > avail) return { index, message: noSpaceMessage(s, leafName(a.volid), a.size, avail) };
    free.set(sid, avail - a.size);
  }
  return null;
}

function noSpaceMessage(s: StorageState, name: string, size: number, avail: number): string {
  const extents = (b: number) => Math.max(0, Math.floor(b / (4 * MiB)));
  switch (s.type) {
    case "lvmthin":
      return `lvcreate '${s.vgname}/${name}' error:   Volume group "${s.vgname}" has insufficient free space (${extents(avail)} extents): ${extents(size)} required.`;
    case "zfspool":
      return `zfs error: cannot create '${s.storage}/${name}': out of space`;
    default:
      return `error with cfs lock '${s.storage}': unable to create image: qemu-img: ${s.path}/images/${name}: Could not create '${s.path}/images/${name}': No space left on device`;
  }
}

/** The lines LVM prints for new volumes. */
export function allocLines(store: Store, allocs: Allocation[]): string[] {
  const out: string[] = [];
  for (const a of allocs) {
    const s = store.storages.get(storageOf(a.volid));
    if (s?.type === "lvmthin") out.push(`  Logical volume "${leafName(a.volid)}" created.`);
  }
  return out;
}

/** The lines LVM prints when volumes are removed. */
export function freeLines(store: Store, volids: string[]): string[] {
  const out: string[] = [];
  for (const v of volids) {
    const s = store.storages.get(storageOf(v));
    if (s?.type === "lvmthin") out.push(`  Logical volume "${leafName(v)}" successfully removed.`);
    else if (s) out.push(`Removed volume '${v}'`);
  }
  return out;
}

// ---- random identities ----------------------------------------------------------------------

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** PVE::Tools::random_ether_addr with the Proxmox prefix (datacenter.cfg mac_prefix BC:24:11). */
export function randomMac(): string {
  return [
    "BC",
    "24",
    "11",
    ...[...randomBytes(3)].map((b) => b.toString(16).toUpperCase().padStart(2, "0")),
  ].join(":");
}

export const randomUuid = () => crypto.randomUUID();

/** A crypt(3) SHA-256 string, as PVE::Tools::encrypt_pw stores cloud-init passwords. */
export function cryptPassword(): string {
  const chars = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const pick = (n: number) => [...randomBytes(n)].map((b) => chars[b % 64]).join("");
  return `$5$${pick(16)}$${pick(43)}`;
}

/** A config with every net<N> given a MAC address when it has none (add_random_macs). */
export function qemuNetWithMac(value: string): string {
  const parts = value.split(",");
  const first = parts[0] ?? "";
  const models = [
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
  ];
  const m = /^(?:model=)?([a-z0-9_-]+)(?:=(.*))?$/.exec(first);
  if (!m || !models.includes(m[1] as string)) return value;
  const mac = m[2] ?? parts.find((p) => p.startsWith("macaddr="))?.slice(8) ?? randomMac();
  const rest = parts.slice(1).filter((p) => !p.startsWith("macaddr="));
  return [`${m[1]}=${mac}`, ...rest].join(",");
}

/** A container NIC with a hwaddr and type=veth (pve-container parse/print of net<N>). */
export function lxcNetWithMac(value: string): string {
  const pairs = value
    .split(",")
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf("=");
      return eq < 0 ? ([p, ""] as [string, string]) : ([p.slice(0, eq), p.slice(eq + 1)] as [string, string]);
    });
  if (!pairs.some(([k]) => k === "hwaddr")) {
    const at = pairs.findIndex(([k]) => k > "hwaddr" && k !== "name");
    pairs.splice(at < 0 ? pairs.length : at, 0, ["hwaddr", randomMac()]);
  }
  if (!pairs.some(([k]) => k === "type")) pairs.push(["type", "veth"]);
  return pairs.map(([k, v]) => `${k}=${v}`).join(",");
}

/** PVE::Tools::validate_ssh_public_keys (ssh-keygen -l on each non-empty line). */
export function validateSshKeys(text: string): void {
  const key =
    /(^|\s)(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+AAAA[A-Za-z0-9+/]+={0,3}(\s|$)/;
  for (const line of text.split("\n")) {
    if (/^\s*$/.test(line) || /^\s*#/.test(line)) continue;
    if (!key.test(line)) throw new PveError("SSH public key validation error");
  }
}

/** uri_unescape, leaving malformed escapes alone. */
export function uriUnescape(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}
