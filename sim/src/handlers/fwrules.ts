// Firewall rules (pve-firewall PVE/API2/Firewall/Rules.pm and PVE::Firewall::verify_rule): the
// rule list of a firewall file or security group, ordered by position, with moveto and digests.

import { PROTOCOLS_WITH_PORTS, parseAddressList } from "../../../src/api/fwformats";
import type { Ctx } from "../api/context";
import { PveError, paramError } from "../api/respond";
import type { FirewallConfig, FirewallRule } from "../state/firewall";
import { listWithDigest } from "../state/firewall";
import { MACRO_BY_LC } from "../state/fwmacros";

/** Where a rule lives decides what it may do ($rule_env in pve-firewall). */
export type RuleEnv = "cluster" | "host" | "vm" | "ct" | "group";

/** The keys of $rule_properties a request may set (pos, digest, moveto, delete are not rule data). */
const RULE_KEYS = [
  "type",
  "action",
  "macro",
  "iface",
  "source",
  "dest",
  "proto",
  "dport",
  "sport",
  "icmp-type",
  "log",
  "comment",
  "enable",
] as const;

/** "detected modified configuration - file changed by other user? Try again." (assert_if_modified). */
export function assertDigest(current: string, given: string | undefined): void {
  if (given && given !== current)
    throw new PveError("detected modified configuration - file changed by other user? Try again.");
}

/** copy_rule_data: defined values are set, '' and '-' remove the key. */
function copyRuleData(rule: FirewallRule, params: Record<string, unknown>): void {
  const r = rule as unknown as Record<string, unknown>;
  for (const k of RULE_KEYS) {
    const v = params[k];
    if (v === undefined || v === null) continue;
    if (v === "" || v === "-") delete r[k];
    else r[k] = typeof v === "number" ? v : String(v);
  }
}

/** verify_rule: collects one message per field and raises them as parameter errors. */
export function verifyRule(
  rule: FirewallRule,
  cluster: FirewallConfig,
  local: FirewallConfig | undefined,
  env: RuleEnv,
): void {
  const errors: Record<string, string> = {};
  const add = (key: string, msg: string) => {
    errors[key] ??= msg;
  };
  let ipversion: number | undefined;
  const setVersion = (v: number | undefined) => {
    if (v === undefined) return;
    if (ipversion !== undefined && ipversion !== v) add("dest", "detected mixed ipv4/ipv6 addresses in rule");
    ipversion = v;
  };
  const { type, action } = rule;
  if (!type) add("type", "missing property");
  if (!action) add("action", "missing property");
  if (type === "in" || type === "out" || type === "forward") {
    if (action && !/^(ACCEPT|DROP|REJECT)$/.test(action)) add("action", `unknown action '${action}'`);
    // nftables forward rules (PVE 8.3+) exist for the cluster, hosts and vnets, not for guests
    // (pve-firewall $rule_env direction check; the exact text is not verified).
    if (type === "forward" && (env === "vm" || env === "ct"))
      add("type", `rule type '${type}' is not allowed in this context`);
  } else if (type === "group") {
    if (env === "group") add("type", "security groups not allowed");
    if (action && !/^[A-Za-z][A-Za-z0-9\-_]+$/.test(action))
      add("action", "invalid characters in security group name");
    else if (action && !cluster.groups.some((g) => g.group === action))
      add("action", `security group '${action}' does not exist`);
  } else if (type) {
    add("type", `unknown rule type '${type}'`);
  }
  if (rule.iface) {
    if ((env === "vm" || env === "ct") && !/^net\d+$/.test(rule.iface))
      add("iface", `iface name '${rule.iface}' does not match 'net\\d+'`);
  }
  if (rule.macro) {
    const known = MACRO_BY_LC.get(rule.macro.toLowerCase());
    if (known) rule.macro = known.macro;
    else add("macro", `unknown macro '${rule.macro}'`);
  }
  const proto = rule.proto;
  if (proto === "icmpv6" || proto === "ipv6-icmp") setVersion(6);
  if (rule.dport) {
    if (!proto) add("proto", "missing property - 'dport' requires this property");
    else if (!PROTOCOLS_WITH_PORTS.has(proto) && proto !== "icmp" && proto !== "icmpv6")
      add("dport", `protocol '${proto}' does not support ports`);
  }
  if (rule.sport) {
    if (!proto) add("proto", "missing property - 'sport' requires this property");
    else if (!PROTOCOLS_WITH_PORTS.has(proto)) add("sport", `protocol '${proto}' does not support ports`);
  }
  if (rule["icmp-type"] && proto !== "icmp" && proto !== "icmpv6" && proto !== "ipv6-icmp")
    add("proto", "missing property - 'icmp-type' requires this property");
  for (const key of ["source", "dest"] as const) {
    const value = rule[key];
    if (!value) continue;
    try {
      setVersion(parseAddressList(value));
    } catch (e) {
      add(key, (e as Error).message);
      continue;
    }
    const set = /^\+(guest\/|dc\/)?(.+)$/.exec(value);
    if (set) {
      const [, scope, name] = set as unknown as [string, string | undefined, string];
      const found =
        (scope !== "dc/" && local?.ipsets.some((s) => s.name === name)) ||
        (scope !== "guest/" && cluster.ipsets.some((s) => s.name === name));
      if (!found) add(key, `no such ipset '${name}'`);
      continue;
    }
    const alias = /^(guest\/|dc\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(value);
    if (alias) {
      const scope = alias[1];
      const name = (alias[2] as string).toLowerCase();
      const found =
        (scope !== "dc/" ? local?.aliases.find((a) => a.name.toLowerCase() === name) : undefined) ??
        (scope !== "guest/" ? cluster.aliases.find((a) => a.name.toLowerCase() === name) : undefined);
      if (!found) add(key, `no such alias '${name}'`);
      else setVersion(found.ipversion);
    }
  }
  if (ipversion !== undefined) rule.ipversion = ipversion;
  else delete rule.ipversion;
  if (Object.keys(errors).length) throw paramError(errors);
}

/** Where a rule list is and how it is written back. */
export interface RuleHolder {
  rules: FirewallRule[];
  cluster: FirewallConfig;
  local?: FirewallConfig;
  env: RuleEnv;
  save: (rules: FirewallRule[]) => void;
}

export function listRules(rules: readonly FirewallRule[]): Record<string, unknown>[] {
  const { items } = listWithDigest(rules);
  return items.map((item, pos) => ({ ...item, pos }));
}

export function getRule(h: RuleHolder, pos: number): Record<string, unknown> {
  const list = listRules(h.rules);
  const rule = list[pos];
  if (!rule) throw new PveError(`no rule at position ${pos}`);
  return rule;
}

/** create_rule: the new rule goes first; enable defaults to 0 for rules made through the API. */
export function createRule(ctx: Ctx, h: RuleHolder): null {
  const rule = {} as FirewallRule;
  copyRuleData(rule, ctx.params);
  verifyRule(rule, h.cluster, h.local, h.env);
  if (rule.enable === undefined) rule.enable = 0;
  h.save([rule, ...h.rules]);
  return null;
}

/** update_rule: moveto reorders (the rule lands before the one at `moveto`), else fields change. */
export function updateRule(ctx: Ctx, h: RuleHolder): null {
  const pos = ctx.int("pos");
  assertDigest(listWithDigest(h.rules).digest, ctx.optStr("digest"));
  const current = h.rules[pos];
  if (!current) throw new PveError(`no rule at position ${pos}`);
  const moveto = ctx.optInt("moveto");
  if (moveto !== undefined && moveto !== pos) {
    const next: FirewallRule[] = [];
    h.rules.forEach((r, i) => {
      if (i === pos) return;
      if (i === moveto) next.push(current);
      next.push(r);
    });
    if (moveto >= h.rules.length) next.push(current);
    h.save(next);
    return null;
  }
  const rule = structuredClone(current);
  copyRuleData(rule, ctx.params);
  const del = ctx.optStr("delete");
  if (del) {
    for (const key of del.split(/[,;\s]+/).filter(Boolean)) {
      // delete_rule_properties: only optional rule properties may go.
      if (!(RULE_KEYS as readonly string[]).includes(key))
        throw paramError({ delete: `no such property ('${key}')` });
      if (key === "type" || key === "action")
        throw paramError({ delete: `unable to delete required property '${key}'` });
      delete (rule as unknown as Record<string, unknown>)[key];
    }
  }
  verifyRule(rule, h.cluster, h.local, h.env);
  const next = [...h.rules];
  next[pos] = rule;
  h.save(next);
  return null;
}

export function deleteRule(ctx: Ctx, h: RuleHolder): null {
  const pos = ctx.int("pos");
  assertDigest(listWithDigest(h.rules).digest, ctx.optStr("digest"));
  if (pos >= h.rules.length) throw new PveError(`no rule at position ${pos}`);
  h.save(h.rules.filter((_, i) => i !== pos));
  return null;
}
