// The physical disks of each node and their ZFS pools, derived from the node's hardware profile
// (the same rotation as the seed's HARDWARE), so a cluster of any size has disks in proportion.
// One data disk of the first profile is failing: SMART says FAILED! and its ZFS mirror saw errors.

import { digestOf } from "../state/random";

export interface Partition {
  num: number;
  size: number;
  used?: string;
}

export interface Disk {
  dev: string;
  model: string;
  serial: string;
  size: number;
  kind: "nvme" | "ssd" | "hdd";
  rpm: number;
  vendor?: string;
  wwn?: string;
  partitions: Partition[];
  /** Usage of the whole device (LVM PV, ZFS whole disk) when not from a partition. */
  used?: string;
  smart: SmartProfile;
}

export interface SmartProfile {
  health: "PASSED" | "FAILED!";
  /** NVMe "Percentage Used", ATA SSD wear attribute value, per the drive type. */
  wearUsed?: number;
  powerOnHours: number;
  temperature: number;
  reallocated?: number;
  pending?: number;
}

const BIOS_BOOT = "BIOS boot";
const bootParts = (size: number, rest: string): Partition[] => [
  { num: 1, size: 1031168, used: BIOS_BOOT },
  { num: 2, size: 1073741824, used: "EFI" },
  { num: 3, size: size - 1031168 - 1073741824 - 1048576, used: rest },
];
const zfsWhole = (size: number): Partition[] => [
  { num: 1, size: size - 8388608 - 1048576, used: "zfs_member" },
  { num: 9, size: 8388608, used: "ZFS reserved" },
];

function serialFor(base: string, node: string, i: number): string {
  const tail = digestOf(`${node}:${i}`).slice(0, 6).toUpperCase();
  return base.slice(0, Math.max(0, base.length - 6)) + tail;
}

/** The disks of the node with this index (0-based position in the cluster). */
export function nodeDisks(node: string, index: number): Disk[] {
  const s = (base: string, i: number) => serialFor(base, node, i);
  switch (index % 4) {
    case 0:
      return [
        {
          dev: "nvme0n1",
          model: "Samsung SSD 980 PRO 1TB",
          serial: s("S5GXNX0T412345K", 0),
          size: 1000204886016,
          kind: "nvme",
          rpm: 0,
          wwn: "eui.002538b411b2c3d4",
          partitions: bootParts(1000204886016, "LVM"),
          smart: { health: "PASSED", wearUsed: 3, powerOnHours: 9872, temperature: 38 },
        },
        {
          dev: "sda",
          model: "WDC WD40EFRX-68N32N0",
          serial: s("WD-WCC7K1A2B3C4", 1),
          size: 4000787030016,
          kind: "hdd",
          rpm: 5400,
          vendor: "ATA     ",
          wwn: "0x50014ee2b1c2d3e4",
          partitions: zfsWhole(4000787030016),
          used: "ZFS",
          smart: { health: "PASSED", powerOnHours: 28134, temperature: 32, reallocated: 0, pending: 0 },
        },
        {
          dev: "sdb",
          model: "WDC WD40EFRX-68N32N0",
          serial: s("WD-WCC7K5E6F7A8", 2),
          size: 4000787030016,
          kind: "hdd",
          rpm: 5400,
          vendor: "ATA     ",
          wwn: "0x50014ee2b5e6f7a8",
          partitions: zfsWhole(4000787030016),
          used: "ZFS",
          smart: { health: "FAILED!", powerOnHours: 28140, temperature: 35, reallocated: 1872, pending: 24 },
        },
      ];
    case 1:
      return [
        {
          dev: "nvme0n1",
          model: "WD_BLACK SN770 1TB",
          serial: s("22491X800123", 0),
          size: 1000204886016,
          kind: "nvme",
          rpm: 0,
          wwn: "eui.e8238fa6bf530001001b448b4a1b2c3d",
          partitions: bootParts(1000204886016, "LVM"),
          smart: { health: "PASSED", wearUsed: 6, powerOnHours: 14210, temperature: 41 },
        },
        {
          dev: "sda",
          model: "CT1000MX500SSD1",
          serial: s("2236E6A1B2C3", 1),
          size: 1000204886016,
          kind: "ssd",
          rpm: 0,
          vendor: "ATA     ",
          wwn: "0x500a0751e6a1b2c3",
          partitions: [],
          smart: {
            health: "PASSED",
            wearUsed: 12,
            powerOnHours: 11980,
            temperature: 30,
            reallocated: 0,
            pending: 0,
          },
        },
      ];
    case 2:
      return [
        {
          dev: "sda",
          model: "Samsung SSD 870 EVO 500GB",
          serial: s("S62ANJ0R123456A", 0),
          size: 500107862016,
          kind: "ssd",
          rpm: 0,
          vendor: "ATA     ",
          wwn: "0x5002538f41234567",
          partitions: bootParts(500107862016, "LVM"),
          smart: {
            health: "PASSED",
            wearUsed: 38,
            powerOnHours: 19870,
            temperature: 44,
            reallocated: 0,
            pending: 0,
          },
        },
      ];
    default:
      return [0, 1].map((i) => ({
        dev: `nvme${i}n1`,
        model: "Micron_7450_MTFDKBA960TFR",
        serial: s(`2245401A7B${i}C`, i),
        size: 960197124096,
        kind: "nvme" as const,
        rpm: 0,
        wwn: `eui.000000000000000100a07524401a7b${i}c`,
        partitions: bootParts(960197124096, "ZFS"),
        smart: { health: "PASSED" as const, wearUsed: 1, powerOnHours: 6120, temperature: 36 },
      }));
  }
}

/** The stable /dev/disk/by-id name udev gives a disk. */
export function byIdLink(d: Disk): string {
  const model = d.model.replace(/ /g, "_");
  return d.kind === "nvme"
    ? `/dev/disk/by-id/nvme-${model}_${d.serial}`
    : `/dev/disk/by-id/ata-${model}_${d.serial}`;
}

export interface ZfsPool {
  name: string;
  size: number;
  alloc: number;
  frag: number;
  dedup: number;
  /** Mirror members: by-id partition paths, with their error counters. */
  members: { path: string; read: number; write: number; cksum: number }[];
  status?: string;
  action?: string;
  see?: string;
  scan: string;
}

export function nodePools(node: string, index: number): ZfsPool[] {
  const disks = nodeDisks(node, index);
  if (index % 4 === 0) {
    const [a, b] = [disks[1] as Disk, disks[2] as Disk];
    return [
      {
        name: "tank",
        size: 3985729650688,
        alloc: 1318554542080,
        frag: 7,
        dedup: 1,
        members: [
          { path: `${byIdLink(a)}-part1`, read: 0, write: 0, cksum: 0 },
          { path: `${byIdLink(b)}-part1`, read: 12, write: 0, cksum: 3 },
        ],
        status:
          "One or more devices has experienced an unrecoverable error.  An attempt was made to correct the error.  Applications are unaffected.",
        action:
          "Determine if the device needs to be replaced, and clear the errors using 'zpool clear' or replace the device with 'zpool replace'.",
        see: "https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-9P",
        scan: "scrub repaired 128K in 05:12:44 with 0 errors on Sun Nov  9 05:36:45 2025",
      },
    ];
  }
  if (index % 4 === 3) {
    return [
      {
        name: "rpool",
        size: 951619584000,
        alloc: 212600438784,
        frag: 3,
        dedup: 1,
        members: disks.map((d) => ({ path: `${byIdLink(d)}-part3`, read: 0, write: 0, cksum: 0 })),
        scan: "scrub repaired 0B in 00:04:12 with 0 errors on Sun Nov  9 00:28:13 2025",
      },
    ];
  }
  return [];
}
