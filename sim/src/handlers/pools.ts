// /pools (pve-access-control PVE/API2/Pool.pm). Pool calls are synchronous and return null.

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError } from "../api/respond";
import type { PoolState } from "../state/model";
import { poolIndex, resourceRow } from "./guests";
import { storageRow, usageIndex } from "./storage";

function getPool(ctx: Ctx, poolid: string): PoolState {
  const p = ctx.store.pools.get(poolid);
  if (!p) throw new PveError(`pool '${poolid}' does not exist`);
  return p;
}

function members(ctx: Ctx, p: PoolState, type?: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const pools = poolIndex(ctx.store);
  for (const vmid of p.vmids) {
    const g = ctx.store.guests.get(vmid);
    if (!g || (type && g.type !== type)) continue;
    out.push(resourceRow(g, ctx.store, ctx.nowSec, pools));
  }
  if (!type || type === "storage") {
    const usage = usageIndex(ctx.store);
    // Pool.pm lists each storage once, as seen from the node answering (or its first node).
    const local = [...ctx.store.nodes.values()][0]?.name ?? "";
    for (const sid of p.storages) {
      const s = ctx.store.storages.get(sid);
      if (!s) continue;
      const node = !s.nodes || s.nodes.includes(local) ? local : ([...s.nodes].sort()[0] ?? local);
      const f = storageRow(ctx.store, s, node, usage);
      out.push({
        id: `storage/${node}/${sid}`,
        type: "storage",
        storage: sid,
        node,
        plugintype: s.type,
        status: ctx.store.nodes.get(node)?.online ? "available" : "unknown",
        shared: s.shared ? 1 : 0,
        content: s.content.join(","),
        disk: f.used,
        maxdisk: f.total,
      });
    }
  }
  return out;
}

function index(ctx: Ctx): Record<string, unknown>[] {
  const poolid = ctx.optStr("poolid");
  if (poolid) {
    const p = getPool(ctx, poolid);
    const row: Record<string, unknown> = { poolid: p.poolid, members: members(ctx, p, ctx.optStr("type")) };
    if (p.comment !== undefined) row.comment = p.comment;
    return [row];
  }
  return [...ctx.store.pools.values()]
    .sort((a, b) => a.poolid.localeCompare(b.poolid))
    .map((p) => (p.comment !== undefined ? { poolid: p.poolid, comment: p.comment } : { poolid: p.poolid }));
}

/** PVE::AccessControl::lock_user_config: errors inside the lock get the operation as prefix. */
function locked<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PveError && e.status === 500) throw new PveError(`${what}: ${e.message}`);
    throw e;
  }
}

function create(ctx: Ctx): null {
  const poolid = ctx.str("poolid");
  return locked("create pool failed", () => {
    if (ctx.store.pools.has(poolid)) throw new PveError(`pool '${poolid}' already exists`);
    const parent = poolid.includes("/") ? poolid.slice(0, poolid.lastIndexOf("/")) : null;
    if (parent && !ctx.store.pools.has(parent)) throw new PveError(`parent '${parent}' does not exist`);
    const p: PoolState = { poolid, vmids: [], storages: [] };
    const comment = ctx.optStr("comment");
    if (comment !== undefined) p.comment = comment;
    ctx.store.pools.put(p);
    return null;
  });
}

/** Pool.pm update_pool: all checks pass before anything is written. */
function update(ctx: Ctx): null {
  return locked("update pools failed", () => {
    const current = getPool(ctx, ctx.str("poolid"));
    const p: PoolState = { ...current, vmids: [...current.vmids], storages: [...current.storages] };
    const moved = new Map<string, PoolState>();
    const remove = ctx.bool("delete");
    const comment = ctx.optStr("comment");
    if (comment !== undefined) p.comment = comment;
    for (const v of ctx.has("vms") ? splitList(ctx.str("vms")) : []) {
      const vmid = Number(v);
      if (remove) {
        if (!p.vmids.includes(vmid)) throw new PveError(`VM ${vmid} is not a pool member`);
        p.vmids = p.vmids.filter((x) => x !== vmid);
        continue;
      }
      if (p.vmids.includes(vmid)) throw new PveError(`VM ${vmid} is already a pool member`);
      const other = [...ctx.store.pools.values()].find(
        (o) => o.poolid !== p.poolid && o.vmids.includes(vmid),
      );
      if (other) {
        if (!ctx.bool("allow-move"))
          throw new PveError(
            `VM ${vmid} belongs already to pool '${other.poolid}' and 'allow-move' is not set`,
          );
        const from = moved.get(other.poolid) ?? { ...other, vmids: [...other.vmids] };
        from.vmids = from.vmids.filter((x) => x !== vmid);
        moved.set(other.poolid, from);
      }
      if (!ctx.store.guests.has(vmid)) throw new PveError(`VM ${vmid} does not exist`);
      p.vmids.push(vmid);
    }
    for (const sid of ctx.has("storage") ? splitList(ctx.str("storage")) : []) {
      if (remove) {
        if (!p.storages.includes(sid)) throw new PveError(`Storage '${sid}' is not a pool member`);
        p.storages = p.storages.filter((x) => x !== sid);
        continue;
      }
      if (p.storages.includes(sid)) throw new PveError(`Storage '${sid}' is already a pool member`);
      if (!ctx.store.storages.has(sid)) throw new PveError(`Storage '${sid}' does not exist`);
      p.storages.push(sid);
    }
    for (const o of moved.values()) ctx.store.pools.put(o);
    ctx.store.pools.put(p);
    return null;
  });
}

function remove(ctx: Ctx): null {
  return locked("delete pool failed", () => {
    const p = getPool(ctx, ctx.str("poolid"));
    // Members that no longer exist do not count (the VM list and storage.cfg are checked).
    const vmid = p.vmids.find((v) => ctx.store.guests.has(v));
    if (vmid !== undefined) throw new PveError(`pool '${p.poolid}' is not empty (contains VM ${vmid})`);
    const sid = p.storages.find((s) => ctx.store.storages.has(s));
    if (sid !== undefined) throw new PveError(`pool '${p.poolid}' is not empty (contains storage '${sid}')`);
    const child = [...ctx.store.pools.values()]
      .map((o) => o.poolid)
      .find((id) => id.startsWith(`${p.poolid}/`));
    if (child !== undefined)
      throw new PveError(`pool '${p.poolid}' is not empty (contains sub-pool '${child}')`);
    ctx.store.pools.delete(p.poolid);
    return null;
  });
}

export const poolRoutes: Route[] = [
  { method: "GET", path: "/pools", handler: index },
  { method: "POST", path: "/pools", handler: create },
  { method: "PUT", path: "/pools", handler: update },
  { method: "DELETE", path: "/pools", handler: remove },
  {
    method: "GET",
    path: "/pools/{poolid}",
    handler: (ctx) => {
      const p = getPool(ctx, ctx.str("poolid"));
      const out: Record<string, unknown> = { members: members(ctx, p, ctx.optStr("type")) };
      if (p.comment !== undefined) out.comment = p.comment;
      return out;
    },
  },
  { method: "PUT", path: "/pools/{poolid}", handler: update },
  { method: "DELETE", path: "/pools/{poolid}", handler: remove },
];
