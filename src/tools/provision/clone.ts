import { z } from "zod";
import { guestId, node, poolId, storage, vmid } from "../../mcp/args";
import { changeSchema, guestTarget, runTask, waitArgs } from "../../mcp/changes";
import { assertUnlocked, disksOf, guestFacts, label } from "../../mcp/guest-state";
import { changes, ToolError, tool } from "../../mcp/tool";
import { clusterStorages } from "../storage";
import { guestName } from "./args";
import { freeVmid, pickNode } from "./placement";

/** clone_vm: full or linked clones, checked before anything is sent. */

export const cloneVmTool = tool({
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
