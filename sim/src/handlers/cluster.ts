// /version and /cluster/* (pve-manager PVE/API2/Cluster.pm, PVE/API2.pm).

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { CLUSTER_NAME } from "../state/seed";
import { isRunning } from "../state/tasks";
import { profileOf } from "../state/version";
import { nextIdRange } from "./clusterconfig";
import { poolIndex, resourceRow } from "./guests";
import { allNodeFigures } from "./nodes";
import { storageRow, usageIndex } from "./storage";
import { taskListItem } from "./tasks";

function resources(ctx: Ctx): Record<string, unknown>[] {
  const type = ctx.optStr("type");
  const { store } = ctx;
  const out: Record<string, unknown>[] = [];
  if (!type || type === "vm") {
    const guests = [...store.guests.values()].sort((a, b) => a.vmid - b.vmid);
    const pools = poolIndex(store);
    for (const g of guests) out.push(resourceRow(g, store, ctx.nowSec, pools));
  }
  if (!type || type === "node") {
    const figures = allNodeFigures(store, ctx.nowSec);
    for (const n of store.nodes.values()) {
      const row: Record<string, unknown> = {
        id: `node/${n.name}`,
        type: "node",
        node: n.name,
        status: n.online ? "online" : "offline",
        level: "",
        maxcpu: n.cpus,
        maxmem: n.memTotal,
        maxdisk: n.rootTotal,
      };
      const f = figures.get(n.name);
      if (n.online && f) {
        Object.assign(row, {
          cpu: f.cpu,
          mem: f.memUsed,
          disk: n.rootUsed,
          uptime: f.uptime,
          "cgroup-mode": 2,
        });
      }
      if (profileOf(ctx.store.settings).hostArch) row["host-arch"] = "x86_64";
      out.push(row);
    }
  }
  if (!type || type === "storage") {
    const usage = usageIndex(store);
    for (const n of store.nodes.values()) {
      for (const s of store.storagesOn(n.name)) {
        const st = storageRow(store, s, n.name, usage);
        const row: Record<string, unknown> = {
          id: `storage/${n.name}/${s.storage}`,
          type: "storage",
          storage: s.storage,
          node: n.name,
          plugintype: s.type,
          status: n.online ? (s.enabled ? "available" : "unknown") : "unknown",
          shared: s.shared ? 1 : 0,
          content: s.content.join(","),
        };
        if (n.online && s.enabled) Object.assign(row, { disk: st.used, maxdisk: st.total });
        out.push(row);
      }
    }
  }
  if (!type || type === "sdn") {
    for (const n of store.nodes.values()) {
      out.push({
        id: `sdn/${n.name}/localnetwork`,
        type: "sdn",
        sdn: "localnetwork",
        node: n.name,
        status: n.online ? "ok" : "unknown",
      });
    }
  }
  if (!type) {
    for (const p of store.pools.values()) out.push({ id: `/pool/${p.poolid}`, type: "pool", pool: p.poolid });
  }
  return out;
}

function clusterStatus(ctx: Ctx): Record<string, unknown>[] {
  const nodes = [...ctx.store.nodes.values()];
  const online = nodes.filter((n) => n.online).length;
  const out: Record<string, unknown>[] = [
    {
      type: "cluster",
      id: "cluster",
      name: CLUSTER_NAME,
      nodes: nodes.length,
      quorate: online * 2 > nodes.length ? 1 : 0,
      version: nodes.length + 2,
    },
  ];
  nodes.forEach((n, i) => {
    out.push({
      type: "node",
      id: `node/${n.name}`,
      name: n.name,
      ip: n.ip,
      nodeid: n.nodeid,
      online: n.online ? 1 : 0,
      local: i === 0 ? 1 : 0,
      level: "",
    });
  });
  return out;
}

function nextid(ctx: Ctx): string {
  const { guests } = ctx.store;
  const want = ctx.optInt("vmid");
  // Perl hands back values it used as hash keys, which JSON-encode as strings.
  if (want !== undefined) {
    if (guests.has(want)) throw paramError({ vmid: `VM ${want} already exists` });
    return String(want);
  }
  // datacenter.cfg `next-id` narrows the range handed out.
  const { lower, upper } = nextIdRange(ctx.store);
  for (let id = lower; id < upper; id++) if (!guests.has(id)) return String(id);
  throw new PveError(`unable to get any free VMID in range [${lower}, ${upper}]`);
}

/** Recent tasks of all nodes (the pmxcfs task list), newest first. */
function clusterTasks(ctx: Ctx): Record<string, unknown>[] {
  const tasks = [...ctx.store.tasks.values()].sort(
    (a, b) => b.startMs - a.startMs || (a.upid < b.upid ? 1 : -1),
  );
  return tasks.slice(0, 50).map((t) => {
    const item = taskListItem(t, ctx.now);
    if (isRunning(t, ctx.now)) delete item.status;
    return item;
  });
}

export const clusterRoutes: Route[] = [
  {
    method: "GET",
    path: "/version",
    handler: (ctx: Ctx) => {
      const p = profileOf(ctx.store.settings);
      return { version: p.version, release: p.release, repoid: p.repoid };
    },
  },
  { method: "GET", path: "/cluster/status", handler: clusterStatus },
  { method: "GET", path: "/cluster/resources", handler: resources },
  { method: "GET", path: "/cluster/nextid", handler: nextid },
  { method: "GET", path: "/cluster/tasks", handler: clusterTasks },
];
