import { applyHostChange } from "../host/effects";
import type { GuestState, TaskEffect } from "./model";
import type { Store } from "./store";

/** Applies one task effect to the world (when a task ends, or starts for locks). */
export function applyEffect(store: Store, effect: TaskEffect, nowMs: number): void {
  switch (effect.kind) {
    case "guest-put":
      store.guests.put(structuredClone(effect.guest));
      return;
    case "guest-remove":
      removeGuest(store, effect.vmid);
      return;
    case "volume-put":
      store.volumes.put(structuredClone(effect.volume));
      return;
    case "volume-remove":
      store.volumes.delete(effect.key);
      return;
    case "host":
      applyHostChange(store, effect.node, effect.change, nowMs);
      return;
    case "pool-add": {
      const pool = store.pools.get(effect.poolid);
      if (!pool || !store.guests.has(effect.vmid)) return;
      for (const other of store.pools.values()) {
        if (other.poolid !== pool.poolid && other.vmids.includes(effect.vmid)) {
          other.vmids = other.vmids.filter((v) => v !== effect.vmid);
          store.pools.put(other);
        }
      }
      if (!pool.vmids.includes(effect.vmid)) pool.vmids.push(effect.vmid);
      store.pools.put(pool);
      return;
    }
  }
  const guest = store.guests.get(effect.vmid);
  if (!guest) return;
  const now = Math.floor(nowMs / 1000);
  switch (effect.kind) {
    case "guest-config":
      Object.assign(guest.config, effect.set);
      for (const key of effect.delete ?? []) delete guest.config[key];
      break;
    case "guest-move":
      guest.node = effect.node;
      if (guest.status === "running") {
        guest.startedAt = now;
        guest.pid = nextPid(store, guest);
      }
      break;
    // A reboot is a fresh start: new process, new uptime, pending changes applied.
    case "guest-running":
    case "guest-rebooted":
      guest.status = "running";
      guest.runState = "running";
      guest.startedAt = now;
      guest.pid = nextPid(store, guest);
      applyPending(guest);
      break;
    case "guest-stopped":
      guest.status = "stopped";
      delete guest.runState;
      delete guest.startedAt;
      delete guest.pid;
      applyPending(guest);
      break;
    case "guest-paused":
      if (guest.status === "running")
        guest.runState = effect.paused ? (guest.type === "lxc" ? "frozen" : "paused") : "running";
      break;
    case "guest-lock":
      if (effect.lock === null) delete guest.config.lock;
      else guest.config.lock = effect.lock;
      break;
    case "snapshot-create": {
      const { lock: _lock, parent: _parent, ...config } = guest.config;
      guest.snapshots.push({
        name: effect.name,
        ...(typeof guest.config.parent === "string" ? { parent: guest.config.parent } : {}),
        snaptime: now,
        description: effect.description,
        ...(guest.type === "qemu" ? { vmstate: effect.vmstate } : {}),
        config,
      });
      guest.config.parent = effect.name;
      delete guest.config.lock;
      break;
    }
    case "snapshot-delete": {
      const snap = guest.snapshots.find((s) => s.name === effect.name);
      if (!snap) break;
      // Children of the deleted snapshot inherit its parent, as in PVE::AbstractConfig.
      for (const s of guest.snapshots) {
        if (s.parent === effect.name) {
          if (snap.parent) s.parent = snap.parent;
          else delete s.parent;
        }
      }
      if (guest.config.parent === effect.name) {
        if (snap.parent) guest.config.parent = snap.parent;
        else delete guest.config.parent;
      }
      guest.snapshots = guest.snapshots.filter((s) => s.name !== effect.name);
      delete guest.config.lock;
      break;
    }
    case "snapshot-rollback": {
      const snap = guest.snapshots.find((s) => s.name === effect.name);
      if (!snap) break;
      guest.config = { ...snap.config, parent: snap.name };
      guest.pending = {};
      guest.pendingDelete = [];
      if (snap.vmstate && guest.type === "qemu") {
        guest.status = "running";
        guest.runState = "running";
        guest.startedAt = now;
        guest.pid = nextPid(store, guest);
      } else {
        guest.status = "stopped";
        delete guest.runState;
        delete guest.startedAt;
        delete guest.pid;
      }
      break;
    }
  }
  store.guests.put(guest);
}

/** PVE::AccessControl::remove_vm_access drops the guest from its pool along with the config. */
function removeGuest(store: Store, vmid: number): void {
  if (!store.guests.has(vmid)) return;
  store.guests.delete(vmid);
  // Destroying a guest also removes its firewall file (PVE::Firewall::remove_vmfw_conf).
  store.firewall.delete(`vm/${vmid}`);
  for (const pool of store.pools.values()) {
    if (!pool.vmids.includes(vmid)) continue;
    pool.vmids = pool.vmids.filter((v) => v !== vmid);
    store.pools.put(pool);
  }
}

function nextPid(store: Store, guest: GuestState): number {
  const node = store.nodes.get(guest.node);
  if (!node) return 1000 + guest.vmid;
  const pid = node.nextPid;
  node.nextPid += 7;
  store.nodes.put(node);
  return pid;
}

/** Pending changes take effect when the guest (re)starts or stops. */
function applyPending(guest: GuestState): void {
  if (Object.keys(guest.pending).length === 0 && guest.pendingDelete.length === 0) return;
  Object.assign(guest.config, guest.pending);
  for (const key of guest.pendingDelete) delete guest.config[key];
  guest.pending = {};
  guest.pendingDelete = [];
}
