// Helpers shared by the /cluster/ha handlers: the version switch, digests, the HA domain lock,
// the PVE 9 group migration and service ids.

import type { Ctx } from "../api/context";
import { underLock } from "../api/locked";
import { PveError } from "../api/respond";
import {
  fileDigest,
  HA_GROUPS,
  HA_RESOURCES,
  HA_RULES,
  type HaResource,
  haGroups,
  haResources,
  haRules,
} from "../state/ha";

export const is84 = (ctx: Ctx) => ctx.store.settings.version === "8.4";

/** An operation PVE 8.4 does not have: its router answers 501 there. */
export function since9(handler: (ctx: Ctx) => unknown): (ctx: Ctx) => unknown {
  return (ctx) => {
    if (is84(ctx)) throw new PveError(`Method '${ctx.method} ${ctx.path}' not implemented`, 501);
    return handler(ctx);
  };
}

/** PVE::Tools::assert_if_modified. */
export function assertDigest(ctx: Ctx, current: unknown): void {
  const given = ctx.optStr("digest");
  if (given !== undefined && given !== fileDigest(current)) {
    throw new PveError("detected modified configuration - file changed by other user? Try again.");
  }
}

/** PVE::HA::Config::lock_ha_domain. */
export const lockedHa = underLock;

/**
 * PVE 9's CRM migrates HA groups to node-affinity rules (PVE::HA::Groups::migrate_groups_to_rules)
 * and then removes groups.cfg: groups written while the simulator played 8.4 become rules here.
 */
export function migrateGroups(ctx: Ctx): void {
  if (is84(ctx)) return;
  const groups = haGroups(ctx.store);
  if (Object.keys(groups).length === 0) return;
  const resources = haResources(ctx.store);
  const rules = haRules(ctx.store);
  let order = Math.max(0, ...Object.values(rules).map((r) => r.order));
  for (const [name, g] of Object.entries(groups)) {
    const members = Object.keys(resources).filter((sid) => resources[sid]?.group === name);
    if (!members.length) continue;
    rules[`ha-group-${name}`] = {
      type: "node-affinity",
      resources: members,
      nodes: g.nodes,
      strict: g.restricted ?? false,
      comment: g.comment || `Generated from HA group '${name}'.`,
      order: ++order,
    };
    for (const sid of members) {
      const r = resources[sid] as HaResource;
      if (g.nofailback) r.failback = false;
    }
  }
  for (const r of Object.values(resources)) delete r.group;
  ctx.store.putConfig(HA_RULES, rules);
  ctx.store.putConfig(HA_RESOURCES, resources);
  ctx.store.configs.delete(HA_GROUPS);
}

/** PVE::HA::Config::parse_sid: "100" becomes vm:100 or ct:100 after the guest's type. */
export function parseSid(ctx: Ctx, raw: string): { sid: string; type: string; name: string } {
  if (/^\d+$/.test(raw)) {
    const g = ctx.store.guests.get(Number(raw));
    if (!g) throw new PveError(`unable to detect SID from VMID - VM/CT ${raw} does not exist`);
    const type = g.type === "qemu" ? "vm" : "ct";
    return { sid: `${type}:${raw}`, type, name: raw };
  }
  const m = /^(\S+):(\S+)$/.exec(raw);
  if (!m) throw new PveError(`unable to parse service id '${raw}'`);
  return { sid: raw, type: m[1] as string, name: m[2] as string };
}
