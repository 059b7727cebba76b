import { z } from "zod";

/** Compact, human renderings: an assistant reads "4.0 GiB" and "3d 4h" better than raw numbers. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function bytes(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return "?";
  let n = Math.max(0, value);
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(1)} ${UNITS[unit]}`;
}

/** "1.2/4.0 GiB": both in the larger value's unit, so the pair reads at a glance. */
export function usage(used: number | undefined, total: number | undefined): string {
  if (!total) return bytes(used);
  let unit = 0;
  let scale = 1;
  while (total / scale >= 1024 && unit < UNITS.length - 1) {
    scale *= 1024;
    unit++;
  }
  const fmt = (n: number) => (unit === 0 ? String(n) : (n / scale).toFixed(1));
  return `${fmt(used ?? 0)}/${fmt(total)} ${UNITS[unit]}`;
}

/** A 0..1 fraction as a percentage. */
export function percent(fraction: number | undefined | null): string {
  if (fraction === undefined || fraction === null || !Number.isFinite(fraction)) return "?";
  const p = fraction * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}

export function duration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** Unix seconds as "2026-11-22 10:04 UTC" (minutes are enough for a person). */
export function timestamp(unixSeconds: number | undefined | null): string {
  if (!unixSeconds) return "?";
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Proxmox flags arrive as 0/1 or true/false. */
export function flag(value: unknown): boolean {
  return value === 1 || value === true || value === "1";
}

/** Rounds for structured output: keeps answers small without losing what matters. */
export function round(value: number | undefined, digits = 3): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Drops undefined fields so structured answers carry only what is known. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

/** "showing 100 of 340; pass limit to see more" or "" when everything is shown. */
export function moreNote(shown: number, total: number, noun: string): string {
  return shown < total
    ? `\n… ${total - shown} more ${noun} not shown; raise limit (or filter) to see them.`
    : "";
}

/**
 * Big lists answer with a compact table instead of one object per row: the column names once
 * (units in the names: `mem_gib`, `uptime_h`), then one array of cells per row. Keys repeated on
 * every row were half of a list answer, and some clients (Claude Code) show the model only the
 * structured result, so it must be as lean as the text. Cells are null when unknown; empty
 * cells at the end of a row are left off.
 */
export type Cell = string | number | boolean | null;

export const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A table's output schema: its columns (fixed per tool, repeated in each answer) and rows. */
export function tableSchema() {
  return z.object({ columns: z.array(z.string()), rows: z.array(z.array(cellSchema)) });
}

/** One table row: undefined cells become null, and empty cells at the end are dropped. */
export function row(cells: readonly (Cell | undefined)[]): Cell[] {
  let end = cells.length;
  while (end > 0 && (cells[end - 1] === undefined || cells[end - 1] === null)) end--;
  return cells.slice(0, end).map((cell) => cell ?? null);
}

/** Bytes as GiB with two decimals (10 MiB steps), for table cells. */
export function gib(value: number | undefined | null): number | undefined {
  if (value === undefined || value === null || !Number.isFinite(value)) return undefined;
  return Math.round((value / 1024 ** 3) * 100) / 100;
}

/** Seconds as hours with one decimal, for table cells. */
export function hours(seconds: number | undefined | null): number | undefined {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds)) return undefined;
  return Math.round(seconds / 360) / 10;
}

/** A 0..1 fraction as a percentage with one decimal, for table cells. */
export function pct(fraction: number | undefined | null): number | undefined {
  if (fraction === undefined || fraction === null || !Number.isFinite(fraction)) return undefined;
  return Math.round(fraction * 1000) / 10;
}

/** GiB for a table line of text: "0.76", "4.9", "16" (the header names the unit). */
export function gibText(value: number | undefined | null): string {
  if (value === undefined || value === null || !Number.isFinite(value)) return "?";
  const g = value / 1024 ** 3;
  return g.toFixed(g < 1 ? 2 : g < 10 ? 1 : 0);
}

/** duration() without spaces, for a table line of text: "3d4h", "21h11m". */
export function durationText(seconds: number | undefined | null): string {
  return duration(seconds).replace(" ", "");
}

/** Proxmox tags: `;`-separated in most answers, sometimes `,` or spaces. */
export function splitTags(tags: string | undefined): string[] | undefined {
  if (!tags) return undefined;
  const list = tags.split(/[;, ]+/).filter(Boolean);
  return list.length ? list : undefined;
}
