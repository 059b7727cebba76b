import { z } from "zod";
import { freeText, node, poolId, storage, text, vmid, volume } from "../../mcp/args";
import { guestTarget, runTask, waitArgs } from "../../mcp/changes";
import { changes, tool } from "../../mcp/tool";
import type { EndpointParams } from "../../proxmox/client";
import { bridgeArg, cores, diskGb, extraArg, guestName, ipArg, memory, swap, tagsArg } from "./args";
import { afterCreate, assertTemplateExists, createdSchema, withStarted } from "./created";
import { extraOptions, ipProperty } from "./options";
import { freeVmid, pickNode } from "./placement";

/** create_vm and create_container: a guest from scratch, an ISO or a template, optionally started. */

export const createVmTool = tool({
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

export const createContainerTool = tool({
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
