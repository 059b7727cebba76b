// The dashboard's panels: node gauges, the guest table, tasks, failures and backups. Built with
// el() only (text nodes for every Proxmox string).

import { ago, type Cell, duration, el, records, type Table } from "./dom";

export interface Snapshot {
  generated: number;
  focus: { node?: string; vmid?: number };
  cluster: { name?: string; quorate?: boolean; nodes: number; online: number };
  nodes: Table;
  storages: Table;
  guests: Table;
  running: Table;
  failures: Table;
  backups: { days: number; stale: number[]; notInJob: number[] | null; note?: string };
  requests: number;
}

const num = (v: Cell | undefined) => (typeof v === "number" ? v : null);

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/**
 * A ring: a track and an arc drawn as strokes with nothing filled, so it stays a ring on any
 * background (a filled disc with a hole painted in the page colour is a pie on a transparent one).
 */
function gauge(
  label: string,
  fraction: number | null,
  detail: string,
  metric: string,
  node: string,
): HTMLElement {
  const p = fraction === null ? 0 : Math.max(0, Math.min(100, fraction * 100));
  const level = p >= 90 ? "bad" : p >= 75 ? "warn" : "ok";
  const ring = svg("svg", { viewBox: "0 0 36 36", class: "ring", "aria-hidden": "true" });
  ring.append(
    svg("circle", { class: "track", cx: "18", cy: "18", r: "15", pathLength: "100" }),
    svg("circle", {
      class: `arc ${level}`,
      cx: "18",
      cy: "18",
      r: "15",
      pathLength: "100",
      "stroke-dasharray": `${p.toFixed(1)} 100`,
      transform: "rotate(-90 18 18)",
    }),
  );
  return el(
    "div",
    { class: "gauge", "data-node": node, "data-metric": metric, title: detail },
    el(
      "div",
      { class: "ring-box" },
      ring,
      el("span", { class: "value" }, fraction === null ? "–" : `${Math.round(p)}%`),
    ),
    el("small", { class: "clip" }, label),
  );
}

export function renderNodes(root: HTMLElement, s: Snapshot): void {
  const storages = records(s.storages);
  root.replaceChildren(
    ...records(s.nodes).map((n) => {
      const name = String(n.node);
      const online = n.status === "online";
      const gauges = el("div", { class: "gauges" });
      if (online) {
        const cpu = num(n.cpu_pct);
        const mem = num(n.mem_gib);
        const maxmem = num(n.maxmem_gib);
        const root = num(n.root_gib);
        const maxroot = num(n.maxroot_gib);
        gauges.append(
          gauge("CPU", cpu === null ? null : cpu / 100, `${cpu}% of ${n.cores} cores`, "cpu", name),
          gauge(
            "Memory",
            mem !== null && maxmem ? mem / maxmem : null,
            `${mem} of ${maxmem} GiB`,
            "mem",
            name,
          ),
          gauge(
            "Root disk",
            root !== null && maxroot ? root / maxroot : null,
            `${root} of ${maxroot} GiB`,
            "root",
            name,
          ),
        );
        for (const st of storages.filter((x) => x.node === name)) {
          const used = num(st.used_gib);
          const size = num(st.size_gib);
          gauges.append(
            gauge(
              String(st.storage),
              used !== null && size ? used / size : null,
              `${st.storage}: ${used} of ${size} GiB`,
              `storage:${st.storage}`,
              name,
            ),
          );
        }
      }
      return el(
        "div",
        { class: "card", "data-node": name },
        el(
          "h3",
          {},
          el("span", {}, name),
          el(
            "span",
            { class: online ? "muted" : "bad" },
            online ? `up ${duration(num(n.uptime_s))}` : String(n.status).toUpperCase(),
          ),
        ),
        gauges,
      );
    }),
  );
}

export interface GuestView {
  filter: string;
  /** A chip: "" (all), a status, or "stale" (no recent backup). */
  show: string;
  sort: string;
  dir: 1 | -1;
  page: number;
}

/** Rows per page: 5,000 guests stay as quick as 50. */
export const PAGE_SIZE = 50;

// Narrow frames drop columns in this order (style.css): tags, pool, last backup, uptime, node, memory.
const GUEST_HEADERS: [string, string][] = [
  ["vmid", "ID"],
  ["name", "Name"],
  ["status", "Status"],
  ["node", "Node"],
  ["cpu_pct", "CPU %"],
  ["mem_gib", "Mem GiB"],
  ["uptime_s", "Uptime"],
  ["tags", "Tags"],
  ["pool", "Pool"],
  ["last_backup", "Last backup"],
];
const NUMERIC = new Set(["vmid", "cpu_pct", "mem_gib", "uptime_s", "last_backup"]);

export const CHIPS: [string, string][] = [
  ["", "All"],
  ["running", "Running"],
  ["stopped", "Stopped"],
  ["paused", "Paused"],
  ["stale", "No recent backup"],
];

export interface GuestHandlers {
  onSort: (key: string) => void;
  onPick: (vmid: number) => void;
  onPage: (page: number) => void;
}

export function renderGuests(
  table: HTMLTableElement,
  count: HTMLElement,
  pages: HTMLElement,
  s: Snapshot,
  view: GuestView,
  on: GuestHandlers,
): void {
  const head = el("tr");
  for (const [key, label] of GUEST_HEADERS) {
    const button = el("button", { type: "button", class: "sort" }, label);
    button.addEventListener("click", () => on.onSort(key));
    const th = el("th", { "data-key": key, scope: "col" }, button);
    if (view.sort === key) th.setAttribute("aria-sort", view.dir === 1 ? "ascending" : "descending");
    head.append(th);
  }
  (table.tHead as HTMLTableSectionElement).replaceChildren(head);
  const needle = view.filter.trim().toLowerCase();
  const stale = new Set(s.backups.stale);
  const all = records(s.guests);
  const shown = all
    .filter((g) => !view.show || (view.show === "stale" ? stale.has(Number(g.vmid)) : g.status === view.show))
    .filter(
      (g) =>
        !needle ||
        [g.vmid, g.name, g.node, g.tags, g.pool, g.type].some(
          (v) => v !== null && String(v).toLowerCase().includes(needle),
        ),
    )
    .sort((a, b) => {
      const x = a[view.sort];
      const y = b[view.sort];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (
        (NUMERIC.has(view.sort)
          ? Number(x) - Number(y)
          : String(x).localeCompare(String(y), "en", { numeric: true })) * view.dir
      );
    });
  count.textContent = `${shown.length} of ${all.length}`;
  const last = Math.max(0, Math.ceil(shown.length / PAGE_SIZE) - 1);
  const page = Math.min(view.page, last);
  const body = table.tBodies[0] as HTMLTableSectionElement;
  body.replaceChildren(
    ...shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((g) => {
      const tags = el("td", { "data-col": "tags" });
      for (const t of String(g.tags ?? "")
        .split(/[;, ]/)
        .filter(Boolean))
        tags.append(el("span", { class: "tag" }, t));
      const tr = el(
        "tr",
        { "data-vmid": String(g.vmid) },
        el("td", { class: "num", "data-col": "vmid" }, String(g.vmid)),
        el("td", { class: "name", "data-col": "name" }, String(g.name ?? "")),
        el("td", { "data-col": "status" }, el("span", { class: `st ${g.status}` }), String(g.status)),
        el("td", { "data-col": "node" }, String(g.node)),
        el("td", { class: "num", "data-col": "cpu_pct" }, g.cpu_pct === null ? "" : String(g.cpu_pct)),
        el(
          "td",
          { class: "num", "data-col": "mem_gib" },
          g.mem_gib === null ? "" : `${g.mem_gib} / ${g.maxmem_gib}`,
        ),
        el("td", { "data-col": "uptime_s" }, duration(num(g.uptime_s))),
        tags,
        el("td", { "data-col": "pool" }, String(g.pool ?? "")),
        el(
          "td",
          { class: stale.has(Number(g.vmid)) ? "warn" : "", "data-col": "last_backup" },
          ago(num(g.last_backup), s.generated),
        ),
      );
      tr.addEventListener("click", () => on.onPick(Number(g.vmid)));
      return tr;
    }),
  );
  if (shown.length <= PAGE_SIZE) {
    pages.replaceChildren();
    return;
  }
  const go = (label: string, to: number, disabled: boolean) => {
    const b = el("button", { type: "button", "data-page": String(to) }, label);
    b.disabled = disabled;
    b.addEventListener("click", () => on.onPage(to));
    return b;
  };
  pages.replaceChildren(
    go("‹ Previous", page - 1, page === 0),
    el(
      "span",
      { class: "muted" },
      `${page * PAGE_SIZE + 1}–${Math.min(shown.length, (page + 1) * PAGE_SIZE)} of ${shown.length}`,
    ),
    go("Next ›", page + 1, page >= last),
  );
}

export function renderTasks(list: HTMLElement, failures: HTMLElement, s: Snapshot): void {
  const running = records(s.running);
  list.replaceChildren(
    ...(running.length
      ? running.map((t) => {
          const pct = num(t.percent);
          return el(
            "li",
            { "data-upid": String(t.upid) },
            el(
              "div",
              {},
              `${t.type} ${t.id || ""} on ${t.node}`,
              el("span", { class: "muted" }, ` · ${t.user} · ${pct === null ? "running" : `${pct}%`}`),
            ),
            el(
              "div",
              {
                class: "bar-track",
                role: "progressbar",
                "aria-valuenow": String(pct ?? 0),
                "aria-valuemin": "0",
                "aria-valuemax": "100",
              },
              el("div", { style: `width:${pct ?? 0}%` }),
            ),
            t.line ? el("div", { class: "muted" }, String(t.line)) : null,
          );
        })
      : [el("li", { class: "muted" }, "Nothing running.")]),
  );
  const failed = records(s.failures);
  failures.replaceChildren(
    ...(failed.length
      ? failed.map((t) =>
          el(
            "li",
            {},
            `${t.type} ${t.id || ""} on ${t.node}: `,
            el("span", { class: "bad" }, String(t.status)),
            el("span", { class: "muted" }, ` · ${ago(num(t.end), s.generated)}`),
          ),
        )
      : [el("li", { class: "muted" }, "No failures.")]),
  );
}

/** Guests named in the backups panel; the rest are counted (the table's chip lists them all). */
const PILLS = 24;

export function renderBackups(root: HTMLElement, s: Snapshot, showStale: () => void): void {
  const names = new Map(records(s.guests).map((g) => [Number(g.vmid), String(g.name ?? "")]));
  const pill = (v: number) => el("span", { class: "pill" }, `${v} ${names.get(v) ?? ""}`.trim());
  const pills = (vmids: number[]) => [
    ...vmids.slice(0, PILLS).map(pill),
    ...(vmids.length > PILLS ? [el("span", { class: "muted" }, ` and ${vmids.length - PILLS} more`)] : []),
  ];
  const parts: HTMLElement[] = [];
  const stale = s.backups.stale;
  parts.push(
    el(
      "p",
      {},
      stale.length
        ? `${stale.length} of ${names.size} guests have no backup from the last ${s.backups.days} days.`
        : `Every guest has a backup from the last ${s.backups.days} days.`,
    ),
  );
  if (stale.length) {
    const list = el("button", { type: "button", id: "show-stale" }, "List them in the table");
    list.addEventListener("click", showStale);
    parts.push(el("div", { id: "stale", class: "pills" }, ...pills(stale), " ", list));
  }
  if (s.backups.notInJob?.length)
    parts.push(el("div", { class: "pills" }, "In no backup job: ", ...pills(s.backups.notInJob)));
  if (s.backups.note) parts.push(el("p", { class: "muted" }, s.backups.note));
  root.replaceChildren(...parts);
}
