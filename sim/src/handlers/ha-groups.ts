// /cluster/ha/groups (pve-ha-manager PVE/API2/HA/Groups.pm): full CRUD under PVE 8.4; PVE 9
// keeps the endpoints, which refuse once the CRM has migrated the groups to rules.

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError } from "../api/respond";
import { fileDigest, HA_GROUPS, type HaGroup, haGroups, haResources } from "../state/ha";
import { assertDigest, is84, lockedHa } from "./ha-common";

// Groups: full CRUD under 8.4; under 9.x they exist only until the CRM has migrated them.
const migrated = (ctx: Ctx) => !is84(ctx) && Object.keys(haGroups(ctx.store)).length === 0;

function getGroup(ctx: Ctx, what: string): { all: Record<string, HaGroup>; g: HaGroup; id: string } {
  if (migrated(ctx)) throw new PveError(`cannot ${what}: ha groups have been migrated to rules`);
  const all = haGroups(ctx.store);
  const id = ctx.str("group");
  const g = all[id];
  if (!g) throw new PveError(`no such ha group '${id}'`);
  return { all, g, id };
}

function groupView(id: string, g: HaGroup, digest: string): Record<string, unknown> {
  const out: Record<string, unknown> = { group: id, type: "group", nodes: g.nodes.join(","), digest };
  if (g.restricted) out.restricted = 1;
  if (g.nofailback) out.nofailback = 1;
  if (g.comment !== undefined) out.comment = g.comment;
  return out;
}

function checkNodes(ctx: Ctx, list: string[]): void {
  const missing = list.map((n) => n.split(":")[0] as string).filter((n) => !ctx.store.nodes.has(n));
  if (missing.length) throw new PveError(`cannot use non-existent node(s) ${missing.join(", ")}.`);
}

export const groupRoutes: Route[] = [
  {
    method: "GET",
    path: "/cluster/ha/groups",
    handler: (ctx) => {
      if (migrated(ctx)) throw new PveError("cannot index groups: ha groups have been migrated to rules");
      const all = haGroups(ctx.store);
      const digest = fileDigest(all);
      return Object.keys(all)
        .sort()
        .map((id) => groupView(id, all[id] as HaGroup, digest));
    },
  },
  {
    method: "GET",
    path: "/cluster/ha/groups/{group}",
    handler: (ctx) => {
      const { all, g, id } = getGroup(ctx, "read group");
      return groupView(id, g, fileDigest(all));
    },
  },
  {
    method: "POST",
    path: "/cluster/ha/groups",
    handler: (ctx) => {
      if (migrated(ctx)) throw new PveError("cannot create group: ha groups have been migrated to rules");
      const nodes = splitList(ctx.str("nodes"));
      return lockedHa("create ha group failed", () => {
        const all = haGroups(ctx.store);
        const id = ctx.str("group");
        if (all[id]) throw new PveError(`ha group ID '${id}' already defined`);
        checkNodes(ctx, nodes);
        const g: HaGroup = { nodes };
        if (ctx.bool("restricted")) g.restricted = true;
        if (ctx.bool("nofailback")) g.nofailback = true;
        const comment = ctx.optStr("comment");
        if (comment !== undefined) g.comment = comment;
        all[id] = g;
        ctx.store.putConfig(HA_GROUPS, all);
        return null;
      });
    },
  },
  {
    method: "PUT",
    path: "/cluster/ha/groups/{group}",
    handler: (ctx) =>
      lockedHa("update ha groups failed", () => {
        const { all, g } = getGroup(ctx, "update group");
        assertDigest(ctx, all);
        for (const k of ctx.has("delete") ? splitList(ctx.str("delete")) : []) {
          if (k === "nodes") throw new PveError(`unable to delete required option '${k}'`);
          if (!["comment", "restricted", "nofailback"].includes(k))
            throw new PveError(`no such option '${k}'`);
          delete (g as unknown as Record<string, unknown>)[k];
        }
        if (ctx.has("nodes")) {
          g.nodes = splitList(ctx.str("nodes"));
          checkNodes(ctx, g.nodes);
        }
        if (ctx.has("restricted")) g.restricted = ctx.bool("restricted");
        if (ctx.has("nofailback")) g.nofailback = ctx.bool("nofailback");
        const comment = ctx.optStr("comment");
        if (comment !== undefined) g.comment = comment;
        ctx.store.putConfig(HA_GROUPS, all);
        return null;
      }),
  },
  {
    method: "DELETE",
    path: "/cluster/ha/groups/{group}",
    handler: (ctx) =>
      lockedHa("delete ha group failed", () => {
        const { all, id } = getGroup(ctx, "delete group");
        const user = Object.entries(haResources(ctx.store)).find(([, r]) => r.group === id);
        if (user) throw new PveError(`ha group is used by service '${user[0]}'`);
        delete all[id];
        ctx.store.putConfig(HA_GROUPS, all);
        return null;
      }),
  },
];
