// Named formats of pve-common's JSONSchema.pm (and the plugins that register more), with the
// messages their Perl verifiers die with: what read_api, write_api and the simulator answer. The
// predicates themselves live once in src/proxmox/formats.ts (the curated tools' friendlier
// messages sit there too). A format not listed here is accepted: better lenient than wrongly strict.

import {
  CONFIG_ID,
  HA_NODE,
  isCidr,
  isDnsName,
  isIp,
  isIpv4,
  isIpv6,
  MAC_ADDR,
  NODE_NAME,
  POOL_ID,
  STORAGE_ID,
  URLENCODED,
  VOLUME_ID,
} from "../proxmox/formats";
import { parseCalendarEvent } from "./calendar";
import { FIREWALL_FORMATS } from "./fwformats";

type Verifier = (value: string) => string | null;

const CONTENT_TYPES = new Set(["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"]);

// pve-access-control PVE/Auth/Plugin.pm and PVE/AccessControl.pm.
const REALM = "[A-Za-z][A-Za-z0-9\\.\\-_]+";
const USER = "[^\\s:/]+";
const USERID_RE = new RegExp(`^${USER}@${REALM}$`);
const TOKEN_SUBID = "[A-Za-z][A-Za-z0-9\\.\\-_]+";
// pve-network PVE/Network/SDN/*: subnets are named zone-address-prefixlength.
const SDN_SUBNET_RE = /^[a-z][a-z0-9]*[a-z0-9]-([0-9a-f.:]+)-(\d+)$/i;
const SDN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

const VERIFIERS: Record<string, Verifier> = {
  "pve-userid": (v) =>
    v.length <= 64 && USERID_RE.test(v) ? null : `value '${v}' does not look like a valid user name\n`,
  "pve-realm": (v) =>
    new RegExp(`^${REALM}$`).test(v) ? null : `value '${v}' does not look like a valid realm\n`,
  "pve-groupid": (v) => (/^[A-Za-z0-9.\-_]+$/.test(v) ? null : `invalid group name '${v}'\n`),
  "pve-roleid": (v) => (/^[A-Za-z0-9.\-_]+$/.test(v) ? null : `invalid role name '${v}'\n`),
  "pve-tokenid": (v) =>
    new RegExp(`^${USER}@${REALM}!${TOKEN_SUBID}$`).test(v)
      ? null
      : `value '${v}' does not look like a valid token ID\n`,
  "pve-sdn-subnet-id": (v) => {
    const m = SDN_SUBNET_RE.exec(v);
    return m && isIp(m[1] as string) ? null : `invalid subnet id '${v}'\n`;
  },
  "pve-sdn-prefix-list-id": (v) => (SDN_ID_RE.test(v) ? null : `invalid prefix list id '${v}'\n`),
  "pve-sdn-route-map-id": (v) => (SDN_ID_RE.test(v) ? null : `invalid route map id '${v}'\n`),
  "pve-node": (v) => (NODE_NAME.test(v) ? null : "value does not look like a valid node name\n"),
  "pve-vmid": (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? null : "value does not look like a valid VM ID\n"),
  "pve-storage-id": (v) => (STORAGE_ID.test(v) ? null : `storage ID '${v}' contains illegal characters\n`),
  "pve-configid": (v) => (CONFIG_ID.test(v) ? null : `invalid configuration ID '${v}'\n`),
  "pve-poolid": (v) => {
    if (v.split("/").length > 3) return `pool name '${v}' nested too deeply (max levels = 3)\n`;
    return POOL_ID.test(v) ? null : `invalid characters in pool name '${v}'\n`;
  },
  "pve-volume-id": (v) => (VOLUME_ID.test(v) ? null : `unable to parse volume ID '${v}'\n`),
  "pve-storage-content": (v) => (CONTENT_TYPES.has(v) ? null : `invalid content type '${v}'\n`),
  "dns-name": (v) => (isDnsName(v) ? null : "value does not look like a valid DNS name\n"),
  "mac-addr": (v) => (MAC_ADDR.test(v) ? null : "value does not look like a valid MAC address\n"),
  ipv4: (v) => (isIpv4(v) ? null : "value does not look like a valid IPv4 address\n"),
  ipv6: (v) => (isIpv6(v) ? null : "value does not look like a valid IPv6 address\n"),
  ip: (v) => (isIp(v) ? null : "value does not look like a valid IP address\n"),
  CIDR: (v) => (isCidr(v) ? null : "value does not look like a valid CIDR network\n"),
  urlencoded: (v) => (URLENCODED.test(v) ? null : `invalid urlencoded string: ${v}\n`),
  "pve-task-status-type": (v) =>
    /^(ok|error|warning|unknown)$/i.test(v) ? null : `invalid task status type '${v}'\n`,
  // pve-common PVE/CalendarEvent.pm (the parser's own reason is not reproduced).
  "pve-calendar-event": (v) =>
    parseCalendarEvent(v) ? null : `invalid calendar event '${v}' - unable to parse calendar event\n`,
  // pve-ha-manager PVE/HA/Tools.pm
  "pve-ha-resource-id": (v) =>
    /^[a-z]+:\S+$/.test(v) ? null : "value does not look like a valid ha resource id\n",
  "pve-ha-resource-or-vm-id": (v) =>
    /^([a-z]+:\S+|\d+)$/.test(v) ? null : "value does not look like a valid ha resource id\n",
  "pve-ha-node": (v) => (HA_NODE.test(v) ? null : "value does not look like a valid ha node\n"),
};

Object.assign(VERIFIERS, FIREWALL_FORMATS);

/** PVE::Tools::split_list: on NUL when present, else on commas, semicolons and whitespace. */
export function splitList(text: string): string[] {
  if (text.includes("\0")) return text.split("\0");
  return text
    .replace(/[,;]/g, " ")
    .trim()
    .split(/\s+/)
    .filter((s) => s.length > 0);
}

/** Verifies a named format; `<name>-list` formats check every element. */
export function verifyFormat(format: string, value: string): string | null {
  const direct = VERIFIERS[format];
  if (direct) return direct(value);
  const list = /^(.+)-list$/.exec(format);
  const elem = list ? VERIFIERS[list[1] as string] : undefined;
  if (elem) {
    for (const item of splitList(value)) {
      const err = elem(item);
      if (err) return err;
    }
  }
  return null;
}
