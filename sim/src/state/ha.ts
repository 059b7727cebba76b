// HA state as pve-ha-manager keeps it in /etc/pve/ha: resources.cfg, rules.cfg (PVE 9),
// groups.cfg (PVE 8, migrated to rules by 9) and the CRM's manager status. The CRM and LRMs are
// not simulated as daemons: what they would do (start or stop a resource to match its requested
// state, migrate it, fence a dead node) is derived from the config, the guests and the nodes.

import type { ConfigFile, GuestState, NodeState } from "./model";
import { digestOf } from "./random";
import type { Store } from "./store";
import { isRunning, startTask } from "./tasks";

export const HA_RESOURCES = "ha/resources.cfg";
export const HA_RULES = "ha/rules.cfg";
export const HA_GROUPS = "ha/groups.cfg";
export const HA_MANAGER = "ha/manager_status";

export type HaRequestState = "started" | "stopped" | "enabled" | "disabled" | "ignored";

export interface HaResource {
  type: "vm" | "ct";
  state?: HaRequestState;
  comment?: string;
  max_restart?: number;
  max_relocate?: number;
  failback?: boolean;
  "auto-rebalance"?: boolean;
  /** PVE 8 only. */
  group?: string;
}

export interface HaRule {
  type: "node-affinity" | "resource-affinity";
  resources: string[];
  /** node-affinity: "node[:priority]" entries. */
  nodes?: string[];
  strict?: boolean;
  affinity?: "positive" | "negative";
  disable?: boolean;
  comment?: string;
  order: number;
}

export interface HaGroup {
  nodes: string[];
  restricted?: boolean;
  nofailback?: boolean;
  comment?: string;
}

export interface HaManager {
  /** Set by disarm-ha; cleared by arm-ha. */
  disarm?: { mode: "freeze" | "ignore"; sinceMs: number };
}

export const haResources = (s: Store) => s.config<Record<string, HaResource>>(HA_RESOURCES, () => ({}));
export const haRules = (s: Store) => s.config<Record<string, HaRule>>(HA_RULES, () => ({}));
export const haGroups = (s: Store) => s.config<Record<string, HaGroup>>(HA_GROUPS, () => ({}));
export const haManager = (s: Store) => s.config<HaManager>(HA_MANAGER, () => ({}));

/** The digest of one config file (Proxmox: SHA-1 of the file's text). */
export const fileDigest = (data: unknown) => digestOf(JSON.stringify(data));

export const vmidOfSid = (sid: string) => Number(sid.slice(sid.indexOf(":") + 1));

/** The configured resource of a guest, if HA manages it (not `ignored`). */
export function haResourceOf(store: Store, g: GuestState): HaResource | undefined {
  const r = haResources(store)[`${g.type === "qemu" ? "vm" : "ct"}:${g.vmid}`];
  return r && r.state !== "ignored" ? r : undefined;
}

/** How long disarming takes before every watchdog is released (the CRM and LRM rounds, 10 s each). */
const DISARM_MS = 20_000;

export function disarmState(m: HaManager, nowMs: number): "disarming" | "disarmed" | undefined {
  if (!m.disarm) return undefined;
  return nowMs - m.disarm.sinceMs < DISARM_MS ? "disarming" : "disarmed";
}

/** The CRM's service status of one resource: its node and internal state (Manager.pm states). */
export interface ServiceStatus {
  node: string;
  state: string;
  running: boolean;
}

function requested(r: HaResource): "started" | "stopped" | "disabled" | "ignored" {
  const s = r.state ?? "started";
  return s === "enabled" ? "started" : s;
}

function guestTaskRunning(store: Store, vmid: number, nowMs: number, types?: string[]): boolean {
  for (const upid of store.unfinished) {
    const t = store.tasks.get(upid);
    if (t && t.id === String(vmid) && isRunning(t, nowMs) && (!types || types.includes(t.type))) return true;
  }
  return false;
}

export function serviceStatus(
  store: Store,
  sid: string,
  r: HaResource,
  nowMs: number,
): ServiceStatus | undefined {
  const g = store.guests.get(vmidOfSid(sid));
  if (!g || requested(r) === "ignored") return undefined;
  const node = store.nodes.get(g.node);
  const running = g.status === "running";
  let state: string;
  if (!node?.online) state = "fence";
  else if (guestTaskRunning(store, g.vmid, nowMs, ["qmigrate", "vzmigrate"])) state = "migrate";
  else if (haManager(store).disarm?.mode === "freeze" && disarmState(haManager(store), nowMs) === "disarmed")
    state = "freeze";
  else if (requested(r) === "started") state = "started";
  else state = running ? "started" : "stopped";
  return { node: g.node, state, running };
}

/** PVE::HA::Tools::get_verbose_service_state. */
export function verboseState(ss: ServiceStatus | undefined, r: HaResource): string {
  const req = requested(r);
  if (req === "ignored") return "ignored";
  if (!ss) return "queued";
  if (ss.state === "stopped")
    return req === "started" ? "starting" : req === "disabled" ? "disabled" : "stopped";
  if (ss.state === "started") {
    if (!ss.running) return "starting";
    if (req === "stopped" || req === "disabled") return "stopping";
  }
  return ss.state;
}

/**
 * What the CRM and the resource's LRM do next for a resource: start it or shut it down to match
 * its requested state (as the LRM's `qm start`/`qm shutdown` workers, run as root@pam).
 */
export function crmAct(store: Store, sid: string, nowMs: number): void {
  const r = haResources(store)[sid];
  const g = store.guests.get(vmidOfSid(sid));
  if (!r || !g || !store.nodes.get(g.node)?.online) return;
  if (haManager(store).disarm) return;
  if (guestTaskRunning(store, g.vmid, nowMs)) return;
  const req = requested(r);
  const qemu = g.type === "qemu";
  if (req === "started" && g.status !== "running") {
    startTask(
      store,
      {
        node: g.node,
        type: qemu ? "qmstart" : "vzstart",
        id: String(g.vmid),
        user: "root@pam",
        durationMs: 1500,
        effects: [{ kind: "guest-running", vmid: g.vmid }],
      },
      nowMs,
    );
  } else if ((req === "stopped" || req === "disabled") && g.status === "running") {
    startTask(
      store,
      {
        node: g.node,
        type: qemu ? "qmshutdown" : "vzshutdown",
        id: String(g.vmid),
        user: "root@pam",
        durationMs: 4000,
        effects: [{ kind: "guest-stopped", vmid: g.vmid }],
      },
      nowMs,
    );
  }
}

/** The seeded HA setup: a few resources, a node-affinity and a resource-affinity rule. */
export function seedHa(nodes: NodeState[], guests: GuestState[], generated: boolean): ConfigFile[] {
  const sid = (g: GuestState) => `${g.type === "qemu" ? "vm" : "ct"}:${g.vmid}`;
  const pick = generated
    ? guests.filter((g) => g.vmid % 20 === 5 && g.status === "running" && g.type === "qemu")
    : guests.filter((g) => [102, 111, 202].includes(g.vmid));
  const resources: Record<string, HaResource> = {};
  for (const g of pick)
    resources[sid(g)] = {
      type: g.type === "qemu" ? "vm" : "ct",
      state: "started",
      max_restart: 1,
      max_relocate: 1,
    };
  const rules: Record<string, HaRule> = {};
  let order = 1;
  const names = nodes.map((n) => n.name);
  for (const n of nodes) {
    const here = pick.filter((g) => g.node === n.name).map(sid);
    if (!here.length) continue;
    const others = names.filter((x) => x !== n.name).slice(0, 1);
    rules[`prefer-${n.name}`] = {
      type: "node-affinity",
      resources: here,
      nodes: [`${n.name}:2`, ...others.map((o) => `${o}:1`)],
      strict: false,
      comment: `Keep on ${n.name} while it is up`,
      order: order++,
    };
  }
  const apart = pick.filter((g) => g.type === "qemu").slice(0, 2);
  if (apart.length === 2 && !generated) {
    rules["keep-apart"] = {
      type: "resource-affinity",
      resources: apart.map(sid),
      affinity: "negative",
      comment: "the database and home automation never share a node",
      order: order++,
    };
  }
  return [
    { name: HA_RESOURCES, data: resources },
    { name: HA_RULES, data: rules },
  ];
}

/** PVE::HA::Config::get_service_status, as guest status and /cluster/resources report it. */
export function haStatusOf(store: Store, g: GuestState, nowMs: number): { managed: 0 | 1; state?: string } {
  const sid = `${g.type === "qemu" ? "vm" : "ct"}:${g.vmid}`;
  const r = haResources(store)[sid];
  if (!r || r.state === "ignored") return { managed: 0 };
  const ss = serviceStatus(store, sid, r, nowMs);
  return ss ? { managed: 1, state: ss.state } : { managed: 1 };
}

/**
 * Start, stop or shutdown of an HA-managed guest (qemu-server and pve-container API): instead of
 * acting itself, the API forks an `hastart`/`hastop` worker that asks the HA stack (`ha-manager set
 * --state started`, `crm-command stop`); the CRM then has the guest's LRM start or stop it.
 */
export function haRequest(
  store: Store,
  g: GuestState,
  want: "started" | "stopped",
  user: string,
  nowMs: number,
): string {
  const sid = `${g.type === "qemu" ? "vm" : "ct"}:${g.vmid}`;
  const all = haResources(store);
  const r = all[sid];
  if (r) {
    r.state = want;
    store.putConfig(HA_RESOURCES, all);
  }
  const what = `${g.type === "qemu" ? "VM" : "CT"} ${g.vmid}`;
  const task = startTask(
    store,
    {
      node: g.node,
      type: want === "started" ? "hastart" : "hastop",
      id: String(g.vmid),
      user,
      durationMs: 300,
      lines: [`Requesting HA ${want === "started" ? "start" : "stop"} for ${what}`],
    },
    nowMs,
  );
  crmAct(store, sid, nowMs);
  return task.upid;
}
