// Task log text as the Proxmox tools print it: timestamps, durations, progress lines.

const pad = (n: number) => String(n).padStart(2, "0");

/** "2025-11-04 10:00:00" (the node runs on UTC). */
export function dateTime(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** "2025_11_04-10_00_00", the timestamp in vzdump archive names. */
export function archiveStamp(epochSec: number): string {
  return dateTime(epochSec).replace(/-/g, "_").replace(" ", "-").replace(/:/g, "_");
}

/** "00:01:10" (PVE::VZDump::format_time, the migration duration). */
export function hms(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** "1m 30s" / "45s" / "1h 2m 3s", as QEMU backup and block jobs report elapsed time. */
export function elapsed(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [];
  if (h) parts.push(`${h}h`);
  if (h || m) parts.push(`${m}m`);
  parts.push(`${s % 60}s`);
  return parts.join(" ");
}

/** "Mon Nov  3 02:00:02 2025" (Perl localtime in scalar context). */
export function ctimeString(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${time} ${d.getUTCFullYear()}`;
}

/**
 * Prefixes lines with the wall-clock time they appear at, as migration logs do. The task engine
 * spreads lines evenly over the duration, so line i appears at start + duration * i / n.
 */
export function stamped(lines: string[], startMs: number, durationMs: number): string[] {
  return lines.map((l, i) => {
    const at = startMs + Math.floor((durationMs * i) / Math.max(1, lines.length));
    return `${dateTime(Math.floor(at / 1000))} ${l}`;
  });
}

/** Percentages for progress lines: n steps up to (and including) `upTo` percent. */
export function steps(n: number, upTo = 100): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(((i + 1) * upTo) / n));
}

/** A busy-looking throughput figure, e.g. "214.3 MiB". */
export function rate(bytesPerSec: number): string {
  const mib = bytesPerSec / (1024 * 1024);
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`;
}
