// Migrating guests between nodes (qemu-server PVE/API2/Qemu.pm migrate_vm + PVE/QemuMigrate.pm,
// pve-container PVE/API2/LXC.pm migrate_vm + PVE/LXC/Migrate.pm).

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { haResourceOf } from "../state/ha";
import type { GuestState, TaskEffect } from "../state/model";
import { sizeOf } from "../state/seed";
import {
  allocLines,
  capacityError,
  freeLines,
  GiB,
  isCdrom,
  isDiskKey,
  parseDrive,
  renderBytes,
  storageOf,
} from "./disks";
import { guestTask, kindWord, loadGuest, lockError, maxMem } from "./guests";
import { checkNodeExists, flockError } from "./guestutil";
import { haMigrate } from "./ha";
import { rootOnly } from "./root-only";
import { elapsed, hms, stamped, steps } from "./tasklog";

interface LocalVolume {
  key: string;
  volid: string;
  size: number;
  cdrom: boolean;
  /** vm-N-cloudinit: generated from the config, so qemu-server copies it offline, even live. */
  cloudinit: boolean;
}

/** Volumes of a guest on storage that is not shared (they must be copied, or block the move). */
function localVolumes(ctx: Ctx, g: GuestState): LocalVolume[] {
  const out: LocalVolume[] = [];
  for (const [key, value] of Object.entries(g.config)) {
    if (typeof value !== "string" || !(isDiskKey(g.type, key) || /^unused\d+$/.test(key))) continue;
    const d = parseDrive(value);
    if (!d.volume.includes(":")) continue;
    const s = ctx.store.storages.get(storageOf(d.volume));
    if (!s || s.shared) continue;
    // drive_is_cdrom($drive, 1): a cloud-init drive is a CD drive that does not count as one.
    const cloudinit = /cloudinit/.test(d.volume);
    out.push({
      key,
      volid: d.volume,
      size: sizeOf(value) || (cloudinit ? 4 * 1024 * 1024 : 0),
      cdrom: isCdrom(d) && !cloudinit,
      cloudinit,
    });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** check_storage_availability: every storage the guest uses must exist on the target. */
function checkStorageOnTarget(ctx: Ctx, g: GuestState, target: string): void {
  for (const [key, value] of Object.entries(g.config)) {
    if (typeof value !== "string" || !isDiskKey(g.type, key)) continue;
    const v = parseDrive(value).volume;
    if (!v.includes(":")) continue;
    const s = ctx.store.storages.get(storageOf(v));
    if (s?.nodes && !s.nodes.includes(target))
      throw new PveError(`storage '${s.storage}' is not available on node '${target}'`);
  }
}

/** dd's summary line for a copied volume. */
function ddLines(bytes: number, seconds: number): string[] {
  const records = Math.floor(bytes / 65536);
  const gb = (bytes / 1e9).toFixed(bytes >= 10e9 ? 0 : 1);
  const mbps = Math.round(bytes / 1e6 / Math.max(1, seconds));
  return [
    `${records}+0 records in`,
    `${records}+0 records out`,
    `${bytes} bytes (${gb} GB, ${renderBytes(bytes).replace(".0 ", " ")}) copied, ${seconds.toFixed(1)} s, ${mbps} MB/s`,
  ];
}

/** The start of every migration log, and the abort when the target cannot be reached. */
function unreachable(ctx: Ctx, g: GuestState, target: string, ip: string): string {
  const kind = kindWord(g.type);
  const lines = [
    `starting migration of ${kind} ${g.vmid} to node '${target}' (${ip})`,
    `ssh: connect to host ${ip} port 22: No route to host`,
    "ERROR: migration aborted (duration 00:00:03): Can't connect to destination address using public key",
  ];
  return guestTask(ctx, g, {
    type: g.type === "qemu" ? "qmigrate" : "vzmigrate",
    durationMs: 3000,
    lines: (d) => stamped(lines, ctx.now, d),
    outcome: { kind: "error", message: "migration aborted" },
  });
}

function aborted(ctx: Ctx, g: GuestState, head: string[], reason: string): string {
  const lines = [...head, `ERROR: ${reason}`, `ERROR: migration aborted (duration 00:00:01): ${reason}`];
  return guestTask(ctx, g, {
    type: g.type === "qemu" ? "qmigrate" : "vzmigrate",
    durationMs: 1000,
    lines: (d) => stamped(lines, ctx.now, d),
    startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "migrate" }],
    abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
    outcome: { kind: "error", message: "migration aborted" },
  });
}

function migrateQemu(ctx: Ctx): string {
  const { store } = ctx;
  const node = ctx.str("node");
  const target = ctx.str("target");
  if (target === node) throw paramError({ target: "target is local node." });
  checkNodeExists(store, target);
  rootOnly(ctx, "force", "migration_type", "migration_network");
  const g = loadGuest(ctx, "qemu");
  const lock = lockError(g);
  if (lock) throw new PveError(lock);
  const running = g.status === "running";
  if (running && !ctx.bool("online")) throw new PveError("can't migrate running VM without --online");
  if (!ctx.has("targetstorage")) checkStorageOnTarget(ctx, g, target);
  if (haResourceOf(store, g)) return haMigrate(ctx, g, target);
  const targetNode = store.nodes.get(target);
  const ip = targetNode?.ip ?? target;
  if (!targetNode?.online) return unreachable(ctx, g, target, ip);
  const flock = flockError(store, g, ctx.now);
  if (flock) return aborted(ctx, g, [], flock);

  const local = localVolumes(ctx, g);
  const head = [`starting migration of VM ${g.vmid} to node '${target}' (${ip})`];
  for (const v of local) {
    head.push(`found local disk '${v.volid}' (${v.key.startsWith("unused") ? "via storage" : "attached"})`);
  }
  const cd = local.find((v) => v.cdrom);
  if (cd)
    return aborted(
      ctx,
      g,
      head,
      `Problem found while scanning volumes - can't migrate local cdrom drive (${cd.volid})`,
    );
  // Cloud-init images are copied with storage_migrate before the VM moves; the others are
  // mirrored live (running) or copied (stopped).
  const cloudinit = local.filter((v) => v.cloudinit);
  const disks = local.filter((v) => !v.cdrom && !v.cloudinit);
  if (running && disks.length && !ctx.bool("with-local-disks")) {
    return aborted(
      ctx,
      g,
      head,
      "Problem found while scanning volumes - can't live migrate attached local disks without with-local-disks option",
    );
  }
  const copied = [...cloudinit, ...disks];
  const noSpace = capacityError(
    store,
    target,
    copied.map((v) => ({ key: v.key, volid: v.volid, size: v.size })),
  );
  if (noSpace) {
    const v = copied[noSpace.index] as LocalVolume;
    return aborted(
      ctx,
      g,
      head,
      `storage migration for '${v.volid}' to storage '${storageOf(v.volid)}' failed - ${noSpace.message}`,
    );
  }

  const diskBytes = disks.reduce((s, v) => s + v.size, 0);
  const mem = maxMem(g);
  const builtin = running
    ? Math.min(60_000, Math.max(8_000, Math.round(((diskBytes + mem) / GiB) * 800)))
    : disks.length
      ? Math.min(60_000, Math.max(10_000, Math.round((diskBytes / GiB) * 1200)))
      : 4_000;
  const lines = (d: number) => {
    const secs = d / 1000;
    const out = [...head];
    for (const v of running ? cloudinit : []) {
      out.push(`copying local cloud-init image '${v.volid}'`);
      out.push(...allocLines(store, [{ key: v.key, volid: v.volid, size: v.size }]));
      out.push(`successfully imported '${v.volid}'`, `volume '${v.volid}' is '${v.volid}' on the target`);
    }
    if (!running) {
      const disks = copied;
      if (disks.length) out.push("copying local disk images");
      for (const v of disks) {
        out.push(...allocLines(store, [{ key: v.key, volid: v.volid, size: v.size }]));
        out.push(...ddLines(v.size, (secs * v.size) / Math.max(1, diskBytes)));
        out.push(`successfully imported '${v.volid}'`, `volume '${v.volid}' is '${v.volid}' on the target`);
      }
    } else {
      out.push(`starting VM ${g.vmid} on remote node '${target}'`);
      for (const v of disks) out.push(`volume '${v.volid}' is '${v.volid}' on the target`);
      out.push("start remote tunnel", "ssh tunnel ver 1");
      if (disks.length) out.push("starting storage migration");
      let done = 0;
      for (const v of disks) {
        out.push(
          `${v.key}: start migration to nbd:unix:/run/qemu-server/${g.vmid}_nbd.migrate:exportname=drive-${v.key}`,
          `drive mirror is starting for drive-${v.key}`,
        );
        for (const p of steps(6)) {
          const at = ((done + (v.size * p) / 100) / Math.max(1, diskBytes + mem)) * secs;
          out.push(
            `drive-${v.key}: transferred ${renderBytes((v.size * p) / 100)} of ${renderBytes(v.size)} (${p.toFixed(2)}%) in ${elapsed(at)}${p === 100 ? ", ready" : ""}`,
          );
        }
        done += v.size;
      }
      if (disks.length) out.push("all 'mirror' jobs are ready");
      out.push(
        `starting online/live migration on unix:/run/qemu-server/${g.vmid}.migrate`,
        "set migration capabilities",
        "migration downtime limit: 100 ms",
        "migration cachesize: 512.0 MiB",
        "set migration parameters",
        `start migrate command to unix:/run/qemu-server/${g.vmid}.migrate`,
      );
      for (const p of steps(3, 90)) {
        out.push(
          `migration active, transferred ${renderBytes((mem * g.usage.memFraction * p) / 100)} of ${renderBytes(mem)} VM-state, 1.1 GiB/s`,
        );
      }
      out.push(
        `average migration speed: ${renderBytes(mem / Math.max(1, secs / 3))}/s - downtime 43 ms`,
        "migration status: completed",
      );
      for (const v of disks) {
        out.push(
          `drive-${v.key}: Completing block job...`,
          `drive-${v.key}: Completed successfully.`,
          `drive-${v.key}: mirror-job finished`,
        );
      }
      if (disks.length) out.push("stopping NBD storage migration server on target.");
    }
    out.push(
      ...freeLines(
        store,
        copied.map((v) => v.volid),
      ),
    );
    out.push(`migration finished successfully (duration ${hms(secs)})`);
    return stamped(out, ctx.now, d);
  };
  return guestTask(ctx, g, {
    type: "qmigrate",
    durationMs: builtin,
    lines,
    startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "migrate" }],
    effects: [
      { kind: "guest-move", vmid: g.vmid, node: target },
      { kind: "guest-lock", vmid: g.vmid, lock: null },
    ],
    abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
  });
}

function migrateLxc(ctx: Ctx): string {
  const { store } = ctx;
  const node = ctx.str("node");
  const target = ctx.str("target");
  if (target === node) throw paramError({ target: "target is local node." });
  checkNodeExists(store, target);
  const g = loadGuest(ctx, "lxc");
  const running = g.status === "running";
  const restart = ctx.bool("restart");
  if (running && !ctx.bool("online") && !restart)
    throw new PveError("can't migrate running container without --online or --restart");
  if (!ctx.has("target-storage")) checkStorageOnTarget(ctx, g, target);
  if (haResourceOf(store, g)) return haMigrate(ctx, g, target);
  const targetNode = store.nodes.get(target);
  const ip = targetNode?.ip ?? target;
  if (!targetNode?.online) return unreachable(ctx, g, target, ip);
  const head: string[] = [];
  const lock = lockError(g) ?? flockError(store, g, ctx.now);
  if (lock) return aborted(ctx, g, head, lock);
  if (running && !restart) return aborted(ctx, g, head, "lxc live migration is currently not implemented");

  const local = localVolumes(ctx, g);
  const noSpace = capacityError(
    store,
    target,
    local.map((v) => ({ key: v.key, volid: v.volid, size: v.size })),
  );
  if (noSpace) {
    const v = local[noSpace.index] as LocalVolume;
    return aborted(
      ctx,
      g,
      head,
      `storage migration for '${v.volid}' to storage '${storageOf(v.volid)}' failed - ${noSpace.message}`,
    );
  }
  const bytes = local.reduce((s, v) => s + v.size, 0);
  const shutdownMs = running ? 3000 : 0;
  const builtin =
    shutdownMs + (local.length ? Math.min(57_000, Math.max(8_000, Math.round((bytes / GiB) * 1200))) : 3_000);
  const lines = (d: number) => {
    const secs = d / 1000;
    const out: string[] = [];
    if (running) out.push(`shutdown CT ${g.vmid}`);
    out.push(`starting migration of CT ${g.vmid} to node '${target}' (${ip})`);
    for (const v of local) out.push(`found local volume '${v.volid}' (in current VM config)`);
    for (const v of local) {
      out.push(...allocLines(store, [{ key: v.key, volid: v.volid, size: v.size }]));
      out.push(...ddLines(v.size, (secs * v.size) / Math.max(1, bytes)));
      out.push(`successfully imported '${v.volid}'`, `volume '${v.volid}' is '${v.volid}' on the target`);
    }
    out.push(
      ...freeLines(
        store,
        local.map((v) => v.volid),
      ),
    );
    if (running) out.push("start container on target node");
    out.push(`migration finished successfully (duration ${hms(secs)})`);
    return stamped(out, ctx.now, d);
  };
  const startEffects: TaskEffect[] = [{ kind: "guest-lock", vmid: g.vmid, lock: "migrate" }];
  const effects: TaskEffect[] = [
    { kind: "guest-move", vmid: g.vmid, node: target },
    { kind: "guest-lock", vmid: g.vmid, lock: null },
  ];
  const abortEffects: TaskEffect[] = [{ kind: "guest-lock", vmid: g.vmid, lock: null }];
  if (running) {
    // Restart mode: the container is shut down here and started again on the target.
    startEffects.push({ kind: "guest-stopped", vmid: g.vmid });
    effects.push({ kind: "guest-running", vmid: g.vmid });
    abortEffects.push({ kind: "guest-running", vmid: g.vmid });
  }
  return guestTask(ctx, g, {
    type: "vzmigrate",
    durationMs: builtin,
    lines,
    startEffects,
    effects,
    abortEffects,
  });
}

export const migrateRoutes: Route[] = [
  { method: "POST", path: "/nodes/{node}/qemu/{vmid}/migrate", handler: migrateQemu },
  { method: "POST", path: "/nodes/{node}/lxc/{vmid}/migrate", handler: migrateLxc },
];
