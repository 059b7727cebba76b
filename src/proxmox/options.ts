import { verifyFormat } from "../api/formats";
import { FAMILY_MAX } from "../api/jsonschema";
import {
  CONFIG_ID,
  checkBridge,
  checkDnsName,
  checkTags,
  checkVolumeId,
  hasControl,
  ipConfig,
  isIpv4,
  isIpv6,
  MAC_ADDR,
  NEW_DISK,
  POOL_ID,
  STORAGE_ID,
  URLENCODED,
} from "./formats";
import { LXC_OPTIONS, type OptionSpec, QEMU_OPTIONS } from "./generated/guest-options";
import { hostOptionsRefusal, hostReach } from "./host-options";
import type { GuestType } from "./locate";

/**
 * Guest config options given as raw key=value pairs (create_vm's and update_vm's `extra`),
 * checked against the 9.2 schema of that guest type before anything is sent: the key must be an
 * option of the guest, the value must pass its type, enum, pattern and format, and a property
 * string may only use its own keys. Options that reach the Proxmox host itself are refused
 * unless the owner allows them (src/api/host-options.ts, the one policy every path uses).
 */

const TABLES: Record<GuestType, Readonly<Record<string, OptionSpec>>> = {
  qemu: QEMU_OPTIONS,
  lxc: LXC_OPTIONS,
};

/** The schema of a config key, resolving `net5` to the `net[n]` family. */
export function optionSpec(type: GuestType, key: string): OptionSpec | undefined {
  const table = TABLES[type];
  if (Object.hasOwn(table, key)) return table[key];
  const match = /^([a-z]+)(\d+)$/.exec(key);
  if (!match) return undefined;
  const family = table[`${match[1]}[n]`];
  const index = Number(match[2]);
  return family && String(index) === match[2] && index < (FAMILY_MAX[match[1] as string] ?? 256)
    ? family
    : undefined;
}

/**
 * Checks options before they are sent; returns the first problem as a message naming the key,
 * or null. `allowHost` is the owner's PVE_ALLOW_HOST_OPTIONS.
 */
export function checkGuestOptions(
  type: GuestType,
  options: Readonly<Record<string, string>>,
  allowHost: boolean,
): string | null {
  const noun = type === "qemu" ? "VM" : "container";
  for (const [key, value] of Object.entries(options)) {
    if (type === "lxc" && key.startsWith("lxc"))
      return `extra: raw LXC keys (${key}) are not API options; they go into the container's config on the host only through its file, which this server does not write.`;
    const spec = optionSpec(type, key);
    if (!spec)
      return `extra: ${key} is not a ${noun} option of Proxmox VE 9. Check the name (get_${type === "qemu" ? "vm" : "container"}_config shows the current ones).`;
    if (hasControl(value)) return `extra: the value of ${key} must be one line without control characters.`;
    const reach = hostReach(type, key, value);
    if (reach && !allowHost) return hostOptionsRefusal([{ key, reach }], "extra: ");
    const problem = checkValue(spec, value);
    if (problem) return `extra: ${key}=${value.length > 60 ? `${value.slice(0, 60)}…` : value}: ${problem}.`;
  }
  return null;
}

/** Config keys to remove (update's `delete`): each must be an option of the guest. */
export function checkDeleteKeys(type: GuestType, list: string): string | null {
  const keys = list.split(/[,;\s]+/).filter(Boolean);
  if (keys.length === 0) return "delete: give the config keys to remove, e.g. tags,description";
  for (const key of keys) {
    if (!CONFIG_ID.test(key) || !optionSpec(type, key))
      return `delete: ${key} is not a ${type === "qemu" ? "VM" : "container"} option (give config keys separated by commas, e.g. tags,description)`;
  }
  return null;
}

const BOOLEAN = /^(1|0|true|false|yes|no|on|off)$/i;

function checkValue(spec: OptionSpec, value: string): string | null {
  if (spec.ps) return checkPropertyString(spec.ps, value);
  return checkScalar(spec, value);
}

function checkScalar(spec: OptionSpec, value: string): string | null {
  if (spec.ml !== undefined && value.length > spec.ml) return `at most ${spec.ml} characters`;
  switch (spec.t) {
    case "b":
      if (!BOOLEAN.test(value)) return "must be 0 or 1";
      return null;
    case "i":
    case "n": {
      const ok = spec.t === "i" ? /^[+-]?\d+$/.test(value) : /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value);
      if (!ok) return spec.t === "i" ? "must be a whole number" : "must be a number";
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) return `must be at least ${spec.min}`;
      if (spec.max !== undefined && n > spec.max) return `must be at most ${spec.max}`;
      return null;
    }
  }
  if (spec.e && !spec.e.includes(value)) return `must be one of ${spec.e.join(", ")}`;
  if (spec.p && !new RegExp(`^(?:${spec.p})$`).test(value)) return "does not have the form Proxmox expects";
  return spec.f ? checkFormat(spec.f, value) : null;
}

/**
 * Named formats, with the curated tools' wording where they have one; any other format the schema
 * validator knows is judged by it (its Perl message, first line), and one neither knows is left
 * to Proxmox (better lenient than wrong).
 */
function checkFormat(format: string, value: string): string | null {
  const volumeOrPath = (v: string) =>
    v.startsWith("/") ? null : NEW_DISK.test(v) ? null : checkVolumeId("volume", v);
  switch (format) {
    case "pve-storage-id":
      return STORAGE_ID.test(value) ? null : "not a storage ID";
    case "pve-poolid":
      return POOL_ID.test(value) ? null : "not a pool ID";
    case "pve-configid":
      return CONFIG_ID.test(value) ? null : "not a config ID";
    case "pve-bridge-id":
      return checkBridge("bridge", value);
    case "dns-name":
      return checkDnsName("the name", value);
    case "pve-tag-list":
      return checkTags("tags", value);
    case "mac-addr":
      return MAC_ADDR.test(value) ? null : "not a MAC address";
    case "ipv4":
      return isIpv4(value) ? null : "not an IPv4 address";
    case "ipv6":
      return isIpv6(value) ? null : "not an IPv6 address";
    case "pve-ipv4-config":
      return ipConfig(`ip=${value}`, "lxc").error ?? null;
    case "pve-ipv6-config":
      return ipConfig(`ip6=${value}`, "lxc").error ?? null;
    case "pve-qm-ipconfig":
      return ipConfig(value, "qemu").error ?? null;
    case "disk-size":
      return /^\d+(\.\d+)?[KMGT]?$/.test(value) ? null : "not a size such as 32G";
    case "urlencoded":
      return URLENCODED.test(value) ? null : "must be URL-encoded";
    case "pve-volume-id":
      return checkVolumeId("volume", value);
    case "pve-volume-id-or-qm-path":
    case "pve-volume-id-or-absolute-path":
    case "pve-lxc-mp-string":
      // Host paths were dealt with before (refused unless the owner allows them).
      return volumeOrPath(value);
    default:
      return verifyFormat(format, value)?.split("\n")[0] ?? null;
  }
}

function checkPropertyString(keys: Readonly<Record<string, OptionSpec>>, value: string): string | null {
  const defaultKey = Object.keys(keys).find((k) => keys[k]?.dk);
  const seen = new Set<string>();
  for (const part of value.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let key = eq < 0 ? defaultKey : part.slice(0, eq);
    const item = eq < 0 ? part : part.slice(eq + 1);
    if (key === undefined) return `'${part}' needs a key (key=value)`;
    let spec = keys[key];
    if (!spec) return `${key} is not a key of this option (keys: ${Object.keys(keys).join(", ")})`;
    if (spec.al) {
      // net0: "virtio=AA:BB:..." is model=virtio,macaddr=AA:BB:...
      if (spec.ka) seen.add(spec.ka);
      key = spec.al;
      spec = keys[key];
      if (!spec) return `${part} is not understood`;
    }
    if (seen.has(key)) return `${key} is given twice`;
    seen.add(key);
    const problem = checkScalar(spec, item);
    if (problem) return `${key} ${problem}`;
  }
  return null;
}
