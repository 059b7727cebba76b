import type { GuestState, TaskEffect } from "./model";
import type { Store } from "./store";

/** Applies one task effect to the world (when a task ends, or starts for locks). */
export function applyEffect(store: Store, effect: TaskEffect, nowMs: number): void {
  const guest = store.guests.get(effect.vmid);
  if (!guest) return;
  const now = Math.floor(nowMs / 1000);
  switch (effect.kind) {
    case "guest-running":
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
    case "guest-rebooted":
      guest.status = "running";
      guest.runState = "running";
      guest.startedAt = now;
      guest.pid = nextPid(store, guest);
      applyPending(guest);
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
