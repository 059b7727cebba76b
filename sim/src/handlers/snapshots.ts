// Snapshots of qemu and lxc guests (PVE::AbstractConfig snapshot_create/delete/rollback).

import type { Ctx, Route } from "../api/context";
import { PveError } from "../api/respond";
import type { GuestState, GuestType, TaskEffect } from "../state/model";
import {
  failingTask,
  guestDisks,
  guestTask,
  loadGuest,
  lockError,
  snapshotConfig,
  snapshotList,
} from "./guests";

function diskLines(g: GuestState, snap: string, verb: "create" | "remove" | "rollback"): string[] {
  const lines: string[] = [];
  for (const d of guestDisks(g)) {
    if (d.key.startsWith("unused")) continue;
    const lv = d.volid.split(":")[1] ?? d.volid;
    if (verb === "create") {
      lines.push(`snapshotting '${g.type === "qemu" ? `drive-${d.key}` : d.key}' (${d.volid})`);
      lines.push(`  Logical volume "snap_${lv}_${snap}" created.`);
    } else if (verb === "remove") {
      lines.push(`  Logical volume "snap_${lv}_${snap}" successfully removed.`);
    } else {
      lines.push(`  Logical volume "${lv}" successfully removed.`);
      lines.push(`  WARNING: You have not turned on protection against thin pools running out of space.`);
      lines.push(`  Logical volume "${lv}" created.`);
    }
  }
  return lines;
}

export function snapshotRoutes(type: GuestType): Route[] {
  const base = `/nodes/{node}/${type}/{vmid}/snapshot`;
  const prefix = type === "qemu" ? "qm" : "vz";

  const create = (ctx: Ctx): string => {
    const g = loadGuest(ctx, type);
    const name = ctx.str("snapname");
    if (name === "current") throw new PveError("unable to use snapshot name 'current' (reserved name)");
    if (name.toLowerCase() === "pending")
      throw new PveError("unable to use snapshot name 'pending' (reserved name)");
    const taskType = `${prefix}snapshot`;
    const lock = lockError(g);
    if (lock) return failingTask(ctx, g, taskType, lock);
    if (g.snapshots.some((s) => s.name === name))
      return failingTask(ctx, g, taskType, `snapshot name '${name}' already used`);
    const vmstate = type === "qemu" && ctx.bool("vmstate") && g.status === "running";
    const lines = vmstate
      ? [
          "saving VM state and RAM using storage 'local-lvm'",
          "completed saving the VM state in 2s, saved 1.05 GiB",
          ...diskLines(g, name, "create"),
        ]
      : diskLines(g, name, "create");
    return guestTask(ctx, g, {
      type: taskType,
      durationMs: vmstate ? 4000 : 1500,
      lines,
      startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "snapshot" }],
      effects: [
        {
          kind: "snapshot-create",
          vmid: g.vmid,
          name,
          description: ctx.optStr("description") ?? "",
          vmstate,
        },
      ],
      abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
    });
  };

  const remove = (ctx: Ctx): string => {
    const g = loadGuest(ctx, type);
    const name = ctx.str("snapname");
    const taskType = `${prefix}delsnapshot`;
    if (!g.snapshots.some((s) => s.name === name))
      return failingTask(ctx, g, taskType, `snapshot '${name}' does not exist`);
    const lock = !ctx.bool("force") && lockError(g);
    if (lock) return failingTask(ctx, g, taskType, lock);
    return guestTask(ctx, g, {
      type: taskType,
      durationMs: 1200,
      lines: diskLines(g, name, "remove"),
      startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "snapshot-delete" }],
      effects: [{ kind: "snapshot-delete", vmid: g.vmid, name }],
      abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
    });
  };

  const rollback = (ctx: Ctx): string => {
    const g = loadGuest(ctx, type);
    const name = ctx.str("snapname");
    const taskType = `${prefix}rollback`;
    if (!g.snapshots.some((s) => s.name === name))
      return failingTask(ctx, g, taskType, `snapshot '${name}' does not exist`);
    const lock = lockError(g);
    if (lock) return failingTask(ctx, g, taskType, lock);
    const effects: TaskEffect[] = [{ kind: "snapshot-rollback", vmid: g.vmid, name }];
    const snap = g.snapshots.find((s) => s.name === name);
    // qemu: `start` boots the VM after a rollback to a snapshot without RAM state.
    if (type === "qemu" && ctx.bool("start") && !snap?.vmstate)
      effects.push({ kind: "guest-running", vmid: g.vmid });
    return guestTask(ctx, g, {
      type: taskType,
      durationMs: 2000,
      lines: diskLines(g, name, "rollback"),
      // snapshot_rollback holds the 'rollback' lock while the volumes are rolled back.
      startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "rollback" }],
      effects,
      abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
    });
  };

  /** PUT .../snapshot/{snapname}/config: synchronous, only the description can change. */
  const updateConfig = (ctx: Ctx): null => {
    const g = loadGuest(ctx, type);
    const description = ctx.optStr("description");
    if (description === undefined) return null;
    const lock = lockError(g);
    if (lock) throw new PveError(lock);
    const name = ctx.str("snapname");
    const snap = g.snapshots.find((s) => s.name === name);
    if (!snap) throw new PveError(`snapshot '${name}' does not exist`);
    snap.description = description;
    ctx.store.guests.put(g);
    return null;
  };

  return [
    { method: "GET", path: base, handler: (ctx) => snapshotList(loadGuest(ctx, type)) },
    { method: "POST", path: base, handler: create },
    // A directory index; Proxmox does not check that the snapshot exists here.
    { method: "GET", path: `${base}/{snapname}`, handler: () => [{ cmd: "rollback" }, { cmd: "config" }] },
    { method: "DELETE", path: `${base}/{snapname}`, handler: remove },
    { method: "POST", path: `${base}/{snapname}/rollback`, handler: rollback },
    {
      method: "GET",
      path: `${base}/{snapname}/config`,
      handler: (ctx) => snapshotConfig(loadGuest(ctx, type), ctx.str("snapname")),
    },
    { method: "PUT", path: `${base}/{snapname}/config`, handler: updateConfig },
  ];
}
