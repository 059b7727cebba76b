// /cluster/ha/rules (PVE 9: pve-ha-manager PVE/API2/HA/Rules.pm, PVE/HA/Rules/*.pm): node-affinity
// and resource-affinity rules, checked for feasibility on every change as the API does.

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError, paramError } from "../api/respond";
import { fileDigest, HA_RULES, type HaRule, haResources, haRules } from "../state/ha";
import { assertDigest, lockedHa, migrateGroups, since9 } from "./ha-common";

type RuleErrors = Record<string, Record<string, string[]>>;

/** PVE::HA::Rules->check_feasibility over the enabled rules (the NodeAffinity and ResourceAffinity checks). */
function feasibility(ctx: Ctx, rules: Record<string, HaRule>): RuleErrors {
  const errors: RuleErrors = {};
  const push = (id: string, msg: string) => {
    const forRule = errors[id] ?? {};
    forRule.resources = [...(forRule.resources ?? []), msg];
    errors[id] = forRule;
  };
  const enabled = Object.entries(rules).filter(([, r]) => !r.disable);
  const nodeRules = new Map<string, string[]>();
  for (const [id, r] of enabled) {
    if (r.type !== "node-affinity") continue;
    for (const sid of r.resources) nodeRules.set(sid, [...(nodeRules.get(sid) ?? []), id]);
  }
  const conflicts: [string, string][] = [];
  for (const [sid, ids] of nodeRules) if (ids.length > 1) for (const id of ids) conflicts.push([id, sid]);
  conflicts.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  for (const [id, sid] of conflicts)
    push(id, `resource '${sid}' is already used in another node affinity rule`);

  const affinity = enabled.filter(([, r]) => r.type === "resource-affinity");
  const nodeCount = ctx.store.nodes.size;
  for (const [id, r] of affinity) {
    if (r.resources.length < 2) push(id, "rule is ineffective as there are less than two resources");
    else if (r.affinity === "negative" && r.resources.length > nodeCount)
      push(id, "rule defines more resources than available nodes");
  }
  for (const [pid, p] of affinity) {
    if (p.affinity !== "positive") continue;
    for (const [nid, n] of affinity) {
      if (n.affinity !== "negative") continue;
      if (p.resources.filter((s) => n.resources.includes(s)).length < 2) continue;
      push(pid, "rule shares two or more resources with a negative resource affinity rule");
      push(nid, "rule shares two or more resources with a positive resource affinity rule");
    }
  }
  return errors;
}

function assertFeasible(ctx: Ctx, rules: Record<string, HaRule>, id: string): void {
  const errs = feasibility(ctx, rules)[id];
  if (!errs) return;
  throw new PveError(
    `Rule '${id}' is invalid.`,
    400,
    Object.fromEntries(Object.entries(errs).map(([k, v]) => [k, v.join(", ")])),
  );
}

function ruleView(
  id: string,
  r: HaRule,
  digest: string,
  errors?: Record<string, string[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { rule: id, type: r.type, digest, order: r.order };
  out.resources = [...r.resources].sort().join(",");
  if (r.nodes) out.nodes = r.nodes.join(",");
  if (r.strict !== undefined) out.strict = r.strict ? 1 : 0;
  if (r.affinity) out.affinity = r.affinity;
  if (r.disable) out.disable = 1;
  if (r.comment !== undefined) out.comment = r.comment;
  if (errors) out.errors = errors;
  return out;
}

function resourcesParam(ctx: Ctx): string[] {
  const list = [...new Set(splitList(ctx.str("resources")))];
  if (!list.length) throw new PveError("no resources were specified");
  const configured = haResources(ctx.store);
  const missing = list.filter((s) => !configured[s]).sort();
  if (missing.length) throw new PveError(`cannot use unmanaged resource(s) ${missing.join(", ")}.`);
  return list;
}

function nodesParam(ctx: Ctx): string[] {
  const list = splitList(ctx.str("nodes"));
  if (!list.length) throw new PveError("no nodes were specified");
  const missing = list.map((n) => n.split(":")[0] as string).filter((n) => !ctx.store.nodes.has(n));
  if (missing.length)
    throw new PveError(`cannot use non-existent node(s) ${[...missing].sort().join(", ")}.`);
  return list;
}

/** SectionConfig check_config: options of the other rule type are not allowed. */
function checkTypeOptions(ctx: Ctx, type: HaRule["type"]): void {
  const foreign = type === "node-affinity" ? ["affinity"] : ["nodes", "strict"];
  for (const k of foreign) {
    if (ctx.has(k))
      throw paramError({
        [k]: `property is not defined in schema and the schema does not allow additional properties`,
      });
  }
}

function setOptions(ctx: Ctx, r: HaRule): void {
  if (ctx.has("resources")) r.resources = resourcesParam(ctx);
  if (ctx.has("nodes")) r.nodes = nodesParam(ctx);
  if (ctx.has("strict")) r.strict = ctx.bool("strict");
  const affinity = ctx.optStr("affinity");
  if (affinity !== undefined) r.affinity = affinity as HaRule["affinity"];
  // Rules.pm drops `disable` when it is false.
  if (ctx.has("disable")) {
    if (ctx.bool("disable")) r.disable = true;
    else delete r.disable;
  }
  const comment = ctx.optStr("comment");
  if (comment !== undefined) r.comment = comment;
}

function createRule(ctx: Ctx): null {
  migrateGroups(ctx);
  const type = ctx.str("type") as HaRule["type"];
  const id = ctx.str("rule");
  checkTypeOptions(ctx, type);
  if (type === "node-affinity" && !ctx.has("nodes"))
    throw paramError({ nodes: "property is missing and it is not optional" });
  if (type === "resource-affinity" && !ctx.has("affinity")) {
    throw paramError({ affinity: "property is missing and it is not optional" });
  }
  return lockedHa("create ha rule failed", () => {
    const rules = haRules(ctx.store);
    if (rules[id]) throw new PveError(`HA rule '${id}' already defined`);
    const rule: HaRule = {
      type,
      resources: [],
      order: Math.max(0, ...Object.values(rules).map((r) => r.order)) + 1,
    };
    setOptions(ctx, rule);
    rules[id] = rule;
    assertFeasible(ctx, rules, id);
    ctx.store.putConfig(HA_RULES, rules);
    return null;
  });
}

function updateRule(ctx: Ctx): null {
  migrateGroups(ctx);
  const id = ctx.str("rule");
  return lockedHa("update HA rules failed", () => {
    const rules = haRules(ctx.store);
    assertDigest(ctx, rules);
    const rule = rules[id];
    if (!rule) throw new PveError(`HA rule '${id}' does not exist`);
    if (ctx.str("type") !== rule.type) throw paramError({ type: "rule type cannot be changed" });
    checkTypeOptions(ctx, rule.type);
    for (const k of ctx.has("delete") ? splitList(ctx.str("delete")) : []) {
      if (["resources", "nodes", "affinity", "type"].includes(k))
        throw new PveError(`unable to delete required option '${k}'`);
      delete (rule as unknown as Record<string, unknown>)[k];
    }
    setOptions(ctx, rule);
    assertFeasible(ctx, rules, id);
    ctx.store.putConfig(HA_RULES, rules);
    return null;
  });
}

export const ruleRoutes: Route[] = [
  {
    method: "GET",
    path: "/cluster/ha/rules",
    handler: since9((ctx) => {
      migrateGroups(ctx);
      const rules = haRules(ctx.store);
      const digest = fileDigest(rules);
      const errors = feasibility(ctx, rules);
      const type = ctx.optStr("type");
      const resource = ctx.optStr("resource");
      return Object.entries(rules)
        .filter(([, r]) => (!type || r.type === type) && (!resource || r.resources.includes(resource)))
        .sort(([, a], [, b]) => a.order - b.order)
        .map(([id, r]) => ruleView(id, r, digest, errors[id]));
    }),
  },
  { method: "POST", path: "/cluster/ha/rules", handler: since9(createRule) },
  {
    method: "GET",
    path: "/cluster/ha/rules/{rule}",
    handler: since9((ctx) => {
      migrateGroups(ctx);
      const rules = haRules(ctx.store);
      const id = ctx.str("rule");
      const r = rules[id];
      if (!r) throw new PveError(`no such ha rule '${id}'`);
      return ruleView(id, r, fileDigest(rules), feasibility(ctx, rules)[id]);
    }),
  },
  { method: "PUT", path: "/cluster/ha/rules/{rule}", handler: since9(updateRule) },
  {
    method: "DELETE",
    path: "/cluster/ha/rules/{rule}",
    handler: since9((ctx) =>
      lockedHa("delete ha rule failed", () => {
        const rules = haRules(ctx.store);
        delete rules[ctx.str("rule")];
        ctx.store.putConfig(HA_RULES, rules);
        return null;
      }),
    ),
  },
];
