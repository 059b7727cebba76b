// /nodes/{node}/storage (pve-manager PVE/API2/Storage/Status.pm, pve-storage Content.pm).

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError } from "../api/respond";
import type { GuestState, StorageState } from "../state/model";
import type { Store } from "../state/store";
import { guestDisks } from "./guests";

export interface StorageFigures {
  total: number;
  used: number;
  avail: number;
}

/** The creation time qemu-server records in `meta: ctime=...` (containers: a stable stand-in). */
function createdAt(g: GuestState): number {
  const m = /ctime=(\d+)/.exec(String(g.config.meta ?? ""));
  return m ? Number(m[1]) : 1_760_000_000 + g.vmid * 3600;
}

/** One storage as seen from one node: volumes there plus guest disks that live on it. */
function volumesOn(store: Store, s: StorageState, node: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const v of store.volumes.values()) {
    if (v.storage !== s.storage) continue;
    if (!s.shared && v.node !== node) continue;
    const item: Record<string, unknown> = {
      volid: v.volid,
      content: v.content,
      format: v.format,
      size: v.size,
      ctime: v.ctime,
    };
    if (v.vmid !== undefined) item.vmid = v.vmid;
    if (v.subtype) item.subtype = v.subtype;
    if (v.notes !== undefined) item.notes = v.notes.split("\n")[0];
    if (v.content === "backup") item.protected = v.protected ? 1 : 0;
    out.push(item);
  }
  for (const g of store.guests.values()) {
    if (!s.shared && g.node !== node) continue;
    for (const d of guestDisks(g)) {
      if (!d.volid.startsWith(`${s.storage}:`)) continue;
      const content = g.type === "lxc" ? "rootdir" : "images";
      const used = diskUsed(g, d.size);
      out.push({
        volid: d.volid,
        content,
        format: "raw",
        size: d.size,
        used,
        vmid: g.vmid,
        ctime: createdAt(g),
      });
    }
  }
  const order = ["images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"];
  return out.sort(
    (a, b) =>
      order.indexOf(String(a.content)) - order.indexOf(String(b.content)) ||
      String(a.volid).localeCompare(String(b.volid)),
  );
}

/** Bytes used per storage and node ("*" for shared storages), in one pass over the world. */
export type UsageIndex = Map<string, number>;

export function usageIndex(store: Store): UsageIndex {
  const index: UsageIndex = new Map();
  const add = (key: string, bytes: number) => index.set(key, (index.get(key) ?? 0) + bytes);
  for (const v of store.volumes.values()) add(`${v.node ?? "*"}|${v.storage}`, v.size);
  for (const g of store.guests.values()) {
    for (const d of guestDisks(g)) {
      const s = store.storages.get(d.volid.split(":")[0] as string);
      if (!s) continue;
      add(`${s.shared ? "*" : g.node}|${s.storage}`, diskUsed(g, d.size));
    }
  }
  return index;
}

function diskUsed(g: GuestState, size: number): number {
  return g.type === "lxc" ? Math.min(size, g.usage.diskUsed) : Math.floor(size * 0.42);
}

export function storageRow(
  store: Store,
  s: StorageState,
  node: string,
  index = usageIndex(store),
): StorageFigures {
  const used = Math.min(s.total, s.baseUsed + (index.get(`${s.shared ? "*" : node}|${s.storage}`) ?? 0));
  return { total: s.total, used, avail: s.total - used };
}

function findStorage(ctx: Ctx): StorageState {
  const id = ctx.str("storage");
  const s = ctx.store.storages.get(id);
  if (!s) throw new PveError(`storage '${id}' does not exist`);
  const node = ctx.str("node");
  if (s.nodes && !s.nodes.includes(node))
    throw new PveError(`storage '${id}' is not available on node '${node}'`);
  return s;
}

function statusOf(store: Store, s: StorageState, node: string, index?: UsageIndex): Record<string, unknown> {
  const f = storageRow(store, s, node, index);
  const row: Record<string, unknown> = {
    storage: s.storage,
    type: s.type,
    content: s.content.join(","),
    shared: s.shared ? 1 : 0,
    enabled: s.enabled ? 1 : 0,
    active: s.enabled ? 1 : 0,
  };
  if (s.enabled) {
    Object.assign(row, {
      total: f.total,
      used: f.used,
      avail: f.avail,
      used_fraction: f.total ? f.used / f.total : 0,
    });
  }
  return row;
}

function list(ctx: Ctx): Record<string, unknown>[] {
  const node = ctx.str("node");
  const wanted = ctx.has("content") ? splitList(ctx.str("content")) : null;
  const only = ctx.optStr("storage");
  const target = ctx.optStr("target");
  const out: Record<string, unknown>[] = [];
  const index = usageIndex(ctx.store);
  for (const s of ctx.store.storagesOn(node)) {
    if (only && s.storage !== only) continue;
    if (wanted && !wanted.some((c) => s.content.includes(c))) continue;
    if (ctx.bool("enabled") && !s.enabled) continue;
    if (target && target !== node && !s.shared) continue;
    const row = statusOf(ctx.store, s, node, index);
    if (ctx.bool("format")) {
      row.formats =
        s.type === "dir" || s.type === "nfs"
          ? { default: "qcow2", supported: ["qcow2", "raw", "vmdk"] }
          : { default: "raw", supported: ["raw"] };
    }
    out.push(row);
  }
  return out;
}

function content(ctx: Ctx): Record<string, unknown>[] {
  const s = findStorage(ctx);
  const want = ctx.optStr("content");
  const vmid = ctx.optInt("vmid");
  return volumesOn(ctx.store, s, ctx.str("node")).filter(
    (v) => (!want || v.content === want) && (vmid === undefined || v.vmid === vmid),
  );
}

function volume(ctx: Ctx): Record<string, unknown> {
  const node = ctx.str("node");
  let volid = ctx.str("volume");
  const storage = ctx.optStr("storage");
  if (!volid.includes(":") && storage) volid = `${storage}:${volid}`;
  const sid = volid.split(":")[0] as string;
  const s = ctx.store.storages.get(sid);
  if (!s) throw new PveError(`storage '${sid}' does not exist`);
  const v = volumesOn(ctx.store, s, node).find((x) => x.volid === volid);
  if (!v) throw new PveError(`volume '${volid}' does not exist`);
  const name = volid.slice(sid.length + 1);
  const path =
    s.type === "lvmthin"
      ? `/dev/${s.vgname}/${name}`
      : `${s.path}/${name.replace(/^(iso|vztmpl|backup)\//, (m) => ({ "iso/": "template/iso/", "vztmpl/": "template/cache/", "backup/": "dump/" })[m] ?? m)}`;
  const out: Record<string, unknown> = { path, size: v.size, used: v.used ?? v.size, format: v.format };
  const stored = [...ctx.store.volumes.values()].find((x) => x.volid === volid);
  if (stored?.notes !== undefined) out.notes = stored.notes;
  if (stored?.content === "backup") out.protected = stored.protected ? 1 : 0;
  return out;
}

export const storageRoutes: Route[] = [
  { method: "GET", path: "/nodes/{node}/storage", handler: list },
  {
    method: "GET",
    path: "/nodes/{node}/storage/{storage}/status",
    handler: (ctx) => {
      const { storage: _s, ...row } = statusOf(ctx.store, findStorage(ctx), ctx.str("node"));
      return row;
    },
  },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/content", handler: content },
  { method: "GET", path: "/nodes/{node}/storage/{storage}/content/{volume}", handler: volume },
];
