import type { ToolDeps } from "./tool";

/**
 * Waiting for a freshly started VM to be reachable: the guest agent answers only once the OS has
 * booted (and cloud-init has run), and a NIC has a usable address only after DHCP or SLAAC.
 * Loopback and link-local addresses never count: nobody can SSH to them from outside.
 */

export interface InterfaceAddresses {
  name: string;
  ipv4: string[];
  ipv6: string[];
}

interface QgaInterface {
  name?: string;
  "ip-addresses"?: { "ip-address"?: string; "ip-address-type"?: string }[];
}

/** Whether an address can be reached from another machine (not loopback, not link-local). */
export function isReachable(address: string, family: "ipv4" | "ipv6"): boolean {
  if (family === "ipv4") return !/^(127\.|169\.254\.|0\.)/.test(address);
  const lower = address.toLowerCase();
  return lower !== "::1" && !/^fe[89ab][0-9a-f]:/.test(lower) && lower !== "::";
}

/** The reachable addresses per interface, from network-get-interfaces; interfaces without any are left out. */
export function reachableAddresses(result: unknown): InterfaceAddresses[] {
  if (!Array.isArray(result)) return [];
  const out: InterfaceAddresses[] = [];
  for (const raw of result as QgaInterface[]) {
    const iface: InterfaceAddresses = { name: String(raw.name ?? "?"), ipv4: [], ipv6: [] };
    for (const entry of raw["ip-addresses"] ?? []) {
      const address = entry["ip-address"];
      const family = entry["ip-address-type"];
      if (!address || (family !== "ipv4" && family !== "ipv6")) continue;
      if (isReachable(address, family)) iface[family].push(address);
    }
    if (iface.ipv4.length || iface.ipv6.length) out.push(iface);
  }
  return out;
}

export interface AddressWait {
  addresses: InterfaceAddresses[];
  /** Whether the agent answered at least once. */
  agentAnswered: boolean;
  /** The last error when the agent never answered. */
  lastError?: string;
  attempts: number;
}

/**
 * Asks the guest agent for the VM's interfaces until one has a reachable address or the deadline
 * passes. Each failed ask already costs Proxmox's agent timeout (3 s), so the pauses between
 * asks stay short.
 */
export async function waitForAddress(
  deps: ToolDeps,
  guest: { node: string; vmid: number },
  deadline: number,
  options: { signal?: AbortSignal; onAttempt?: (attempt: number) => Promise<void> } = {},
): Promise<AddressWait> {
  const wait: AddressWait = { addresses: [], agentAnswered: false, attempts: 0 };
  while (Date.now() < deadline && !options.signal?.aborted) {
    wait.attempts++;
    try {
      const answer = await deps.client.call(
        "GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
        { node: guest.node, vmid: guest.vmid },
        { signal: options.signal },
      );
      wait.agentAnswered = true;
      wait.addresses = reachableAddresses(answer.result);
      if (wait.addresses.length) return wait;
    } catch (error) {
      // "QEMU guest agent is not running" until the guest has booted: ask again.
      wait.lastError = error instanceof Error ? error.message : String(error);
    }
    await options.onAttempt?.(wait.attempts);
    const pause = Math.min(250 * 1.5 ** Math.min(wait.attempts, 6), 2000, Math.max(0, deadline - Date.now()));
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  return wait;
}
