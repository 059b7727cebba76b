// /nodes/{node}/syslog (journalctl -o short through PVE::Tools::dump_journal) and
// /nodes/{node}/journal (mini-journalreader), both read from the node's simulated journal.

import type { Ctx, Route } from "../api/context";
import { PveError } from "../api/respond";
import {
  bootId,
  cursorIndex,
  cursorOf,
  formatEntry,
  type JournalEntry,
  journalEntries,
} from "../host/journal";
import { SERVICES } from "../host/services";
import type { NodeState } from "../state/model";
import { hostOf } from "./services";

function entriesOf(ctx: Ctx): { node: NodeState; entries: JournalEntry[] } {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  return { node, entries: journalEntries(ctx.store, node, hostOf(ctx), ctx.now) };
}

/** journalctl's --since/--until "YYYY-MM-DD[ HH:MM[:SS]]" in the node's time zone (UTC). */
function parseDay(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text) as RegExpExecArray;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
}

function syslog(ctx: Ctx): { n: number; t: string }[] {
  const { node, entries } = entriesOf(ctx);
  const start = ctx.optInt("start") || 0;
  // dump_journal: `$limit = 50 if !$limit`, so 0 means 50 here (unlike task logs).
  let limit = ctx.optInt("limit") || 50;
  const service = ctx.optStr("service");
  // Nodes.pm maps the service ids whose unit is named differently.
  const unit = service ? (SERVICES[service]?.unit ?? service) : undefined;
  const since = ctx.has("since") ? parseDay(ctx.str("since")) : undefined;
  const until = ctx.has("until") ? parseDay(ctx.str("until")) : undefined;
  const lines: string[] = [];
  let boot: number | undefined;
  for (const e of entries) {
    if (unit !== undefined && e.unit !== unit) continue;
    if (since !== undefined && e.at < since) continue;
    if (until !== undefined && e.at > until) continue;
    if (boot !== undefined && e.boot !== boot) lines.push(`-- Boot ${bootId(node.name, e.boot)} --`);
    boot = e.boot;
    lines.push(formatEntry(node.name, e));
  }
  const out: { n: number; t: string }[] = [];
  lines.forEach((t, i) => {
    if (i < start || limit <= 0) return;
    out.push({ n: i + 1, t });
    limit--;
  });
  let total = lines.length;
  // The ExtJS store dislikes an empty array, so Proxmox adds a line.
  if (total === 0) {
    total = 1;
    out.push({ n: 1, t: "no content" });
  }
  ctx.total = total;
  return out;
}

function journal(ctx: Ctx): string[] {
  const { node, entries } = entriesOf(ctx);
  const last = ctx.optInt("lastentries") || 0;
  const since = ctx.optInt("since") || 0;
  const until = ctx.optInt("until") || 0;
  const startcursor = ctx.optStr("startcursor") || undefined;
  const endcursor = ctx.optStr("endcursor") || undefined;
  // mini-journalreader refuses these combinations (its usage text).
  if (last && (since || startcursor)) throw new PveError("ERROR: -n conflicts with -b and/or -f");
  if (since && startcursor) throw new PveError("ERROR: -b and -f conflict");
  if (until && endcursor) throw new PveError("ERROR: -e and -t conflict");
  const at = (cursor: string) => {
    const i = cursorIndex(entries, cursor);
    if (i === null) throw new PveError("Failed to seek to begin/cursor: Invalid argument");
    return i;
  };
  let from = 0;
  let to = entries.length;
  if (until) to = entries.findIndex((e) => e.at >= until * 1000);
  if (to < 0) to = entries.length;
  if (endcursor) to = Math.min(to, at(endcursor));
  if (last) from = Math.max(0, to - last);
  else if (since)
    from = Math.max(
      0,
      entries.findIndex((e) => e.at >= since * 1000),
    );
  else if (startcursor) from = at(startcursor) + 1;
  if (since && from === 0 && entries.every((e) => e.at < since * 1000)) from = entries.length;
  const out: string[] = [];
  if (from < to) out.push(cursorOf(node.name, entries, from));
  let boot: number | undefined;
  for (let i = from; i < to; i++) {
    const e = entries[i] as JournalEntry;
    if (boot !== undefined && e.boot !== boot) out.push("-- Reboot --");
    boot = e.boot;
    out.push(formatEntry(node.name, e));
  }
  out.push(cursorOf(node.name, entries, Math.max(0, Math.min(to, entries.length) - 1)));
  return out;
}

export const logRoutes: Route[] = [
  { method: "GET", path: "/nodes/{node}/syslog", handler: syslog },
  { method: "GET", path: "/nodes/{node}/journal", handler: journal },
];
