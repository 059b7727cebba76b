import type { ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { node, vmid } from "../../mcp/args";
import { changeSchema, guestTarget, runTask, waitArgs } from "../../mcp/changes";
import { assertUnlocked, disksOf, guestFacts, label } from "../../mcp/guest-state";
import { changes, type ToolDeps, ToolError, tool } from "../../mcp/tool";
import { pickNode } from "./placement";

/** migrate_vm: online or offline, to another allowed node. */

export const migrateVmTool = tool({
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

export async function migrate(
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
