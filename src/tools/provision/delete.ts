import { z } from "zod";
import { node, vmid } from "../../mcp/args";
import { changeSchema, confirmArg, guestTarget, preview, runTask, waitArgs } from "../../mcp/changes";
import { assertIdle, assertUnprotected, disksOf, guestFacts, label, WORD } from "../../mcp/guest-state";
import { changes, ToolError, tool } from "../../mcp/tool";

/** delete_vm and delete_container: a stopped, unprotected guest and all its disks, with confirm. */

export const deleteTools = (["qemu", "lxc"] as const).map((type) => {
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
