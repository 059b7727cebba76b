// The firewall API at cluster, node and guest level (pve-firewall PVE/API2/Firewall/*.pm):
// indexes, options, rules, security groups, macros and the log. Aliases, IP sets and refs are in
// fwobjects.ts, the rule logic in fwrules.ts.

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { API_SCHEMA } from "../generated/api-schema";
import { type FirewallConfig, type FirewallRule, listWithDigest, objectWithDigest } from "../state/firewall";
import { FIREWALL_MACROS } from "../state/fwmacros";
import { firewallLog } from "./fwlog";
import { fwObjectRoutes } from "./fwobjects";
import {
  assertDigest,
  createRule,
  deleteRule,
  getRule,
  listRules,
  type RuleHolder,
  updateRule,
} from "./fwrules";
import { clusterFirewall, FW_BASE, type FwLevel, loadFirewall, RULE_ENV, saveFirewall } from "./fwscope";
import { loadGuest } from "./guests";

const LEVELS: FwLevel[] = ["cluster", "node", "qemu", "lxc"];

/** The option names a level knows: the PUT schema minus the request's own parameters. */
function optionNames(level: FwLevel): Set<string> {
  const props = API_SCHEMA[`PUT ${FW_BASE[level]}/options`]?.parameters.properties ?? {};
  return new Set(Object.keys(props).filter((k) => !["delete", "digest", "node", "vmid"].includes(k)));
}

function getOptions(ctx: Ctx, level: FwLevel): Record<string, unknown> {
  return objectWithDigest(loadFirewall(ctx, level).options);
}

/** set_options: delete first (unknown names refused), then set; cluster `enable` > 1 means now. */
function setOptions(ctx: Ctx, level: FwLevel): null {
  const fw = loadFirewall(ctx, level);
  assertDigest(String(objectWithDigest(fw.options).digest), ctx.optStr("digest"));
  const names = optionNames(level);
  const del = ctx.optStr("delete");
  if (del) {
    for (const opt of del.split(/[,;\s]+/).filter(Boolean)) {
      if (!names.has(opt)) throw paramError({ delete: `no such option '${opt}'` });
      delete fw.options[opt];
    }
  }
  for (const k of names) {
    const v = ctx.params[k];
    if (v === undefined) continue;
    fw.options[k] = typeof v === "boolean" ? (v ? 1 : 0) : (v as string | number);
  }
  if (level === "cluster" && Number(fw.options.enable ?? 0) > 1) fw.options.enable = ctx.nowSec;
  saveFirewall(ctx.store, fw);
  return null;
}

function ruleHolder(ctx: Ctx, level: FwLevel): RuleHolder {
  const fw = loadFirewall(ctx, level);
  const cluster = level === "cluster" ? fw : clusterFirewall(ctx.store);
  return {
    rules: fw.rules,
    cluster,
    ...(level === "qemu" || level === "lxc" ? { local: fw } : {}),
    env: RULE_ENV[level],
    save: (rules) => {
      fw.rules = rules;
      saveFirewall(ctx.store, fw);
    },
  };
}

function ruleRoutes(base: string, holder: (ctx: Ctx) => RuleHolder): Route[] {
  return [
    { method: "GET", path: base, handler: (ctx) => listRules(holder(ctx).rules) },
    { method: "POST", path: base, handler: (ctx) => createRule(ctx, holder(ctx)) },
    { method: "GET", path: `${base}/{pos}`, handler: (ctx) => getRule(holder(ctx), ctx.int("pos")) },
    { method: "PUT", path: `${base}/{pos}`, handler: (ctx) => updateRule(ctx, holder(ctx)) },
    { method: "DELETE", path: `${base}/{pos}`, handler: (ctx) => deleteRule(ctx, holder(ctx)) },
  ];
}

// ---------------------------------------------------------------------------------------------
// Security groups (PVE/API2/Firewall/Groups.pm): named rule lists in cluster.fw.

function groupList(cluster: FirewallConfig) {
  const groups = [...cluster.groups].sort((a, b) => (a.group < b.group ? -1 : 1));
  return listWithDigest(
    groups.map((g) => ({ group: g.group, ...(g.comment ? { comment: g.comment } : {}) })),
  );
}

function groupHolder(ctx: Ctx): RuleHolder {
  const cluster = loadFirewall(ctx, "cluster");
  const name = ctx.str("group");
  const group = cluster.groups.find((g) => g.group === name);
  if (!group) throw new PveError(`no such security group '${name}'`);
  return {
    rules: group.rules,
    cluster,
    env: "group",
    save: (rules: FirewallRule[]) => {
      group.rules = rules;
      saveFirewall(ctx.store, cluster);
    },
  };
}

function createGroup(ctx: Ctx): null {
  const cluster = loadFirewall(ctx, "cluster");
  const name = ctx.str("group");
  const rename = ctx.optStr("rename");
  const comment = ctx.optStr("comment");
  if (rename) {
    assertDigest(groupList(cluster).digest, ctx.optStr("digest"));
    const group = cluster.groups.find((g) => g.group === rename);
    if (!group) throw paramError({ group: `Security group '${rename}' does not exist` });
    if (name !== rename && cluster.groups.some((g) => g.group === name))
      throw paramError({ group: `Security group '${name}' does already exist` });
    group.group = name;
    if (comment !== undefined) group.comment = comment;
  } else {
    if (cluster.groups.some((g) => g.group === name))
      throw paramError({ group: `Security group '${name}' already exists` });
    cluster.groups.push({ group: name, rules: [], ...(comment ? { comment } : {}) });
  }
  saveFirewall(ctx.store, cluster);
  return null;
}

function deleteGroup(ctx: Ctx): null {
  const cluster = loadFirewall(ctx, "cluster");
  const name = ctx.str("group");
  const group = cluster.groups.find((g) => g.group === name);
  if (group?.rules.length) throw new PveError(`Security group '${name}' is not empty`);
  cluster.groups = cluster.groups.filter((g) => g.group !== name);
  saveFirewall(ctx.store, cluster);
  return null;
}

// ---------------------------------------------------------------------------------------------

const names = (...list: string[]) => list.map((name) => ({ name }));

export const firewallRoutes: Route[] = [
  {
    method: "GET",
    path: "/cluster/firewall",
    handler: () => names("aliases", "rules", "options", "groups", "ipset", "macros", "refs"),
  },
  { method: "GET", path: "/nodes/{node}/firewall", handler: () => names("rules", "options", "log") },
  ...(["qemu", "lxc"] as const).map((level) => ({
    method: "GET" as const,
    path: FW_BASE[level],
    handler: (ctx: Ctx) => {
      loadGuest(ctx, level);
      return names("rules", "aliases", "ipset", "refs", "options", "log");
    },
  })),
  ...LEVELS.flatMap((level): Route[] => [
    { method: "GET", path: `${FW_BASE[level]}/options`, handler: (ctx) => getOptions(ctx, level) },
    { method: "PUT", path: `${FW_BASE[level]}/options`, handler: (ctx) => setOptions(ctx, level) },
    ...ruleRoutes(`${FW_BASE[level]}/rules`, (ctx) => ruleHolder(ctx, level)),
  ]),
  {
    method: "GET",
    path: "/cluster/firewall/groups",
    handler: (ctx) => groupList(clusterFirewall(ctx.store)).items,
  },
  { method: "POST", path: "/cluster/firewall/groups", handler: createGroup },
  {
    method: "GET",
    path: "/cluster/firewall/groups/{group}",
    handler: (ctx) => listRules(groupHolder(ctx).rules),
  },
  { method: "DELETE", path: "/cluster/firewall/groups/{group}", handler: deleteGroup },
  {
    method: "POST",
    path: "/cluster/firewall/groups/{group}",
    handler: (ctx) => createRule(ctx, groupHolder(ctx)),
  },
  {
    method: "GET",
    path: "/cluster/firewall/groups/{group}/{pos}",
    handler: (ctx) => getRule(groupHolder(ctx), ctx.int("pos")),
  },
  {
    method: "PUT",
    path: "/cluster/firewall/groups/{group}/{pos}",
    handler: (ctx) => updateRule(ctx, groupHolder(ctx)),
  },
  {
    method: "DELETE",
    path: "/cluster/firewall/groups/{group}/{pos}",
    handler: (ctx) => deleteRule(ctx, groupHolder(ctx)),
  },
  {
    method: "GET",
    path: "/cluster/firewall/macros",
    handler: () => FIREWALL_MACROS.map(({ macro, descr }) => ({ macro, descr })),
  },
  { method: "GET", path: "/nodes/{node}/firewall/log", handler: (ctx) => firewallLog(ctx) },
  ...(["qemu", "lxc"] as const).map((level) => ({
    method: "GET" as const,
    path: `${FW_BASE[level]}/log`,
    handler: (ctx: Ctx) => firewallLog(ctx, loadGuest(ctx, level).vmid),
  })),
  ...fwObjectRoutes,
];
