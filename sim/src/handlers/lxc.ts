// /nodes/{node}/lxc: containers (pve-container PVE/API2/LXC.pm, LXC/Status.pm).

import type { Ctx, Route } from "../api/context";
import { PveError } from "../api/respond";
import { linkLocal } from "../guest/system";
import { haRequest, haResourceOf, haStatusOf } from "../state/ha";
import type { GuestState, TaskEffect } from "../state/model";
import {
  configRoute,
  failingTask,
  guestName,
  guestTask,
  isTemplate,
  loadGuest,
  lockError,
  migrationTargets,
  pendingView,
  runtime,
} from "./guests";
import { shutdownInTheWay } from "./guestutil";
import { rootOnly } from "./root-only";
import { snapshotRoutes } from "./snapshots";

const L = "/nodes/{node}/lxc";
const MiB = 1024 * 1024;

function listItem(ctx: Ctx, g: GuestState, full = false): Record<string, unknown> {
  const rt = runtime(g, ctx.store, ctx.nowSec);
  const maxswap = Number(g.config.swap ?? 512) * MiB;
  const item: Record<string, unknown> = {
    // pve-container keys its list by config file name, so the vmid goes out as a JSON string
    // ("106"); status/current int()s it (recorded from real hosts).
    vmid: full ? g.vmid : String(g.vmid),
    name: guestName(g),
    type: "lxc",
    status: g.status,
    cpu: rt.cpu,
    cpus: rt.cpus,
    maxmem: rt.maxmem,
    mem: rt.mem,
    maxswap,
    swap: rt.running ? Math.floor(maxswap * 0.02) : 0,
    maxdisk: rt.maxdisk,
    disk: rt.disk,
    uptime: rt.uptime,
    netin: rt.netin,
    netout: rt.netout,
    diskread: rt.diskread,
    diskwrite: rt.diskwrite,
  };
  if (rt.running) item.pid = g.pid;
  if (g.config.tags !== undefined) item.tags = String(g.config.tags);
  if (g.config.lock !== undefined) item.lock = String(g.config.lock);
  if (isTemplate(g)) item.template = 1;
  return item;
}

const DURATION = { start: 1200, stop: 600, shutdown: 2500, reboot: 3500, suspend: 2000, resume: 1500 };

function running(ctx: Ctx): GuestState {
  const g = loadGuest(ctx, "lxc");
  if (g.status !== "running") throw new PveError(`CT ${g.vmid} not running`);
  return g;
}

function start(ctx: Ctx): string {
  const g = loadGuest(ctx, "lxc");
  rootOnly(ctx, "skiplock");
  if (g.status === "running") throw new PveError(`CT ${g.vmid} already running`);
  if (haResourceOf(ctx.store, g)) return haRequest(ctx.store, g, "started", ctx.user, ctx.now);
  if (isTemplate(g)) return failingTask(ctx, g, "vzstart", "you can't start a CT if it's a template");
  const lock = !ctx.bool("skiplock") && g.config.lock !== "mounted" && lockError(g);
  if (lock) return failingTask(ctx, g, "vzstart", lock);
  return guestTask(ctx, g, {
    type: "vzstart",
    durationMs: DURATION.start,
    effects: [{ kind: "guest-running", vmid: g.vmid }],
  });
}

function stop(ctx: Ctx): string {
  rootOnly(ctx, "skiplock");
  const g = running(ctx);
  if (haResourceOf(ctx.store, g)) return haRequest(ctx.store, g, "stopped", ctx.user, ctx.now);
  const lock = !ctx.bool("skiplock") && g.config.lock !== "mounted" && lockError(g);
  if (lock) return failingTask(ctx, g, "vzstop", lock);
  const busy = shutdownInTheWay(ctx, g, "vzshutdown");
  if (busy.error)
    return guestTask(ctx, g, {
      type: "vzstop",
      durationMs: busy.waitMs,
      outcome: { kind: "error", message: busy.error },
    });
  return guestTask(ctx, g, {
    type: "vzstop",
    durationMs: DURATION.stop + busy.waitMs,
    lines: busy.lines,
    effects: [{ kind: "guest-stopped", vmid: g.vmid }],
  });
}

function shutdown(ctx: Ctx): string {
  const g = running(ctx);
  if (haResourceOf(ctx.store, g)) return haRequest(ctx.store, g, "stopped", ctx.user, ctx.now);
  const lock = lockError(g);
  if (lock) return failingTask(ctx, g, "vzshutdown", lock);
  // lxc-stop --timeout <timeout> (default 60); with forceStop it kills what is left.
  const timeout = ctx.optInt("timeout") ?? 60;
  const effects: TaskEffect[] = [{ kind: "guest-stopped", vmid: g.vmid }];
  if (DURATION.shutdown <= timeout * 1000)
    return guestTask(ctx, g, { type: "vzshutdown", durationMs: DURATION.shutdown, effects });
  if (ctx.bool("forceStop"))
    return guestTask(ctx, g, { type: "vzshutdown", durationMs: timeout * 1000 + DURATION.stop, effects });
  return guestTask(ctx, g, {
    type: "vzshutdown",
    durationMs: timeout * 1000,
    outcome: {
      kind: "error",
      message: `command 'lxc-stop -n ${g.vmid} --nokill --timeout ${timeout}' failed: exit code 1`,
    },
  });
}

function reboot(ctx: Ctx): string {
  const g = loadGuest(ctx, "lxc");
  // pve-container really says "VM" here.
  if (g.status !== "running") throw new PveError(`VM ${g.vmid} not running`);
  return guestTask(ctx, g, {
    type: "vzreboot",
    durationMs: DURATION.reboot,
    effects: [{ kind: "guest-rebooted", vmid: g.vmid }],
  });
}

/** lxc-checkpoint: the container is dumped and stopped; resume restores it. */
function suspend(ctx: Ctx): string {
  const g = running(ctx);
  const lock = lockError(g);
  if (lock) return failingTask(ctx, g, "vzsuspend", lock);
  return guestTask(ctx, g, {
    type: "vzsuspend",
    durationMs: DURATION.suspend,
    effects: [{ kind: "guest-stopped", vmid: g.vmid }],
  });
}

function resume(ctx: Ctx): string {
  const g = loadGuest(ctx, "lxc");
  if (g.status === "running") throw new PveError(`CT ${g.vmid} already running`);
  if (haResourceOf(ctx.store, g)) return haRequest(ctx.store, g, "started", ctx.user, ctx.now);
  return guestTask(ctx, g, {
    type: "vzresume",
    durationMs: DURATION.resume,
    effects: [{ kind: "guest-running", vmid: g.vmid }],
  });
}

function statusCurrent(ctx: Ctx): Record<string, unknown> {
  const g = loadGuest(ctx, "lxc");
  return { ...listItem(ctx, g, true), ha: haStatusOf(ctx.store, g, ctx.now) };
}

/**
 * The container's network interfaces as pve-container reads them inside its namespace:
 * {name, hwaddr, inet, inet6} per interface, loopback first (shape recorded from a real host).
 * A DHCP address is the one the simulated LAN hands out; a static `ip=` is used as configured.
 */
function interfaces(ctx: Ctx): Record<string, string>[] {
  const g = loadGuest(ctx, "lxc");
  if (g.status !== "running") throw new PveError(`CT ${g.vmid} not running`);
  const out: Record<string, string>[] = [
    { name: "lo", hwaddr: "00:00:00:00:00:00", inet: "127.0.0.1/8", inet6: "::1/128" },
  ];
  const nets = Object.keys(g.config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  for (const key of nets) {
    const opts = new Map(
      String(g.config[key])
        .split(",")
        .map((p) => p.split("=") as [string, string]),
    );
    const hwaddr = (opts.get("hwaddr") ?? "").toLowerCase();
    const row: Record<string, string> = { name: opts.get("name") ?? key.replace("net", "eth"), hwaddr };
    const ip = opts.get("ip");
    if (ip === "dhcp") row.inet = `192.168.1.${100 + (g.vmid % 150) + Number(key.slice(3))}/24`;
    else if (ip && ip !== "manual") row.inet = ip;
    if (hwaddr) row.inet6 = linkLocal(hwaddr);
    out.push(row);
  }
  return out;
}

export const lxcRoutes: Route[] = [
  {
    method: "GET",
    path: L,
    handler: (ctx) =>
      ctx.store
        .guestsOn(ctx.str("node"))
        .filter((g) => g.type === "lxc")
        .map((g) => listItem(ctx, g)),
  },
  { method: "GET", path: `${L}/{vmid}/status/current`, handler: statusCurrent },
  { method: "GET", path: `${L}/{vmid}/config`, handler: configRoute("lxc") },
  { method: "GET", path: `${L}/{vmid}/interfaces`, handler: interfaces },
  { method: "GET", path: `${L}/{vmid}/pending`, handler: (ctx) => pendingView(loadGuest(ctx, "lxc")) },
  {
    method: "GET",
    path: `${L}/{vmid}/migrate`,
    handler: (ctx) => {
      const g = loadGuest(ctx, "lxc");
      const out: Record<string, unknown> = { running: g.status === "running" ? 1 : 0 };
      if (!ctx.has("target")) {
        out["allowed-nodes"] = migrationTargets(ctx.store, g);
        out["not-allowed-nodes"] = {};
      }
      return out;
    },
  },
  { method: "POST", path: `${L}/{vmid}/status/start`, handler: start },
  { method: "POST", path: `${L}/{vmid}/status/stop`, handler: stop },
  { method: "POST", path: `${L}/{vmid}/status/shutdown`, handler: shutdown },
  { method: "POST", path: `${L}/{vmid}/status/reboot`, handler: reboot },
  { method: "POST", path: `${L}/{vmid}/status/suspend`, handler: suspend },
  { method: "POST", path: `${L}/{vmid}/status/resume`, handler: resume },
  ...snapshotRoutes("lxc"),
];
