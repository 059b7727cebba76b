import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { node } from "../mcp/args";
import { bytes, compact, duration, percent, round, usage } from "../mcp/format";
import { onNode } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";

const usageSchema = z.object({ used: z.number(), total: z.number() });

const getNodesTool = tool({
  name: "get_nodes",
  title: "List nodes",
  description: "Nodes with online state, CPU, memory, uptime.",
  input: z.object({}),
  output: z.object({
    nodes: z.array(
      z.object({
        node: z.string(),
        status: z.string(),
        cpu: z.number().optional(),
        maxcpu: z.number().optional(),
        mem: z.number().optional(),
        maxmem: z.number().optional(),
        uptime: z.number().optional(),
        level: z.string().optional().describe("subscription level"),
      }),
    ),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async () => {
    const items = await deps.client.call("GET /nodes", {});
    const nodes = items
      .map((item) => {
        const online = item.status === "online";
        return compact({
          node: item.node,
          status: item.status,
          cpu: online ? round(item.cpu) : undefined,
          maxcpu: item.maxcpu,
          mem: online ? item.mem : undefined,
          maxmem: item.maxmem,
          uptime: online ? item.uptime : undefined,
          level: item.level || undefined,
        });
      })
      .sort((a, b) => a.node.localeCompare(b.node, "en", { numeric: true }));
    const online = nodes.filter((n) => n.status === "online").length;
    const lines = nodes.map((n) =>
      n.status === "online"
        ? `${n.node}: online, cpu ${percent(n.cpu)} of ${n.maxcpu ?? "?"}, mem ${usage(n.mem, n.maxmem)}, up ${duration(n.uptime)}`
        : `${n.node}: ${n.status.toUpperCase()}`,
    );
    return { text: [`${nodes.length} nodes, ${online} online`, ...lines].join("\n"), data: { nodes } };
  },
});

const getNodeStatusTool = tool({
  name: "get_node_status",
  title: "Node status",
  description: "One node: CPU model and load, memory, swap, root fs, uptime, kernel, PVE version.",
  input: z.object({ node: node }),
  output: z.object({
    node: z.string(),
    uptime: z.number().optional(),
    cpu: z.number().describe("CPU use, 0-1"),
    cpus: z.number().optional(),
    cpuModel: z.string().optional(),
    sockets: z.number().optional(),
    loadavg: z.array(z.number()),
    memory: usageSchema,
    swap: usageSchema.optional(),
    rootfs: usageSchema,
    kernel: z.string().optional(),
    pveversion: z.string(),
    bootMode: z.string().optional(),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const status = await onNode(deps, args.node, () =>
      deps.client.call("GET /nodes/{node}/status", { node: args.node }),
    );
    const swap = status.swap as { used?: number; total?: number } | undefined;
    const kernel =
      status["current-kernel"]?.release ??
      (typeof status.kversion === "string" ? status.kversion : undefined);
    const data = compact({
      node: args.node,
      uptime: typeof status.uptime === "number" ? status.uptime : undefined,
      cpu: round(status.cpu) ?? 0,
      cpus: status.cpuinfo?.cpus,
      cpuModel: status.cpuinfo?.model,
      sockets: status.cpuinfo?.sockets,
      loadavg: (status.loadavg ?? []).map(Number),
      memory: { used: status.memory.used, total: status.memory.total },
      swap: swap?.total !== undefined ? { used: swap.used ?? 0, total: swap.total } : undefined,
      rootfs: { used: status.rootfs.used, total: status.rootfs.total },
      kernel,
      pveversion: status.pveversion,
      bootMode: status["boot-info"]?.mode,
    });
    const lines = [
      `Node ${args.node}: up ${duration(data.uptime)}, ${data.pveversion}`,
      `cpu ${percent(data.cpu)} of ${data.cpus ?? "?"} (${data.cpuModel ?? "unknown model"}${data.sockets ? `, ${data.sockets} socket${data.sockets > 1 ? "s" : ""}` : ""}), load ${data.loadavg.join(" ")}`,
      `memory ${usage(data.memory.used, data.memory.total)} (${percent(data.memory.used / (data.memory.total || 1))})` +
        (data.swap ? `, swap ${data.swap.total ? usage(data.swap.used, data.swap.total) : "none"}` : ""),
      `root fs ${usage(data.rootfs.used, data.rootfs.total)} (${percent(data.rootfs.used / (data.rootfs.total || 1))}), ${bytes(data.rootfs.total - data.rootfs.used)} free`,
    ];
    if (data.kernel) lines.push(`kernel ${data.kernel}${data.bootMode ? `, ${data.bootMode} boot` : ""}`);
    return { text: lines.join("\n"), data };
  },
});

export function registerNodeTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getNodesTool);
  defineTool(server, deps, getNodeStatusTool);
}
