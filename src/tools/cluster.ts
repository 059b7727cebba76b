import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit } from "../mcp/args";
import {
  type Cell,
  compact,
  duration,
  flag,
  gib,
  hours,
  moreNote,
  pct,
  percent,
  row,
  tableSchema,
  usage,
} from "../mcp/format";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import type { ClusterResourcesGetItem } from "../proxmox/generated/pve-api";
import { GUEST_COLUMNS, guestCells, guestListText, type RawGuest, toGuestRow } from "./guest-views";

type Item = ClusterResourcesGetItem;

const TYPE_ORDER = ["node", "qemu", "lxc", "storage", "sdn", "network", "pool"];
const rank = (type: string) => {
  const i = TYPE_ORDER.indexOf(type);
  return i === -1 ? TYPE_ORDER.length : i;
};

const isLive = (item: Item) =>
  item.status === "running" || item.status === "paused" || item.status === "online";

const NODE_COLUMNS = [
  "node",
  "status",
  "cores",
  "maxmem_gib",
  "maxdisk_gib",
  "cpu_pct",
  "mem_gib",
  "disk_gib",
  "uptime_h",
];
const STORAGE_COLUMNS = ["storage", "node", "type", "status", "shared", "content", "used_gib", "size_gib"];
const OTHER_COLUMNS = ["type", "name", "node", "status"];

function nodeCells(item: Item): Cell[] {
  const live = isLive(item);
  return row([
    item.node,
    item.status,
    item.maxcpu,
    gib(item.maxmem),
    gib(item.maxdisk),
    live ? pct(item.cpu) : undefined,
    live ? gib(item.mem) : undefined,
    live ? gib(item.disk) : undefined,
    live ? hours(item.uptime) : undefined,
  ]);
}

function storageCells(item: Item): Cell[] {
  return row([
    item.storage,
    item.node,
    item.plugintype,
    item.status,
    flag(item.shared),
    item.content,
    gib(item.disk),
    gib(item.maxdisk),
  ]);
}

/** What an SDN zone, network or pool is called ("lab", not "/pool/lab"). */
const otherName = (item: Item) => item.name ?? item.sdn ?? item.network ?? item.pool ?? item.id;

const otherCells = (item: Item): Cell[] => row([item.type, otherName(item), item.node, item.status]);

function nodeLine(item: Item): string {
  return item.status === "online"
    ? `node ${item.node}: online, cpu ${percent(item.cpu)} of ${item.maxcpu}, mem ${usage(item.mem, item.maxmem)}, up ${duration(item.uptime)}`
    : `node ${item.node}: ${item.status ?? "unknown"}`;
}

function storageLine(item: Item): string {
  const used = item.maxdisk
    ? `${usage(item.disk, item.maxdisk)} (${percent((item.disk ?? 0) / item.maxdisk)})`
    : "size unknown";
  return `storage ${item.storage} on ${item.node}: ${item.plugintype ?? "?"}${flag(item.shared) ? " shared" : ""}, ${item.status ?? "?"}, ${used}, content ${item.content ?? "-"}`;
}

const otherLine = (item: Item) =>
  `${item.type} ${otherName(item)}${item.node ? ` on ${item.node}` : ""}${item.status ? `: ${item.status}` : ""}`;

const table = (columns: string[], rows: Cell[][]) => (rows.length ? { columns, rows } : undefined);

const getClusterStatusTool = tool({
  name: "get_cluster_status",
  title: "Cluster status",
  description: "Cluster name, quorum, and which nodes are online with their IPs. Start here.",
  input: z.object({}),
  output: z.object({
    cluster: z
      .object({
        name: z.string(),
        quorate: z.boolean(),
        nodes: z.number().optional(),
        version: z.number().optional(),
      })
      .nullable()
      .describe("null for a standalone node"),
    nodes: z.array(
      z.object({
        name: z.string(),
        online: z.boolean(),
        ip: z.string().optional(),
        nodeid: z.number().optional(),
        local: z.boolean().optional(),
        level: z.string().optional(),
      }),
    ),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async () => {
    const items = await deps.client.call("GET /cluster/status", {});
    const clusterItem = items.find((item) => item.type === "cluster");
    const cluster = clusterItem
      ? compact({
          name: clusterItem.name,
          quorate: flag(clusterItem.quorate),
          nodes: clusterItem.nodes,
          version: clusterItem.version,
        })
      : null;
    const nodes = items
      .filter((item) => item.type === "node")
      .map((item) =>
        compact({
          name: item.name,
          online: flag(item.online),
          ip: item.ip,
          nodeid: item.nodeid,
          local: flag(item.local) || undefined,
          level: item.level || undefined,
        }),
      )
      .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
    const online = nodes.filter((n) => n.online).length;
    const header = cluster
      ? `Cluster ${cluster.name}: ${cluster.quorate ? "quorate" : "NOT quorate (no majority: changes are blocked)"}, ${online} of ${nodes.length} nodes online`
      : `Standalone node (no cluster), ${online} of ${nodes.length} online`;
    const lines = nodes.map(
      (n) =>
        `${n.name}: ${n.online ? "online" : "OFFLINE"}${n.ip ? `, ${n.ip}` : ""}${n.nodeid ? `, node id ${n.nodeid}` : ""}`,
    );
    return { text: [header, ...lines].join("\n"), data: { cluster, nodes } };
  },
});

const getClusterResourcesTool = tool({
  name: "get_cluster_resources",
  title: "Cluster resources",
  description:
    "Everything in the cluster in one call: nodes, VMs, containers, storages with status and usage.",
  input: z.object({
    type: z.enum(["vm", "storage", "node", "sdn"]).optional().describe("Only this kind of resource."),
    limit: limit(500),
  }),
  output: z.object({
    total: z.number(),
    nodes: tableSchema().optional(),
    vms: tableSchema().optional(),
    containers: tableSchema().optional(),
    storages: tableSchema().optional(),
    other: tableSchema().optional().describe("SDN zones, networks, pools"),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const items = await deps.client.call("GET /cluster/resources", args.type ? { type: args.type } : {});
    const sorted = [...items].sort(
      (a, b) => rank(a.type) - rank(b.type) || a.id.localeCompare(b.id, "en", { numeric: true }),
    );
    const shown = sorted.slice(0, args.limit);
    const counts = TYPE_ORDER.map((t) => [t, sorted.filter((r) => r.type === t).length] as const)
      .filter(([, n]) => n > 0)
      .map(([t, n]) => `${n} ${t === "qemu" ? "VM" : t === "lxc" ? "container" : t}${n === 1 ? "" : "s"}`);
    const header = sorted.length ? `${sorted.length} resources: ${counts.join(", ")}` : "No resources.";
    const of = (type: string) => shown.filter((item) => item.type === type);
    const guests = (type: "qemu" | "lxc") =>
      of(type).map((item) => toGuestRow(item as RawGuest, item.node ?? "?"));
    const nodes = of("node");
    const vms = guests("qemu");
    const containers = guests("lxc");
    const storages = of("storage");
    const other = shown.filter((item) => rank(item.type) > rank("storage"));
    const lines = [
      header,
      ...nodes.map(nodeLine),
      ...guestListText(vms, "qemu"),
      ...guestListText(containers, "lxc"),
      ...storages.map(storageLine),
      ...other.map(otherLine),
    ];
    const text = lines.join("\n") + moreNote(shown.length, sorted.length, "resources");
    const data = compact({
      total: sorted.length,
      nodes: table(NODE_COLUMNS, nodes.map(nodeCells)),
      vms: table(GUEST_COLUMNS, vms.map(guestCells)),
      containers: table(GUEST_COLUMNS, containers.map(guestCells)),
      storages: table(STORAGE_COLUMNS, storages.map(storageCells)),
      other: table(OTHER_COLUMNS, other.map(otherCells)),
    });
    return { text, data };
  },
});

const getNextVmidTool = tool({
  name: "get_next_vmid",
  title: "Next free VM ID",
  description: "The next free guest ID.",
  input: z.object({}),
  output: z.object({ vmid: z.number() }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async () => {
    // Proxmox returns it as a string (Perl), so read it as whatever comes.
    const next = Number(await deps.client.call("GET /cluster/nextid", {}));
    return { text: `Next free VM ID: ${next}`, data: { vmid: next } };
  },
});

export function registerClusterTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getClusterStatusTool);
  defineTool(server, deps, getClusterResourcesTool);
  defineTool(server, deps, getNextVmidTool);
}
