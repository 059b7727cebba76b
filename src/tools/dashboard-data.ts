import { type Cell, gib, pct, row } from "../mcp/format";
import type { ToolDeps } from "../mcp/tool";
import { ProxmoxError } from "../proxmox/errors";
import type { ClusterResourcesGetItem, ClusterTasksGetItem } from "../proxmox/generated/pve-api";
import { percentFromLog } from "../session/poll";
import { type Chart, Counter, chartFor } from "./dashboard-chart";
import type { Timeframe } from "./metrics-series";

/**
 * One snapshot of the cluster for the dashboard, from a bounded number of Proxmox requests:
 * cluster status, resources and tasks (three calls whatever the size), one RRD per chart line,
 * the log of at most MAX_TASK_LOGS running tasks, and the backup storages' content.
 */

export const MAX_TASK_LOGS = 5;
const DAY = 86400;

export const GUEST_COLUMNS = [
  "vmid",
  "name",
  "type",
  "node",
  "status",
  "cpu_pct",
  "cores",
  "mem_gib",
  "maxmem_gib",
  "uptime_s",
  "tags",
  "pool",
  "last_backup",
];
export const NODE_COLUMNS = [
  "node",
  "status",
  "cpu_pct",
  "cores",
  "mem_gib",
  "maxmem_gib",
  "root_gib",
  "maxroot_gib",
  "uptime_s",
];
export const STORAGE_COLUMNS = ["storage", "node", "shared", "used_gib", "size_gib"];
export const TASK_COLUMNS = ["upid", "node", "type", "id", "user", "start", "percent", "line"];
export const FAILURE_COLUMNS = ["upid", "node", "type", "id", "user", "end", "status"];

export interface Focus {
  node?: string;
  vmid?: number;
}

export interface Snapshot {
  generated: number;
  focus: Focus;
  cluster: { name?: string; quorate?: boolean; nodes: number; online: number };
  nodes: { columns: string[]; rows: Cell[][] };
  storages: { columns: string[]; rows: Cell[][] };
  guests: { columns: string[]; rows: Cell[][] };
  running: { columns: string[]; rows: Cell[][] };
  failures: { columns: string[]; rows: Cell[][] };
  backups: {
    days: number;
    /** vmids with no backup newer than `days`. */
    stale: number[];
    /** From /cluster/backup-info/not-backed-up; null when this Proxmox could not say. */
    notInJob: number[] | null;
    note?: string;
  };
  chart?: Chart;
  requests: number;
}

type Resource = ClusterResourcesGetItem;

const isGuest = (r: Resource) => r.type === "qemu" || r.type === "lxc";
const failed = (t: ClusterTasksGetItem) =>
  t.status !== undefined && t.status !== "OK" && !/^WARNINGS/.test(t.status);

/** Last backup time per vmid from every backup storage (shared ones read once). */
async function lastBackups(
  c: Counter,
  storages: Resource[],
): Promise<{ last: Map<number, number>; failedStorages: string[] }> {
  const seen = new Set<string>();
  const targets = storages.filter((s) => {
    if (
      s.status !== "available" ||
      !String(s.content ?? "")
        .split(",")
        .includes("backup")
    )
      return false;
    const key = s.shared ? String(s.storage) : `${s.storage}@${s.node}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const last = new Map<number, number>();
  const failedStorages: string[] = [];
  await Promise.all(
    targets.map(async (s) => {
      try {
        const items = await c.client.call("GET /nodes/{node}/storage/{storage}/content", {
          node: s.node as string,
          storage: s.storage as string,
          content: "backup",
        });
        for (const item of items) {
          if (item.vmid === undefined || !item.ctime) continue;
          const vmid = Number(item.vmid);
          last.set(vmid, Math.max(last.get(vmid) ?? 0, item.ctime));
        }
      } catch (error) {
        if (!(error instanceof ProxmoxError)) throw error;
        failedStorages.push(String(s.storage));
      }
    }),
  );
  return { last, failedStorages };
}

async function notBackedUp(c: Counter): Promise<{ vmids: number[] | null; note?: string }> {
  try {
    const rows = await c.client.call("GET /cluster/backup-info/not-backed-up", {});
    return { vmids: rows.map((r) => r.vmid).sort((a, b) => a - b) };
  } catch (error) {
    if (!(error instanceof ProxmoxError)) throw error;
    // Older or partial Proxmox answers (and a simulator that does not model it): say so, carry on.
    return { vmids: null, note: "Proxmox did not say which guests no backup job covers." };
  }
}

async function taskProgress(
  c: Counter,
  t: ClusterTasksGetItem,
): Promise<{ percent?: number; line?: string }> {
  try {
    const log = await c.client.call("GET /nodes/{node}/tasks/{upid}/log", {
      node: t.node,
      upid: t.upid,
      start: 0,
      limit: 5000,
    });
    let percent: number | undefined;
    for (const l of log) percent = percentFromLog(l.t) ?? percent;
    return { percent, line: log[log.length - 1]?.t };
  } catch (error) {
    if (error instanceof ProxmoxError) return {};
    throw error;
  }
}

export interface SnapshotOptions {
  focus: Focus;
  timeframe: Timeframe;
  backupDays: number;
  /** Only the chart (the timeframe switch): one or a few requests instead of the whole snapshot. */
  chartOnly?: boolean;
}

export async function takeSnapshot(
  deps: ToolDeps,
  options: SnapshotOptions,
  nowSec = Math.floor(Date.now() / 1000),
) {
  const c = new Counter(deps);
  const { focus } = options;
  const resources = await c.client.call("GET /cluster/resources", {});
  const guestsAll = resources.filter(isGuest);
  const focusGuest = focus.vmid !== undefined ? guestsAll.find((g) => g.vmid === focus.vmid) : undefined;
  if (focus.vmid !== undefined && !focusGuest) {
    throw new ProxmoxError({
      kind: "not_found",
      message: `There is no VM or container with ID ${focus.vmid} in this cluster. get_vms and get_containers list the guests.`,
    });
  }
  const nodesAll = resources.filter((r) => r.type === "node");
  if (focus.node && !nodesAll.some((n) => n.node === focus.node)) {
    throw new ProxmoxError({
      kind: "not_found",
      message: `There is no node '${focus.node}' in this cluster. Nodes: ${nodesAll
        .map((n) => n.node)
        .sort()
        .join(", ")}.`,
    });
  }
  const onlineNodes = nodesAll
    .filter((n) => n.status === "online")
    .map((n) => n.node as string)
    .sort();
  const chartNodes = focus.node ? onlineNodes.filter((n) => n === focus.node) : onlineNodes;
  const chart = await chartFor(
    c,
    focusGuest ? { guest: focusGuest } : { nodes: chartNodes },
    options.timeframe,
  );
  if (options.chartOnly) return { chart, requests: c.n };

  const [status, tasks, backups, missing] = await Promise.all([
    c.client.call("GET /cluster/status", {}),
    c.client.call("GET /cluster/tasks", {}),
    lastBackups(
      c,
      resources.filter((r) => r.type === "storage"),
    ),
    notBackedUp(c),
  ]);
  const inFocus = (node: string | undefined) => !focus.node || node === focus.node;
  const cluster = status.find((s) => s.type === "cluster");
  const guests = guestsAll
    .filter((g) => inFocus(g.node) && !g.template)
    .sort((a, b) => (a.vmid ?? 0) - (b.vmid ?? 0));
  const live = (g: Resource) => g.status === "running" || g.status === "paused";
  const runningTasks = tasks.filter(
    (t) => t.endtime === undefined && t.status === undefined && inFocus(t.node),
  );
  const progress = await Promise.all(runningTasks.slice(0, MAX_TASK_LOGS).map((t) => taskProgress(c, t)));
  const since = nowSec - DAY;
  const failures = tasks.filter((t) => failed(t) && (t.endtime ?? t.starttime) >= since && inFocus(t.node));
  const staleBefore = nowSec - options.backupDays * DAY;

  const snapshot: Snapshot = {
    generated: nowSec,
    focus,
    cluster: {
      ...(cluster?.name ? { name: cluster.name } : {}),
      ...(cluster ? { quorate: cluster.quorate === 1 || cluster.quorate === true } : {}),
      nodes: nodesAll.length,
      online: onlineNodes.length,
    },
    nodes: {
      columns: NODE_COLUMNS,
      rows: nodesAll
        .filter((n) => inFocus(n.node))
        .sort((a, b) => String(a.node).localeCompare(String(b.node), "en", { numeric: true }))
        .map((n) => {
          const on = n.status === "online";
          return row([
            n.node,
            n.status,
            on ? pct(n.cpu) : null,
            n.maxcpu,
            on ? gib(n.mem) : null,
            gib(n.maxmem),
            on ? gib(n.disk) : null,
            gib(n.maxdisk),
            on ? n.uptime : null,
          ]);
        }),
    },
    storages: {
      columns: STORAGE_COLUMNS,
      rows: resources
        .filter((r) => r.type === "storage" && r.status === "available" && inFocus(r.node))
        .map((s) => row([s.storage, s.node, s.shared === 1, gib(s.disk), gib(s.maxdisk)])),
    },
    guests: {
      columns: GUEST_COLUMNS,
      rows: guests.map((g) =>
        row([
          g.vmid,
          g.name ?? null,
          g.type,
          g.node,
          g.status,
          live(g) ? pct(g.cpu) : null,
          g.maxcpu,
          live(g) ? gib(g.mem) : null,
          gib(g.maxmem),
          live(g) ? (g.uptime ?? null) : null,
          g.tags ?? null,
          g.pool ?? null,
          backups.last.get(g.vmid as number) ?? null,
        ]),
      ),
    },
    running: {
      columns: TASK_COLUMNS,
      rows: runningTasks.map((t, i) =>
        row([
          t.upid,
          t.node,
          t.type,
          t.id,
          t.user,
          t.starttime,
          progress[i]?.percent ?? null,
          progress[i]?.line ?? null,
        ]),
      ),
    },
    failures: {
      columns: FAILURE_COLUMNS,
      rows: failures
        .sort((a, b) => (b.endtime ?? 0) - (a.endtime ?? 0))
        .slice(0, 20)
        .map((t) => row([t.upid, t.node, t.type, t.id, t.user, t.endtime ?? null, t.status ?? null])),
    },
    backups: {
      days: options.backupDays,
      stale: guests
        .filter((g) => (backups.last.get(g.vmid as number) ?? 0) < staleBefore)
        .map((g) => g.vmid as number),
      notInJob: missing.vmids ? missing.vmids.filter((v) => guests.some((g) => g.vmid === v)) : null,
      ...(missing.note || backups.failedStorages.length
        ? {
            note: [
              missing.note,
              backups.failedStorages.length
                ? `Could not read backup storage ${backups.failedStorages.join(", ")}.`
                : undefined,
            ]
              .filter(Boolean)
              .join(" "),
          }
        : {}),
    },
    ...(chart ? { chart } : {}),
    requests: 0,
  };
  snapshot.requests = c.n;
  return snapshot;
}
