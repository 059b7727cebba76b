import { z } from "zod";
import { node, text, vmid } from "../../mcp/args";
import { changeSchema, guestTarget, runTask, waitArgs } from "../../mcp/changes";
import { bytes } from "../../mcp/format";
import { assertUnlocked, disksOf, guestFacts, label } from "../../mcp/guest-state";
import { changes, ToolError, tool } from "../../mcp/tool";
import type { EndpointParams } from "../../proxmox/client";
import { sizeBytes } from "./options";

/** resize_vm_disk: grows a disk, never shrinks one. */

export const resizeVmDiskTool = tool({
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
