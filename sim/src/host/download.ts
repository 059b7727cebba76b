// The worker behind download-url and the appliance download: PVE::Tools::download_file_from_url
// running `wget --progress=dot:giga`, the checksum check, then the rename into place. Produces the
// task's log, its duration and its outcome; the caller adds the volume that appears on success.

import type { TaskOutcome } from "../state/model";
import { type ChecksumAlgorithm, checksumOf, fetchUrl, type RemoteFile } from "./internet";

const MiB = 1024 * 1024;
/** What a homelab uplink pulls from a mirror. */
const BYTES_PER_SEC = 45 * MiB;

export interface DownloadJob {
  url: string;
  /** Final path of the file on the node. */
  dest: string;
  /** Worker pid (the temporary file carries it). */
  pid: number;
  startSec: number;
  verifyCertificates: boolean;
  checksum?: { algorithm: ChecksumAlgorithm; expected: string };
  /** When a file is already there: what it holds (undefined = unknown content). */
  existing?: { file?: RemoteFile; volid: string };
  /** Decompress (iso only) with this format after the download. */
  compression?: string;
}

export interface DownloadResult {
  lines: string[];
  durationMs: number;
  outcome: TaskOutcome;
  file?: RemoteFile;
}

const pad2 = (n: number) => String(n).padStart(2, "0");
function wgetTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** wget's human size in the Length line: 629M, 1.6G, 65M. */
function humanSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)}G`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)}M`;
  return `${Math.round(bytes / 1024)}K`;
}

/** The dot:giga progress: one line per 32 MiB, four clusters of eight 1 MiB dots. */
function progressLines(size: number): string[] {
  const mbps = BYTES_PER_SEC / MiB;
  const lines: string[] = [];
  const perLine = 32 * MiB;
  for (let off = 0; off < size; off += perLine) {
    const chunk = Math.min(perLine, size - off);
    const dots = Math.max(1, Math.round(chunk / MiB));
    const clusters: string[] = [];
    for (let i = 0; i < dots; i += 8) clusters.push(".".repeat(Math.min(8, dots - i)));
    const done = off + chunk;
    const pct = Math.floor((done * 100) / size);
    const prefix = `${String(off / 1024).padStart(6, " ")}K ${clusters.join(" ").padEnd(35, " ")}`;
    const speed = `${(mbps * (0.9 + ((off / perLine) % 5) * 0.05)).toFixed(1)}M`;
    if (done >= size) lines.push(`${prefix} 100% ${speed}=${Math.max(1, Math.round(size / BYTES_PER_SEC))}s`);
    else
      lines.push(
        `${prefix} ${String(pct).padStart(3, " ")}% ${speed} ${Math.max(1, Math.round((size - done) / BYTES_PER_SEC))}s`,
      );
  }
  return lines;
}

export function runDownload(job: DownloadJob): DownloadResult {
  const lines: string[] = [`downloading ${job.url} to ${job.dest}`];
  const fail = (message: string, durationMs = 400): DownloadResult => ({
    lines,
    durationMs,
    outcome: { kind: "error", message },
  });

  if (job.existing) {
    if (!job.checksum) return fail(`refusing to override existing file '${job.dest}'`, 200);
    const got = job.existing.file
      ? checksumOf(job.existing.file, job.checksum.algorithm)
      : checksumOf(
          { url: `file:${job.existing.volid}`, host: "", size: 0, mimetype: "", sums: {} },
          job.checksum.algorithm,
        );
    if (got.toLowerCase() === job.checksum.expected.toLowerCase()) {
      lines.push("calculating checksum of existing file...OK, got correct file already, no need to download");
      return { lines, durationMs: 1500, outcome: { kind: "ok" } };
    }
    lines.push("calculating checksum of existing file...");
    return fail(`checksum mismatch: got '${got}' != expect '${job.checksum.expected}', aborting`, 1500);
  }

  const tmp = `${job.dest}.tmp_dwnl.${job.pid}`;
  const cmd = `wget --progress=dot:giga -O ${tmp} ${job.url}${job.verifyCertificates ? "" : " --no-check-certificate"}`;
  const fetched = fetchUrl(job.url);
  lines.push(`--${wgetTime(job.startSec)}--  ${job.url}`);
  if (!fetched.ok && fetched.reason === "resolve") {
    lines.push(`Resolving ${fetched.host} (${fetched.host})... failed: Name or service not known.`);
    lines.push(`wget: unable to resolve host address '${fetched.host}'`);
    return fail(`download failed: command '${cmd}' failed: exit code 4`);
  }
  const host = fetched.ok ? fetched.file.host : fetched.host;
  const port = job.url.startsWith("https:") ? 443 : 80;
  lines.push(`Resolving ${host} (${host})... ${fetched.ip}`);
  lines.push(`Connecting to ${host} (${host})|${fetched.ip}|:${port}... connected.`);
  if (!fetched.ok) {
    lines.push("HTTP request sent, awaiting response... 404 Not Found");
    lines.push(`${wgetTime(job.startSec + 1)} ERROR 404: Not Found.`);
    lines.push("");
    return fail(`download failed: command '${cmd}' failed: exit code 8`, 900);
  }
  const file = fetched.file;
  const seconds = Math.max(1, Math.round(file.size / BYTES_PER_SEC));
  lines.push("HTTP request sent, awaiting response... 200 OK");
  lines.push(`Length: ${file.size} (${humanSize(file.size)}) [${file.mimetype}]`);
  lines.push(`Saving to: '${tmp}'`, "");
  lines.push(...progressLines(file.size), "");
  lines.push(
    `${wgetTime(job.startSec + seconds)} (${(BYTES_PER_SEC / 1e6).toFixed(1)} MB/s) - '${tmp}' saved [${file.size}/${file.size}]`,
    "",
  );
  let durationMs = 1000 + seconds * 1000;
  if (job.checksum) {
    const got = checksumOf(file, job.checksum.algorithm);
    lines.push("calculating checksum...");
    durationMs += Math.ceil(file.size / (800 * MiB)) * 1000;
    if (got.toLowerCase() !== job.checksum.expected.toLowerCase()) {
      // Proxmox prints a bare newline so the error is the last line of the log.
      lines[lines.length - 1] = "calculating checksum...";
      return fail(`checksum mismatch: got '${got}' != expect '${job.checksum.expected}'`, durationMs);
    }
    lines[lines.length - 1] = "calculating checksum...OK, checksum verified";
  }
  if (job.compression) {
    if (!["gz", "lzo", "zst", "bz2"].includes(job.compression))
      return fail("no decompression method found", durationMs);
    lines.push(`decompressing ${tmp} to ${job.dest}.tmp_dcom.${job.pid}`);
    durationMs += 2000;
  }
  lines.push(`download of '${job.url}' to '${job.dest}' finished`);
  return { lines, durationMs, outcome: { kind: "ok" }, file };
}
