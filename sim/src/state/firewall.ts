// The firewall configuration files of pve-firewall: /etc/pve/firewall/cluster.fw (options,
// aliases, IP sets, rules, security groups), /etc/pve/nodes/<node>/host.fw (options, rules) and
// /etc/pve/firewall/<vmid>.fw (options, aliases, IP sets, rules). One stored row per file.

import { digestOf } from "./random";

/** A rule line as pve-firewall keeps it (PVE::Firewall $rule_properties). */
export interface FirewallRule {
  type: string;
  action: string;
  macro?: string;
  iface?: string;
  source?: string;
  dest?: string;
  proto?: string;
  dport?: string;
  sport?: string;
  "icmp-type"?: string;
  log?: string;
  comment?: string;
  enable?: number;
  /** Set by verify_rule from the addresses used (4 or 6). */
  ipversion?: number;
}

export interface FirewallAlias {
  name: string;
  cidr: string;
  comment?: string;
  ipversion: number;
}

export interface IpsetEntry {
  cidr: string;
  nomatch?: boolean;
  comment?: string;
}

export interface FirewallIpset {
  name: string;
  comment?: string;
  entries: IpsetEntry[];
}

export interface SecurityGroup {
  group: string;
  comment?: string;
  rules: FirewallRule[];
}

/** One firewall file. `scope` is "cluster", "node/<name>" or "vm/<vmid>". */
export interface FirewallConfig {
  scope: string;
  options: Record<string, string | number>;
  rules: FirewallRule[];
  aliases: FirewallAlias[];
  ipsets: FirewallIpset[];
  /** Security groups live in cluster.fw only. */
  groups: SecurityGroup[];
}

export const emptyFirewall = (scope: string): FirewallConfig => ({
  scope,
  options: {},
  rules: [],
  aliases: [],
  ipsets: [],
  groups: [],
});

/**
 * PVE::Firewall::copy_list_with_digest: each entry's defined keys in sorted order feed one SHA-1
 * (here a stable stand-in), and every copied entry carries that list digest.
 */
export function listWithDigest<T extends object>(
  list: readonly T[],
): {
  items: Record<string, unknown>[];
  digest: string;
} {
  const parts: string[] = [];
  const items = list.map((entry) => {
    const copy: Record<string, unknown> = {};
    for (const k of Object.keys(entry).sort()) {
      const v = (entry as Record<string, unknown>)[k];
      if (v === undefined || (typeof v === "object" && v !== null)) continue;
      copy[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
      parts.push(`${k}:${String(copy[k])}`);
    }
    parts.push("");
    return copy;
  });
  const digest = digestOf(parts.join("\n"));
  for (const item of items) item.digest = digest;
  return { items, digest };
}

/** PVE::Firewall::copy_opject_with_digest: the options plus their digest. */
export function objectWithDigest(obj: Record<string, string | number>): Record<string, unknown> {
  const keys = Object.keys(obj).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = obj[k];
  out.digest = digestOf(keys.map((k) => `${k}:${String(obj[k])}`).join("\n"));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Seed: what a homelab that has started to use the firewall looks like.

interface SeedGuest {
  vmid: number;
  type: "qemu" | "lxc";
}

/**
 * The cluster firewall (enabled, inbound DROP policy), an alias for the LAN and the management
 * host, an IP set of admin addresses, a "webserver" security group, rules on every node's host
 * firewall, and guest firewalls: a web VM with the group and its own rules in the hand-written
 * homelab, every tenth guest with SSH and HTTP(S) rules at scale.
 */
export function seedFirewall(nodes: string[], guests: SeedGuest[], homelab: boolean): FirewallConfig[] {
  const cluster: FirewallConfig = {
    ...emptyFirewall("cluster"),
    options: { enable: 1, policy_in: "DROP", policy_out: "ACCEPT" },
    aliases: [
      { name: "lan", cidr: "192.168.1.0/24", comment: "Home network", ipversion: 4 },
      { name: "nas", cidr: "192.168.1.50", comment: "TrueNAS", ipversion: 4 },
    ],
    ipsets: [
      {
        name: "management",
        comment: "Admin workstations",
        entries: [
          { cidr: "10.8.0.0/24", comment: "WireGuard" },
          { cidr: "192.168.1.20", comment: "desktop" },
          { cidr: "192.168.1.21", comment: "laptop" },
        ],
      },
      { name: "blocklist", comment: "Abusive hosts", entries: [{ cidr: "203.0.113.0/24" }] },
    ],
    groups: [
      {
        group: "webserver",
        comment: "HTTP and HTTPS from anywhere",
        rules: [
          { type: "in", action: "ACCEPT", macro: "HTTPS", enable: 1 },
          { type: "in", action: "ACCEPT", macro: "HTTP", enable: 1 },
        ],
      },
    ],
    rules: [
      { type: "in", action: "DROP", source: "+dc/blocklist", log: "info", enable: 1, comment: "Known bad" },
      {
        type: "in",
        action: "ACCEPT",
        source: "+dc/management",
        proto: "tcp",
        dport: "8006",
        enable: 1,
        comment: "Web GUI",
        ipversion: 4,
      },
      { type: "in", action: "ACCEPT", source: "+dc/management", macro: "SSH", enable: 1 },
      { type: "in", action: "ACCEPT", source: "dc/lan", macro: "Ping", enable: 1, ipversion: 4 },
      {
        type: "in",
        action: "ACCEPT",
        source: "dc/lan",
        proto: "tcp",
        dport: "5900:5999",
        enable: 0,
        comment: "VNC consoles",
        ipversion: 4,
      },
    ],
  };
  const out: FirewallConfig[] = [cluster];
  for (const node of nodes) {
    out.push({
      ...emptyFirewall(`node/${node}`),
      options: { enable: 1, log_level_in: "nolog", nf_conntrack_max: 262144 },
      rules: [
        {
          type: "in",
          action: "ACCEPT",
          source: "dc/lan",
          proto: "tcp",
          dport: "9100",
          enable: 1,
          comment: "node exporter",
          ipversion: 4,
        },
      ],
    });
  }
  const withRules = homelab ? guests.filter((g) => g.vmid === 101) : guests.filter((_, i) => i % 10 === 1);
  for (const g of withRules) {
    out.push({
      ...emptyFirewall(`vm/${g.vmid}`),
      options: { enable: 1, policy_in: "DROP", log_level_in: "info" },
      aliases: homelab
        ? [{ name: "monitoring", cidr: "192.168.1.151", comment: "Prometheus", ipversion: 4 }]
        : [],
      rules: [
        { type: "group", action: "webserver", enable: 1, comment: "public web" },
        { type: "in", action: "ACCEPT", source: "+dc/management", macro: "SSH", log: "info", enable: 1 },
        ...(homelab
          ? [
              {
                type: "in",
                action: "ACCEPT",
                source: "guest/monitoring",
                proto: "tcp",
                dport: "9100",
                enable: 1,
                ipversion: 4,
              },
            ]
          : []),
        { type: "out", action: "ACCEPT", enable: 1 },
      ],
    });
  }
  // A container whose firewall is configured but switched off: rules kept, not applied.
  const off = homelab ? guests.find((g) => g.vmid === 200) : undefined;
  if (off) {
    out.push({
      ...emptyFirewall(`vm/${off.vmid}`),
      options: { enable: 0 },
      rules: [{ type: "in", action: "ACCEPT", proto: "tcp", dport: "80,443", log: "info", enable: 1 }],
    });
  }
  return out;
}
