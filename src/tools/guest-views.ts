import { z } from "zod";
import {
  bytes,
  type Cell,
  row as cells,
  compact,
  duration,
  durationText,
  flag,
  gib,
  gibText,
  hours,
  pct,
  percent,
  round,
  splitTags,
  tableSchema,
  usage,
} from "../mcp/format";
import type { GuestType } from "../proxmox/locate";

/**
 * How VMs and containers are summarised, shared by the VM and container tools so both read
 * the same: one schema for list rows, one for live status, one line of text each.
 */

export const guestRowSchema = z.object({
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string(),
  status: z.string(),
  cpu: z.number().optional().describe("CPU use, 0-1 of maxcpu"),
  maxcpu: z.number().optional(),
  mem: z.number().optional().describe("bytes"),
  maxmem: z.number().optional().describe("bytes"),
  maxdisk: z.number().optional().describe("bytes"),
  uptime: z.number().optional().describe("seconds"),
  template: z.boolean().optional(),
  lock: z.string().optional(),
  tags: z.array(z.string()).optional(),
  pool: z.string().optional(),
  hastate: z.string().optional(),
});
export type GuestRow = z.infer<typeof guestRowSchema>;

export interface RawGuest {
  /** A string in LXC lists ("106": pve-container keys its list by the config file name). */
  vmid?: number | string;
  name?: string;
  node?: string;
  status?: string;
  qmpstatus?: string;
  cpu?: number;
  cpus?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  maxdisk?: number;
  uptime?: number;
  template?: unknown;
  lock?: string;
  tags?: string;
  pool?: string;
  hastate?: string;
}

/** A paused VM is "running" to Proxmox; qmpstatus tells the truth. */
export function guestStatus(raw: RawGuest): string {
  if (raw.qmpstatus && raw.qmpstatus !== raw.status && raw.status === "running") return raw.qmpstatus;
  return raw.status ?? "unknown";
}

export function toGuestRow(raw: RawGuest, node: string): GuestRow {
  // pvestatd reports a paused VM as "paused" in /cluster/resources, "running" elsewhere.
  const running = raw.status === "running" || raw.status === "paused";
  return compact({
    vmid: Number(raw.vmid),
    name: raw.name,
    node,
    status: guestStatus(raw),
    cpu: running ? round(raw.cpu) : undefined,
    maxcpu: raw.maxcpu ?? raw.cpus,
    mem: running ? raw.mem : undefined,
    maxmem: raw.maxmem,
    maxdisk: raw.maxdisk,
    uptime: running ? raw.uptime : undefined,
    template: flag(raw.template) || undefined,
    lock: raw.lock || undefined,
    tags: splitTags(raw.tags),
    pool: raw.pool,
    hastate: raw.hastate,
  });
}

/** "101 web01 on pve1: running, cpu 3% of 2, mem 1.2/4.0 GiB, up 3d 2h [prod, web]" */
export function guestLine(row: GuestRow): string {
  const parts = [
    `${row.vmid} ${row.name ?? "(no name)"} on ${row.node}: ${row.template ? "template" : row.status}`,
  ];
  if (row.status === "running" || row.status === "paused") {
    parts.push(`cpu ${percent(row.cpu)} of ${row.maxcpu ?? "?"}`);
    parts.push(`mem ${usage(row.mem, row.maxmem)}`);
    parts.push(`up ${duration(row.uptime)}`);
  } else if (!row.template) {
    parts.push(`${row.maxcpu ?? "?"} cpu, ${bytes(row.maxmem)} mem`);
  }
  let line = parts.join(", ");
  if (row.lock) line += `, locked (${row.lock})`;
  if (row.tags) line += ` [${row.tags.join(", ")}]`;
  return line;
}

/** "12 VMs: 8 running, 3 stopped, 1 template" */
export function guestSummary(rows: GuestRow[], type: GuestType): string {
  const noun = type === "qemu" ? "VM" : "container";
  const counts = new Map<string, number>();
  for (const row of rows) {
    const key = row.template ? "template" : row.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const detail = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${n} ${status}${status === "template" && n > 1 ? "s" : ""}`)
    .join(", ");
  return `${rows.length} ${noun}${rows.length === 1 ? "" : "s"}${detail ? `: ${detail}` : ""}`;
}

/** Columns of a guest list's table; a template's status is "template". */
export const GUEST_COLUMNS = [
  "vmid",
  "name",
  "node",
  "status",
  "cores",
  "maxmem_gib",
  "tags",
  "cpu_pct",
  "mem_gib",
  "uptime_h",
  "pool",
  "lock",
  "hastate",
];

export const guestListOutput = z.object({
  total: z.number().describe("guests matching, before limit"),
  ...tableSchema().shape,
});

const isLive = (row: GuestRow) => row.status === "running" || row.status === "paused";
const stateOf = (row: GuestRow) => (row.template ? "template" : row.status);

/** A guest's row in a list table: CPU, memory in use and uptime only while it runs. */
export function guestCells(row: GuestRow): Cell[] {
  const live = isLive(row);
  return cells([
    row.vmid,
    row.name,
    row.node,
    stateOf(row),
    row.maxcpu,
    gib(row.maxmem),
    row.tags?.join(";"),
    live ? pct(row.cpu) : undefined,
    live ? gib(row.mem) : undefined,
    live ? hours(row.uptime) : undefined,
    row.pool,
    row.lock,
    row.hastate,
  ]);
}

const STATE_ORDER = ["running", "paused", "stopped", "template"];
const stateRank = (state: string) => {
  const i = STATE_ORDER.indexOf(state);
  return i === -1 ? STATE_ORDER.length : i;
};

/**
 * A guest list as text, grouped by node and state so a line carries only what differs:
 *
 *     VMs on pve1, running (2): vmid name cpu/cores mem_GiB used/max uptime
 *     101 web-01 3.1%/2 1.2/4.0 3d2h [prod, web]
 *     VMs on pve1, stopped (1): vmid name cores mem_GiB
 *     103 win11 4 8.0 [desktop]
 *
 * Rows keep their order within a group; groups follow the node names, then running, paused,
 * stopped, template.
 */
export function guestListText(rows: readonly GuestRow[], type: GuestType): string[] {
  const noun = type === "qemu" ? "VMs" : "containers";
  const groups = new Map<string, { node: string; state: string; rows: GuestRow[] }>();
  for (const row of rows) {
    const state = stateOf(row);
    const key = `${row.node}\u0000${state}`;
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { node: row.node, state, rows: [row] });
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      a.node.localeCompare(b.node, "en", { numeric: true }) ||
      stateRank(a.state) - stateRank(b.state) ||
      a.state.localeCompare(b.state),
  );
  const lines: string[] = [];
  for (const { node, state, rows: members } of ordered) {
    const live = state === "running" || state === "paused";
    const columns = live ? "vmid name cpu/cores mem_GiB used/max uptime" : "vmid name cores mem_GiB";
    lines.push(`${noun} on ${node}, ${state} (${members.length}): ${columns}`);
    for (const row of members) {
      let line = `${row.vmid} ${row.name ?? "-"} `;
      line += live
        ? `${percent(row.cpu)}/${row.maxcpu ?? "?"} ${gibText(row.mem)}/${gibText(row.maxmem)} ${durationText(row.uptime)}`
        : `${row.maxcpu ?? "?"} ${gibText(row.maxmem)}`;
      if (row.pool) line += ` pool:${row.pool}`;
      if (row.lock) line += ` locked:${row.lock}`;
      if (row.hastate) line += ` HA:${row.hastate}`;
      if (row.tags) line += ` [${row.tags.join(", ")}]`;
      lines.push(line);
    }
  }
  return lines;
}

// Listed in tools/list are the fields every answer has; the rest (I/O counters, HA, QEMU version)
// are there when Proxmox reports them.
export const guestStatusOutput = z.looseObject({
  vmid: z.number(),
  name: z.string().optional(),
  node: z.string(),
  type: z.enum(["qemu", "lxc"]),
  status: z.string(),
});
const guestStatusFull = guestRowSchema.extend({
  type: z.enum(["qemu", "lxc"]),
  agent: z.boolean().optional(),
  pid: z.number().optional(),
  disk: z.number().optional(),
  netin: z.number().optional(),
  netout: z.number().optional(),
  diskread: z.number().optional(),
  diskwrite: z.number().optional(),
  ha: z.string().optional(),
  qemu: z.string().optional(),
  machine: z.string().optional(),
});
export type GuestStatus = z.infer<typeof guestStatusFull>;

export function toGuestStatus(
  raw: RawGuest & Record<string, unknown>,
  node: string,
  type: GuestType,
): GuestStatus {
  const row = toGuestRow(raw, node);
  const ha = raw.ha as { managed?: unknown; state?: string } | undefined;
  return compact({
    ...row,
    type,
    agent: type === "qemu" ? flag(raw.agent) : undefined,
    pid: typeof raw.pid === "number" ? raw.pid : undefined,
    disk: type === "lxc" && typeof raw.disk === "number" ? raw.disk : undefined,
    netin: numberOrUndefined(raw.netin),
    netout: numberOrUndefined(raw.netout),
    diskread: numberOrUndefined(raw.diskread),
    diskwrite: numberOrUndefined(raw.diskwrite),
    ha: ha && flag(ha.managed) ? (ha.state ?? "managed") : undefined,
    qemu: typeof raw["running-qemu"] === "string" ? raw["running-qemu"] : undefined,
    machine: typeof raw["running-machine"] === "string" ? raw["running-machine"] : undefined,
  });
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

export function guestStatusText(status: GuestStatus): string {
  const noun = status.type === "qemu" ? "VM" : "Container";
  const lines = [`${noun} ${guestLine(status)}`];
  const io: string[] = [];
  if (status.type === "lxc" && status.disk !== undefined)
    io.push(`disk ${usage(status.disk, status.maxdisk)}`);
  else if (status.maxdisk) io.push(`disk ${bytes(status.maxdisk)}`);
  if (status.status === "running") {
    if (status.netin !== undefined)
      io.push(`net in ${bytesShort(status.netin)} / out ${bytesShort(status.netout)}`);
    if (status.diskread !== undefined)
      io.push(`disk read ${bytesShort(status.diskread)} / write ${bytesShort(status.diskwrite)}`);
  }
  if (io.length) lines.push(io.join(", "));
  const extra: string[] = [];
  if (status.type === "qemu") extra.push(`guest agent ${status.agent ? "enabled" : "not enabled"}`);
  if (status.ha) extra.push(`HA ${status.ha}`);
  if (status.qemu) extra.push(`QEMU ${status.qemu}`);
  if (status.pid) extra.push(`pid ${status.pid}`);
  if (extra.length) lines.push(extra.join(", "));
  return lines.join("\n");
}

function bytesShort(value: number | undefined): string {
  return usage(value, undefined);
}
