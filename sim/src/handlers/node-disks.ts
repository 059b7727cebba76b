// /nodes/{node}/disks (pve-storage PVE/API2/Disks.pm, Disks/ZFS.pm, PVE::Diskmanage): the node's
// physical disks, their SMART health and the ZFS pools on them. Read only.

import type { Ctx, Route } from "../api/context";
import { PveError } from "../api/respond";
import { byIdLink, type Disk, nodeDisks, nodePools, type ZfsPool } from "../host/disks";
import { smartData, wearout } from "../host/smart";
import type { NodeState } from "../state/model";

function disksOf(ctx: Ctx): Disk[] {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  return nodeDisks(node.name, node.nodeid - 1);
}

function poolsOf(ctx: Ctx): ZfsPool[] {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  return nodePools(node.name, node.nodeid - 1);
}

const partPath = (d: Disk, num: number) => `/dev/${d.dev}${d.dev.startsWith("nvme") ? "p" : ""}${num}`;

function list(ctx: Ctx): Record<string, unknown>[] {
  const skipsmart = ctx.bool("skipsmart");
  const withParts = ctx.bool("include-partitions");
  const type = ctx.optStr("type");
  const out: Record<string, unknown>[] = [];
  for (const d of disksOf(ctx)) {
    const devpath = `/dev/${d.dev}`;
    const gpt = d.partitions.length ? 1 : 0;
    const entry: Record<string, unknown> = {
      devpath,
      model: d.model,
      serial: d.serial,
      size: d.size,
      gpt,
      rpm: d.rpm,
      type: d.kind,
      health: skipsmart ? "UNKNOWN" : d.smart.health,
      wearout: skipsmart ? "N/A" : wearout(d),
      by_id_link: byIdLink(d),
      osdid: -1,
      "osdid-list": null,
    };
    if (d.vendor) entry.vendor = d.vendor;
    if (d.wwn) entry.wwn = d.wwn;
    // Diskmanage: the device's own usage, else its first partition's ("BIOS boot" on a boot
    // disk), and just "partitions" when the partitions are listed too.
    const used = d.used ?? (withParts && d.partitions.length ? "partitions" : d.partitions[0]?.used);
    if (used) entry.used = withParts && d.partitions.length ? "partitions" : used;
    if (type === "unused" && entry.used) continue;
    if (
      type === "journal_disks" &&
      entry.used &&
      !(entry.used === "partitions" && gpt) &&
      entry.used !== "LVM"
    )
      continue;
    out.push(entry);
    if (!withParts) continue;
    for (const p of d.partitions) {
      const part: Record<string, unknown> = {
        devpath: partPath(d, p.num),
        parent: devpath,
        gpt,
        type: "partition",
        size: p.size,
        osdid: -1,
        "osdid-list": null,
      };
      if (p.used) part.used = p.used;
      out.push(part);
    }
  }
  return out.sort((a, b) => String(a.devpath).localeCompare(String(b.devpath)));
}

function smart(ctx: Ctx): Record<string, unknown> {
  const path = ctx.str("disk");
  const disk = disksOf(ctx).find((d) => `/dev/${d.dev}` === path);
  // verify_blockdev_path / assert_blockdev
  if (!disk) throw new PveError("not a valid block device");
  return smartData(disk, ctx.bool("healthonly"));
}

function zfsList(ctx: Ctx): Record<string, unknown>[] {
  return poolsOf(ctx).map((p) => ({
    name: p.name,
    size: p.size,
    alloc: p.alloc,
    free: p.size - p.alloc,
    frag: p.frag,
    dedup: p.dedup,
    health: "ONLINE",
  }));
}

/** ZFS.pm detail: `zpool status -P` parsed into a tree (each node gets `leaf`). */
function zfsDetail(ctx: Ctx): Record<string, unknown> {
  const name = ctx.str("name");
  const pool = poolsOf(ctx).find((p) => p.name === name);
  if (!pool) throw new PveError(`command '/sbin/zpool status -P ${name}' failed: exit code 1`);
  const errored = pool.members.some((m) => m.read || m.write || m.cksum);
  const mirror = {
    name: "mirror-0",
    state: "ONLINE",
    read: 0,
    write: 0,
    cksum: 0,
    msg: "",
    leaf: 0,
    children: pool.members.map((m) => ({
      name: m.path,
      state: "ONLINE",
      read: m.read,
      write: m.write,
      cksum: m.cksum,
      msg: "",
      leaf: 1,
    })),
  };
  const out: Record<string, unknown> = {
    name: pool.name,
    state: "ONLINE",
    scan: pool.scan,
    errors: "No known data errors",
    leaf: 0,
    children: [
      { name: pool.name, state: "ONLINE", read: 0, write: 0, cksum: 0, msg: "", leaf: 0, children: [mirror] },
    ],
  };
  if (errored && pool.status) {
    out.status = pool.status;
    out.action = pool.action;
    out.see = pool.see;
  }
  return out;
}

export const nodeDiskRoutes: Route[] = [
  {
    method: "GET",
    path: "/nodes/{node}/disks",
    handler: () =>
      ["list", "initgpt", "smart", "lvm", "lvmthin", "directory", "wipedisk", "zfs"].map((name) => ({
        name,
      })),
  },
  { method: "GET", path: "/nodes/{node}/disks/list", handler: list },
  { method: "GET", path: "/nodes/{node}/disks/smart", handler: smart },
  { method: "GET", path: "/nodes/{node}/disks/zfs", handler: zfsList },
  { method: "GET", path: "/nodes/{node}/disks/zfs/{name}", handler: zfsDetail },
];
