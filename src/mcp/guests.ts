import { ProxmoxError } from "../proxmox/errors";
import { type GuestType, isGuestMissing } from "../proxmox/locate";
import { plainLine } from "./plain";
import type { ToolDeps } from "./tool";

export interface GuestTarget {
  vmid: number;
  node: string;
  type: GuestType;
}

const WORD: Record<GuestType, string> = { qemu: "VM", lxc: "Container" };

/**
 * Runs `call` against a guest's node. With `node` given it costs no lookup; without it the node
 * comes from the cached cluster index. When Proxmox says the guest is not there (wrong node, or
 * migrated since the lookup) the answer names where it really is, or retries once with a fresh
 * lookup.
 *
 * `type` undefined means "VM or container": with a node given the VM endpoint is tried first,
 * then the container one.
 */
export async function onGuest<T>(
  deps: ToolDeps,
  target: { vmid: number; node?: string; type?: GuestType },
  call: (guest: GuestTarget) => Promise<T>,
): Promise<T> {
  const { vmid } = target;
  if (target.node) {
    const node = target.node;
    const types: GuestType[] = target.type ? [target.type] : ["qemu", "lxc"];
    for (const type of types) {
      try {
        return await call({ vmid, node, type });
      } catch (error) {
        if (!isGuestMissing(error)) throw error;
      }
    }
    // Not on that node: find where it is, for a useful message.
    const where = await deps.locator.locate(vmid, target.type, { fresh: true });
    throw new ProxmoxError({
      kind: "not_found",
      message: `${WORD[where.type]} ${vmid}${where.name ? ` '${plainLine(where.name)}'` : ""} is on node ${where.node}, not ${node}. Omit node or pass node=${where.node}.`,
    });
  }
  const location = await deps.locator.locate(vmid, target.type);
  try {
    return await call({ vmid, node: location.node, type: location.type });
  } catch (error) {
    if (!location.cached || !isGuestMissing(error)) throw error;
    const fresh = await deps.locator.locate(vmid, target.type, { fresh: true });
    return call({ vmid, node: fresh.node, type: fresh.type });
  }
}

/** Turns "no such cluster node" into a message that lists the real nodes. */
export async function explainUnknownNode(deps: ToolDeps, node: string, error: unknown): Promise<never> {
  if (
    error instanceof ProxmoxError &&
    (/no such cluster node|hostname lookup/i.test(error.pveMessage ?? "") || error.errors?.node)
  ) {
    let names = "";
    try {
      const nodes = await deps.client.call("GET /nodes", {});
      names = nodes
        .map((n) => n.node)
        .sort()
        .join(", ");
    } catch {
      // The original error is the one to report.
    }
    throw new ProxmoxError({
      kind: "not_found",
      message: `There is no node '${node}' in this cluster.${names ? ` Nodes: ${names}.` : ""} Node names are case-sensitive and are not IP addresses.`,
    });
  }
  throw error;
}

/** Calls a node endpoint, explaining an unknown node name. */
export async function onNode<T>(deps: ToolDeps, node: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    return explainUnknownNode(deps, node, error);
  }
}
