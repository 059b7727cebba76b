import type { Cell } from "../mcp/format";

/**
 * Any Proxmox answer shaped the way the curated tools answer: arrays of objects as a table
 * (columns once, then rows), objects as `key: value` lines, bounded by limit/offset and a byte
 * budget, with how many more there are and how to page. Never a raw dump.
 */

/** Text budget of one answer; the structured part carries the same rows, so it stays near it. */
export const TEXT_BUDGET = 12_000;
/** One cell or value is cut here; nested JSON rarely needs more to be understood. */
const VALUE_MAX = 300;

export interface Shaped {
  text: string;
  data: {
    /** Rows or keys in the answer, before paging. */
    total?: number;
    offset?: number;
    columns?: string[];
    rows?: Cell[][];
    /** Columns that hold the same value on every shown row, stated once instead of per row. */
    same?: Record<string, Cell>;
    values?: Record<string, Cell>;
    items?: Cell[];
    value?: Cell;
    /** How many rows/keys/items are not shown. */
    more?: number;
  };
}

function cell(value: unknown): Cell {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return Number.isInteger(value) ? value : Number(value.toPrecision(4));
  if (typeof value === "boolean") return value;
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > VALUE_MAX ? `${s.slice(0, VALUE_MAX - 1)}…` : s;
}

function cellText(value: Cell): string {
  return value === null ? "" : String(value).replace(/\s*\n\s*/g, " ");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Columns in order of first appearance; identifying ones first, as Proxmox's UI shows them. */
const FIRST = ["id", "vmid", "name", "node", "type", "status", "storage", "volid", "iface", "userid", "sid"];

function columnsOf(rows: Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  const first = FIRST.filter((key) => seen.has(key));
  return [...first, ...[...seen].filter((key) => !first.includes(key))];
}

function pageNote(shown: number, offset: number, total: number, noun: string): string {
  const rest = total - offset - shown;
  if (rest <= 0) return "";
  return `\n… ${rest} more ${noun}; call again with offset=${offset + shown} to see them (or narrow with params).`;
}

/** Keeps only the fields asked for (all when none are named). */
function pick(
  record: Record<string, unknown>,
  fields: ReadonlySet<string> | undefined,
): Record<string, unknown> {
  if (!fields) return record;
  return Object.fromEntries(Object.entries(record).filter(([key]) => fields.has(key)));
}

export function shape(
  value: unknown,
  paging: { limit: number; offset: number; fields?: readonly string[] },
): Shaped {
  const { limit, offset } = paging;
  const fields = paging.fields?.length ? new Set(paging.fields) : undefined;
  if (Array.isArray(value)) {
    const total = value.length;
    if (value.length > 0 && value.every(isRecord)) {
      const page = (value as Record<string, unknown>[])
        .slice(offset, offset + limit)
        .map((r) => pick(r, fields));
      const allColumns = columnsOf(page);
      const full = page.map((row) => allColumns.map((column) => cell(row[column])));
      // Columns empty on every shown row say nothing; one value on every row (type=qemu after a
      // filter, template=0) is said once. A single row keeps its columns.
      const same: Record<string, Cell> = {};
      const keep = allColumns.map((column, i) => {
        if (!full.some((r) => r[i] !== null && r[i] !== "")) return false;
        const first = full[0]?.[i] ?? null;
        if (full.length > 1 && full.every((r) => r[i] === first)) {
          same[column] = first;
          return false;
        }
        return true;
      });
      const columns = allColumns.filter((_, i) => keep[i]);
      const sameText = Object.entries(same)
        .map(([k, v]) => `${k}=${cellText(v)}`)
        .join(", ");
      const lines = [columns.join(" | ")];
      const rows: Cell[][] = [];
      let size = lines[0]?.length ?? 0;
      for (const r of full) {
        const cells = r.filter((_, i) => keep[i]);
        let end = cells.length;
        while (end > 0 && cells[end - 1] === null) end--;
        const trimmed = cells.slice(0, end);
        const line = trimmed.map(cellText).join(" | ");
        if (rows.length > 0 && size + line.length + 1 > TEXT_BUDGET) break;
        lines.push(line);
        rows.push(trimmed);
        size += line.length + 1;
      }
      const more = total - offset - rows.length;
      return {
        text: `${total} rows${offset ? `, from ${offset}` : ""}${sameText ? `, all with ${sameText}` : ""}:\n${lines.join("\n")}${pageNote(rows.length, offset, total, "rows")}`,
        data: {
          total,
          offset,
          columns,
          rows,
          ...(sameText ? { same } : {}),
          ...(more > 0 ? { more } : {}),
        },
      };
    }
    const items: Cell[] = [];
    const lines: string[] = [];
    let size = 0;
    for (const item of value.slice(offset, offset + limit)) {
      const c = cell(item);
      const line = cellText(c);
      if (items.length > 0 && size + line.length + 1 > TEXT_BUDGET) break;
      items.push(c);
      lines.push(line);
      size += line.length + 1;
    }
    const more = total - offset - items.length;
    return {
      text: `${total} items:\n${lines.join("\n")}${pageNote(items.length, offset, total, "items")}`,
      data: { total, offset, items, ...(more > 0 ? { more } : {}) },
    };
  }
  if (isRecord(value)) {
    const keys = Object.keys(pick(value, fields));
    const total = keys.length;
    const values: Record<string, Cell> = {};
    const lines: string[] = [];
    let size = 0;
    let shown = 0;
    for (const key of keys.slice(offset, offset + limit)) {
      const c = cell(value[key]);
      const line = `${key}: ${cellText(c)}`;
      if (shown > 0 && size + line.length + 1 > TEXT_BUDGET) break;
      values[key] = c;
      lines.push(line);
      size += line.length + 1;
      shown++;
    }
    const more = total - offset - shown;
    return {
      text: lines.length ? `${lines.join("\n")}${pageNote(shown, offset, total, "keys")}` : "(empty object)",
      data: { total, offset, values, ...(more > 0 ? { more } : {}) },
    };
  }
  const c = cell(value);
  return { text: c === null ? "(no data)" : cellText(c), data: { value: c } };
}
