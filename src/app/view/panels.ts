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

function gauge(
  label: string,
  fraction: number | null,
  detail: string,
  metric: string,
  node: string,
): HTMLElement {
  const p = fraction === null ? 0 : Math.max(0, Math.min(100, fraction * 100));
  const color = p >= 90 ? "var(--bad)" : p >= 75 ? "var(--warn)" : "var(--ok)";
  const ring = el(
    "div",
    { class: "ring", style: `--p:${p.toFixed(1)};--c:${color}` },
    el("span", { class: "value" }, fraction === null ? "–" : `${Math.round(p)}%`),
  );
  return el(
    "div",
    { class: "gauge", "data-node": node, "data-metric": metric, title: detail },
    ring,
    el("small", {}, label),
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
  state: string;
  sort: string;
  dir: 1 | -1;
}

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

export function renderGuests(
  table: HTMLTableElement,
  count: HTMLElement,
  s: Snapshot,
  view: GuestView,
  onSort: (key: string) => void,
  onPick: (vmid: number) => void,
): void {
  const head = el("tr");
  for (const [key, label] of GUEST_HEADERS) {
    const th = el("th", { "data-key": key }, label);
    if (view.sort === key) th.setAttribute("aria-sort", view.dir === 1 ? "ascending" : "descending");
    th.addEventListener("click", () => onSort(key));
    head.append(th);
  }
  (table.tHead as HTMLTableSectionElement).replaceChildren(head);
  const needle = view.filter.trim().toLowerCase();
  const all = records(s.guests);
  const shown = all
    .filter((g) => !view.state || g.status === view.state)
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
  const stale = new Set(s.backups.stale);
  const body = table.tBodies[0] as HTMLTableSectionElement;
  body.replaceChildren(
    ...shown.map((g) => {
      const tags = el("td", {});
      for (const t of String(g.tags ?? "")
        .split(/[;, ]/)
        .filter(Boolean))
        tags.append(el("span", { class: "tag" }, t));
      const tr = el(
        "tr",
        { "data-vmid": String(g.vmid) },
        el("td", { class: "num" }, String(g.vmid)),
        el("td", { class: "name" }, String(g.name ?? "")),
        el("td", {}, el("span", { class: `st ${g.status}` }), String(g.status)),
        el("td", {}, String(g.node)),
        el("td", { class: "num" }, g.cpu_pct === null ? "" : String(g.cpu_pct)),
        el("td", { class: "num" }, g.mem_gib === null ? "" : `${g.mem_gib} / ${g.maxmem_gib}`),
        el("td", {}, duration(num(g.uptime_s))),
        tags,
        el("td", {}, String(g.pool ?? "")),
        el("td", { class: stale.has(Number(g.vmid)) ? "warn" : "" }, ago(num(g.last_backup), s.generated)),
      );
      tr.addEventListener("click", () => onPick(Number(g.vmid)));
      return tr;
    }),
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
                class: "bar",
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

export function renderBackups(root: HTMLElement, s: Snapshot): void {
  const names = new Map(records(s.guests).map((g) => [Number(g.vmid), String(g.name ?? "")]));
  const pill = (v: number) => el("span", { class: "pill" }, `${v} ${names.get(v) ?? ""}`.trim());
  const parts: HTMLElement[] = [];
  parts.push(
    el(
      "div",
      {},
      s.backups.stale.length
        ? `${s.backups.stale.length} of ${names.size} guests have no backup from the last ${s.backups.days} days:`
        : `Every guest has a backup from the last ${s.backups.days} days.`,
    ),
  );
  if (s.backups.stale.length) parts.push(el("div", { id: "stale" }, ...s.backups.stale.map(pill)));
  if (s.backups.notInJob?.length)
    parts.push(el("div", {}, "In no backup job: ", ...s.backups.notInJob.map(pill)));
  if (s.backups.note) parts.push(el("div", { class: "muted" }, s.backups.note));
  root.replaceChildren(...parts);
}
