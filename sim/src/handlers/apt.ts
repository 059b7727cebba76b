// /nodes/{node}/apt (pve-manager PVE/API2/APT.pm): pending updates, the package-list refresh
// (an aptupdate worker), package versions and changelogs.

import type { Ctx, Route } from "../api/context";
import { changelog, pendingUpdates, versions } from "../host/apt";
import type { NodeState } from "../state/model";
import { startTask } from "../state/tasks";
import { hostOf } from "./services";

const t0Sec = (ctx: Ctx) => Math.floor(ctx.store.meta.t0 / 1000);

/** What `apt-get update` prints against the repositories of a PVE 9 node. */
const APT_GET_UPDATE = [
  "Hit:1 http://deb.debian.org/debian trixie InRelease",
  "Get:2 http://deb.debian.org/debian trixie-updates InRelease [47.3 kB]",
  "Get:3 http://security.debian.org/debian-security trixie-security InRelease [43.4 kB]",
  "Hit:4 http://download.proxmox.com/debian/pve trixie InRelease",
  "Get:5 http://security.debian.org/debian-security trixie-security/main amd64 Packages [61.2 kB]",
  "Fetched 152 kB in 1s (131 kB/s)",
  "Reading package lists...",
];

function refresh(ctx: Ctx): string {
  const node = ctx.str("node");
  const quiet = ctx.bool("quiet");
  const notify = ctx.bool("notify");
  return startTask(
    ctx.store,
    {
      node,
      type: "aptupdate",
      // fork_worker('aptupdate', undef, ...): no id.
      id: "",
      user: ctx.user,
      durationMs: 4000,
      lines: quiet ? [] : ["starting apt-get update", ...APT_GET_UPDATE],
      effects: [{ kind: "host", node, change: { kind: "apt-updated", ...(notify ? { notify } : {}) } }],
    },
    ctx.now,
  ).upid;
}

export const aptRoutes: Route[] = [
  {
    method: "GET",
    path: "/nodes/{node}/apt",
    handler: () => ["changelog", "repositories", "update", "versions"].map((id) => ({ id })),
  },
  {
    method: "GET",
    path: "/nodes/{node}/apt/update",
    handler: (ctx) => {
      const host = hostOf(ctx);
      // What the last notifying refresh offered was announced (APT.pm keeps NotifyStatus).
      const notified = host.notifiedAt
        ? Object.fromEntries(pendingUpdates(t0Sec(ctx), host.notifiedAt).map((p) => [p.Package, p.Version]))
        : {};
      return pendingUpdates(t0Sec(ctx), host.aptUpdatedAt, notified as Record<string, string>);
    },
  },
  { method: "POST", path: "/nodes/{node}/apt/update", handler: refresh },
  {
    method: "GET",
    path: "/nodes/{node}/apt/versions",
    handler: (ctx) => {
      const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
      return versions(t0Sec(ctx), hostOf(ctx).aptUpdatedAt, /AMD/.test(node.cpuModel));
    },
  },
  {
    method: "GET",
    path: "/nodes/{node}/apt/changelog",
    handler: (ctx) => changelog(ctx.str("name"), ctx.optStr("version"), t0Sec(ctx)),
  },
];
