import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { freeText, limit, node, storage, vmid, volume } from "../mcp/args";
import { changeSchema, confirmArg, guestTarget, preview, runTask, waitArgs } from "../mcp/changes";
import { bytes, moreNote, tableSchema } from "../mcp/format";
import {
  assertIdle,
  assertUnlocked,
  assertUnprotected,
  disksOf,
  type GuestFacts,
  guestFacts,
  label,
} from "../mcp/guest-state";
import { onNode } from "../mcp/guests";
import { assertAllowed } from "../mcp/policy";
import { changes, defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import { ProxmoxError } from "../proxmox/errors";
import type { GuestType } from "../proxmox/locate";
import { pickNode } from "./provision/placement";
import {
  clusterStorages,
  storageNode,
  toVolume,
  VOLUME_COLUMNS,
  type Volume,
  volumeCells,
  volumeLine,
} from "./storage";

const BACKUP_COLUMNS = ["storage", ...VOLUME_COLUMNS];

const getBackupsTool = tool({
  name: "get_backups",
  title: "List backups",
  description: "Backups, newest first: guest, size, date, notes, protection.",
  input: z.object({
    storage: storage.optional().describe("Default: all backup storages."),
    vmid: vmid.optional(),
    node: node.optional(),
    limit: limit(50),
  }),
  output: z.object({
    total: z.number(),
    searched: z.array(z.string()).describe("storage@node pairs searched"),
    ...tableSchema().shape,
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
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
      ? `${backups.length} backup${backups.length === 1 ? "" : "s"}${subject}, ${bytes(backups.reduce((s, b) => s + (b.size ?? 0), 0))} in all (searched ${searched.join(", ") || "nothing"})`
      : `No backups${subject} found (searched ${searched.join(", ") || "no backup storage"}).`;
    return {
      text: [header, ...shown.map(volumeLine)].join("\n") + moreNote(shown.length, backups.length, "backups"),
      data: {
        total: backups.length,
        searched,
        columns: BACKUP_COLUMNS,
        rows: shown.map((backup) => [backup.storage, ...volumeCells(backup)]),
      },
    };
  },
});

export function registerBackupTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, getBackupsTool);
}

/**
 * Backup volume names say what they hold: vzdump-qemu-101-... or vzdump-lxc-201-... on file
 * storages, `store:backup/vm/931/2023-12-14T04:34:34Z` (vm or ct) on a Proxmox Backup Server.
 */
function backupKind(volid: string): { type: GuestType; vmid?: number } | undefined {
  const vzdump = /vzdump-(qemu|lxc|openvz)-(\d+)-/.exec(volid);
  if (vzdump) return { type: vzdump[1] === "qemu" ? "qemu" : "lxc", vmid: Number(vzdump[2]) };
  const pbs = /^[^:]+:backup\/(vm|ct)\/(\d+)\/\d{4}-\d\d-\d\dT[\d:]+Z$/.exec(volid);
  if (pbs) return { type: pbs[1] === "vm" ? "qemu" : "lxc", vmid: Number(pbs[2]) };
  return undefined;
}

const createBackupTool = tool({
  name: "create_backup",
  title: "Back up guest",
  description: "Back up one guest (vzdump) to a backup storage; mode snapshot (default), suspend or stop.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    storage: storage.optional(),
    mode: z.enum(["snapshot", "suspend", "stop"]).default("snapshot"),
    notes: freeText("notes", { hint: "notes kept with the backup", max: 1024 }).optional(),
    protected: z.boolean().default(false),
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node });
    assertUnlocked(guest);
    const rows = (await clusterStorages(deps)).filter((row) => row.node === guest.node);
    let target = args.storage;
    if (target) {
      const row = rows.find((r) => r.storage === target);
      if (!row)
        throw new ToolError(
          `Storage '${target}' is not available on ${guest.node}. get_storages node=${guest.node} lists them.`,
        );
      if (!row.content.includes("backup")) {
        const usable = rows.filter((r) => r.content.includes("backup")).map((r) => r.storage);
        throw new ToolError(
          `Storage '${target}' does not hold backups (content ${row.content.join(",")}). Backup storages on ${guest.node}: ${usable.join(", ") || "none"}.`,
        );
      }
    } else {
      const usable = rows.filter((r) => r.content.includes("backup") && r.status === "available");
      const shared = usable.filter((r) => r.shared);
      const pick = shared.length === 1 ? shared[0] : usable.length === 1 ? usable[0] : undefined;
      if (!pick) {
        throw new ToolError(
          `Say which storage to back up to: ${usable.map((r) => r.storage).join(", ") || `no backup storage is available on ${guest.node}`}.`,
        );
      }
      target = pick.storage;
    }
    return runTask(deps, ctx, {
      tool: "create_backup",
      target: label(guest),
      subject: guestTarget(guest),
      args: {
        vmid: guest.vmid,
        node: guest.node,
        storage: target,
        mode: args.mode,
        protected: args.protected || undefined,
      },
      action: `Back up ${label(guest)} to ${target} (${args.mode} mode)`,
      // Retention is the storage's prune-backups setting. `maxfiles` (deprecated since PVE 7)
      // is gone from the 9.2 schema, so it is never sent: 9.2 refuses it with a 400.
      start: () =>
        deps.client.call("POST /nodes/{node}/vzdump", {
          node: guest.node,
          vmid: String(guest.vmid),
          storage: target,
          mode: args.mode,
          compress: "zstd",
          "notes-template": args.notes,
          protected: args.protected || undefined,
        }),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

const restoreBackupTool = tool({
  name: "restore_backup",
  title: "Restore backup",
  description: "Restore a backup to a new guest, or over a stopped existing one (needs confirm).",
  input: z.object({
    volid: volume("volid", { hint: "a backup volume ID from get_backups", content: "backup" }).describe(
      "From get_backups.",
    ),
    vmid: vmid.optional().describe("Default: next free."),
    node: node.optional(),
    storage: storage.optional(),
    start: z.boolean().default(false),
    unique: z.boolean().default(false).describe("New MAC addresses."),
    confirm: confirmArg,
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: true, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const kind = backupKind(args.volid);
    if (!kind)
      throw new ToolError(
        `'${args.volid}' is not a backup volume (vzdump-qemu-..., vzdump-lxc-..., or store:backup/vm|ct/... on Proxmox Backup Server). get_backups lists them.`,
      );
    let existing: GuestFacts | undefined;
    let nodeName: string;
    let targetId: number;
    if (args.vmid !== undefined) {
      try {
        existing = await guestFacts(deps, { vmid: args.vmid, node: args.node }, { activeTasks: true });
      } catch (error) {
        if (!(error instanceof ProxmoxError && error.kind === "not_found")) throw error;
      }
    }
    if (existing) {
      if (existing.type !== kind.type) {
        throw new ToolError(
          `${label(existing)} is a ${existing.type === "qemu" ? "VM" : "container"} but this backup is of a ${kind.type === "qemu" ? "VM" : "container"}; restore it to another ID.`,
        );
      }
      assertUnprotected(existing, "overwrite");
      if (existing.status !== "stopped")
        throw new ToolError(`${label(existing)} is ${existing.status}; stop it before restoring over it.`);
      // Stopped is not enough: a start (or any task) may be under way, or a lock held.
      assertIdle(existing);
      if (!args.confirm) {
        const disks = disksOf(existing.config).map((d) => d.volume);
        return preview(
          "restore_backup",
          `This replaces ${label(existing)} on ${existing.node} with the backup ${args.volid}: its current config and ${disks.length} disk${disks.length === 1 ? "" : "s"} (${disks.join(", ") || "none"}) are overwritten.`,
          guestTarget(existing),
        );
      }
      nodeName = existing.node;
      targetId = existing.vmid;
    } else {
      targetId = args.vmid ?? Number(await deps.client.call("GET /cluster/nextid", {}));
      assertAllowed(deps.policy, { vmid: targetId });
      nodeName = await pickNode(deps, args.node);
    }
    assertAllowed(deps.policy, { node: nodeName, vmid: targetId });
    const overwrite = Boolean(existing);
    const common = {
      node: nodeName,
      vmid: targetId,
      storage: args.storage,
      force: overwrite || undefined,
      unique: args.unique || undefined,
      start: args.start || undefined,
    };
    return runTask(deps, ctx, {
      tool: "restore_backup",
      target: `${kind.type === "qemu" ? "VM" : "Container"} ${targetId}`,
      subject: guestTarget({ vmid: targetId, node: nodeName, name: existing?.name }),
      args: { volid: args.volid, ...common },
      action: `Restore ${args.volid} ${overwrite ? "over" : "to new"} ${kind.type === "qemu" ? "VM" : "container"} ${targetId} on ${nodeName}`,
      start: () =>
        kind.type === "qemu"
          ? deps.client.call("POST /nodes/{node}/qemu", { ...common, archive: args.volid })
          : deps.client.call("POST /nodes/{node}/lxc", {
              ...common,
              ostemplate: args.volid,
              restore: true,
            }),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

export function registerBackupChangeTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, createBackupTool);
  defineTool(server, deps, restoreBackupTool);
}
