import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit } from "../mcp/args";
import { compact, duration, flag, moreNote, percent, round, usage } from "../mcp/format";
import { defineTool, READ_ONLY, type ToolDeps } from "../mcp/tool";
import type { ClusterResourcesGetItem } from "../proxmox/generated/pve-api";
import { splitTags } from "./guest-views";

const resourceSchema = z.object({
  id: z.string(),
  type: z.string().describe("node, qemu, lxc, storage, sdn, pool, network"),
  node: z.string().optional(),
  status: z.string().optional(),
  name: z.string().optional(),
  vmid: z.number().optional(),
  storage: z.string().optional(),
  plugintype: z.string().optional(),
  content: z.string().optional(),
  shared: z.boolean().optional(),
  cpu: z.number().optional(),
  maxcpu: z.number().optional(),
  mem: z.number().optional(),
  maxmem: z.number().optional(),
  disk: z.number().optional(),
  maxdisk: z.number().optional(),
  uptime: z.number().optional(),
  template: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  pool: z.string().optional(),
  lock: z.string().optional(),
  hastate: z.string().optional(),
});
type Resource = z.infer<typeof resourceSchema>;

const TYPE_ORDER = ["node", "qemu", "lxc", "storage", "sdn", "network", "pool"];

function toResource(item: ClusterResourcesGetItem): Resource {
  const live = item.status === "running" || item.status === "paused" || item.status === "online";
  const isStorage = item.type === "storage";
  return compact({
    id: item.id,
    type: item.type,
    node: item.node,
    status: item.status,
    name: item.name ?? (isStorage ? undefined : item.sdn),
    vmid: item.vmid,
    storage: item.storage,
    plugintype: item.plugintype,
    content: item.content,
    shared: isStorage ? flag(item.shared) : undefined,
    cpu: live ? round(item.cpu) : undefined,
    maxcpu: item.maxcpu,
    mem: live ? item.mem : undefined,
    maxmem: item.maxmem,
    disk: isStorage || item.type === "lxc" || item.type === "node" ? item.disk : undefined,
    maxdisk: item.maxdisk,
    uptime: live ? item.uptime : undefined,
    template: flag(item.template) || undefined,
    tags: splitTags(item.tags),
    pool: item.pool,
    lock: item.lock || undefined,
    hastate: item.hastate,
  });
}

function resourceLine(r: Resource): string {
  switch (r.type) {
    case "node":
      return r.status === "online"
        ? `node ${r.node}: online, cpu ${percent(r.cpu)} of ${r.maxcpu}, mem ${usage(r.mem, r.maxmem)}, up ${duration(r.uptime)}`
        : `node ${r.node}: ${r.status ?? "unknown"}`;
    case "qemu":
    case "lxc": {
      const kind = r.type === "qemu" ? "vm" : "ct";
      const state = r.template ? "template" : (r.status ?? "unknown");
      let line = `${kind} ${r.vmid} ${r.name ?? ""} on ${r.node}: ${state}`;
      if (r.status === "running")
        line += `, cpu ${percent(r.cpu)} of ${r.maxcpu}, mem ${usage(r.mem, r.maxmem)}, up ${duration(r.uptime)}`;
      if (r.pool) line += `, pool ${r.pool}`;
      if (r.lock) line += `, locked (${r.lock})`;
      if (r.hastate) line += `, HA ${r.hastate}`;
      if (r.tags) line += ` [${r.tags.join(", ")}]`;
      return line;
    }
    case "storage": {
      const used = r.maxdisk
        ? `${usage(r.disk, r.maxdisk)} (${percent((r.disk ?? 0) / r.maxdisk)})`
        : "size unknown";
      return `storage ${r.storage} on ${r.node}: ${r.plugintype ?? "?"}${r.shared ? " shared" : ""}, ${r.status ?? "?"}, ${used}, content ${r.content ?? "-"}`;
    }
    default:
      return `${r.type} ${r.name ?? r.id}${r.node ? ` on ${r.node}` : ""}: ${r.status ?? "-"}`;
  }
}

export function registerClusterTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, {
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
    handler: async () => {
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

  defineTool(server, deps, {
    name: "get_cluster_resources",
    title: "Cluster resources",
    description:
      "Everything in the cluster in one call: nodes, VMs, containers, storages with status and usage.",
    input: z.object({
      type: z.enum(["vm", "storage", "node", "sdn"]).optional().describe("Only this kind of resource."),
      limit: limit(500),
    }),
    output: z.object({ total: z.number(), resources: z.array(resourceSchema) }),
    scope: "read",
    annotations: READ_ONLY,
    handler: async (args) => {
      const items = await deps.client.call("GET /cluster/resources", args.type ? { type: args.type } : {});
      const resources = items.map(toResource).sort((a, b) => {
        const ta = TYPE_ORDER.indexOf(a.type);
        const tb = TYPE_ORDER.indexOf(b.type);
        if (ta !== tb) return (ta === -1 ? 99 : ta) - (tb === -1 ? 99 : tb);
        return a.id.localeCompare(b.id, "en", { numeric: true });
      });
      const shown = resources.slice(0, args.limit);
      const counts = TYPE_ORDER.map((t) => [t, resources.filter((r) => r.type === t).length] as const)
        .filter(([, n]) => n > 0)
        .map(([t, n]) => `${n} ${t === "qemu" ? "VM" : t === "lxc" ? "container" : t}${n === 1 ? "" : "s"}`);
      const header = resources.length
        ? `${resources.length} resources: ${counts.join(", ")}`
        : "No resources.";
      const text =
        [header, ...shown.map(resourceLine)].join("\n") +
        moreNote(shown.length, resources.length, "resources");
      return { text, data: { total: resources.length, resources: shown } };
    },
  });

  defineTool(server, deps, {
    name: "get_next_vmid",
    title: "Next free VM ID",
    description: "The next free guest ID.",
    input: z.object({}),
    output: z.object({ vmid: z.number() }),
    scope: "read",
    annotations: READ_ONLY,
    handler: async () => {
      // Proxmox returns it as a string (Perl), so read it as whatever comes.
      const next = Number(await deps.client.call("GET /cluster/nextid", {}));
      return { text: `Next free VM ID: ${next}`, data: { vmid: next } };
    },
  });
}
