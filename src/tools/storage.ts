import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { limit, node, storage, vmid } from "../mcp/args";
import {
  bytes,
  type Cell,
  compact,
  flag,
  moreNote,
  percent,
  row,
  tableSchema,
  timestamp,
  usage,
} from "../mcp/format";
import { onNode } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import type { NodesStorageContentGetItem } from "../proxmox/generated/pve-api";

const storageRowSchema = z.object({
  storage: z.string(),
  node: z.string(),
  type: z.string().describe("dir, lvmthin, nfs, zfspool, pbs, ..."),
  content: z.array(z.string()),
  shared: z.boolean(),
  status: z.string().describe("available, unavailable, disabled"),
  used: z.number().optional(),
  total: z.number().optional(),
});
type StorageRow = z.infer<typeof storageRowSchema>;

export const volumeSchema = z.object({
  volid: z.string(),
  content: z.string().optional(),
  format: z.string(),
  // PVE 9.2 may leave `size` out of PBS backups and give `approximate-size` instead.
  size: z.number().optional(),
  ctime: z.number().optional(),
  vmid: z.number().optional(),
  notes: z.string().optional(),
  protected: z.boolean().optional(),
  encrypted: z.boolean().optional(),
  verification: z.string().optional(),
});
export type Volume = z.infer<typeof volumeSchema>;

export function toVolume(item: NodesStorageContentGetItem): Volume {
  const content = (item as { content?: string }).content;
  return compact({
    volid: item.volid,
    content,
    format: item.format,
    size: item.size ?? item["approximate-size"],
    ctime: item.ctime,
    vmid: item.vmid,
    notes: item.notes || undefined,
    protected: flag(item.protected) || undefined,
    encrypted: item.encrypted ? true : undefined,
    verification: item.verification?.state,
  });
}

/** Columns of a volume table; size in bytes (volumes run from KiB snippets to TiB disks). */
export const VOLUME_COLUMNS = [
  "volid",
  "content",
  "format",
  "size_bytes",
  "ctime",
  "vmid",
  "notes",
  "protected",
  "encrypted",
  "verification",
];

export function volumeCells(v: Volume): Cell[] {
  return row([
    v.volid,
    v.content,
    v.format,
    v.size,
    v.ctime,
    v.vmid,
    v.notes,
    v.protected,
    v.encrypted,
    v.verification,
  ]);
}

export function volumeLine(v: Volume): string {
  // What the volume ID already says is not said again: "nas:backup/vzdump-...vma.zst" is a backup
  // in vma.zst, "local:iso/debian.iso" an iso; disk images keep their content and format.
  const content = v.content && !v.volid.includes(`:${v.content}/`) ? v.content : "";
  const format = v.volid.endsWith(`.${v.format}`) ? "" : v.format;
  let line = `${v.volid} ${content} ${format} ${bytes(v.size)}`.replace(/\s+/g, " ");
  if (v.ctime) line += `, ${timestamp(v.ctime)}`;
  if (v.vmid) line += `, guest ${v.vmid}`;
  if (v.protected) line += ", protected";
  if (v.verification) line += `, verify ${v.verification}`;
  if (v.notes) line += ` "${v.notes}"`;
  return line;
}

function storageLine(s: StorageRow): string {
  const size = s.total ? `${usage(s.used, s.total)} (${percent((s.used ?? 0) / s.total)})` : "size unknown";
  return `${s.storage} on ${s.node}: ${s.type}${s.shared ? " shared" : ""}, ${s.status}, ${size}, content ${s.content.join(",") || "-"}`;
}

/** The storages of the cluster as /cluster/resources reports them (one row per node). */
export async function clusterStorages(deps: ToolDeps): Promise<StorageRow[]> {
  const items = await deps.client.call("GET /cluster/resources", { type: "storage" });
  return items
    .filter((item) => item.type === "storage" && item.storage && item.node)
    .map((item) =>
      compact({
        storage: item.storage as string,
        node: item.node as string,
        type: item.plugintype ?? "unknown",
        content: (item.content ?? "").split(",").filter(Boolean),
        shared: flag(item.shared),
        status: item.status ?? "unknown",
        used: item.disk,
        total: item.maxdisk,
      }),
    );
}

/**
 * Which node to read a storage through when the caller gave none: any online node for a shared
 * storage, the only node for a local one, else ask.
 */
export async function storageNode(deps: ToolDeps, storageId: string): Promise<string> {
  const rows = await clusterStorages(deps);
  const matches = rows.filter((row) => row.storage === storageId);
  if (matches.length === 0) {
    const names = [...new Set(rows.map((row) => row.storage))].sort().join(", ");
    throw new ToolError(
      `There is no storage '${storageId}' in this cluster.${names ? ` Storages: ${names}.` : ""}`,
    );
  }
  const usable = matches.filter((row) => row.status === "available");
  if (matches[0]?.shared || matches.length === 1) {
    const pick = usable[0] ?? matches[0];
    return (pick as StorageRow).node;
  }
  throw new ToolError(
    `Storage '${storageId}' is local to each of ${matches.map((m) => m.node).join(", ")}: pass node to say which one.`,
  );
}

const getStoragesTool = tool({
  name: "get_storages",
  title: "List storages",
  description: "Storages with type, content types, shared flag, state and usage, per node.",
  input: z.object({ node: node.optional() }),
  output: z.object({ storages: z.array(storageRowSchema) }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    let rows: StorageRow[];
    if (args.node) {
      const nodeName = args.node;
      const items = await onNode(deps, nodeName, () =>
        deps.client.call("GET /nodes/{node}/storage", { node: nodeName }),
      );
      rows = items.map((item) =>
        compact({
          storage: item.storage,
          node: nodeName,
          type: item.type,
          content: item.content.split(",").filter(Boolean),
          shared: flag(item.shared),
          status:
            item.enabled !== undefined && !flag(item.enabled)
              ? "disabled"
              : flag(item.active)
                ? "available"
                : "unavailable",
          used: item.used,
          total: item.total,
        }),
      );
    } else {
      rows = await clusterStorages(deps);
    }
    rows.sort(
      (a, b) => a.storage.localeCompare(b.storage) || a.node.localeCompare(b.node, "en", { numeric: true }),
    );
    const header = `${rows.length} storage${rows.length === 1 ? "" : "s"}${args.node ? ` on ${args.node}` : ""}`;
    return { text: [header, ...rows.map(storageLine)].join("\n"), data: { storages: rows } };
  },
});

const getStorageContentTool = tool({
  name: "get_storage_content",
  title: "Storage content",
  description: "Volumes on a storage (images, ISOs, templates, backups) with size and date.",
  input: z.object({
    storage: storage,
    node: node.optional(),
    content: z.enum(["images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"]).optional(),
    vmid: vmid.optional(),
    limit: limit(200),
  }),
  output: z.object({
    storage: z.string(),
    node: z.string(),
    total: z.number(),
    ...tableSchema().shape,
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const nodeName = args.node ?? (await storageNode(deps, args.storage));
    const items = await onNode(deps, nodeName, () =>
      deps.client.call("GET /nodes/{node}/storage/{storage}/content", {
        node: nodeName,
        storage: args.storage,
        content: args.content,
        vmid: args.vmid,
      }),
    );
    const volumes = items
      .map(toVolume)
      .sort((a, b) => a.volid.localeCompare(b.volid, "en", { numeric: true }));
    const shown = volumes.slice(0, args.limit);
    const total = volumes.reduce((sum, v) => sum + (v.size ?? 0), 0);
    const header = volumes.length
      ? `${volumes.length} volume${volumes.length === 1 ? "" : "s"} on ${args.storage} (via ${nodeName}), ${bytes(total)} in all`
      : `No ${args.content ?? ""} volumes on ${args.storage} (via ${nodeName})${args.vmid ? ` for guest ${args.vmid}` : ""}.`.replace(
          "  ",
          " ",
        );
    return {
      text: [header, ...shown.map(volumeLine)].join("\n") + moreNote(shown.length, volumes.length, "volumes"),
      data: {
        storage: args.storage,
        node: nodeName,
        total: volumes.length,
        columns: VOLUME_COLUMNS,
        rows: shown.map(volumeCells),
      },
    };
  },
});

export function registerStorageTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getStoragesTool);
  defineTool(server, deps, getStorageContentTool);
}
