/**
 * Proxmox value formats, as the 9.2 API schema names them (pve-common's JSONSchema.pm and the
 * formats qemu-server, pve-container, pve-storage and pve-firewall register): every predicate the
 * server has, once. Two kinds of message are built on them, and both are kept on purpose:
 * - the curated tools' own messages (checkBridge, checkTags, checkVolumeId, ipConfig, ... below),
 *   which name the argument and show an example, because a model fixes its call from them;
 * - Perl's messages ("value does not look like a valid IPv6 address"), in src/api/formats.ts, for
 *   read_api/write_api and the simulator, where the answer should read as Proxmox's would.
 *
 * Decision on `extra` (create_vm/update_vm): it stays on src/proxmox/options.ts over its compact
 * generated table rather than going through the schema validator (src/api/jsonschema.ts). The
 * schema validator answers "invalid format - value does not look like ..." per parameter, while
 * the curated checker says which key of which property string is wrong and what it takes
 * ("net0: bridge must be a bridge name such as vmbr0 ..."), and that is what users see today.
 * What must not drift is the formats themselves: the curated checker uses these predicates, and
 * for a named format it has no message of its own it asks the schema validator's table
 * (verifyFormat), so a value is judged by one set of rules whichever path it takes.
 *
 * These checks also guard every value the server splices into a Proxmox property string
 * ("virtio,bridge=<bridge>"), so a value can never add a key of its own.
 */

/** Newline, tab, NUL and the other control characters. */
export function hasControl(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
  return /[\u0000-\u001f\u007f]/.test(value);
}

// pve-storage-id (pve_verify_storage_id).
const STORAGE = "[a-z][a-z0-9\\-_.]*[a-z0-9]";
export const STORAGE_ID = new RegExp(`^${STORAGE}$`, "i");
// pve-poolid (pve_verify_poolid): up to three levels since PVE 8.1.
export const POOL_ID = /^[A-Za-z0-9_\-.]+(\/[A-Za-z0-9_\-.]+){0,2}$/;
// pve-configid (pve_verify_configid).
export const CONFIG_ID = /^[a-z][a-z0-9_-]+$/i;
// pve-volume-id as pve-storage parses it: a storage ID, a colon, anything.
export const VOLUME_ID = new RegExp(`^${STORAGE}:.+$`, "i");
/** The "storage:" a volume ID starts with. */
export const VOLUME_STORAGE_PREFIX = new RegExp(`^${STORAGE}:`, "i");
/** A disk to allocate ("local-lvm:32", size in GiB), where a volume ID may stand (qemu-server NEW_DISK_RE). */
export const NEW_DISK = new RegExp(`^${STORAGE}:\\d+(\\.\\d+)?$`, "i");
// mac-addr (pve_verify_mac_addr).
export const MAC_ADDR = /^[a-f0-9]{2}(?::[a-f0-9]{2}){5}$/i;
// urlencoded (pve_verify_urlencoded).
export const URLENCODED = /^[-%a-zA-Z0-9_.!~*'()]*$/;
// pve-bridge-id (qemu-server): the net device's bridge; Linux names stop at 15 characters.
const BRIDGE_ID = /^[-_.a-zA-Z0-9]+$/;
// dns-name (pve_verify_dns_name).
const DNS_LABEL = "[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?";
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
// pve-node (pve_verify_node_name): one DNS label.
export const NODE_NAME = new RegExp(`^${DNS_LABEL}$`);
// pve-ha-node (pve-ha-manager): a node name with an optional priority ("pve1:2").
export const HA_NODE = new RegExp(`^${DNS_LABEL}(?::\\d+)?$`);
// pve-tag (pve_verify_tag).
const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
// A volume's name after "storage:". Proxmox itself allows more, but none of these tools needs a
// character that could end the value in a property string (",", "=", whitespace) or in a URL.
const VOLUME_NAME = /^[A-Za-z0-9_.+\-/:@~]+$/;
const IPV4_OCTET = "(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])";
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

export function isIpv4(value: string): boolean {
  return IPV4.test(value);
}

/**
 * An IPv6 address as Net::IP's ip_is_ipv6 takes it: eight groups, or fewer around one "::", the
 * last 32 bits optionally written as IPv4 ("::ffff:192.0.2.1", "64:ff9b::192.0.2.33"). No zone
 * index ("%eth0"): Proxmox refuses it in every format.
 */
export function isIpv6(value: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(":")) return false;
  const parts = value.split("::");
  if (parts.length > 2) return false;
  const groups = parts.flatMap((p) => (p === "" ? [] : p.split(":")));
  let count = groups.length;
  const last = groups[groups.length - 1];
  if (last?.includes(".")) {
    if (!IPV4.test(last)) return false;
    count += 1;
  }
  if (!groups.every((g, i) => /^[0-9a-fA-F]{1,4}$/.test(g) || (i === groups.length - 1 && g.includes("."))))
    return false;
  return parts.length === 2 ? count < 8 : count === 8;
}

/** An IPv4 or IPv6 address. */
export function isIp(value: string): boolean {
  return isIpv4(value) || isIpv6(value);
}

/** An address with an optional prefix length ("10.0.0.0/24", "fd00::1"): its IP version, or null. */
export function ipVersionOf(value: string): 4 | 6 | null {
  const m = /^([^/]+)(?:\/(\d+))?$/.exec(value);
  if (!m) return null;
  const ip = m[1] as string;
  const bits = m[2] === undefined ? undefined : Number(m[2]);
  if (isIpv4(ip)) return bits === undefined || bits <= 32 ? 4 : null;
  if (isIpv6(ip)) return bits === undefined || bits <= 128 ? 6 : null;
  return null;
}

/** A network with its prefix length (CIDR), of one family or either. */
export function isCidr(value: string, family?: 4 | 6): boolean {
  if (!value.includes("/")) return false;
  const version = ipVersionOf(value);
  return version !== null && (family === undefined || version === family);
}

export function isDnsName(value: string): boolean {
  return DNS_NAME.test(value) && value.length <= 255;
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function checkBridge(name: string, value: string): string | null {
  return BRIDGE_ID.test(value) && value.length <= 15
    ? null
    : `${name} must be a bridge name such as vmbr0 (letters, digits, '-', '_', '.'; at most 15 characters)`;
}

export function checkDnsName(name: string, value: string): string | null {
  return isDnsName(value)
    ? null
    : `${name} must be a DNS name (letters, digits and '-', labels separated by '.'), e.g. web-1`;
}

/** pve-tag-list: tags separated by ';', ',' or spaces. */
export function checkTags(name: string, value: string): string | null {
  const tags = value.split(/[;, ]+/).filter((tag) => tag !== "");
  if (tags.length === 0) return `${name} must name at least one tag (to remove them all, use delete: tags)`;
  const bad = tags.filter((tag) => !isTag(tag));
  return bad.length === 0
    ? null
    : `${name}: '${bad[0]}' is not a tag (letters, digits, '_', '-', '+', '.'; separate tags with ';')`;
}

const CONTENT_PATH = {
  // pve-storage: iso/<name>.iso|img, vztmpl/<name>.tar.(gz|xz|zst|bz2), backup/<name>.
  iso: { re: /^iso\/[^/]+\.(iso|img)$/i, example: "local:iso/debian-13.iso" },
  vztmpl: {
    re: /^vztmpl\/[^/]+\.(tar\.(gz|xz|zst|bz2)|tar)$/i,
    example: "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
  },
  backup: { re: /./, example: "local:backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst" },
} as const;

/**
 * pve-volume-id (storage:name), with the name limited to characters that cannot end a property
 * string value and without "." or ".." path segments. `content` also checks the volume's kind.
 */
export function checkVolumeId(
  name: string,
  value: string,
  content?: keyof typeof CONTENT_PATH,
): string | null {
  const example = content ? CONTENT_PATH[content].example : "local:iso/debian-13.iso";
  const colon = value.indexOf(":");
  const storage = value.slice(0, colon);
  const volume = value.slice(colon + 1);
  const wrong = `${name} must be a volume ID such as ${example}`;
  if (colon < 0 || !STORAGE_ID.test(storage)) return `${wrong} (storage:name)`;
  if (!VOLUME_NAME.test(volume))
    return `${wrong}: only letters, digits and _ . + - / : @ ~ after the storage (no ',', '=', '?', '#', '%' or spaces)`;
  if (volume.startsWith("/") || volume.split("/").some((part) => part === "." || part === ".."))
    return `${wrong}: no '..' or '.' path segments and no leading '/'`;
  if (content && !CONTENT_PATH[content].re.test(volume)) return wrong;
  return null;
}

/**
 * The cloud-init address of a VM (ipconfig0) or a container's NIC: "dhcp", "10.0.0.5/24" or
 * "10.0.0.5/24,gw=10.0.0.1", with or without the leading "ip=", and ip6/gw6. Returns the
 * property string to send, or a message.
 */
export function ipConfig(
  value: string,
  guest: "qemu" | "lxc",
): { value: string; error?: undefined } | { error: string } {
  const usage =
    "ip must be dhcp, or an address with prefix such as 10.0.0.5/24 optionally followed by ,gw=10.0.0.1 (and ip6=, gw6=)";
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [i, part] of value.split(",").entries()) {
    const eq = part.indexOf("=");
    const key = eq < 0 && i === 0 ? "ip" : part.slice(0, eq);
    const item = eq < 0 && i === 0 ? part : part.slice(eq + 1);
    if (seen.has(key)) return { error: `${usage}; ${key} is given twice` };
    seen.add(key);
    const ok =
      key === "ip"
        ? item === "dhcp" || (guest === "lxc" && item === "manual") || isCidr(item, 4)
        : key === "gw"
          ? isIpv4(item)
          : key === "ip6"
            ? item === "dhcp" || item === "auto" || (guest === "lxc" && item === "manual") || isCidr(item, 6)
            : key === "gw6"
              ? isIpv6(item)
              : undefined;
    if (ok === undefined) return { error: `${usage}; '${key}' is not one of ip, gw, ip6, gw6` };
    if (!ok) return { error: `${usage}; '${item}' is not a valid ${key}` };
    out.push(`${key}=${item}`);
  }
  return { value: out.join(",") };
}

/** An absolute path inside a guest, for the guest-agent file tools. */
export function checkGuestPath(name: string, value: string): string | null {
  const windows = /^[A-Za-z]:[\\/]/.test(value);
  if (!value.startsWith("/") && !windows)
    return `${name} must be an absolute path inside the guest, such as /etc/hostname or C:\\Windows\\win.ini`;
  if (value.split(/[\\/]/).some((part) => part === ".."))
    return `${name} must not contain '..' segments; give the path it leads to`;
  return null;
}
