// Backups and volume removal (pve-manager PVE/API2/VZDump.pm + PVE/VZDump.pm, qemu-server
// VZDump/QemuServer.pm, pve-container VZDump/LXC.pm, pve-storage PVE/API2/Storage/Content.pm delete).

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError, paramError } from "../api/respond";
import type { GuestState, TaskEffect, TaskState, VolumeState } from "../state/model";
import { CLUSTER_NAME } from "../state/seed";
import { volumeKey } from "../state/store";
import { exitStatus, isRunning, scaledDuration, startTask, tick } from "../state/tasks";
import { vzdumpParams } from "../state/version";
import {
  GiB,
  guestVolumes,
  isDiskKey,
  leafName,
  MiB,
  parseDrive,
  renderBytes,
  storageOf,
  usableStorage,
  volname,
} from "./disks";
import { guestDisks, guestName, lockError } from "./guests";
import { copyConfig, findVolume, volumePath } from "./guestutil";
import { checkBackupOptions } from "./root-only";
import { storageRow } from "./storage";
import { archiveStamp, dateTime, elapsed, hms, rate, steps } from "./tasklog";

/** Compression: archive suffix and the share of the read data that ends up in the file. */
const COMPRESSION: Record<string, { suffix: string; ratio: number }> = {
  "0": { suffix: "", ratio: 1 },
  "1": { suffix: ".lzo", ratio: 0.62 },
  lzo: { suffix: ".lzo", ratio: 0.62 },
  gzip: { suffix: ".gz", ratio: 0.5 },
  zstd: { suffix: ".zst", ratio: 0.55 },
};

/** PVE::VZDump::command_line: the job as a vzdump command, vmids first, options sorted. */
function commandLine(ctx: Ctx): string {
  const parts = ["vzdump"];
  if (ctx.has("vmid")) parts.push(...splitList(ctx.str("vmid")));
  for (const key of Object.keys(ctx.params).sort()) {
    if (key === "vmid") continue;
    const v = ctx.params[key];
    const s = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
    parts.push(`--${key}`, /^[\w\-.,:/@]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  }
  if (!ctx.has("node")) parts.push("--node", ctx.str("node"));
  return parts.join(" ");
}

/** The notes template with its variables filled in (PVE::VZDump::Common, "\n" for newlines). */
function expandNotes(template: string, g: GuestState, node: string): string {
  const vars: Record<string, string> = {
    cluster: CLUSTER_NAME,
    guestname: guestName(g),
    node,
    vmid: String(g.vmid),
  };
  return template
    .replace(/\{\{([^}]+)\}\}/g, (m, name: string) => vars[name.trim()] ?? m)
    .replace(/\\n/g, "\n")
    .replace(/\\\\/g, "\\");
}

interface GuestBackup {
  g: GuestState;
  lines: string[];
  builtinMs: number;
  error?: string;
  volume?: VolumeState;
}

/** What one guest's part of the job logs and produces. `share` is the real duration it gets. */
function backupGuest(
  ctx: Ctx,
  g: GuestState,
  storage: string,
  startSec: number,
  share: (builtinMs: number) => number,
): GuestBackup {
  const { store } = ctx;
  const node = ctx.str("node");
  const s = store.storages.get(storage);
  const mode = ctx.optStr("mode") ?? "snapshot";
  const compress = COMPRESSION[ctx.optStr("compress") ?? "0"] ?? COMPRESSION["0"];
  const qemu = g.type === "qemu";
  const running = g.status === "running";
  const effectiveMode = running ? mode : "stop";
  const file = `vzdump-${g.type}-${g.vmid}-${archiveStamp(startSec)}.${qemu ? "vma" : "tar"}${compress?.suffix ?? ""}`;
  const volid = `${storage}:backup/${file}`;
  const path = volumePath(store, volid);
  const disks = guestDisks(g).filter(
    (d) => !d.key.startsWith("unused") && !leafName(d.volid).includes("cloudinit"),
  );
  const total = disks.reduce((sum, d) => sum + d.size, 0);
  const used = Math.min(total, g.usage.diskUsed);
  const size = Math.max(1 * MiB, Math.round(used * (compress?.ratio ?? 1)));
  const builtinMs = Math.min(60_000, Math.max(10_000, Math.round((used / GiB) * 1500) + 4000));
  const lines = [
    `INFO: Starting Backup of VM ${g.vmid} (${g.type})`,
    `INFO: Backup started at ${dateTime(startSec)}`,
  ];
  const lock = lockError(g);
  if (lock) {
    lines.push(`ERROR: Backup of VM ${g.vmid} failed - ${lock}`);
    return { g, lines, builtinMs: 500, error: lock };
  }
  lines.push(`INFO: status = ${g.status}`);
  if (qemu) {
    lines.push(`INFO: VM Name: ${guestName(g)}`);
    for (const d of disks)
      lines.push(
        `INFO: include disk '${d.key}' '${d.volid}' ${/size=([^,]+)/.exec(String(g.config[d.key]))?.[1] ?? ""}`,
      );
  } else {
    lines.push(`INFO: CT Name: ${guestName(g)}`);
    for (const d of disks) {
      const mp = d.key === "rootfs" ? "/" : (/mp=([^,]+)/.exec(String(g.config[d.key]))?.[1] ?? d.key);
      lines.push(`INFO: including mount point ${d.key} ('${mp}') in backup`);
    }
  }
  lines.push(`INFO: backup mode: ${effectiveMode}`, "INFO: ionice priority: 7");
  if (running && mode === "stop") lines.push("INFO: stopping virtual guest");
  if (running && mode === "suspend") lines.push("INFO: suspending guest");
  const snapshotLv = !qemu && effectiveMode === "snapshot" && s !== undefined;
  if (snapshotLv) {
    lines.push("INFO: create storage snapshot 'vzdump'");
    for (const d of disks) lines.push(`  Logical volume "snap_${leafName(d.volid)}_vzdump" created.`);
  }
  lines.push(`INFO: creating vzdump archive '${path}'`);
  if (qemu) {
    if (!running) lines.push("INFO: starting kvm to execute backup task");
    const agent = /^(1|enabled=1)(,|$)/.test(String(g.config.agent ?? ""));
    if (running && agent && g.os?.agentRunning) {
      lines.push(
        "INFO: issuing guest-agent 'fs-freeze' command",
        "INFO: issuing guest-agent 'fs-thaw' command",
      );
    }
    lines.push(`INFO: started backup task '${crypto.randomUUID()}'`);
    if (running && mode !== "snapshot") lines.push("INFO: resuming VM again");
  }

  // The storage fills up part-way when the archive does not fit.
  const avail = s ? storageRow(store, s, node).avail : Number.POSITIVE_INFINITY;
  const fits = size <= avail;
  const upTo = fits ? 100 : Math.max(1, Math.min(99, Math.floor((avail / size) * 100)));
  const secs = share(builtinMs) / 1000;
  if (qemu) {
    for (const p of steps(10, upTo)) {
      const read = (total * p) / 100;
      const t = Math.max(1, (secs * p) / 100);
      lines.push(
        `INFO: ${String(p).padStart(3, " ")}% (${renderBytes(read)} of ${renderBytes(total)}) in ${elapsed(t)}, read: ${rate(read / t)}/s, write: ${rate((read * (used / Math.max(1, total))) / t)}/s`,
      );
    }
  }
  if (!fits) {
    const why = qemu
      ? "vma_queue_write: write error - No space left on device"
      : `command 'set -o pipefail && lxc-usernsexec -m u:0:100000:65536 -m g:0:100000:65536 -- tar cpf - --totals --one-file-system -p --sparse --numeric-owner --acls --xattrs '--xattrs-include=user.*' '--xattrs-include=security.capability' '--warning=no-file-ignored' '--warning=no-xattr-write' --one-file-system '--warning=no-file-ignored' '--directory=/mnt/vzsnap0' ./etc/vzdump/pct.conf ./etc/vzdump/pct.fw '--directory=/mnt/vzsnap0' --no-anchored '--exclude=lost+found' --anchored '--exclude=./tmp/?*' '--exclude=./var/tmp/?*' '--exclude=./var/run/?*.pid' ./ | zstd '--threads=1' >${path}.dat' failed: exit code 2`;
    if (qemu) lines.push(`ERROR: ${why}`, "INFO: aborting backup job");
    else lines.push(`INFO: tar: ${path}.dat: Cannot write: No space left on device`);
    if (snapshotLv) {
      lines.push("INFO: cleanup temporary 'vzdump' snapshot");
      for (const d of disks)
        lines.push(`  Logical volume "snap_${leafName(d.volid)}_vzdump" successfully removed.`);
    }
    if (running && mode === "stop") lines.push(qemu ? "INFO: resuming VM again" : "INFO: restarting vm");
    lines.push(`ERROR: Backup of VM ${g.vmid} failed - ${why}`);
    return { g, lines, builtinMs: Math.round((builtinMs * upTo) / 100), error: why };
  }
  if (qemu) {
    const zero = total - used;
    lines.push(
      `INFO: backup is sparse: ${renderBytes(zero).replace(/\.\d /, (m) => m)} (${total ? Math.round((zero * 100) / total) : 0}%) total zero data`,
      `INFO: transferred ${(total / GiB).toFixed(2)} GiB in ${Math.max(1, Math.round(secs))} seconds (${rate(total / Math.max(1, secs))}/s)`,
    );
  } else {
    lines.push(
      `INFO: Total bytes written: ${used} (${(used / GiB).toFixed(1)}GiB, ${Math.round(used / MiB / Math.max(1, secs))}MiB/s)`,
    );
  }
  lines.push(
    `INFO: archive file size: ${size >= GiB ? `${(size / GiB).toFixed(2)}GB` : `${Math.floor(size / MiB)}MB`}`,
  );
  const notesTemplate = ctx.optStr("notes-template");
  const notes = notesTemplate !== undefined ? expandNotes(notesTemplate, g, node) : undefined;
  if (notes !== undefined) lines.push("INFO: adding notes to backup");
  if (ctx.bool("protected")) lines.push("INFO: marking backup as protected");
  if (snapshotLv) {
    lines.push("INFO: cleanup temporary 'vzdump' snapshot");
    for (const d of disks)
      lines.push(`  Logical volume "snap_${leafName(d.volid)}_vzdump" successfully removed.`);
  }
  if (running && mode === "stop" && !qemu) lines.push("INFO: restarting vm");
  if (!running && qemu) lines.push("INFO: stopping kvm after backup task");
  lines.push(
    `INFO: Finished Backup of VM ${g.vmid} (${hms(secs + 2)})`,
    `INFO: Backup finished at ${dateTime(startSec + Math.round(secs) + 2)}`,
  );
  const volume: VolumeState = {
    volid,
    storage,
    ...(s?.shared ? {} : { node }),
    content: "backup",
    format: `${qemu ? "vma" : "tar"}${compress?.suffix ?? ""}`.replace(/^\./, ""),
    size,
    ctime: startSec,
    vmid: g.vmid,
    subtype: g.type,
    ...(notes !== undefined ? { notes } : {}),
    ...(ctx.bool("protected") ? { protected: true } : {}),
    guest: {
      type: g.type,
      config: copyConfig(g.config, (k) => k === "lock" || k === "parent" || /^unused\d+$/.test(k)),
      usage: { ...g.usage },
      ...(g.os ? { os: structuredClone(g.os) } : {}),
    },
  };
  return { g, lines, builtinMs, volume };
}

function vzdump(ctx: Ctx): string {
  checkBackupOptions(
    ctx,
    Object.keys(ctx.params).filter((k) => ctx.params[k] !== undefined),
  );
  const { store } = ctx;
  const node = ctx.str("node");
  const all = ctx.bool("all");
  const vmids = ctx.has("vmid") ? splitList(ctx.str("vmid")).map(Number) : [];
  const pool = ctx.optStr("pool");
  // PVE::VZDump::verify_vzdump_parameters
  if (all && vmids.length) throw paramError({ all: "option conflicts with option 'vmid'" });
  if (ctx.has("exclude") && !all)
    throw paramError({ exclude: "option only makes sense in combination with option 'all'" });
  if (!all && !pool && !ctx.bool("stop") && vmids.length === 0)
    throw paramError({ vmid: "property is missing" });
  if (ctx.has("storage") && ctx.has("dumpdir"))
    throw paramError({ storage: "option conflicts with option 'dumpdir'" });

  const exclude = new Set(ctx.has("exclude") ? splitList(ctx.str("exclude")).map(Number) : []);
  let wanted: number[];
  if (all) wanted = [...store.guests.values()].map((g) => g.vmid).filter((v) => !exclude.has(v));
  else if (pool) wanted = store.pools.get(pool)?.vmids ?? [];
  else wanted = vmids;
  // Guests on other nodes are left to those nodes; unknown ids stay and fail visibly.
  const local = [...new Set(wanted)]
    .filter((v) => {
      const g = store.guests.get(v);
      return !g || g.node === node;
    })
    .sort((a, b) => a - b);
  if (local.length === 0 && !all) return "OK";

  const id = local.length === 1 ? String(local[0]) : "";
  const storage = ctx.optStr("storage") ?? "local";
  const base = { node, type: "vzdump", id, user: ctx.user };
  const s = store.storages.get(storage);
  const storageError = !s
    ? `storage '${storage}' does not exist`
    : !s.content.includes("backup")
      ? `can't use storage '${storage}' for backups - wrong content type`
      : s.nodes && !s.nodes.includes(node)
        ? `storage '${storage}' is not available on node '${node}'`
        : null;
  if (storageError) {
    return startTask(
      store,
      {
        ...base,
        durationMs: 300,
        outcome: {
          kind: "error",
          message: `could not get storage information for '${storage}': ${storageError}`,
        },
      },
      ctx.now,
    ).upid;
  }

  // Each guest's part at its built-in duration first, then laid out against the task's real one.
  const mode = ctx.optStr("mode") ?? "snapshot";
  const part = (vmid: number, startSec: number, factor: number): GuestBackup => {
    const g = store.guests.get(vmid);
    if (g) return backupGuest(ctx, g, storage, startSec, (ms) => ms * factor);
    return {
      g: { vmid } as GuestState,
      lines: [`ERROR: Backup of VM ${vmid} failed - unable to find VM '${vmid}'`],
      builtinMs: 200,
      error: "unable to find VM",
    };
  };
  const builtins = local.map((vmid) => part(vmid, ctx.nowSec, 1).builtinMs);
  const builtin = builtins.reduce((sum, ms) => sum + ms, 0) + 500;
  const real = scaledDuration(store, builtin);
  // Real seconds per built-in second, so quoted elapsed times match the task's duration.
  const factor = builtin ? real / builtin : 1;
  let startSec = ctx.nowSec;
  const laidOut = local.map((vmid, i) => {
    const p = part(vmid, startSec, factor);
    startSec += Math.round(((builtins[i] ?? 0) * factor) / 1000);
    return p;
  });
  const failed = laidOut.filter((p) => p.error);
  const lines = [`INFO: starting new backup job: ${commandLine(ctx)}`];
  for (const p of laidOut) lines.push(...p.lines);
  if (failed.length) {
    lines.push(
      `INFO: Failed at ${dateTime(ctx.nowSec + Math.round(real / 1000))}`,
      "INFO: Backup job finished with errors",
    );
  } else {
    lines.push("INFO: Backup job finished successfully");
  }

  const startEffects: TaskEffect[] = [];
  const effects: TaskEffect[] = [];
  const abortEffects: TaskEffect[] = [];
  for (const p of laidOut) {
    const g = store.guests.get(p.g.vmid);
    if (!g || lockError(g)) continue;
    startEffects.push({ kind: "guest-lock", vmid: g.vmid, lock: "backup" });
    const release: TaskEffect = { kind: "guest-lock", vmid: g.vmid, lock: null };
    effects.push(release);
    abortEffects.push(release);
    if (g.status === "running" && mode === "stop") {
      startEffects.push({ kind: "guest-stopped", vmid: g.vmid });
      // qemu restarts the VM (paused) right away to back it up from QEMU; a container stays down.
      const restart: TaskEffect = { kind: "guest-running", vmid: g.vmid };
      if (g.type === "qemu") startEffects.push(restart);
      else {
        effects.push(restart);
        abortEffects.push(restart);
      }
    }
    if (p.volume) {
      effects.push({ kind: "volume-put", volume: p.volume });
      // A job with errors still keeps the archives of the guests that made it.
      if (failed.length && laidOut.length > 1) abortEffects.push({ kind: "volume-put", volume: p.volume });
    }
  }
  return startTask(
    store,
    {
      ...base,
      durationMs: builtin,
      lines,
      startEffects,
      effects,
      abortEffects,
      outcome: failed.length ? { kind: "error", message: "job errors" } : { kind: "ok" },
    },
    ctx.now,
  ).upid;
}

// ---- DELETE /nodes/{node}/storage/{storage}/content/{volume} ---------------------------------

async function waitFor(ctx: Ctx, task: TaskState, delaySec: number | undefined): Promise<string | null> {
  if (!delaySec) return task.upid;
  const wait = Math.min(delaySec * 1000, Math.max(0, task.startMs + task.durationMs - Date.now()));
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  tick(ctx.store, Date.now());
  if (isRunning(task, Date.now())) return task.upid;
  const status = exitStatus(task);
  if (status === "OK" || status.startsWith("WARNINGS")) return null;
  throw new PveError(status);
}

async function deleteVolume(ctx: Ctx): Promise<string | null> {
  const { store } = ctx;
  const node = ctx.str("node");
  const storage = ctx.str("storage");
  const volume = ctx.str("volume");
  let volid = volume;
  if (volume.includes(":")) {
    const sid = storageOf(volume);
    if (sid !== storage) throw paramError({ storage: `storage ID mismatch (${sid} != ${storage})` });
  } else {
    volid = `${storage}:${volume}`;
  }
  const s = usableStorage(store, storage, node);
  const stored = findVolume(store, node, volid);
  const owner = [...store.guests.values()].find(
    (g) => (s.shared || g.node === node) && guestVolumes(g).includes(volid),
  );
  const vmidOf = /^(?:\d+\/)?(?:vm|base)-(\d+)-/.exec(leafName(volid))?.[1];
  const ownervm = stored?.vmid ?? owner?.vmid ?? (vmidOf ? Number(vmidOf) : undefined);
  const base = { node, type: "imgdel", id: ownervm ? `${ownervm}@${storage}` : storage, user: ctx.user };
  const fail = (message: string) =>
    startTask(store, { ...base, durationMs: 300, outcome: { kind: "error", message } }, ctx.now);
  const lvPath = `${s.vgname}/${leafName(volid)}`;

  let task: TaskState;
  if (stored) {
    task = stored.protected
      ? fail(`cannot remove protected volume '${volname(volid)}' on '${storage}'`)
      : startTask(
          store,
          {
            ...base,
            durationMs: 500,
            lines: [`Removed volume '${volid}'`],
            effects: [{ kind: "volume-remove", key: volumeKey(stored) }],
          },
          ctx.now,
        );
  } else if (owner) {
    const inUse = [...store.guests.values()].some((g) =>
      guestVolumes(g).some((v) => v.startsWith(`${volid}/`)),
    );
    const key = Object.keys(owner.config).find(
      (k) =>
        (isDiskKey(owner.type, k) || /^unused\d+$/.test(k)) &&
        parseDrive(String(owner.config[k])).volume === volid,
    );
    if (inUse) task = fail(`base volume '${volname(volid)}' is still in use by linked clones`);
    else if (owner.status === "running" && key && !key.startsWith("unused"))
      task = fail(`lvremove '${lvPath}' error:   Logical volume ${lvPath} in use.`);
    else {
      task = startTask(
        store,
        {
          ...base,
          durationMs: 500,
          lines: [
            ...(s.type === "lvmthin" ? [`  Logical volume "${leafName(volid)}" successfully removed.`] : []),
            `Removed volume '${volid}'`,
          ],
          effects: key ? [{ kind: "guest-config", vmid: owner.vmid, set: {}, delete: [key] }] : [],
        },
        ctx.now,
      );
    }
  } else if (s.type === "lvmthin") {
    task = fail(`lvremove '${lvPath}' error:   Failed to find logical volume "${lvPath}"`);
  } else {
    task = fail(`unlink '${volumePath(store, volid)}' failed - No such file or directory`);
  }
  return waitFor(ctx, task, ctx.optInt("delay"));
}

export const backupRoutes: Route[] = [
  { method: "POST", path: "/nodes/{node}/vzdump", params: vzdumpParams, handler: vzdump },
  { method: "DELETE", path: "/nodes/{node}/storage/{storage}/content/{volume}", handler: deleteVolume },
];
