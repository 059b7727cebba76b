// /var/log/pve-firewall.log as pvefw-logger writes it: "<vmid> <level> <chain> <time> <text>".
// The simulator derives the last six hours of it from the rules in force: every enabled rule with
// a `log` level and every policy with a log level produce a packet now and then. Rules of a
// disabled firewall (cluster, host or guest switch off, or a NIC without firewall=1) log nothing.
// The lines follow the rules as they are now, not as they were when the packets passed.

import type { Ctx } from "../api/context";
import type { FirewallConfig, FirewallRule } from "../state/firewall";
import { MACRO_BY_LC } from "../state/fwmacros";
import type { GuestState } from "../state/model";
import { digestOf } from "../state/random";
import type { Store } from "../state/store";
import { clusterFirewall, firewallActive } from "./fwscope";

const LEVELS: Record<string, number> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WINDOW_SEC = 6 * 3600;
const BUCKET_SEC = 900;

const pad = (n: number) => String(n).padStart(2, "0");

/** "18/Nov/2026:10:02:03 +0000" (strftime "%d/%b/%Y:%H:%M:%S %z", nodes run on UTC). */
function logTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const hash = (s: string) => Number.parseInt(digestOf(s).slice(0, 8), 16);

interface Source {
  vmid: number;
  chain: string;
  level: number;
  action: string;
  proto: string;
  dport: string;
  src: string;
  dst: string;
  key: string;
}

/** The first address a rule's source names, resolved through aliases and IP sets. */
function firstAddress(
  spec: string | undefined,
  cluster: FirewallConfig,
  local: FirewallConfig | undefined,
  n: number,
): string {
  const fallback = `192.168.1.${20 + (n % 200)}`;
  if (!spec) return fallback;
  const set = /^\+(?:guest\/|dc\/)?(.+)$/.exec(spec);
  if (set) {
    const s = local?.ipsets.find((x) => x.name === set[1]) ?? cluster.ipsets.find((x) => x.name === set[1]);
    const entries = s?.entries.filter((e) => !e.nomatch) ?? [];
    return firstAddress(entries[n % Math.max(1, entries.length)]?.cidr, cluster, local, n);
  }
  const alias = /^(?:guest\/|dc\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(spec);
  if (alias) {
    const name = (alias[1] as string).toLowerCase();
    const a =
      local?.aliases.find((x) => x.name.toLowerCase() === name) ??
      cluster.aliases.find((x) => x.name.toLowerCase() === name);
    return firstAddress(a?.cidr, cluster, local, n);
  }
  const first = spec.split(",")[0]?.split("-")[0] ?? spec;
  const [ip, bits] = first.split("/");
  if (bits && ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip) && Number(bits) < 32)
    return ip.replace(/\.\d+$/, `.${10 + (n % 100)}`);
  return ip ?? fallback;
}

function ruleSources(
  rules: FirewallRule[],
  vmid: number,
  chain: string,
  cluster: FirewallConfig,
  local: FirewallConfig | undefined,
  dst: string,
): Source[] {
  const out: Source[] = [];
  const expanded: FirewallRule[] = [];
  for (const r of rules) {
    if (!Number(r.enable ?? 0)) continue;
    if (r.type === "group") {
      const g = cluster.groups.find((x) => x.group === r.action);
      for (const gr of g?.rules ?? []) if (Number(gr.enable ?? 0)) expanded.push(gr);
    } else expanded.push(r);
  }
  expanded.forEach((r, i) => {
    if (!r.log || r.log === "nolog" || r.type !== "in") return;
    const macro = r.macro ? MACRO_BY_LC.get(r.macro.toLowerCase()) : undefined;
    // A rule without protocol or ports matches anything: show a typical probe.
    const probe = ["22", "445", "3389", "23"][(i + vmid) % 4] as string;
    const [proto, dport] = macro?.ports[0] ?? [r.proto ?? "tcp", r.dport ?? probe];
    out.push({
      vmid,
      chain,
      level: LEVELS[r.log] ?? 6,
      action: r.action,
      proto: proto.toUpperCase(),
      dport: (dport.split(/[,:]/)[0] as string) || "0",
      src: firstAddress(r.source, cluster, local, i + vmid),
      dst,
      key: `${chain}/${i}/${JSON.stringify(r)}`,
    });
  });
  return out;
}

function policySource(
  options: FirewallConfig["options"],
  vmid: number,
  chain: string,
  dst: string,
  policy: string,
): Source[] {
  const level = String(options.log_level_in ?? "nolog");
  if (level === "nolog" || !(level in LEVELS)) return [];
  return [
    {
      vmid,
      chain,
      level: LEVELS[level] as number,
      action: `policy ${policy}`,
      proto: "TCP",
      dport: "23",
      src: "198.51.100.7",
      dst,
      key: `${chain}/policy`,
    },
  ];
}

function guestNicFirewalled(g: GuestState): boolean {
  return Object.entries(g.config).some(
    ([k, v]) => /^net\d+$/.test(k) && /(^|,)firewall=1(,|$)/.test(String(v)),
  );
}

/** The whole log file of a node, oldest line first. */
export function firewallLogLines(
  store: Store,
  node: string,
  nowSec: number,
): { time: number; vmid: number; text: string }[] {
  const n = store.nodes.get(node);
  const cluster = clusterFirewall(store);
  const sources: Source[] = [];
  const hostIp = n?.ip ?? "192.168.1.11";
  if (firewallActive(store, `node/${node}`)) {
    const host = store.firewall.get(`node/${node}`);
    sources.push(
      ...ruleSources(
        [...(host?.rules ?? []), ...cluster.rules],
        0,
        "PVEFW-HOST-IN",
        cluster,
        undefined,
        hostIp,
      ),
    );
    sources.push(
      ...policySource(
        host?.options ?? {},
        0,
        "PVEFW-HOST-IN",
        hostIp,
        String(cluster.options.policy_in ?? "DROP"),
      ),
    );
  }
  for (const g of store.guestsOn(node)) {
    const scope = `vm/${g.vmid}`;
    const fw = store.firewall.get(scope);
    if (!fw || g.status !== "running" || !guestNicFirewalled(g) || !firewallActive(store, scope)) continue;
    const chain = `${g.type === "qemu" ? "tap" : "veth"}${g.vmid}i0-IN`;
    const ip = g.os?.ipv4 ?? `192.168.1.${100 + (g.vmid % 150)}`;
    sources.push(...ruleSources(fw.rules, g.vmid, chain, cluster, fw, ip));
    sources.push(...policySource(fw.options, g.vmid, chain, ip, String(fw.options.policy_in ?? "DROP")));
  }
  const lines: { time: number; vmid: number; text: string }[] = [];
  const boot = n?.bootTime ?? nowSec - WINDOW_SEC;
  const from = Math.max(boot, nowSec - WINDOW_SEC);
  if (boot >= nowSec - WINDOW_SEC)
    lines.push({ time: boot + 20, vmid: 0, text: `0 5 - ${logTime(boot + 20)} starting pvefw logger` });
  for (let b = Math.floor(from / BUCKET_SEC) * BUCKET_SEC; b < nowSec; b += BUCKET_SEC) {
    for (const s of sources) {
      const h = hash(`${node}|${b}|${s.key}`);
      if (h % 3 !== 0) continue;
      const time = b + (h % BUCKET_SEC);
      if (time < from || time > nowSec) continue;
      const iface = s.vmid
        ? `IN=fwbr${s.vmid}i0 OUT=fwbr${s.vmid}i0 PHYSIN=fwln${s.vmid}i0 PHYSOUT=${s.chain.replace(/-IN$/, "")}`
        : "IN=vmbr0 OUT=";
      const spt = 32768 + (h % 28000);
      const ports = s.proto === "TCP" || s.proto === "UDP" ? ` SPT=${spt} DPT=${s.dport}` : "";
      const text = `${s.vmid} ${s.level} ${s.chain} ${logTime(time)} ${s.action}: ${iface} SRC=${s.src} DST=${s.dst} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${h % 65535} DF PROTO=${s.proto}${ports}${s.proto === "TCP" ? " SYN" : ""}`;
      lines.push({ time, vmid: s.vmid, text });
    }
  }
  return lines.sort((a, b) => a.time - b.time);
}

/** dump_logfile with since/until and an optional guest filter: n is 1-based, total counts matches. */
export function firewallLog(ctx: Ctx, vmid?: number): { n: number; t: string }[] {
  const since = ctx.optInt("since");
  const until = ctx.optInt("until");
  const matches = firewallLogLines(ctx.store, ctx.str("node"), ctx.nowSec).filter(
    (l) =>
      (vmid === undefined || l.vmid === vmid) &&
      (since === undefined || l.time >= since) &&
      (until === undefined || l.time <= until),
  );
  const start = ctx.optInt("start") ?? 0;
  const limit = ctx.optInt("limit") ?? 50;
  const out = matches
    .slice(start, limit === 0 ? undefined : start + limit)
    .map((l, i) => ({ n: start + i + 1, t: l.text }));
  let total = matches.length;
  if (total === 0) {
    total = 1;
    out.push({ n: 1, t: "no content" });
  }
  ctx.total = total;
  return out;
}
