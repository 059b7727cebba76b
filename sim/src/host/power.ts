// Node reboot and shutdown (POST /nodes/{node}/status). Proxmox runs `(sleep 2; /sbin/reboot)&`
// and answers at once; systemd then stops pve-guests (a `stopall` worker shuts every guest down),
// the node drops out of the cluster, and after a reboot it comes back and pve-guests starts the
// onboot guests (a `startall` worker, one qmstart/vzstart each). Applied lazily on each request.

import { PveError } from "../api/respond";
import { applyEffect } from "../state/effects";
import type { GuestState, NodeState } from "../state/model";
import type { Store } from "../state/store";
import { killTask, scaledDuration, startTask, tick } from "../state/tasks";
import { bootHost, shutdownEvents } from "./boot";
import { recordEvents } from "./journal";
import type { HostState } from "./model";

/** `sleep 2` before poweroff, then pve-guests stops the guests in parallel. */
const STOPALL_MS = 2000 + 6000;
/** Firmware, kernel and units until pveproxy answers again. */
const BOOT_MS = 75_000;
const GUEST_START_MS = 1500;
/** Stopall's default per-guest timeout (Nodes.pm stopall). */
const STOP_TIMEOUT = 180;

const kind = (g: GuestState) => (g.type === "qemu" ? "VM" : "CT");

/** Starts the reboot or shutdown; returns when Proxmox would (at once). */
export function planPower(
  store: Store,
  node: NodeState,
  command: "reboot" | "shutdown",
  nowMs: number,
): void {
  const host = store.hosts.get(node.name);
  if (!host) return;
  const running = store.guestsOn(node.name).filter((g) => g.status === "running");
  // Guests go down in reverse start order, the highest order first (Nodes.pm stopall).
  running.sort((a, b) => startOrder(b) - startOrder(a) || b.vmid - a.vmid);
  const stopall = startTask(
    store,
    {
      node: node.name,
      type: "stopall",
      id: "",
      user: "root@pam",
      durationMs: STOPALL_MS,
      lines: running.map((g) => `Stopping ${kind(g)} ${g.vmid} (timeout = ${STOP_TIMEOUT} seconds)`),
    },
    nowMs,
  );
  const downAt = nowMs + stopall.durationMs;
  host.power = { command, downAt };
  if (command === "reboot") host.power.upAt = downAt + scaledDuration(store, BOOT_MS);
  recordEvents(host, shutdownEvents(host, command, nowMs + Math.min(2000, stopall.durationMs)));
  store.hosts.put(host);
}

/**
 * Nodes.pm wakeonlan: the node answering (the cluster's first, as /cluster/status marks it local)
 * sends the magic packet to the target's configured MAC; a powered-off node then boots.
 */
export function wakeNode(store: Store, node: NodeState, nowMs: number): string {
  const local = [...store.nodes.values()][0];
  if (local?.name === node.name) throw new PveError(`'${node.name}' is local node, cannot wake my self!`);
  const host = store.hosts.get(node.name);
  const mac = host?.wakeOnLan;
  if (!host || mac === undefined)
    throw new PveError(`No wake on LAN MAC address defined for '${node.name}'!`);
  // A running node (even one shutting down) ignores the packet; a node that is off boots.
  if (!node.online && host.power?.upAt === undefined) {
    host.power = { command: "reboot", downAt: nowMs, upAt: nowMs + scaledDuration(store, BOOT_MS) };
    store.hosts.put(host);
  }
  return mac;
}

function startOrder(g: GuestState): number {
  const m = /(?:^|,)order=(\d+)/.exec(String(g.config.startup ?? ""));
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** Applies every power transition whose time has come (before tasks that end later). */
export function settleHosts(store: Store, nowMs: number): void {
  for (const host of store.hosts.values()) {
    const plan = host.power;
    if (!plan) continue;
    const node = store.nodes.get(host.node);
    if (!node) continue;
    if (plan.downAt <= nowMs && node.online) goDown(store, node, host, plan.downAt);
    if (plan.upAt !== undefined && plan.upAt <= nowMs && !node.online) comeUp(store, node, host, plan.upAt);
    if (plan.upAt === undefined ? plan.downAt <= nowMs : plan.upAt <= nowMs) delete host.power;
    store.hosts.put(host);
  }
}

function goDown(store: Store, node: NodeState, host: HostState, atMs: number): void {
  // What ended before the power went out happened first.
  tick(store, atMs);
  for (const g of store.guestsOn(node.name)) {
    if (g.status === "running") applyEffect(store, { kind: "guest-stopped", vmid: g.vmid }, atMs);
  }
  // Workers still running die with the node.
  for (const upid of [...store.unfinished]) {
    const t = store.tasks.get(upid);
    if (t && t.node === node.name) killTask(store, t, atMs);
  }
  for (const [name, s] of Object.entries(host.services)) {
    host.services[name] = {
      state: "dead",
      unitState: s.unitState,
      activeState: "inactive",
      ...(s.failing ? { failing: true } : {}),
    };
  }
  host.pastBoots.push({ bootTime: node.bootTime, downAt: Math.floor(atMs / 1000) });
  node.online = false;
  store.nodes.put(node);
}

function comeUp(store: Store, node: NodeState, host: HostState, atMs: number): void {
  node.online = true;
  node.bootTime = Math.floor(atMs / 1000);
  node.nextPid = 2000 + (node.nextPid % 1000);
  store.nodes.put(node);
  recordEvents(host, bootHost(host, node.bootTime, 600 + node.nodeid * 3));
  const onboot = store
    .guestsOn(node.name)
    .filter((g) => Number(g.config.onboot ?? 0) === 1 && Number(g.config.template ?? 0) !== 1)
    .sort((a, b) => startOrder(a) - startOrder(b) || a.vmid - b.vmid);
  const step = scaledDuration(store, GUEST_START_MS);
  startTask(
    store,
    {
      node: node.name,
      type: "startall",
      id: "",
      user: "root@pam",
      durationMs: GUEST_START_MS * Math.max(1, onboot.length),
      lines: onboot.map((g) => `Starting ${kind(g)} ${g.vmid}`),
    },
    atMs,
  );
  onboot.forEach((g, i) => {
    startTask(
      store,
      {
        node: node.name,
        type: g.type === "qemu" ? "qmstart" : "vzstart",
        id: String(g.vmid),
        user: "root@pam",
        durationMs: GUEST_START_MS,
        effects: [{ kind: "guest-running", vmid: g.vmid }],
      },
      atMs + i * step,
    );
  });
}
