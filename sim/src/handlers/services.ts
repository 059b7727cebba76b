// /nodes/{node}/services (pve-manager PVE/API2/Services.pm): systemd units, and their start, stop,
// restart and reload as srv* workers whose id is the service.

import type { Ctx, Route } from "../api/context";
import type { HostState } from "../host/model";
import { ESSENTIAL, notFoundLine, SERVICES, type ServiceCommand, serviceView } from "../host/services";
import { startTask } from "../state/tasks";

const S = "/nodes/{node}/services/{service}";

export function hostOf(ctx: Ctx): HostState {
  const node = ctx.str("node");
  const host = ctx.store.hosts.get(node);
  if (!host) throw new Error(`internal: no host state for ${node}`);
  return host;
}

function list(ctx: Ctx): Record<string, unknown>[] {
  const host = hostOf(ctx);
  return Object.keys(SERVICES)
    .sort()
    .map((name) => serviceView(name, host.services[name]));
}

const DURATION: Record<ServiceCommand, number> = { start: 1200, stop: 900, restart: 2000, reload: 500 };

function command(cmd: ServiceCommand) {
  return (ctx: Ctx): string => {
    const node = ctx.str("node");
    const name = ctx.str("service");
    const host = hostOf(ctx);
    const info = SERVICES[name];
    const spec = { node, type: `srv${cmd}`, id: name, user: ctx.user, durationMs: DURATION[cmd] };
    // $service_cmd runs inside the worker, so refusals end the task rather than the request.
    if (ESSENTIAL.has(name) && cmd === "stop") {
      const message = `invalid service cmd '${name} stop': refusing to stop essential service!`;
      return startTask(ctx.store, { ...spec, durationMs: 100, outcome: { kind: "error", message } }, ctx.now)
        .upid;
    }
    const systemctl = cmd === "reload" ? "try-reload-or-restart" : cmd;
    if (!info || host.services[name]?.unitState === "not-found") {
      return startTask(
        ctx.store,
        {
          ...spec,
          durationMs: 200,
          lines: [notFoundLine(name, cmd)],
          outcome: { kind: "error", message: `command 'systemctl ${systemctl} ${name}' failed: exit code 5` },
        },
        ctx.now,
      ).upid;
    }
    return startTask(
      ctx.store,
      { ...spec, effects: [{ kind: "host", node, change: { kind: "service", name, cmd } }] },
      ctx.now,
    ).upid;
  };
}

export const serviceRoutes: Route[] = [
  { method: "GET", path: "/nodes/{node}/services", handler: list },
  {
    method: "GET",
    path: S,
    handler: () => ["state", "start", "stop", "restart", "reload"].map((subdir) => ({ subdir })),
  },
  {
    method: "GET",
    path: `${S}/state`,
    handler: (ctx) => serviceView(ctx.str("service"), hostOf(ctx).services[ctx.str("service")]),
  },
  { method: "POST", path: `${S}/start`, handler: command("start") },
  { method: "POST", path: `${S}/stop`, handler: command("stop") },
  { method: "POST", path: `${S}/restart`, handler: command("restart") },
  { method: "POST", path: `${S}/reload`, handler: command("reload") },
];
