import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { describe, limit, node, storage, vmid } from "../mcp/args";
import { bytes, moreNote } from "../mcp/format";
import { onNode } from "../mcp/guests";
import { defineTool, READ_ONLY, type ToolDeps } from "../mcp/tool";
import { clusterStorages, storageNode, toVolume, type Volume, volumeLine, volumeSchema } from "./storage";

export function registerBackupTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, {
    name: "get_backups",
    title: "List backups",
    description:
      "List vzdump backups, newest first, with guest, size, date, notes and protection. Give `storage` for one " +
      "storage, or omit it to search every backup storage. Filter by `vmid`.",
    input: z.object({
      storage: storage
        .optional()
        .describe("Backup storage ID, e.g. nas. Omit to search all backup storages."),
      vmid: vmid.optional().describe("Only backups of this guest."),
      node: node.optional().describe("Node to read local storages through."),
      limit: limit(50).describe(describe.limit),
    }),
    output: z.object({
      total: z.number(),
      backups: z.array(volumeSchema.extend({ storage: z.string() })),
      searched: z.array(z.string()).describe("storage@node pairs searched"),
    }),
    annotations: READ_ONLY,
    handler: async (args) => {
      let targets: { storage: string; node: string }[];
      if (args.storage) {
        const storageId = args.storage;
        targets = [{ storage: storageId, node: args.node ?? (await storageNode(deps, storageId)) }];
      } else {
        const rows = (await clusterStorages(deps)).filter(
          (row) =>
            row.content.includes("backup") &&
            row.status === "available" &&
            (!args.node || row.node === args.node),
        );
        const seenShared = new Set<string>();
        targets = [];
        for (const row of rows) {
          if (row.shared) {
            if (seenShared.has(row.storage)) continue;
            seenShared.add(row.storage);
          }
          targets.push({ storage: row.storage, node: row.node });
        }
      }
      const lists = await Promise.all(
        targets.map(async (target) => {
          const items = await onNode(deps, target.node, () =>
            deps.client.call("GET /nodes/{node}/storage/{storage}/content", {
              node: target.node,
              storage: target.storage,
              content: "backup",
              vmid: args.vmid,
            }),
          );
          return items.map((item) => ({ ...toVolume(item), storage: target.storage }));
        }),
      );
      const backups: (Volume & { storage: string })[] = lists.flat();
      backups.sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0) || a.volid.localeCompare(b.volid));
      const shown = backups.slice(0, args.limit);
      const searched = targets.map((t) => `${t.storage}@${t.node}`);
      const subject = args.vmid ? ` of guest ${args.vmid}` : "";
      const header = backups.length
        ? `${backups.length} backup${backups.length === 1 ? "" : "s"}${subject}, ${bytes(backups.reduce((s, b) => s + b.size, 0))} in all (searched ${searched.join(", ") || "nothing"})`
        : `No backups${subject} found (searched ${searched.join(", ") || "no backup storage"}).`;
      return {
        text:
          [header, ...shown.map(volumeLine)].join("\n") + moreNote(shown.length, backups.length, "backups"),
        data: { total: backups.length, backups: shown, searched },
      };
    },
  });
}
