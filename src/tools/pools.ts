import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { freeText, poolid } from "../mcp/args";
import { auditedChange, changed, changeSchema, confirmArg, preview } from "../mcp/changes";
import { compact } from "../mcp/format";
import { changes, defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import { ProxmoxError } from "../proxmox/errors";

const memberSchema = z.object({
  id: z.string(),
  type: z.string().describe("qemu, lxc or storage"),
  node: z.string(),
  vmid: z.number().optional(),
  name: z.string().optional(),
  storage: z.string().optional(),
  status: z.string().optional(),
});
type Member = z.infer<typeof memberSchema>;

function toMember(raw: Record<string, unknown>): Member {
  return compact({
    id: String(raw.id),
    type: String(raw.type),
    node: String(raw.node),
    // A number on real hosts; a string of digits (as container lists send) is read the same.
    vmid:
      typeof raw.vmid === "number" || (typeof raw.vmid === "string" && /^\d+$/.test(raw.vmid))
        ? Number(raw.vmid)
        : undefined,
    name: typeof raw.name === "string" ? raw.name : undefined,
    storage: typeof raw.storage === "string" ? raw.storage : undefined,
    status: typeof raw.status === "string" ? raw.status : undefined,
  });
}

function memberLine(m: Member): string {
  if (m.type === "storage") return `storage ${m.storage} on ${m.node}`;
  const kind = m.type === "qemu" ? "vm" : m.type === "lxc" ? "ct" : m.type;
  return `${kind} ${m.vmid}${m.name ? ` ${m.name}` : ""} on ${m.node}${m.status ? `: ${m.status}` : ""}`;
}

/**
 * One pool and its members, through the query form GET /pools?poolid=. The per-pool path
 * (/pools/{poolid}) is deprecated and cannot name a nested pool: Proxmox decodes the whole path
 * before routing, so "prod%2Fdb" becomes two segments.
 */
async function readPool(deps: ToolDeps, poolid: string) {
  let rows: Awaited<ReturnType<typeof deps.client.call<"GET /pools">>>;
  try {
    rows = await deps.client.call("GET /pools", { poolid });
  } catch (error) {
    if (error instanceof ProxmoxError && error.kind === "not_found") {
      throw new ToolError(`There is no pool '${poolid}'. get_pools lists the pools.`);
    }
    throw error;
  }
  const pool = rows.find((row) => row.poolid === poolid);
  if (!pool) throw new ToolError(`There is no pool '${poolid}'. get_pools lists the pools.`);
  return { comment: pool.comment, members: pool.members ?? [] };
}

const getPoolsTool = tool({
  name: "get_pools",
  title: "List pools",
  description: "Resource pools with member counts.",
  input: z.object({}),
  output: z.object({
    pools: z.array(
      z.object({
        poolid: z.string(),
        comment: z.string().optional(),
        guests: z.number().optional(),
        storages: z.number().optional(),
      }),
    ),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async () => {
    const items = await deps.client.call("GET /pools", {});
    const pools = items
      .map((item) =>
        compact({
          poolid: item.poolid,
          comment: item.comment || undefined,
          guests: item.members ? item.members.filter((m) => m.type !== "storage").length : undefined,
          storages: item.members ? item.members.filter((m) => m.type === "storage").length : undefined,
        }),
      )
      .sort((a, b) => a.poolid.localeCompare(b.poolid));
    const lines = pools.map(
      (p) =>
        `${p.poolid}${p.guests !== undefined ? `: ${p.guests} guest${p.guests === 1 ? "" : "s"}, ${p.storages} storage${p.storages === 1 ? "" : "s"}` : ""}${p.comment ? ` "${p.comment}"` : ""}`,
    );
    return {
      text: [pools.length ? `${pools.length} pools` : "No pools.", ...lines].join("\n"),
      data: { pools },
    };
  },
});

const getPoolTool = tool({
  name: "get_pool",
  title: "Pool members",
  description: "One pool's member guests and storages.",
  input: z.object({ poolid: poolid }),
  output: z.object({ poolid: z.string(), comment: z.string().optional(), members: z.array(memberSchema) }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const pool = await readPool(deps, args.poolid);
    const members = pool.members
      .map((m) => toMember(m as Record<string, unknown>))
      .sort(
        (a, b) => a.type.localeCompare(b.type) || (a.vmid ?? 0) - (b.vmid ?? 0) || a.id.localeCompare(b.id),
      );
    const header = `Pool ${args.poolid}${pool.comment ? ` "${pool.comment}"` : ""}: ${members.length} member${members.length === 1 ? "" : "s"}`;
    return {
      text: [header, ...members.map(memberLine)].join("\n"),
      data: compact({ poolid: args.poolid, comment: pool.comment || undefined, members }),
    };
  },
});

export function registerPoolTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getPoolsTool);
  defineTool(server, deps, getPoolTool);
}

const createPoolTool = tool({
  name: "create_pool",
  title: "Create pool",
  description: "Create a resource pool.",
  input: z.object({
    poolid: poolid,
    comment: freeText("comment", { hint: "a note on the pool", max: 1024 }).optional(),
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args) => {
    await auditedChange(deps, { tool: "create_pool", target: `pool ${args.poolid}`, args }, () =>
      deps.client.call("POST /pools", { poolid: args.poolid, comment: args.comment }),
    );
    return changed(`Created pool ${args.poolid}.`, `Create pool ${args.poolid}`, { pool: args.poolid });
  },
});

const deletePoolTool = tool({
  name: "delete_pool",
  title: "Delete pool",
  description: "Delete an empty pool (members are never deleted). Needs confirm.",
  input: z.object({ poolid: poolid, confirm: confirmArg }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) => {
    const pool = await readPool(deps, args.poolid);
    const members = pool.members.map((m) => toMember(m as Record<string, unknown>));
    if (members.length > 0) {
      throw new ToolError(
        `Pool ${args.poolid} still has ${members.length} member${members.length === 1 ? "" : "s"} (${members.map(memberLine).join("; ")}). ` +
          "Proxmox deletes only empty pools: take the members out of it first.",
      );
    }
    if (!args.confirm) {
      return preview(
        "delete_pool",
        `This deletes the empty pool ${args.poolid}${pool.comment ? ` ("${pool.comment}")` : ""} and the permissions granted on it.`,
        { pool: args.poolid },
      );
    }
    await auditedChange(
      deps,
      { tool: "delete_pool", target: `pool ${args.poolid}`, args: { poolid: args.poolid } },
      () => deps.client.call("DELETE /pools", { poolid: args.poolid }),
    );
    return changed(`Deleted pool ${args.poolid}.`, `Delete pool ${args.poolid}`, { pool: args.poolid });
  },
});

export function registerPoolChangeTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, createPoolTool);
  defineTool(server, deps, deletePoolTool);
}
