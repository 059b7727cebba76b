import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { node, poolid, storage, vmid } from "../mcp/args";
import {
  assertAllowed,
  auditedChange,
  type ChangeAnswer,
  changed,
  changeSchema,
  confirmArg,
  guestTarget,
  preview,
  runTask,
  waitArgs,
} from "../mcp/changes";
import { bytes } from "../mcp/format";
import { changes, defineTool, type ToolDeps, ToolError, tool } from "../mcp/tool";
import type { EndpointParams } from "../proxmox/client";
import { ProxmoxError } from "../proxmox/errors";
import type { GuestType } from "../proxmox/locate";
import {
  assertIdle,
  assertUnlocked,
  assertUnprotected,
  disksOf,
  type GuestFacts,
  guestFacts,
  label,
  WORD,
} from "./guest-state";
import { afterCreate, assertTemplateExists, createdSchema, withStarted } from "./provision-create";
import { clusterStorages } from "./storage";

/**
 * Creating, changing and removing guests: create, delete, update, clone, migrate, resize.
 * Every tool checks what Proxmox would refuse (taken IDs, running guests, same-node migration,
 * shrinking disks, protection) before it sends anything.
 */

const extraArg = z.string().max(8192).optional().describe("More Proxmox options, key=value per line.");

/** "bios=ovmf\nmachine=q35" → { bios: "ovmf", machine: "q35" }. */
export function parseExtra(
  extra: string | undefined,
  reserved: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!extra) return out;
  for (const raw of extra.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq).trim() : "";
    if (!/^[a-z][a-z0-9_-]*$/i.test(key)) {
      throw new ToolError(`extra: '${line}' is not a key=value option (one per line, e.g. bios=ovmf).`);
    }
    if (reserved.includes(key)) throw new ToolError(`extra: set ${key} with its own argument, not in extra.`);
    out[key] = line.slice(eq + 1).trim();
  }
  return out;
}

/** A size as Proxmox writes it ("32G", "512M", "1T") in bytes. */
export function sizeBytes(size: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(size.trim());
  if (!match) return undefined;
  const unit =
    { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(match[2] ?? "").toUpperCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** The node to create on: the one asked for (online and allowed), else the online node with most free memory. */
export async function pickNode(deps: ToolDeps, requested: string | undefined): Promise<string> {
  const nodes = (await deps.client.call("GET /cluster/resources", { type: "node" })).filter(
    (n) => n.type === "node",
  );
  if (requested) {
    const found = nodes.find((n) => n.node === requested);
    if (!found) {
      throw new ToolError(
        `There is no node '${requested}' in this cluster. Nodes: ${nodes
          .map((n) => n.node)
          .sort()
          .join(", ")}.`,
      );
    }
    if (found.status !== "online")
      throw new ToolError(`Node ${requested} is ${found.status ?? "not online"}; pick an online node.`);
    assertAllowed(deps.policy, { node: requested });
    return requested;
  }
  const candidates = nodes
    .filter((n) => n.status === "online" && (!deps.policy.nodes || deps.policy.nodes.has(n.node as string)))
    .sort((a, b) => (b.maxmem ?? 0) - (b.mem ?? 0) - ((a.maxmem ?? 0) - (a.mem ?? 0)));
  const best = candidates[0]?.node;
  if (!best)
    throw new ToolError(
      "No online node is available (or allowed by PVE_ALLOWED_NODES) to create the guest on.",
    );
  return best;
}

/** A free guest ID: the one asked for, checked with Proxmox, or the next free one. */
async function freeVmid(deps: ToolDeps, requested: number | undefined): Promise<number> {
  if (requested === undefined) return Number(await deps.client.call("GET /cluster/nextid", {}));
  try {
    await deps.client.call("GET /cluster/nextid", { vmid: requested });
  } catch (error) {
    if (error instanceof ProxmoxError && error.kind === "invalid_params") {
      let who = "";
      try {
        const owner = await deps.locator.locate(requested, undefined, { fresh: true });
        who = ` by ${WORD[owner.type]}${owner.name ? ` '${owner.name}'` : ""} on ${owner.node}`;
      } catch {
        // The ID may belong to something the index does not show; the message stands without it.
      }
      throw new ToolError(`VM ID ${requested} is already taken${who}. get_next_vmid gives a free one.`);
    }
    throw error;
  }
  assertAllowed(deps.policy, { vmid: requested });
  return requested;
}

const createVmTool = tool({
  name: "create_vm",
  title: "Create VM",
  description:
    "Create a VM with one disk, a NIC, optional ISO and cloud-init. Defaults: 2 cores, 2048 MiB, 32 GiB on local-lvm, vmbr0.",
  input: z.object({
    vmid: vmid.optional().describe("Default: next free."),
    node: node.optional().describe("Default: most free memory."),
    name: z.string().max(128).optional(),
    cores: z.coerce.number().int().min(1).max(512).default(2),
    memory: z.coerce.number().int().min(16).default(2048).describe("MiB."),
    disk_gb: z.coerce.number().int().min(1).max(65536).default(32),
    storage: storage.default("local-lvm"),
    bridge: z.string().max(15).default("vmbr0"),
    iso: z.string().max(256).optional().describe("e.g. local:iso/debian-13.iso"),
    ostype: z.enum(["l26", "win11", "win10", "other"]).default("l26"),
    ciuser: z.string().max(64).optional(),
    sshkey: z.string().max(8192).optional(),
    ip: z.string().max(128).optional().describe("Cloud-init: dhcp or 10.0.0.5/24,gw=10.0.0.1"),
    start: z.boolean().default(false),
    pool: poolid.optional(),
    tags: z.string().max(256).optional(),
    extra: extraArg,
    ...waitArgs,
  }),
  output: createdSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const nodeName = await pickNode(deps, args.node);
    const id = await freeVmid(deps, args.vmid);
    const cloudInit = Boolean(args.ciuser || args.sshkey || args.ip);
    const params: Record<string, string | number | boolean | undefined> = {
      node: nodeName,
      vmid: id,
      name: args.name,
      cores: args.cores,
      sockets: 1,
      memory: String(args.memory),
      ostype: args.ostype,
      scsihw: "virtio-scsi-single",
      scsi0: `${args.storage}:${args.disk_gb},iothread=1`,
      net0: `virtio,bridge=${args.bridge}`,
      ide2: args.iso ? `${args.iso},media=cdrom` : cloudInit ? `${args.storage}:cloudinit` : undefined,
      boot: args.iso ? "order=scsi0;ide2;net0" : "order=scsi0;net0",
      agent: "1",
      ciuser: args.ciuser,
      // Proxmox wants the key list URL-encoded inside the value (qemu-server sshkeys format).
      sshkeys: args.sshkey ? encodeURIComponent(args.sshkey.trim()) : undefined,
      ipconfig0: args.ip
        ? args.ip === "dhcp"
          ? "ip=dhcp"
          : args.ip.startsWith("ip=")
            ? args.ip
            : `ip=${args.ip}`
        : undefined,
      start: args.start || undefined,
      pool: args.pool,
      tags: args.tags,
      ...parseExtra(args.extra, [
        "vmid",
        "node",
        "name",
        "cores",
        "memory",
        "scsi0",
        "net0",
        "start",
        "pool",
      ]),
    };
    if (args.iso && cloudInit) params.ide0 = `${args.storage}:cloudinit`;
    const after = afterCreate(deps, "qemu", id, nodeName, args.start);
    const answer = await runTask(deps, ctx, {
      tool: "create_vm",
      target: `VM ${id}`,
      subject: guestTarget({ vmid: id, node: nodeName, name: args.name }),
      afterDone: after.note,
      args: { ...params, sshkeys: params.sshkeys ? "(set)" : undefined },
      action: `Create VM ${id}${args.name ? ` '${args.name}'` : ""} on ${nodeName}${args.start ? " and start it" : ""}`,
      start: () =>
        deps.client.call(
          "POST /nodes/{node}/qemu",
          params as unknown as EndpointParams<"POST /nodes/{node}/qemu">,
        ),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
    return withStarted(answer, after.result);
  },
});

const createContainerTool = tool({
  name: "create_container",
  title: "Create container",
  description:
    "Create a container from a template. Defaults: 1 core, 512 MiB, 8 GiB on local-lvm, DHCP on vmbr0, unprivileged.",
  input: z.object({
    vmid: vmid.optional().describe("Default: next free."),
    node: node.optional().describe("Default: most free memory."),
    template: z.string().min(3).max(256).describe("vztmpl volume"),
    hostname: z.string().max(128).optional(),
    cores: z.coerce.number().int().min(1).max(512).default(1),
    memory: z.coerce.number().int().min(16).default(512).describe("MiB."),
    swap: z.coerce.number().int().min(0).default(512).describe("MiB."),
    disk_gb: z.coerce.number().int().min(1).max(65536).default(8),
    storage: storage.default("local-lvm"),
    bridge: z.string().max(15).default("vmbr0"),
    ip: z.string().max(128).default("dhcp").describe("dhcp or 10.0.0.5/24,gw=10.0.0.1"),
    password: z.string().min(5).max(64).optional(),
    sshkey: z.string().max(8192).optional(),
    unprivileged: z.boolean().default(true),
    start: z.boolean().default(false),
    pool: poolid.optional(),
    tags: z.string().max(256).optional(),
    extra: extraArg,
    ...waitArgs,
  }),
  output: createdSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const nodeName = await pickNode(deps, args.node);
    await assertTemplateExists(deps, nodeName, args.template);
    const id = await freeVmid(deps, args.vmid);
    const ip = args.ip === "dhcp" ? "ip=dhcp" : args.ip.startsWith("ip=") ? args.ip : `ip=${args.ip}`;
    const params: Record<string, string | number | boolean | undefined> = {
      node: nodeName,
      vmid: id,
      ostemplate: args.template,
      hostname: args.hostname,
      cores: args.cores,
      memory: args.memory,
      swap: args.swap,
      rootfs: `${args.storage}:${args.disk_gb}`,
      net0: `name=eth0,bridge=${args.bridge},${ip}`,
      password: args.password,
      "ssh-public-keys": args.sshkey,
      unprivileged: args.unprivileged,
      start: args.start || undefined,
      pool: args.pool,
      tags: args.tags,
      ...parseExtra(args.extra, [
        "vmid",
        "node",
        "ostemplate",
        "hostname",
        "password",
        "rootfs",
        "net0",
        "start",
        "pool",
      ]),
    };
    const after = afterCreate(deps, "lxc", id, nodeName, args.start);
    const answer = await runTask(deps, ctx, {
      tool: "create_container",
      target: `Container ${id}`,
      subject: guestTarget({ vmid: id, node: nodeName, name: args.hostname }),
      afterDone: after.note,
      args: params,
      action: `Create container ${id}${args.hostname ? ` '${args.hostname}'` : ""} on ${nodeName}${args.start ? " and start it" : ""}`,
      start: () =>
        deps.client.call(
          "POST /nodes/{node}/lxc",
          params as unknown as EndpointParams<"POST /nodes/{node}/lxc">,
        ),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
    return withStarted(answer, after.result);
  },
});

/** The config fields update_vm and update_container share. */
const updateArgs = {
  cores: z.coerce.number().int().min(1).max(512).optional(),
  memory: z.coerce.number().int().min(16).optional().describe("MiB."),
  description: z.string().max(8192).optional(),
  tags: z.string().max(256).optional(),
  onboot: z.boolean().optional(),
  delete: z.string().max(512).optional().describe("Keys to remove, comma list."),
  extra: extraArg,
};

const updateVmTool = tool({
  name: "update_vm",
  title: "Update VM config",
  description:
    "Change a VM's config (cores, memory, name, tags, description, onboot, any option via extra; delete removes keys).",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    name: z.string().max(128).optional(),
    ...updateArgs,
  }),
  output: changeSchema.extend({ changed: z.array(z.string()) }),
  scope: "write",
  annotations: changes({ destructive: false, idempotent: true }),
  handler: (deps) => async (args) => updateGuest(deps, "qemu", args),
});

const updateContainerTool = tool({
  name: "update_container",
  title: "Update container config",
  description:
    "Change a container's config (cores, memory, swap, hostname, tags, description, onboot, extra, delete).",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    hostname: z.string().max(128).optional(),
    swap: z.coerce.number().int().min(0).optional().describe("MiB."),
    ...updateArgs,
  }),
  output: changeSchema.extend({ changed: z.array(z.string()) }),
  scope: "write",
  annotations: changes({ destructive: false, idempotent: true }),
  handler: (deps) => async (args) => updateGuest(deps, "lxc", args),
});

const cloneVmTool = tool({
  name: "clone_vm",
  title: "Clone VM",
  description:
    "Clone a VM or template: full copy, or linked (templates only). Optionally to another node or storage.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    newid: vmid.optional().describe("Default: next free."),
    name: z.string().max(128).optional(),
    full: z.boolean().optional().describe("Default: linked for templates."),
    target: node.optional(),
    storage: storage.optional(),
    pool: poolid.optional(),
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const source = await guestFacts(deps, { vmid: args.vmid, node: args.node, type: "qemu" });
    assertUnlocked(source);
    const full = args.full ?? !source.template;
    if (!full && !source.template) {
      throw new ToolError(
        `${label(source)} is not a template: a linked clone needs a template. Clone it with full=true, or convert it to a template first.`,
      );
    }
    if (args.target && args.target !== source.node) {
      await pickNode(deps, args.target);
      const shared = new Set(
        (await clusterStorages(deps)).filter((row) => row.shared).map((row) => row.storage),
      );
      const local = disksOf(source.config)
        .map((d) => d.volume.split(":")[0] ?? "")
        .filter((id) => !shared.has(id));
      if (local.length > 0 && !(args.storage && shared.has(args.storage))) {
        throw new ToolError(
          `${label(source)} has disks on local storage (${[...new Set(local)].join(", ")}), which ${args.target} cannot reach. ` +
            `Clone it on ${source.node} and then migrate_vm the clone, or give storage= a shared storage.`,
        );
      }
    }
    const newid = await freeVmid(deps, args.newid);
    const where = args.target && args.target !== source.node ? ` on ${args.target}` : "";
    return runTask(deps, ctx, {
      tool: "clone_vm",
      target: label(source),
      subject: guestTarget(source),
      args: {
        vmid: source.vmid,
        node: source.node,
        newid,
        name: args.name,
        full,
        target: args.target,
        storage: args.storage,
        pool: args.pool,
      },
      action: `${full ? "Full" : "Linked"} clone of ${label(source)} to VM ${newid}${args.name ? ` '${args.name}'` : ""}${where}`,
      start: () =>
        deps.client.call("POST /nodes/{node}/qemu/{vmid}/clone", {
          node: source.node,
          vmid: source.vmid,
          newid,
          name: args.name,
          full,
          target: args.target,
          storage: full ? args.storage : undefined,
          pool: args.pool,
        }),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

const migrateVmTool = tool({
  name: "migrate_vm",
  title: "Migrate VM",
  description: "Move a VM to another node; a running VM is migrated live. Local disks are copied along.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    target: node,
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => migrate(deps, ctx, args),
});

const resizeVmDiskTool = tool({
  name: "resize_vm_disk",
  title: "Grow VM disk",
  description: "Grow a VM disk: '+10G' adds, '64G' is the new total. Only grows.",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    disk: z
      .string()
      .regex(/^(scsi|virtio|sata|ide)\d+$/, { error: "disk must be a disk key such as scsi0" })
      .describe("e.g. scsi0."),
    size: z
      .string()
      .regex(/^\+?\d+(\.\d+)?[KMGT]$/, { error: "size must look like +10G or 64G" })
      .describe("+10G to add, 64G for the new total."),
    ...waitArgs,
  }),
  output: changeSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node, type: "qemu" });
    assertUnlocked(guest);
    const disk = disksOf(guest.config).find((d) => d.key === args.disk);
    if (!disk) {
      const keys = disksOf(guest.config).map((d) => d.key);
      throw new ToolError(
        `${label(guest)} has no disk ${args.disk}. Its disks: ${keys.join(", ") || "none"}.`,
      );
    }
    const current = disk.size ? sizeBytes(disk.size) : undefined;
    const requested = sizeBytes(args.size.replace(/^\+/, ""));
    if (
      !args.size.startsWith("+") &&
      current !== undefined &&
      requested !== undefined &&
      requested <= current
    ) {
      throw new ToolError(
        `${args.disk} of ${label(guest)} is ${disk.size} already; Proxmox can only grow disks. Ask for more than ${disk.size}, or +NG to add.`,
      );
    }
    const after =
      args.size.startsWith("+") && current !== undefined && requested !== undefined
        ? ` to ${bytes(current + requested)}`
        : ` to ${args.size}`;
    return runTask(deps, ctx, {
      tool: "resize_vm_disk",
      target: label(guest),
      subject: guestTarget(guest),
      args: { vmid: guest.vmid, node: guest.node, disk: args.disk, size: args.size },
      action: `Grow ${args.disk} of ${label(guest)} from ${disk.size ?? "?"}${args.size.startsWith("+") ? ` by ${args.size.slice(1)}` : ""}${after}`,
      start: () =>
        deps.client.call("PUT /nodes/{node}/qemu/{vmid}/resize", {
          node: guest.node,
          vmid: guest.vmid,
          disk: args.disk as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/resize">["disk"],
          size: args.size,
        }),
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
  },
});

/** delete_vm and delete_container. */
const deleteTools = (["qemu", "lxc"] as const).map((type) => {
  const noun = type === "qemu" ? "vm" : "container";
  const word = WORD[type];
  return tool({
    name: `delete_${noun}`,
    title: `Delete ${word.toLowerCase()}`,
    description: `Delete a stopped ${type === "qemu" ? "VM" : "container"} and all its disks. Needs confirm.`,
    input: z.object({
      vmid: vmid,
      node: node.optional(),
      confirm: confirmArg,
      ...waitArgs,
    }),
    output: changeSchema,
    scope: "write",
    annotations: changes({ destructive: true, idempotent: true }),
    handler: (deps) => async (args, ctx) => {
      const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node, type }, { activeTasks: true });
      assertUnprotected(guest, "delete");
      if (guest.status !== "stopped") {
        throw new ToolError(
          `${label(guest)} is ${guest.status}; shut it down (shutdown_${noun}) before deleting it.`,
        );
      }
      assertIdle(guest);
      const disks = disksOf(guest.config);
      if (!args.confirm) {
        const list = disks.map((d) => `${d.volume}${d.size ? ` (${d.size})` : ""}`).join(", ");
        return preview(
          `delete_${noun}`,
          `This deletes ${label(guest)} on ${guest.node} and its ${disks.length} disk${disks.length === 1 ? "" : "s"}${list ? `: ${list}` : ""}. Backups are kept.`,
          guestTarget(guest),
        );
      }
      const params = {
        node: guest.node,
        vmid: guest.vmid,
        purge: true,
        "destroy-unreferenced-disks": true,
      };
      return runTask(deps, ctx, {
        tool: `delete_${noun}`,
        target: label(guest),
        subject: guestTarget(guest),
        args: { vmid: guest.vmid, node: guest.node },
        action: `Delete ${label(guest)}`,
        start: () =>
          type === "qemu"
            ? deps.client.call("DELETE /nodes/{node}/qemu/{vmid}", params)
            : deps.client.call("DELETE /nodes/{node}/lxc/{vmid}", params),
        wait: args.wait,
        waitSeconds: args.wait_seconds,
      });
    },
  });
});

export function registerProvisionTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, createVmTool);
  defineTool(server, deps, createContainerTool);
  for (const spec of deleteTools) defineTool(server, deps, spec);
  defineTool(server, deps, updateVmTool);
  defineTool(server, deps, updateContainerTool);
  defineTool(server, deps, cloneVmTool);
  defineTool(server, deps, migrateVmTool);
  defineTool(server, deps, resizeVmDiskTool);
}

async function migrate(
  deps: ToolDeps,
  ctx: ServerContext,
  args: { vmid: number; node?: string; target: string; wait: boolean; wait_seconds: number },
) {
  const guest = await guestFacts(deps, { vmid: args.vmid, node: args.node, type: "qemu" });
  assertUnlocked(guest);
  if (args.target === guest.node) throw new ToolError(`${label(guest)} is already on ${guest.node}.`);
  await pickNode(deps, args.target);
  const online = guest.status === "running" || guest.status === "paused";
  const localDisks = disksOf(guest.config).some(
    (d) => !/^(nas|ceph|rbd|cephfs|nfs)/.test(d.volume.split(":")[0] ?? ""),
  );
  return runTask(deps, ctx, {
    tool: "migrate_vm",
    target: label(guest),
    subject: guestTarget(guest),
    args: { vmid: guest.vmid, node: guest.node, target: args.target, online },
    action: `${online ? "Live-migrate" : "Migrate"} ${label(guest)} from ${guest.node} to ${args.target}`,
    start: () =>
      deps.client.call("POST /nodes/{node}/qemu/{vmid}/migrate", {
        node: guest.node,
        vmid: guest.vmid,
        target: args.target,
        online: online || undefined,
        "with-local-disks": localDisks || undefined,
      }),
    wait: args.wait,
    waitSeconds: args.wait_seconds,
  });
}

interface UpdateArgs {
  vmid: number;
  node?: string;
  name?: string;
  hostname?: string;
  cores?: number;
  memory?: number;
  swap?: number;
  description?: string;
  tags?: string;
  onboot?: boolean;
  delete?: string;
  extra?: string;
}

async function updateGuest(
  deps: ToolDeps,
  type: GuestType,
  args: UpdateArgs,
): Promise<ChangeAnswer & { data: { changed: string[] } }> {
  const guest: GuestFacts = await guestFacts(deps, { vmid: args.vmid, node: args.node, type });
  assertUnlocked(guest);
  const changesWanted: Record<string, string | number | boolean | undefined> = {
    name: args.name,
    hostname: args.hostname,
    cores: args.cores,
    memory: args.memory === undefined ? undefined : type === "qemu" ? String(args.memory) : args.memory,
    swap: args.swap,
    description: args.description,
    tags: args.tags,
    onboot: args.onboot,
    ...parseExtra(args.extra, ["vmid", "node", "digest"]),
  };
  const keys = Object.keys(changesWanted).filter((k) => changesWanted[k] !== undefined);
  if (keys.length === 0 && !args.delete)
    throw new ToolError("Nothing to change: give at least one setting, extra or delete.");
  if (
    (changesWanted.protection === "0" || args.delete?.split(",").includes("protection")) &&
    guest.protection
  ) {
    assertUnprotected(guest, "remove protection from");
  }
  const params = {
    ...changesWanted,
    node: guest.node,
    vmid: guest.vmid,
    delete: args.delete,
    // Refuse to overwrite a config someone else changed since we read it.
    digest: typeof guest.config.digest === "string" ? guest.config.digest : undefined,
  };
  await auditedChange(
    deps,
    { tool: `update_${type === "qemu" ? "vm" : "container"}`, target: label(guest), args: params },
    () =>
      type === "qemu"
        ? deps.client.call(
            "PUT /nodes/{node}/qemu/{vmid}/config",
            params as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/config">,
          )
        : deps.client.call(
            "PUT /nodes/{node}/lxc/{vmid}/config",
            params as EndpointParams<"PUT /nodes/{node}/lxc/{vmid}/config">,
          ),
  );
  const short = (value: unknown) => {
    const text = String(value ?? "(unset)");
    return text.length > 40 || text.includes("\n") ? undefined : text;
  };
  const summary = keys.map((k) => {
    const before = short(guest.config[k]);
    const after = short(changesWanted[k]);
    return before !== undefined && after !== undefined ? `${k} ${before} -> ${after}` : `${k} updated`;
  });
  if (args.delete) summary.push(`removed ${args.delete}`);
  let pendingNote = "";
  if (type === "qemu" && guest.status !== "stopped") {
    const pending = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/pending", {
      node: guest.node,
      vmid: guest.vmid,
    });
    const waiting = pending
      .filter((p) => p.pending !== undefined || p.delete !== undefined)
      .map((p) => p.key);
    if (waiting.length) pendingNote = ` Waiting for a reboot: ${waiting.join(", ")}.`;
  }
  const answer = changed(
    `Updated ${label(guest)}: ${summary.join(", ")}.${pendingNote}`,
    `Update ${label(guest)}`,
    guestTarget(guest),
  );
  return { ...answer, data: { ...answer.data, changed: keys } };
}
