// Firewall aliases and IP sets at cluster and guest level (pve-firewall PVE/API2/Firewall/
// Aliases.pm and IPSet.pm), with their list digests and Proxmox's messages.

import { ipVersionOf } from "../../../src/proxmox/formats";
import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { type FirewallConfig, type FirewallIpset, listWithDigest } from "../state/firewall";
import { assertDigest } from "./fwrules";
import { clusterFirewall, FW_BASE, type FwLevel, loadFirewall, saveFirewall } from "./fwscope";

const byName = <T extends { name: string }>(list: T[]) =>
  [...list].sort((a, b) => (a.name < b.name ? -1 : 1));

function aliasList(fw: FirewallConfig) {
  return listWithDigest(byName(fw.aliases));
}

function aliasRoutes(level: FwLevel): Route[] {
  const base = `${FW_BASE[level]}/aliases`;
  const find = (fw: FirewallConfig, name: string) =>
    fw.aliases.find((a) => a.name.toLowerCase() === name.toLowerCase());
  return [
    { method: "GET", path: base, handler: (ctx) => aliasList(loadFirewall(ctx, level)).items },
    {
      method: "POST",
      path: base,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const name = ctx.str("name");
        if (find(fw, name)) throw paramError({ name: `alias '${name}' already exists` });
        const cidr = ctx.str("cidr");
        const comment = ctx.optStr("comment");
        fw.aliases.push({ name, cidr, ipversion: ipVersionOf(cidr) ?? 4, ...(comment ? { comment } : {}) });
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
    {
      method: "GET",
      path: `${base}/{name}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const { items } = aliasList(fw);
        const item = items.find((a) => String(a.name).toLowerCase() === ctx.str("name").toLowerCase());
        if (!item) throw paramError({ name: "no such alias" });
        return item;
      },
    },
    {
      method: "PUT",
      path: `${base}/{name}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        assertDigest(aliasList(fw).digest, ctx.optStr("digest"));
        const alias = find(fw, ctx.str("name"));
        if (!alias) throw paramError({ name: "no such alias" });
        const rename = ctx.optStr("rename");
        if (rename && rename.toLowerCase() !== alias.name.toLowerCase()) {
          if (find(fw, rename)) throw paramError({ name: `alias '${rename}' already exists` });
          alias.name = rename;
        }
        alias.cidr = ctx.str("cidr");
        alias.ipversion = ipVersionOf(alias.cidr) ?? 4;
        const comment = ctx.optStr("comment");
        if (comment) alias.comment = comment;
        else delete alias.comment;
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
    {
      method: "DELETE",
      path: `${base}/{name}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        assertDigest(aliasList(fw).digest, ctx.optStr("digest"));
        const name = ctx.str("name").toLowerCase();
        fw.aliases = fw.aliases.filter((a) => a.name.toLowerCase() !== name);
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
  ];
}

function ipsetSummary(fw: FirewallConfig) {
  return listWithDigest(
    byName(fw.ipsets).map((s) => ({ name: s.name, ...(s.comment ? { comment: s.comment } : {}) })),
  );
}

function loadIpset(fw: FirewallConfig, name: string): FirewallIpset {
  const set = fw.ipsets.find((s) => s.name === name);
  if (!set) throw new PveError(`no such IPSet '${name}'`);
  return set;
}

/** An entry's cidr as the config parser stores it; aliases must resolve (resolve_alias). */
function normalizeEntry(ctx: Ctx, fw: FirewallConfig, level: FwLevel, cidr: string): string {
  const alias = /^(dc\/|guest\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(cidr);
  if (alias) {
    const scope = alias[1] ?? "";
    const name = (alias[2] as string).toLowerCase();
    const local = level === "cluster" ? undefined : fw;
    const found =
      (scope !== "dc/" && local?.aliases.some((a) => a.name.toLowerCase() === name)) ||
      (scope !== "guest/" && clusterFirewall(ctx.store).aliases.some((a) => a.name.toLowerCase() === name));
    if (!found) throw new PveError(`no such alias '${name}'`);
    return cidr;
  }
  return cidr;
}

function ipsetRoutes(level: FwLevel): Route[] {
  const base = `${FW_BASE[level]}/ipset`;
  return [
    { method: "GET", path: base, handler: (ctx) => ipsetSummary(loadFirewall(ctx, level)).items },
    {
      method: "POST",
      path: base,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const name = ctx.str("name");
        const rename = ctx.optStr("rename");
        const comment = ctx.optStr("comment");
        if (rename) {
          assertDigest(ipsetSummary(fw).digest, ctx.optStr("digest"));
          const set = fw.ipsets.find((s) => s.name === rename);
          if (!set) throw paramError({ name: `IPSet '${rename}' does not exist` });
          if (name !== rename && fw.ipsets.some((s) => s.name === name))
            throw paramError({ name: `IPSet '${name}' does already exist` });
          set.name = name;
          if (comment !== undefined) set.comment = comment;
        } else {
          if (fw.ipsets.some((s) => s.name === name))
            throw paramError({ name: `IPSet '${name}' already exists` });
          fw.ipsets.push({ name, entries: [], ...(comment ? { comment } : {}) });
        }
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
    {
      method: "GET",
      path: `${base}/{name}`,
      handler: (ctx) => listWithDigest(loadIpset(loadFirewall(ctx, level), ctx.str("name")).entries).items,
    },
    {
      method: "DELETE",
      path: `${base}/{name}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const name = ctx.str("name");
        const set = fw.ipsets.find((s) => s.name === name);
        if (set?.entries.length && !ctx.bool("force")) throw new PveError(`IPSet '${name}' is not empty`);
        fw.ipsets = fw.ipsets.filter((s) => s.name !== name);
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
    {
      method: "POST",
      path: `${base}/{name}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const set = loadIpset(fw, ctx.str("name"));
        const cidr = normalizeEntry(ctx, fw, level, ctx.str("cidr"));
        if (set.entries.some((e) => e.cidr === cidr))
          throw paramError({ cidr: `address '${cidr}' already exists` });
        if (/\/0+$/.test(cidr)) throw paramError({ cidr: "a zero prefix is not allowed in ipset entries" });
        const comment = ctx.optStr("comment");
        set.entries.push({
          cidr,
          ...(ctx.bool("nomatch") ? { nomatch: true } : {}),
          ...(comment ? { comment } : {}),
        });
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
    {
      method: "GET",
      path: `${base}/{name}/{cidr}`,
      handler: (ctx) => {
        const set = loadIpset(loadFirewall(ctx, level), ctx.str("name"));
        const { items } = listWithDigest(set.entries);
        const item = items.find((e) => e.cidr === ctx.str("cidr"));
        if (!item) throw paramError({ cidr: "no such IP/Network" });
        return item;
      },
    },
    {
      method: "PUT",
      path: `${base}/{name}/{cidr}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const set = loadIpset(fw, ctx.str("name"));
        assertDigest(listWithDigest(set.entries).digest, ctx.optStr("digest"));
        const entry = set.entries.find((e) => e.cidr === ctx.str("cidr"));
        if (!entry) throw paramError({ cidr: "no such IP/Network" });
        const comment = ctx.optStr("comment");
        if (comment) entry.comment = comment;
        else delete entry.comment;
        if (ctx.bool("nomatch")) entry.nomatch = true;
        else delete entry.nomatch;
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
    {
      method: "DELETE",
      path: `${base}/{name}/{cidr}`,
      handler: (ctx) => {
        const fw = loadFirewall(ctx, level);
        const set = loadIpset(fw, ctx.str("name"));
        assertDigest(listWithDigest(set.entries).digest, ctx.optStr("digest"));
        set.entries = set.entries.filter((e) => e.cidr !== ctx.str("cidr"));
        saveFirewall(ctx.store, fw);
        return null;
      },
    },
  ];
}

/** GET .../refs: the aliases and IP sets a rule may name, with the reference to write. */
export function refs(ctx: Ctx, level: FwLevel): Record<string, unknown>[] {
  const want = ctx.optStr("type");
  const out: Record<string, unknown>[] = [];
  const add = (fw: FirewallConfig, scope: "dc" | "guest") => {
    if (!want || want === "ipset") {
      for (const s of byName(fw.ipsets))
        out.push({
          type: "ipset",
          name: s.name,
          ref: `+${scope}/${s.name}`,
          scope,
          ...(s.comment ? { comment: s.comment } : {}),
        });
    }
    if (!want || want === "alias") {
      for (const a of byName(fw.aliases))
        out.push({
          type: "alias",
          name: a.name,
          ref: `${scope}/${a.name}`,
          scope,
          ...(a.comment ? { comment: a.comment } : {}),
        });
    }
  };
  if (level !== "cluster") add(loadFirewall(ctx, level), "guest");
  add(clusterFirewall(ctx.store), "dc");
  return out;
}

export const fwObjectRoutes: Route[] = (["cluster", "qemu", "lxc"] as const).flatMap((level) => [
  ...aliasRoutes(level),
  ...ipsetRoutes(level),
  { method: "GET" as const, path: `${FW_BASE[level]}/refs`, handler: (ctx: Ctx) => refs(ctx, level) },
]);
