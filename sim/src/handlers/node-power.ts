// POST /nodes/{node}/status (pve-manager PVE/API2/Nodes.pm node_cmd): reboot or shut down a node.
// Proxmox forks `(sleep 2; /sbin/reboot)&` and answers null at once; see sim/src/host/power.ts.
// POST /nodes/{node}/wakeonlan (Nodes.pm wakeonlan) powers a shut-down node on again.

import type { Ctx, Route } from "../api/context";
import { planPower, wakeNode } from "../host/power";
import type { NodeState } from "../state/model";

function nodeCommand(ctx: Ctx): null {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  planPower(ctx.store, node, ctx.str("command") as "reboot" | "shutdown", ctx.now);
  return null;
}

export const nodePowerRoutes: Route[] = [
  { method: "POST", path: "/nodes/{node}/status", handler: nodeCommand },
  {
    method: "POST",
    path: "/nodes/{node}/wakeonlan",
    handler: (ctx) => wakeNode(ctx.store, ctx.store.nodes.get(ctx.str("node")) as NodeState, ctx.now),
  },
];
