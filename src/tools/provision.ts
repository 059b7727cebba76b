import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { freeText, guestId, node, poolId, storage, text, vmid, volume, wholeNumber } from "../mcp/args";
import {
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
import {
  assertIdle,
  assertUnlocked,
  assertUnprotected,
  disksOf,
  type GuestFacts,
  guestFacts,
  label,
  protectionRemoval,
  WORD,
} from "../mcp/guest-state";
import { assertAllowed } from "../mcp/policy";
import { changes, defineTool, type ToolDeps, ToolError, tool } from "../mcp/tool";
import type { EndpointParams } from "../proxmox/client";
import { ProxmoxError } from "../proxmox/errors";
import { checkBridge, checkDnsName, checkTags, ipConfig } from "../proxmox/formats";
import type { GuestType } from "../proxmox/locate";
import { checkDeleteKeys, checkGuestOptions } from "../proxmox/options";
import { afterCreate, assertTemplateExists, createdSchema, withStarted } from "./provision-create";
import { clusterStorages } from "./storage";

/**
 * Creating, changing and removing guests: create, delete, update, clone, migrate, resize.
 * Every tool checks what Proxmox would refuse (taken IDs, running guests, same-node migration,
 * shrinking disks, protection) before it sends anything.
 */

const extraArg = freeText("extra", { hint: "more Proxmox options, key=value per line", max: 8192 })
  .optional()
  .describe("More Proxmox options, key=value per line.");

// Values spliced into property strings (net0, ipconfig0, ide2, ...) are checked against their
// schema format here, so none can add a key of its own ("vmbr0,tag=9").
const guestName = (name: string) =>
  text(name, { hint: "a DNS-style name such as web-1", max: 128, check: (v) => checkDnsName(name, v) });
const bridgeArg = text("bridge", {
  hint: "a bridge such as vmbr0",
  max: 15,
  check: (v) => checkBridge("bridge", v),
});
const tagsArg = text("tags", { hint: "tags separated by ';'", max: 256, check: (v) => checkTags("tags", v) });
const ipArg = (guest: GuestType) =>
  text("ip", {
    hint: "dhcp or 10.0.0.5/24,gw=10.0.0.1",
    max: 256,
    check: (v) => ipConfig(v, guest).error ?? null,
  });
const cores = wholeNumber("cores", { min: 1, max: 512, hint: "CPU cores" });
// 4 TiB in MiB: more than any host this server will meet, and far from overflowing anything.
const memory = wholeNumber("memory", { min: 16, max: 4 * 1024 * 1024, hint: "MiB" });
const swap = wholeNumber("swap", { min: 0, max: 4 * 1024 * 1024, hint: "MiB" });
const diskGb = wholeNumber("disk_gb", { min: 1, max: 65536, hint: "GiB" });

/** The checked address as the property string Proxmox takes ("ip=10.0.0.5/24,gw=10.0.0.1"). */
function ipProperty(value: string, guest: GuestType): string {
  const config = ipConfig(value, guest);
  if (config.error !== undefined) throw new ToolError(config.error);
  return config.value;
}

/**
 * `extra` as options, checked against the guest type's schema before anything is sent; options
 * that reach the host are refused unless the owner set PVE_ALLOW_HOST_OPTIONS=true.
 */
function extraOptions(
  deps: ToolDeps,
  type: GuestType,
  extra: string | undefined,
  reserved: readonly string[],
): Record<string, string> {
  const options = parseExtra(extra, reserved);
  const problem = checkGuestOptions(type, options, deps.allowHostOptions);
  if (problem) throw new ToolError(problem);
  return options;
}

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
    if (!/^[a-z][a-z0-9_.-]*$/i.test(key)) {
      throw new ToolError(
        `extra: '${line.length > 60 ? `${line.slice(0, 60)}…` : line}' is not a key=value option (one per line, e.g. bios=ovmf).`,
      );
    }
    if (Object.hasOwn(out, key)) throw new ToolError(`extra: ${key} is given twice.`);
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
export async function freeVmid(deps: ToolDeps, requested: number | undefined): Promise<number> {
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
    name: guestName("name").optional(),
    cores: cores.default(2),
    memory: memory.default(2048).describe("MiB."),
    disk_gb: diskGb.default(32),
    storage: storage.default("local-lvm"),
    bridge: bridgeArg.default("vmbr0"),
    iso: volume("iso", { hint: "an ISO volume such as local:iso/debian-13.iso", content: "iso" })
      .optional()
      .describe("e.g. local:iso/debian-13.iso"),
    ostype: z.enum(["l26", "win11", "win10", "other"]).default("l26"),
    ciuser: text("ciuser", {
      hint: "a user name such as debian",
      max: 64,
      check: (v) => (/^[a-z_][a-z0-9_.-]*$/i.test(v) ? null : "ciuser must be a user name such as debian"),
    }).optional(),
    sshkey: freeText("sshkey", { hint: "SSH public keys, one per line", max: 8192 }).optional(),
    ip: ipArg("qemu").optional().describe("Cloud-init: dhcp or 10.0.0.5/24,gw=10.0.0.1"),
    start: z.boolean().default(false),
    pool: poolId("pool").optional(),
    tags: tagsArg.optional(),
    extra: extraArg,
    ...waitArgs,
  }),
  output: createdSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const extra = extraOptions(deps, "qemu", args.extra, [
      "vmid",
      "node",
      "name",
      "cores",
      "memory",
      "scsi0",
      "net0",
      "start",
      "pool",
    ]);
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
      ipconfig0: args.ip ? ipProperty(args.ip, "qemu") : undefined,
      start: args.start || undefined,
      pool: args.pool,
      tags: args.tags,
      ...extra,
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
    template: volume("template", { hint: "a container template volume", content: "vztmpl" }).describe(
      "vztmpl volume",
    ),
    hostname: guestName("hostname").optional(),
    cores: cores.default(1),
    memory: memory.default(512).describe("MiB."),
    swap: swap.default(512).describe("MiB."),
    disk_gb: diskGb.default(8),
    storage: storage.default("local-lvm"),
    bridge: bridgeArg.default("vmbr0"),
    ip: ipArg("lxc").default("dhcp").describe("dhcp or 10.0.0.5/24,gw=10.0.0.1"),
    password: freeText("password", { hint: "the root password", min: 5, max: 64 }).optional(),
    sshkey: freeText("sshkey", { hint: "SSH public keys, one per line", max: 8192 }).optional(),
    unprivileged: z.boolean().default(true),
    start: z.boolean().default(false),
    pool: poolId("pool").optional(),
    tags: tagsArg.optional(),
    extra: extraArg,
    ...waitArgs,
  }),
  output: createdSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const extra = extraOptions(deps, "lxc", args.extra, [
      "vmid",
      "node",
      "ostemplate",
      "hostname",
      "password",
      "rootfs",
      "net0",
      "start",
      "pool",
    ]);
    const nodeName = await pickNode(deps, args.node);
    await assertTemplateExists(deps, nodeName, args.template);
    const id = await freeVmid(deps, args.vmid);
    const ip = ipProperty(args.ip, "lxc");
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
      ...extra,
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
  cores: cores.optional(),
  memory: memory.optional().describe("MiB."),
  description: freeText("description", { hint: "the notes shown in Proxmox", max: 8192 }).optional(),
  tags: tagsArg.optional(),
  onboot: z.boolean().optional(),
  delete: text("delete", { hint: "config keys to remove, comma list", max: 512 })
    .optional()
    .describe("Keys to remove, comma list."),
  extra: extraArg,
};

const updateVmTool = tool({
  name: "update_vm",
  title: "Change VM settings",
  description:
    "Change a VM's config (cores, memory, name, tags, description, onboot, any option via extra; delete removes keys).",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    name: guestName("name").optional(),
    ...updateArgs,
  }),
  output: changeSchema.extend({ changed: z.array(z.string()) }),
  scope: "write",
  // Overwrites settings, and `delete` removes them.
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) => updateGuest(deps, "qemu", args),
});

const updateContainerTool = tool({
  name: "update_container",
  title: "Change container settings",
  description:
    "Change a container's config (cores, memory, swap, hostname, tags, description, onboot, extra, delete).",
  input: z.object({
    vmid: vmid,
    node: node.optional(),
    hostname: guestName("hostname").optional(),
    swap: swap.optional().describe("MiB."),
    ...updateArgs,
  }),
  output: changeSchema.extend({ changed: z.array(z.string()) }),
  scope: "write",
  // Overwrites settings, and `delete` removes them.
  annotations: changes({ destructive: true, idempotent: true }),
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
    newid: guestId("newid").optional().describe("Default: next free."),
    name: guestName("name").optional(),
    full: z.boolean().optional().describe("Default: linked for templates."),
    target: node.optional(),
    storage: storage.optional(),
    pool: poolId("pool").optional(),
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
    disk: text("disk", {
      hint: "a disk key such as scsi0",
      max: 16,
      check: (v) =>
        /^(scsi|virtio|sata|ide)\d{1,2}$/.test(v) ? null : "disk must be a disk key such as scsi0",
    }).describe("e.g. scsi0."),
    size: text("size", {
      hint: "+10G to add, 64G for the new total",
      max: 32,
      check: (v) => (/^\+?\d+(\.\d+)?[KMGT]$/.test(v) ? null : "size must look like +10G or 64G"),
    }).describe("+10G to add, 64G for the new total."),
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
  const extra = extraOptions(deps, type, args.extra, [
    "vmid",
    "node",
    "digest",
    "delete",
    "revert",
    "skiplock",
  ]);
  const deleteProblem = args.delete ? checkDeleteKeys(type, args.delete) : null;
  if (deleteProblem) throw new ToolError(deleteProblem);
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
    ...extra,
  };
  const keys = Object.keys(changesWanted).filter((k) => changesWanted[k] !== undefined);
  if (keys.length === 0 && !args.delete)
    throw new ToolError("Nothing to change: give at least one setting, extra or delete.");
  const lifted = protectionRemoval(guest, changesWanted, args.delete?.split(/[,;\s]+/) ?? []);
  if (lifted) assertUnprotected(guest, lifted);
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
