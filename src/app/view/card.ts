// The inline card: the cluster at a glance, painted from show_dashboard's structured result (or
// the view's card refresh). Every list has a fixed number of lines and every line is cut to the
// width, so the card stays under 500 px whatever the cluster's size and the frame's width.

import type { Trend, TrendChart } from "./charts";
import { byId, type Cell, el, records, type Table } from "./dom";

export interface Card {
  generated: number;
  cluster: { name?: string; quorate?: boolean; nodes: number; online: number };
  guests: Record<string, number>;
  busiest: Table;
  tasks: { running: number; failed_24h: number };
  backup_days: number;
  no_recent_backup: number[];
  no_recent_backup_count: number;
  near_full: Table;
  trend?: Trend;
}

/** Lines in "Needs attention": the rest is counted on the last one. */
const ATTENTION_LINES = 3;
const BUSIEST_LINES = 3;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function isCard(data: unknown): data is Card {
  const d = data as Partial<Card> | undefined;
  return (
    !!d && typeof d.cluster === "object" && typeof d.guests === "object" && Array.isArray(d.busiest?.rows)
  );
}

export function clusterLine(c: Card["cluster"]): { text: string; bad: boolean } {
  const quorum = c.quorate === undefined ? "" : c.quorate ? " · quorate" : " · NOT QUORATE";
  return {
    text: `${c.online}/${c.nodes} nodes online${quorum}`,
    bad: c.quorate === false || c.online < c.nodes,
  };
}

function tile(value: number, label: string, state: string): HTMLElement {
  return el(
    "div",
    { class: "tile", "data-state": state },
    el("span", { class: "big" }, String(value)),
    el("span", { class: "muted" }, label),
  );
}

function attention(card: Card): { text: string; level: "bad" | "warn" }[] {
  const items: { text: string; level: "bad" | "warn" }[] = [];
  const c = card.cluster;
  if (c.online < c.nodes) items.push({ text: `${plural(c.nodes - c.online, "node")} offline`, level: "bad" });
  if (c.quorate === false) items.push({ text: "The cluster has lost quorum", level: "bad" });
  if (card.tasks.failed_24h)
    items.push({ text: `${plural(card.tasks.failed_24h, "failed task")} in the last day`, level: "bad" });
  if (card.no_recent_backup_count)
    items.push({
      text: `${plural(card.no_recent_backup_count, "guest")} without a backup in ${plural(card.backup_days, "day")}`,
      level: "warn",
    });
  for (const f of records(card.near_full)) {
    const where =
      f.what === "storage" ? `Storage ${f.name}${f.node ? ` on ${f.node}` : ""}` : `${f.name} ${f.what}`;
    items.push({ text: `${where} ${Math.round(Number(f.used_pct))}% full`, level: "warn" });
  }
  return items;
}

export function renderCard(card: Card, trend: TrendChart): void {
  byId("card-title").textContent = card.cluster.name ? `Cluster ${card.cluster.name}` : "Proxmox node";
  const line = clusterLine(card.cluster);
  const status = byId("card-status");
  status.textContent = `${line.text} · updated ${new Date(card.generated * 1000).toLocaleTimeString()}`;
  status.className = `clip ${line.bad ? "bad" : "muted"}`;
  const g = card.guests;
  byId("tiles").replaceChildren(
    tile(g.running ?? 0, "running", "running"),
    tile(g.stopped ?? 0, "stopped", "stopped"),
    tile(g.paused ?? 0, "paused", "paused"),
    tile(g.total ?? 0, "guests", "total"),
  );

  const items = attention(card);
  const shown =
    items.length > ATTENTION_LINES
      ? [
          ...items.slice(0, ATTENTION_LINES - 1),
          {
            text: `and ${items.length - ATTENTION_LINES + 1} more in the full dashboard`,
            level: "warn" as const,
          },
        ]
      : items;
  byId("attention").replaceChildren(
    ...(shown.length
      ? shown.map((i) => el("li", { class: `clip ${i.level}`, title: i.text }, i.text))
      : [el("li", { class: "ok clip" }, "Nothing: every node is up, no failed task, backups are recent.")]),
  );

  const busiest = records(card.busiest).slice(0, BUSIEST_LINES);
  byId("busiest").replaceChildren(
    ...(busiest.length
      ? busiest.map((b) => busyLine(b))
      : [el("li", { class: "muted" }, "No guest is running.")]),
  );

  if (card.trend) {
    byId("trend-name").textContent =
      card.trend.subject === "nodes" ? "Cluster, last hour" : `${card.trend.subject}, last hour`;
    trend.render(card.trend);
  }
}

function busyLine(b: Record<string, Cell>): HTMLElement {
  const name = `${b.vmid} ${b.name ?? ""}`.trim();
  return el(
    "li",
    { class: "busy", "data-vmid": String(b.vmid) },
    el("span", { class: "clip grow", title: name }, name),
    el("span", { class: "muted" }, String(b.node ?? "")),
    el("span", { class: "num" }, `${b.cpu_pct}% of ${plural(Number(b.cores), "CPU")}`),
  );
}
