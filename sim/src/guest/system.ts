// Facts about a running guest that both qemu-ga and the guest's programs report: network
// interfaces, file systems, CPUs, memory, login sessions. One place, so `df` and get-fsinfo agree.

import type { GuestOs, GuestState } from "../state/model";
import { sizeOf } from "../state/seed";
import { isWindows } from "./image";

const MiB = 1024 * 1024;

export interface Iface {
  name: string;
  mac?: string;
  ipv4: { addr: string; prefix: number }[];
  ipv6: { addr: string; prefix: number }[];
  stats: { rxBytes: number; rxPackets: number; txBytes: number; txPackets: number };
}

export const uptimeSec = (g: GuestState, nowMs: number) =>
  g.startedAt ? Math.max(0, Math.floor(nowMs / 1000) - g.startedAt) : 0;

/** The MAC of net0, lower-cased as the guest shows it. */
export function macOf(g: GuestState): string | undefined {
  const m = /(?:^|,)(?:virtio|e1000|rtl8139|vmxnet3)=([0-9A-Fa-f:]{17})/.exec(String(g.config.net0 ?? ""));
  return m?.[1]?.toLowerCase();
}

/** fe80:: address from the MAC (EUI-64). */
export function linkLocal(mac: string): string {
  const b = mac.split(":").map((x) => Number.parseInt(x, 16));
  b[0] = (b[0] as number) ^ 0x02;
  const words = [
    ((b[0] as number) << 8) | (b[1] as number),
    ((b[2] as number) << 8) | 0xff,
    (0xfe << 8) | (b[3] as number),
    ((b[4] as number) << 8) | (b[5] as number),
  ];
  return `fe80::${words.map((w) => w.toString(16)).join(":")}`;
}

/** A static address cloud-init applied from ipconfig0 (only with a cloud-init drive). */
function staticIpv4(g: GuestState): { addr: string; prefix: number }[] | undefined {
  const drive = Object.entries(g.config).some(
    ([key, value]) => /^(ide|sata|scsi)\d+$/.test(key) && /cloudinit/.test(String(value)),
  );
  const match = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(String(g.config.ipconfig0 ?? ""));
  return drive && match ? [{ addr: match[1] as string, prefix: Number(match[2]) }] : undefined;
}

export function interfaces(g: GuestState, os: GuestOs, nowMs: number): Iface[] {
  const up = uptimeSec(g, nowMs);
  const rx = up * g.usage.netRate;
  const tx = Math.floor(rx * 0.6);
  const loStats = { rxBytes: up * 180, rxPackets: up * 2, txBytes: up * 180, txPackets: up * 2 };
  const mac = macOf(g);
  const nic: Iface = {
    name: isWindows(os) ? "Ethernet" : os.id === "haos" ? "enp0s18" : "ens18",
    ...(mac ? { mac } : {}),
    ipv4: staticIpv4(g) ?? (os.ipv4 ? [{ addr: os.ipv4, prefix: 24 }] : []),
    ipv6: mac ? [{ addr: linkLocal(mac), prefix: 64 }] : [],
    stats: {
      rxBytes: rx,
      rxPackets: Math.floor(rx / 900),
      txBytes: tx,
      txPackets: Math.floor(tx / 700),
    },
  };
  if (isWindows(os)) {
    return [
      nic,
      {
        name: "Loopback Pseudo-Interface 1",
        ipv4: [{ addr: "127.0.0.1", prefix: 8 }],
        ipv6: [{ addr: "::1", prefix: 128 }],
        stats: loStats,
      },
    ];
  }
  return [
    {
      name: "lo",
      mac: "00:00:00:00:00:00",
      ipv4: [{ addr: "127.0.0.1", prefix: 8 }],
      ipv6: [{ addr: "::1", prefix: 128 }],
      stats: loStats,
    },
    nic,
  ];
}

export interface Filesystem {
  /** Kernel device name (sda1) or Windows volume GUID path. */
  name: string;
  dev: string;
  mountpoint: string;
  type: string;
  /** f_blocks × f_frsize. */
  size: number;
  used: number;
  /** Available to unprivileged users (size minus used minus the root reserve). */
  avail: number;
}

/** The boot disk's file systems, sized from the VM's disk and its recorded usage. */
export function filesystems(g: GuestState, os: GuestOs): Filesystem[] {
  const disk = sizeOf(String(g.config.scsi0 ?? g.config.virtio0 ?? g.config.sata0 ?? "size=32G"));
  const part = (name: string, mountpoint: string, type: string, bytes: number, used: number, reserve = 0) => {
    const size = Math.floor((bytes * (type === "ext4" ? 0.984 : 1)) / 4096) * 4096;
    const u = Math.min(used, size);
    const reserved = Math.floor(size * reserve);
    return {
      name,
      dev: `/dev/${name}`,
      mountpoint,
      type,
      size,
      used: u,
      avail: Math.max(0, size - u - reserved),
    };
  };
  if (isWindows(os)) {
    const size = disk - 100 * MiB - 16 * MiB - 750 * MiB;
    const used = Math.min(size, g.usage.diskUsed + 14 * 1024 * MiB);
    return [
      {
        name: `\\\\?\\Volume{${guidOf(g.vmid)}}\\`,
        dev: "\\\\.\\PhysicalDrive0",
        mountpoint: "C:\\",
        type: "NTFS",
        size,
        used,
        avail: size - used,
      },
    ];
  }
  if (os.id === "haos") {
    return [
      part("sda8", "/mnt/data", "ext4", disk - 2 * 1024 * MiB, g.usage.diskUsed, 0.05),
      part("sda1", "/mnt/boot", "vfat", 32 * MiB, 9 * MiB),
    ];
  }
  if (os.id === "ubuntu") {
    return [
      part("sda1", "/", "ext4", disk - 1024 * MiB, g.usage.diskUsed, 0.05),
      part("sda16", "/boot", "ext4", 913 * MiB, 112 * MiB, 0.05),
      part("sda15", "/boot/efi", "vfat", 105 * MiB, 6 * MiB),
    ];
  }
  return [
    part("sda1", "/", "ext4", disk - 128 * MiB, g.usage.diskUsed, 0.05),
    part("sda15", "/boot/efi", "vfat", 124 * MiB, 12 * MiB),
  ];
}

function guidOf(vmid: number): string {
  const h = (n: number) => (Math.imul(vmid + n, 2654435761) >>> 0).toString(16).padStart(8, "0");
  const a = h(1) + h(2) + h(3) + h(4);
  return `${a.slice(0, 8)}-${a.slice(8, 12)}-${a.slice(12, 16)}-${a.slice(16, 20)}-${a.slice(20, 32)}`;
}

export const vcpuCount = (g: GuestState) =>
  Number(g.config.vcpus ?? Number(g.config.cores ?? 1) * Number(g.config.sockets ?? 1));

export const memoryBytes = (g: GuestState) => Number.parseInt(String(g.config.memory ?? "512"), 10) * MiB;

/** Linux memory block size on x86_64 below 64 GiB of RAM. */
export const MEMORY_BLOCK = 128 * MiB;

/** Login sessions present at `nowMs` (those that began since the guest booted). */
export function sessions(
  g: GuestState,
  os: GuestOs,
  nowMs: number,
): { user: string; domain?: string; since: number }[] {
  if (!g.startedAt) return [];
  return os.logins
    .map((l) => ({ ...l, since: (g.startedAt as number) + l.afterBootSec }))
    .filter((l) => l.since * 1000 <= nowMs)
    .map((l) => ({ user: l.user, ...(l.domain ? { domain: l.domain } : {}), since: l.since }));
}
