import { WORD } from "../../mcp/guest-state";
import { assertAllowed } from "../../mcp/policy";
import { type ToolDeps, ToolError } from "../../mcp/tool";
import { ProxmoxError } from "../../proxmox/errors";

/** Where a new guest goes: a node that is online and allowed, and a free guest ID. */

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
