import type { ProxmoxClient } from "./client";
import { ProxmoxError } from "./errors";

export type GuestType = "qemu" | "lxc";

export interface GuestLocation {
  vmid: number;
  node: string;
  type: GuestType;
  name?: string;
  /** True when the location came from the cache rather than a fresh lookup. */
  cached: boolean;
}

interface GuestIndex {
  at: number;
  guests: Map<number, { node: string; type: GuestType; name?: string }>;
}

/** Lookups are shared by every request in this isolate, per upstream, for a short while. */
const indexes = new Map<string, GuestIndex>();
export const GUEST_INDEX_TTL_MS = 10_000;

/** Forgets every cached guest location (tests reset the simulator between cases). */
export function clearGuestIndex(): void {
  indexes.clear();
}

const TYPE_WORD: Record<GuestType, string> = { qemu: "VM", lxc: "container" };

/**
 * Finds the node of a guest from its vmid with one `/cluster/resources?type=vm` call, cached
 * briefly: vmids are unique cluster-wide, so callers may omit `node` wherever a vmid identifies
 * the guest.
 */
export class GuestLocator {
  readonly #client: ProxmoxClient;
  readonly #key: string;

  constructor(client: ProxmoxClient, cacheKey: string) {
    this.#client = client;
    this.#key = cacheKey;
  }

  /** Where a guest lives. Throws a not_found ProxmoxError naming the right tool when the type differs. */
  async locate(vmid: number, expected?: GuestType, options?: { fresh?: boolean }): Promise<GuestLocation> {
    let index = indexes.get(this.#key);
    let cached = true;
    if (!index || options?.fresh || Date.now() - index.at > GUEST_INDEX_TTL_MS || !index.guests.has(vmid)) {
      index = await this.#refresh();
      cached = false;
    }
    const guest = index.guests.get(vmid);
    if (!guest) {
      throw new ProxmoxError({
        kind: "not_found",
        message: `There is no VM or container with ID ${vmid} in this cluster. get_vms and get_containers list the guests.`,
      });
    }
    if (expected && guest.type !== expected) {
      const tool = guest.type === "qemu" ? "the VM tools (get_vm)" : "the container tools (get_container)";
      throw new ProxmoxError({
        kind: "not_found",
        message: `${vmid} is a ${TYPE_WORD[guest.type]}${guest.name ? ` ('${guest.name}')` : ""} on ${guest.node}, not a ${TYPE_WORD[expected]}: use ${tool}.`,
      });
    }
    return { vmid, node: guest.node, type: guest.type, name: guest.name, cached };
  }

  /** Guest names this isolate has seen lately (no request is made): what an error message may quote. */
  knownNames(): string[] {
    const index = indexes.get(this.#key);
    if (!index) return [];
    const names: string[] = [];
    for (const guest of index.guests.values()) if (guest.name) names.push(guest.name);
    return names;
  }

  async #refresh(): Promise<GuestIndex> {
    const resources = await this.#client.call("GET /cluster/resources", { type: "vm" });
    const guests: GuestIndex["guests"] = new Map();
    for (const item of resources) {
      // A number here on every host seen; Perl can emit a string where a value was used as one
      // (container lists do), so accept both.
      const vmid = Number(item.vmid);
      if ((item.type === "qemu" || item.type === "lxc") && Number.isInteger(vmid) && vmid > 0 && item.node) {
        guests.set(vmid, { node: item.node, type: item.type, name: item.name });
      }
    }
    const index = { at: Date.now(), guests };
    indexes.set(this.#key, index);
    return index;
  }
}

/** True when Proxmox says the guest's config is not on that node (wrong node, or migrated since). */
export function isGuestMissing(error: unknown): boolean {
  return (
    error instanceof ProxmoxError &&
    error.kind === "not_found" &&
    /Configuration file '.*' does not exist/.test(error.pveMessage ?? "")
  );
}
