// The formats pve-firewall registers (PVE/Firewall.pm): addresses, ports, protocols, ICMP types,
// IP-or-CIDR values and aliases, with the messages their verifiers die with. Net::IP's own error
// texts are approximated ("invalid IP address: ...").

import { ipVersionOf } from "../proxmox/formats";

/** $ip_alias_pattern and $ipset_name_pattern. */
export const FW_NAME_RE = /^[A-Za-z][A-Za-z0-9\-_]+$/;

/** A range "a-b" of two addresses of one version. */
function rangeVersion(value: string): 4 | 6 | null {
  const [a, b, ...rest] = value.split("-");
  if (rest.length || !a || !b || a.includes("/") || b.includes("/")) return null;
  const va = ipVersionOf(a);
  return va && va === ipVersionOf(b) ? va : null;
}

/** parse_address_list: the IP version of a literal list, undefined for a reference. */
export function parseAddressList(str: string): number | undefined {
  if (/^\+\S+$/.test(str)) {
    if (!/^\+(guest\/|dc\/)?[A-Za-z][A-Za-z0-9\-_]+$/.test(str)) throw new Error("malformed ipset name");
    return undefined;
  }
  if (/^(dc\/|guest\/)?[A-Za-z][A-Za-z0-9\-_]+$/.test(str)) {
    if (str.length > 64) throw new Error("alias name too long");
    return undefined;
  }
  const elements = str.split(",");
  if (elements.some((e) => e === "")) throw new Error("extraneous commas in list");
  let version: number | undefined;
  let range = false;
  for (const elem of elements) {
    const v = elem.includes("-") ? rangeVersion(elem) : ipVersionOf(elem);
    if (!v) throw new Error(`invalid IP address: Invalid IP ${elem}`);
    if (elem.includes("-")) range = true;
    if (version && v !== version)
      throw new Error(`detected mixed ipv4/ipv6 adresses in address list '${str}'`);
    version = v;
  }
  if (range && elements.length > 1) throw new Error("you can use a range in a list");
  return version;
}

/** Service names of /etc/services a port spec may use (a subset). */
const SERVICES = new Set([
  "ssh",
  "http",
  "https",
  "domain",
  "ftp",
  "ftp-data",
  "smtp",
  "submission",
  "smtps",
  "pop3",
  "pop3s",
  "imap",
  "imap2",
  "imaps",
  "ntp",
  "snmp",
  "ldap",
  "ldaps",
  "telnet",
  "tftp",
  "rsync",
  "mysql",
  "postgresql",
  "ms-wbt-server",
  "microsoft-ds",
  "netbios-ssn",
  "bootps",
  "bootpc",
  "syslog",
  "kerberos",
  "http-alt",
  "openvpn",
  "bgp",
  "nfs",
  "sunrpc",
  "git",
  "svn",
  "irc",
  "xmpp-client",
  "sip",
  "mdns",
]);

export const ICMP_TYPES = new Set([
  "any",
  "echo-reply",
  "destination-unreachable",
  "network-unreachable",
  "host-unreachable",
  "protocol-unreachable",
  "port-unreachable",
  "fragmentation-needed",
  "source-route-failed",
  "network-unknown",
  "host-unknown",
  "network-prohibited",
  "host-prohibited",
  "TOS-network-unreachable",
  "TOS-host-unreachable",
  "communication-prohibited",
  "host-precedence-violation",
  "precedence-cutoff",
  "source-quench",
  "redirect",
  "network-redirect",
  "host-redirect",
  "TOS-network-redirect",
  "TOS-host-redirect",
  "echo-request",
  "router-advertisement",
  "router-solicitation",
  "time-exceeded",
  "ttl-zero-during-transit",
  "ttl-zero-during-reassembly",
  "parameter-problem",
  "ip-header-bad",
  "required-option-missing",
  "timestamp-request",
  "timestamp-reply",
  "address-mask-request",
  "address-mask-reply",
]);

export const ICMPV6_TYPES = new Set([
  "destination-unreachable",
  "no-route",
  "communication-prohibited",
  "beyond-scope",
  "address-unreachable",
  "port-unreachable",
  "failed-policy",
  "reject-route",
  "packet-too-big",
  "time-exceeded",
  "ttl-zero-during-transit",
  "ttl-zero-during-reassembly",
  "parameter-problem",
  "bad-header",
  "unknown-header-type",
  "unknown-option",
  "echo-request",
  "echo-reply",
  "router-solicitation",
  "router-advertisement",
  "neighbor-solicitation",
  "neighbour-solicitation",
  "neighbor-advertisement",
  "neighbour-advertisement",
  "redirect",
]);

/** /etc/protocols names the simulated nodes know. */
const PROTOCOLS = new Set([
  "tcp",
  "udp",
  "icmp",
  "icmpv6",
  "ipv6-icmp",
  "igmp",
  "ggp",
  "ipencap",
  "st",
  "egp",
  "igp",
  "pup",
  "hmp",
  "xns-idp",
  "rdp",
  "iso-tp4",
  "dccp",
  "xtp",
  "ddp",
  "idpr-cmtp",
  "ipv6",
  "ipv6-route",
  "ipv6-frag",
  "idrp",
  "rsvp",
  "gre",
  "esp",
  "ah",
  "skip",
  "ipv6-nonxt",
  "ipv6-opts",
  "vmtp",
  "eigrp",
  "ospf",
  "ax.25",
  "ipip",
  "etherip",
  "encap",
  "pim",
  "ipcomp",
  "vrrp",
  "l2tp",
  "isis",
  "sctp",
  "fc",
  "mobility-header",
  "udplite",
  "mpls-in-ip",
  "hip",
  "shim6",
  "wesp",
  "rohc",
]);

/** Protocols a port may be given for ($PROTOCOLS_WITH_PORTS). */
export const PROTOCOLS_WITH_PORTS = new Set([
  "udp",
  "17",
  "udplite",
  "136",
  "tcp",
  "6",
  "dccp",
  "33",
  "sctp",
  "132",
]);

/** parse_port_name_number_or_range. */
export function parsePorts(str: string, dport: boolean): void {
  const elements = str.split(",");
  if (elements.some((e) => e === "")) throw new Error("extraneous commas in list");
  let count = 0;
  let icmp = false;
  for (const item of elements) {
    const range = /^(\d+):(\d+)$/.exec(item);
    if (range) {
      count += 2;
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > 65535) throw new Error(`invalid port '${range[1]}'`);
      if (b > 65535) throw new Error(`invalid port '${range[2]}'`);
      if (a > b) throw new Error(`backwards range '${a}:${b}' not allowed, did you mean '${b}:${a}'?`);
    } else if (/^\d+$/.test(item)) {
      count += 1;
      if (Number(item) > 65535) throw new Error(`invalid port '${item}'`);
    } else if (dport && (ICMP_TYPES.has(item) || ICMPV6_TYPES.has(item))) {
      icmp = true;
    } else if (!SERVICES.has(item)) {
      throw new Error(`invalid port '${item}'`);
    }
  }
  if (icmp && count > 0) throw new Error("ICMP ports not allowed in port range");
  if (count > 15) throw new Error("too many entries in port list (> 15 numbers)");
}

const wrap =
  (fn: (v: string) => void) =>
  (v: string): string | null => {
    try {
      fn(v);
      return null;
    } catch (e) {
      return `${(e as Error).message}\n`;
    }
  };

/** Verifiers keyed by format name, merged into the schema validator's table. */
export const FIREWALL_FORMATS: Record<string, (value: string) => string | null> = {
  "pve-fw-addr-spec": wrap((v) => void parseAddressList(v)),
  "pve-fw-dport-spec": wrap((v) => parsePorts(v, true)),
  "pve-fw-sport-spec": wrap((v) => parsePorts(v, false)),
  "pve-fw-protocol-spec": (v) => (PROTOCOLS.has(v) || /^\d+$/.test(v) ? null : `unknown protocol '${v}'\n`),
  "pve-fw-icmp-type-spec": (v) =>
    ICMP_TYPES.has(v) || ICMPV6_TYPES.has(v) || /^\d+(\/\d+)?$/.test(v) ? null : `invalid icmp-type '${v}'\n`,
  IPorCIDR: (v) => (ipVersionOf(v) ? null : "value does not look like a valid IP address or CIDR network\n"),
  IPorCIDRorAlias: (v) =>
    /^(dc\/|guest\/)?[A-Za-z][A-Za-z0-9\-_]+$/.test(v) || ipVersionOf(v)
      ? null
      : "value does not look like a valid IP address or CIDR network\n",
  "pve-iface": (v) =>
    /^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.]\d+)?$/.test(v) ? null : `invalid network interface name '${v}'\n`,
};
