// /cluster/ha/status (pve-ha-manager PVE/API2/HA/Status.pm): the CRM's view of quorum, master,
// LRMs, fencing and services, derived from the HA config, the guests and the nodes' online state;
// arm-ha/disarm-ha (PVE 9).

import type { Ctx, Route } from "../api/context";
import {
  crmAct,
  disarmState,
  HA_MANAGER,
  type HaResource,
  haManager,
  haResources,
  type ServiceStatus,
  serviceStatus,
  verboseState,
  vmidOfSid,
} from "../state/ha";
import type { NodeState } from "../state/model";
import { is84, since9 } from "./ha-common";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Perl's scalar localtime (the nodes run in UTC): "Mon Nov 30 11:00:00 2026". */
function localtime(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

interface Snapshot {
  local: string;
  quorate: boolean;
  master?: NodeState;
  nodes: NodeState[];
  services: [string, HaResource, ServiceStatus | undefined][];
  disarm?: { mode: string; state: string };
}

/** The manager status as the CRM master would have written it by now. */
function snapshot(ctx: Ctx): Snapshot {
  const nodes = [...ctx.store.nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
  const online = nodes.filter((n) => n.online);
  const resources = haResources(ctx.store);
  const m = haManager(ctx.store);
  const state = disarmState(m, ctx.now);
  return {
    local: (online[0] ?? nodes[0])?.name ?? "",
    quorate: online.length * 2 > nodes.length,
    // Without any resource the CRM never became master (the manager status stays empty).
    ...(Object.keys(resources).length && online[0] ? { master: online[0] } : {}),
    nodes,
    services: Object.keys(resources)
      .sort()
      .map((sid) => {
        const r = resources[sid] as HaResource;
        return [sid, r, serviceStatus(ctx.store, sid, r, ctx.now)];
      }),
    ...(m.disarm && state && !is84(ctx) ? { disarm: { mode: m.disarm.mode, state } } : {}),
  };
}

function lrm(s: Snapshot, n: NodeState, nowSec: number): { mode: string; state: string; timestamp: number } {
  const active = s.services.some(([, , ss]) => ss?.node === n.name && ss.state !== "stopped");
  return {
    mode: s.disarm?.state === "disarmed" ? "disarm" : "active",
    state: n.online
      ? active && s.disarm?.state !== "disarmed"
        ? "active"
        : "wait_for_agent_lock"
      : "unknown",
    // An offline node's LRM stopped writing its status a while ago.
    timestamp: n.online ? nowSec - 2 : nowSec - 300,
  };
}

function current(ctx: Ctx): Record<string, unknown>[] {
  const s = snapshot(ctx);
  const now = ctx.nowSec;
  const out: Record<string, unknown>[] = [
    {
      id: "quorum",
      type: "quorum",
      node: s.local,
      status: s.quorate ? "OK" : `No quorum on node '${s.local}'!`,
      quorate: s.quorate ? 1 : 0,
    },
  ];
  if (s.master) {
    const ts = now - 3;
    const extra = s.disarm ? ` - ${s.disarm.state}, resource mode: ${s.disarm.mode}` : "";
    out.push({
      id: "master",
      type: "master",
      node: s.master.name,
      status: `${s.master.name} (active, ${localtime(ts)})${extra}`,
      timestamp: ts,
    });
  }
  if (!is84(ctx)) {
    const node = s.master?.name ?? s.local;
    if (s.disarm) {
      const wd = s.disarm.state === "disarmed" ? "CRM watchdog released" : "CRM watchdog active";
      out.push({
        id: "fencing",
        type: "fencing",
        node,
        status: `${s.disarm.state}, resource mode: ${s.disarm.mode} (${wd})`,
        "armed-state": s.disarm.state,
        resource_mode: s.disarm.mode,
      });
    } else {
      const armed = s.master ? "armed" : "standby";
      out.push({
        id: "fencing",
        type: "fencing",
        node,
        status: `${armed} (CRM watchdog ${s.master ? "active" : "standby"})`,
        "armed-state": armed,
      });
    }
  }
  if (s.master) {
    for (const n of s.nodes) {
      const l = lrm(s, n, now);
      const fresh = now - l.timestamp <= 30;
      let text = fresh ? "active" : "old timestamp - dead?";
      const wd =
        fresh && l.state === "active"
          ? "watchdog active"
          : l.mode === "disarm"
            ? "watchdog released"
            : "watchdog standby";
      if (fresh)
        text = l.mode !== "active" ? `${l.mode} mode` : l.state === "wait_for_agent_lock" ? "idle" : l.state;
      out.push({
        id: `lrm:${n.name}`,
        type: "lrm",
        node: n.name,
        status: `${n.name} (${text}, ${wd}, ${localtime(l.timestamp)})`,
        timestamp: l.timestamp,
      });
    }
  }
  for (const [sid, r, ss] of s.services) {
    const g = ctx.store.guests.get(vmidOfSid(sid));
    const node = ss?.node ?? g?.node ?? "---";
    let state = verboseState(ss, r);
    if (s.disarm?.mode === "ignore") state = "ignore";
    const row: Record<string, unknown> = { id: `service:${sid}`, type: "service", sid, node };
    if (ss) row.crm_state = ss.state;
    row.state = state;
    row.status = `${sid} (${node}, ${state})`;
    // read_and_check_resources_config fills in the defaults.
    row.request_state = r.state === "enabled" || r.state === undefined ? "started" : r.state;
    row.max_restart = r.max_restart ?? 1;
    row.max_relocate = r.max_relocate ?? 1;
    if (!is84(ctx)) row.failback = r.failback === false ? 0 : 1;
    if (r.group !== undefined) row.group = r.group;
    if (r.comment !== undefined) row.comment = r.comment;
    out.push(row);
  }
  return out;
}

function managerStatus(ctx: Ctx): Record<string, unknown> {
  const s = snapshot(ctx);
  const now = ctx.nowSec;
  const out: Record<string, unknown> = { quorum: { node: s.local, quorate: s.quorate ? 1 : 0 } };
  if (!s.master) {
    out.manager_status = {};
    return out;
  }
  const serviceStatusMap: Record<string, unknown> = {};
  for (const [sid, , ss] of s.services) {
    if (!ss) continue;
    serviceStatusMap[sid] = {
      node: ss.node,
      state: ss.state,
      running: ss.running ? 1 : 0,
      uid: `${sid.replace(":", "")}${ss.node}`.slice(0, 22),
    };
  }
  const nodeStatus: Record<string, string> = {};
  for (const n of s.nodes) {
    const hasServices = s.services.some(([, , ss]) => ss?.node === n.name);
    nodeStatus[n.name] = n.online ? "online" : hasServices ? "fence" : "unknown";
  }
  out.manager_status = {
    master_node: s.master.name,
    timestamp: now - 3,
    node_status: nodeStatus,
    service_status: serviceStatusMap,
    ...(s.disarm ? { disarm: { mode: s.disarm.mode, state: s.disarm.state } } : {}),
  };
  const lrmStatus: Record<string, unknown> = {};
  for (const n of s.nodes) lrmStatus[n.name] = { ...lrm(s, n, now), results: {} };
  out.lrm_status = lrmStatus;
  return out;
}

export const haStatusRoutes: Route[] = [
  {
    method: "GET",
    path: "/cluster/ha/status",
    handler: (ctx) => [
      { name: "current" },
      { name: "manager_status" },
      ...(is84(ctx) ? [] : [{ name: "disarm-ha" }, { name: "arm-ha" }]),
    ],
  },
  { method: "GET", path: "/cluster/ha/status/current", handler: current },
  { method: "GET", path: "/cluster/ha/status/manager_status", handler: managerStatus },
  {
    method: "POST",
    path: "/cluster/ha/status/disarm-ha",
    handler: since9((ctx) => {
      const m = haManager(ctx.store);
      // The CRM ignores a second request while disarming or disarmed.
      if (!m.disarm) {
        m.disarm = { mode: ctx.str("resource-mode") as "freeze" | "ignore", sinceMs: ctx.now };
        ctx.store.putConfig(HA_MANAGER, m);
      }
      return null;
    }),
  },
  {
    method: "POST",
    path: "/cluster/ha/status/arm-ha",
    handler: since9((ctx) => {
      const m = haManager(ctx.store);
      if (m.disarm) {
        delete m.disarm;
        ctx.store.putConfig(HA_MANAGER, m);
        for (const sid of Object.keys(haResources(ctx.store))) crmAct(ctx.store, sid, ctx.now);
      }
      return null;
    }),
  },
];
