// /nodes/{node}/qemu: VMs (qemu-server PVE/API2/Qemu.pm).

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { haRequest, haResourceOf, haStatusOf } from "../state/ha";
import type { GuestState, TaskEffect } from "../state/model";
import { profileOf } from "../state/version";
import {
  checkLock,
  configRoute,
  failingTask,
  guestName,
  guestTask,
  isTemplate,
  loadGuest,
  localDisks,
  lockError,
  migrationTargets,
  pendingView,
  runtime,
} from "./guests";
import { shutdownInTheWay } from "./guestutil";
import { ballooninfo, blockstat, nics } from "./qemu-stats";
import { rootOnly } from "./root-only";
import { snapshotRoutes } from "./snapshots";

const Q = "/nodes/{node}/qemu";

function listItem(ctx: Ctx, g: GuestState, full: boolean): Record<string, unknown> {
  const rt = runtime(g, ctx.store, ctx.nowSec);
  const item: Record<string, unknown> = {
    vmid: g.vmid,
    name: guestName(g),
    status: g.status,
    cpu: rt.cpu,
    cpus: rt.cpus,
    maxmem: rt.maxmem,
    mem: rt.mem,
    maxdisk: rt.maxdisk,
    disk: rt.disk,
    uptime: rt.uptime,
    netin: rt.netin,
    netout: rt.netout,
    diskread: rt.diskread,
    diskwrite: rt.diskwrite,
  };
  const release = profileOf(ctx.store.settings);
  if (rt.running) {
    item.pid = g.pid;
    if (release.memhost) item.memhost = rt.mem;
  }
  if (g.config.tags !== undefined) item.tags = String(g.config.tags);
  if (g.config.lock !== undefined) item.lock = String(g.config.lock);
  if (isTemplate(g)) item.template = 1;
  // Only the full status (QMP queries) knows qmpstatus and the running machine.
  if (full) {
    item.qmpstatus = rt.running ? (g.runState ?? "running") : "stopped";
    if (rt.running) {
      item["running-machine"] = release.runningMachine;
      item["running-qemu"] = release.runningQemu;
    }
  }
  return item;
}

function statusCurrent(ctx: Ctx): Record<string, unknown> {
  const g = loadGuest(ctx, "qemu");
  const rt = runtime(g, ctx.store, ctx.nowSec);
  const out = listItem(ctx, g, true);
  out.ha = haStatusOf(ctx.store, g, ctx.now);
  // vmstatus: a configured minimum (`balloon: N`) shows with the CPU shares it implies.
  const balloon = Number(g.config.balloon ?? -1);
  if (balloon > 0) {
    out.balloon_min = balloon * 1024 * 1024;
    out.shares = Number(g.config.shares ?? 1000);
  }
  // A QXL display is a SPICE console.
  if (/^(type=)?qxl/.test(String(g.config.vga ?? ""))) out.spice = 1;
  if (rt.running) {
    // `balloon: 0` removes the balloon device, and with it the guest's memory statistics.
    if (balloon !== 0) {
      out.freemem = rt.maxmem - rt.mem;
      out.balloon = rt.maxmem;
      out.ballooninfo = ballooninfo(rt, ctx.nowSec);
    }
    out.blockstat = blockstat(g, rt);
    out.nics = nics(g, rt);
    out["proxmox-support"] = {
      "pbs-dirty-bitmap": true,
      "pbs-dirty-bitmap-migration": true,
      "pbs-dirty-bitmap-savevm": true,
      "pbs-library-version": "1.5.2 (UNKNOWN)",
      "pbs-masterkey": true,
      "query-bitmap-info": true,
      "backup-max-workers": true,
    };
  }
  // get_qga_key($conf, 'enabled'): "1" or "enabled=1" enable the agent.
  if (/^(1|enabled=1)(,|$)/.test(String(g.config.agent ?? ""))) out.agent = 1;
  return out;
}

// ---- status actions ------------------------------------------------------------------------

const DURATION = {
  start: 1500,
  stop: 800,
  shutdown: 3000,
  reboot: 4000,
  reset: 300,
  pause: 300,
  resume: 300,
};

function start(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  rootOnly(
    ctx,
    "skiplock",
    "stateuri",
    "migratedfrom",
    "migration_type",
    "migration_network",
    "targetstorage",
    "force-cpu",
    "with-conntrack-state",
    "nets-host-mtu",
  );
  if (haResourceOf(ctx.store, g) && !ctx.has("stateuri"))
    return haRequest(ctx.store, g, "started", ctx.user, ctx.now);
  // vm_start checks these inside the worker, in this order.
  if (isTemplate(g)) return failingTask(ctx, g, "qmstart", "you can't start a vm if it's a template");
  const suspended = g.config.lock === "suspended";
  const lock = !suspended && lockError(g);
  if (lock) return failingTask(ctx, g, "qmstart", lock);
  if (g.status === "running") return failingTask(ctx, g, "qmstart", `VM ${g.vmid} already running`);
  const effects: TaskEffect[] = [{ kind: "guest-running", vmid: g.vmid }];
  if (suspended) effects.push({ kind: "guest-lock", vmid: g.vmid, lock: null });
  const lines = g.config.tpmstate0 ? ["swtpm_setup: Not overwriting existing state file."] : [];
  if (suspended) lines.push(`Resuming suspended VM`, "resume VM");
  return guestTask(ctx, g, { type: "qmstart", durationMs: DURATION.start, lines, effects });
}

function stop(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  rootOnly(ctx, "skiplock", "keepActive", "migratedfrom");
  if (haResourceOf(ctx.store, g) && !ctx.has("migratedfrom")) {
    if (ctx.bool("overrule-shutdown"))
      throw paramError({ "overrule-shutdown": "Not applicable for HA resources." });
    return haRequest(ctx.store, g, "stopped", ctx.user, ctx.now);
  }
  const lock = !ctx.bool("skiplock") && lockError(g);
  if (lock) return failingTask(ctx, g, "qmstop", lock);
  const busy = shutdownInTheWay(ctx, g, "qmshutdown");
  if (busy.error)
    return guestTask(ctx, g, {
      type: "qmstop",
      durationMs: busy.waitMs,
      outcome: { kind: "error", message: busy.error },
    });
  const effects: TaskEffect[] = g.status === "running" ? [{ kind: "guest-stopped", vmid: g.vmid }] : [];
  return guestTask(ctx, g, {
    type: "qmstop",
    durationMs: DURATION.stop + busy.waitMs,
    lines: busy.lines,
    effects,
  });
}

/** Whether qemu-ga is configured but does not answer (vm_stop then falls back to ACPI). */
function agentSilent(g: GuestState): boolean {
  return /^(1|enabled=1)(,|$)/.test(String(g.config.agent ?? "")) && !g.os?.agentRunning;
}

function shutdown(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  rootOnly(ctx, "skiplock", "keepActive");
  const force = ctx.bool("forceStop");
  if (g.status === "running" && g.runState === "paused" && !force) {
    throw new PveError("VM is paused - cannot shutdown");
  }
  if (haResourceOf(ctx.store, g)) return haRequest(ctx.store, g, "stopped", ctx.user, ctx.now);
  const lock = !ctx.bool("skiplock") && lockError(g);
  if (lock) return failingTask(ctx, g, "qmshutdown", lock);
  if (g.status !== "running") return guestTask(ctx, g, { type: "qmshutdown", durationMs: DURATION.stop });
  // _do_vm_stop waits `timeout` seconds (default 60) for the guest, then gives up or kills it.
  const timeoutMs = (ctx.optInt("timeout") ?? 60) * 1000;
  const lines = agentSilent(g)
    ? [`QEMU Guest Agent is not running - VM ${g.vmid} qga command 'guest-ping' failed - got timeout`]
    : [];
  const stopped: TaskEffect[] = [{ kind: "guest-stopped", vmid: g.vmid }];
  // A paused VM cannot react; with forceStop it is simply stopped.
  if (g.runState === "paused")
    return guestTask(ctx, g, { type: "qmshutdown", durationMs: DURATION.stop, effects: stopped });
  if (!g.ignoresAcpi && DURATION.shutdown <= timeoutMs)
    return guestTask(ctx, g, { type: "qmshutdown", durationMs: DURATION.shutdown, lines, effects: stopped });
  if (force) {
    lines.push("VM still running - terminating now with SIGTERM");
    return guestTask(ctx, g, {
      type: "qmshutdown",
      durationMs: timeoutMs + DURATION.stop,
      lines,
      effects: stopped,
    });
  }
  return guestTask(ctx, g, {
    type: "qmshutdown",
    durationMs: timeoutMs,
    lines,
    outcome: { kind: "error", message: "VM quit/powerdown failed - got timeout" },
  });
}

function reboot(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  if (g.status === "running" && g.runState === "paused") throw new PveError("VM is paused - cannot shutdown");
  if (g.status !== "running") throw new PveError(`VM ${g.vmid} not running`);
  const lock = lockError(g);
  if (lock) return failingTask(ctx, g, "qmreboot", lock);
  const timeoutMs = (ctx.optInt("timeout") ?? 60) * 1000;
  if (g.ignoresAcpi || timeoutMs < DURATION.shutdown) {
    return guestTask(ctx, g, {
      type: "qmreboot",
      durationMs: timeoutMs,
      lines: agentSilent(g)
        ? [`QEMU Guest Agent is not running - VM ${g.vmid} qga command 'guest-ping' failed - got timeout`]
        : [],
      outcome: { kind: "error", message: "VM quit/powerdown failed - got timeout" },
    });
  }
  return guestTask(ctx, g, {
    type: "qmreboot",
    durationMs: DURATION.reboot,
    effects: [{ kind: "guest-rebooted", vmid: g.vmid }],
  });
}

function reset(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  rootOnly(ctx, "skiplock");
  if (g.status !== "running") throw new PveError(`VM ${g.vmid} not running`);
  const lock = !ctx.bool("skiplock") && lockError(g);
  if (lock) return failingTask(ctx, g, "qmreset", lock);
  // A reset keeps the QEMU process: uptime and pid stay, pending changes are not applied.
  return guestTask(ctx, g, { type: "qmreset", durationMs: DURATION.reset });
}

function suspend(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  rootOnly(ctx, "skiplock");
  if (g.status !== "running") throw new PveError(`VM ${g.vmid} not running`);
  const todisk = ctx.bool("todisk");
  // qemu-server names a plain pause `qmpause`; only hibernation (todisk) is `qmsuspend`.
  const type = todisk ? "qmsuspend" : "qmpause";
  const lock = !ctx.bool("skiplock") && lockError(g);
  if (lock) return failingTask(ctx, g, type, lock);
  if (!todisk) {
    return guestTask(ctx, g, {
      type,
      durationMs: DURATION.pause,
      effects: [{ kind: "guest-paused", vmid: g.vmid, paused: true }],
    });
  }
  const storage = ctx.optStr("statestorage") ?? "local-lvm";
  return guestTask(ctx, g, {
    type,
    durationMs: DURATION.shutdown,
    lines: [
      `suspending to disk: saving VM state and RAM using storage '${storage}'`,
      "completed saving the VM state in 3s, saved 1.12 GiB",
    ],
    startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "suspending" }],
    effects: [
      { kind: "guest-stopped", vmid: g.vmid },
      { kind: "guest-lock", vmid: g.vmid, lock: "suspended" },
    ],
    abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
  });
}

function resume(ctx: Ctx): string {
  const g = loadGuest(ctx, "qemu");
  rootOnly(ctx, "skiplock", "nocheck");
  const toDiskSuspended = g.config.lock === "suspended";
  if (!toDiskSuspended && g.status !== "running") throw new PveError(`VM ${g.vmid} not running`);
  if (toDiskSuspended) {
    return guestTask(ctx, g, {
      type: "qmresume",
      durationMs: DURATION.start,
      lines: ["Resuming suspended VM", "resume VM"],
      effects: [
        { kind: "guest-running", vmid: g.vmid },
        { kind: "guest-lock", vmid: g.vmid, lock: null },
      ],
    });
  }
  // vm_resume tolerates a backup lock (resuming a VM paused by a backup job).
  const lock = !ctx.bool("skiplock") && g.config.lock !== "backup" && lockError(g);
  if (lock) return failingTask(ctx, g, "qmresume", lock);
  return guestTask(ctx, g, {
    type: "qmresume",
    durationMs: DURATION.resume,
    effects: [{ kind: "guest-paused", vmid: g.vmid, paused: false }],
  });
}

/** GET .../migrate: preconditions (PVE::API2::Qemu migrate_vm_precondition). */
function migratePreconditions(ctx: Ctx): Record<string, unknown> {
  const g = loadGuest(ctx, "qemu");
  // migrate_vm_precondition checks the lock early, like the migration itself.
  checkLock(g);
  const disks = localDisks(ctx.store, g);
  const out: Record<string, unknown> = {
    running: g.status === "running" ? 1 : 0,
    "has-dbus-vmstate": 0,
    local_disks: disks,
    local_resources: disks.filter((d) => d.cdrom === 1).map((d) => String(d.drivename)),
    "mapped-resources": [],
    "mapped-resource-info": {},
  };
  if (!ctx.has("target")) {
    out.allowed_nodes = migrationTargets(ctx.store, g);
    out.not_allowed_nodes = {};
  }
  return out;
}

export const qemuRoutes: Route[] = [
  {
    method: "GET",
    path: Q,
    handler: (ctx) =>
      ctx.store
        .guestsOn(ctx.str("node"))
        .filter((g) => g.type === "qemu")
        .map((g) => listItem(ctx, g, ctx.bool("full"))),
  },
  { method: "GET", path: `${Q}/{vmid}/status/current`, handler: statusCurrent },
  { method: "GET", path: `${Q}/{vmid}/config`, handler: configRoute("qemu") },
  { method: "GET", path: `${Q}/{vmid}/pending`, handler: (ctx) => pendingView(loadGuest(ctx, "qemu")) },
  { method: "GET", path: `${Q}/{vmid}/migrate`, handler: migratePreconditions },
  { method: "POST", path: `${Q}/{vmid}/status/start`, handler: start },
  { method: "POST", path: `${Q}/{vmid}/status/stop`, handler: stop },
  { method: "POST", path: `${Q}/{vmid}/status/shutdown`, handler: shutdown },
  { method: "POST", path: `${Q}/{vmid}/status/reboot`, handler: reboot },
  { method: "POST", path: `${Q}/{vmid}/status/reset`, handler: reset },
  { method: "POST", path: `${Q}/{vmid}/status/suspend`, handler: suspend },
  { method: "POST", path: `${Q}/{vmid}/status/resume`, handler: resume },
  ...snapshotRoutes("qemu"),
];
