// The simulated internet the nodes download from (there is no network): a few well-known mirrors
// whose files are listed here, and every other host, where any path exists with a size and
// checksums derived from the URL. Names under the reserved TLDs .invalid, .test and .example never
// resolve; on the listed mirrors, a path that is not listed answers 404 Not Found.

import { digestOf } from "../state/random";
import { APPLIANCES } from "./aplinfo";

export type ChecksumAlgorithm = "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

const HEX_LENGTH: Record<ChecksumAlgorithm, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

export interface RemoteFile {
  url: string;
  host: string;
  size: number;
  mimetype: string;
  /** Checksums the publisher lists; others are derived from the URL. */
  sums: Partial<Record<ChecksumAlgorithm, string>>;
}

export type Fetched =
  | { ok: true; file: RemoteFile; ip: string }
  | { ok: false; host: string; ip?: string; reason: "resolve" | "not-found" };

const MiB = 1024 * 1024;

/** Files on the mirrors the simulator knows, by URL. */
const MIRRORS: Record<string, { size: number; mimetype: string }> = {
  "https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-13.2.0-amd64-netinst.iso": {
    size: 754_974_720,
    mimetype: "application/x-iso9660-image",
  },
  "https://releases.ubuntu.com/24.04/ubuntu-24.04.3-live-server-amd64.iso": {
    size: 3_213_064_192,
    mimetype: "application/x-iso9660-image",
  },
  "https://enterprise.proxmox.com/iso/proxmox-ve_9.1-1.iso": {
    size: 1_692_745_728,
    mimetype: "application/octet-stream",
  },
  "https://dl-cdn.alpinelinux.org/alpine/v3.22/releases/x86_64/alpine-virt-3.22.2-x86_64.iso": {
    size: 68_157_440,
    mimetype: "application/octet-stream",
  },
  "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2": {
    size: 337_641_472,
    mimetype: "application/octet-stream",
  },
};

const MIRROR_HOSTS = new Set([
  ...Object.keys(MIRRORS).map((u) => new URL(u).hostname),
  "download.proxmox.com",
  "releases.turnkeylinux.org",
]);

const NEVER_RESOLVES = /\.(invalid|test|example)$/i;

/** A checksum for a file nobody published one for: stable per URL and algorithm. */
export function derivedSum(seed: string, algorithm: ChecksumAlgorithm): string {
  let out = "";
  for (let i = 0; out.length < HEX_LENGTH[algorithm]; i++) out += digestOf(`${algorithm}:${i}:${seed}`);
  return out.slice(0, HEX_LENGTH[algorithm]);
}

export function checksumOf(file: RemoteFile, algorithm: ChecksumAlgorithm): string {
  return file.sums[algorithm] ?? derivedSum(file.url, algorithm);
}

/** The address a host resolves to (stable per host). */
function addressOf(host: string): string {
  const d = digestOf(host);
  const b = (i: number) => Number.parseInt(d.slice(i, i + 2), 16);
  return `${[151, 104, 185, 199][b(0) % 4]}.${b(2)}.${b(4)}.${b(6) || 1}`;
}

/** What a server answers for the file at `url` (a GET or HEAD). */
export function fetchUrl(url: string): Fetched {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, host: url.replace(/^https?:\/\//, "").split("/")[0] ?? "", reason: "resolve" };
  }
  const host = parsed.hostname;
  if (NEVER_RESOLVES.test(host) || !host.includes(".")) return { ok: false, host, reason: "resolve" };
  const ip = addressOf(host);
  const key = url.split("#")[0] as string;
  const appliance = APPLIANCES.find((a) => a.location === key);
  if (appliance) {
    const sums: RemoteFile["sums"] = { sha512: appliance.sha512sum };
    if (appliance.md5sum) sums.md5 = appliance.md5sum;
    const size = 40 * MiB + (Number.parseInt(digestOf(key).slice(0, 6), 16) % (200 * MiB));
    return { ok: true, ip, file: { url: key, host, size, mimetype: "application/octet-stream", sums } };
  }
  const known = MIRRORS[key];
  if (known)
    return { ok: true, ip, file: { url: key, host, size: known.size, mimetype: known.mimetype, sums: {} } };
  if (MIRROR_HOSTS.has(host)) return { ok: false, host, ip, reason: "not-found" };
  return {
    ok: true,
    ip,
    file: {
      url: key,
      host,
      size: derivedSize(parsed.pathname, key),
      mimetype: mimeOf(parsed.pathname),
      sums: {},
    },
  };
}

function derivedSize(path: string, url: string): number {
  const r = Number.parseInt(digestOf(url).slice(0, 8), 16) / 0xffffffff;
  if (/\.(iso|img)$/i.test(path)) return Math.floor((300 + r * 3700) * MiB);
  if (/\.tar(\.\w+)?$/i.test(path)) return Math.floor((50 + r * 350) * MiB);
  if (/\.(qcow2|raw|vmdk|ova)$/i.test(path)) return Math.floor((500 + r * 2500) * MiB);
  return Math.floor((1 + r * 99) * MiB);
}

function mimeOf(path: string): string {
  if (/\.iso$/i.test(path)) return "application/x-iso9660-image";
  if (/\.(gz|tgz)$/i.test(path)) return "application/gzip";
  if (/\.xz$/i.test(path)) return "application/x-xz";
  if (/\.zst$/i.test(path)) return "application/zstd";
  return "application/octet-stream";
}

/** The published file whose name matches, for files already on a storage (what they hold). */
export function fileByName(filename: string): RemoteFile | undefined {
  const url =
    APPLIANCES.find((a) => a.template === filename)?.location ??
    Object.keys(MIRRORS).find((u) => u.endsWith(`/${filename}`));
  if (!url) return undefined;
  const got = fetchUrl(url);
  return got.ok ? got.file : undefined;
}
