// Each seeded node's own system: its units as the last boot left them (one node's chrony fails to
// start, for a failed service to find), the time of its last `apt-get update`, its boot journal.

import type { NodeState, TaskState } from "../state/model";
import { bootHost } from "./boot";
import { recordEvents } from "./journal";
import type { HostState } from "./model";
import { SERVICES } from "./services";

const DAY = 86400;

/** Every third node (the third of the homelab, or the only one of a small cluster) has a broken chrony. */
const chronyBroken = (index: number, count: number) => index % 3 === 2 || (count < 3 && index === count - 1);

export function seedHosts(nodes: NodeState[], tasks: TaskState[], nowSec: number): HostState[] {
  return nodes.map((node, index) => {
    const host: HostState = { node: node.name, services: {}, aptUpdatedAt: 0, pastBoots: [], events: [] };
    if (chronyBroken(index, nodes.length) && SERVICES.chrony) {
      host.services.chrony = { state: "failed", unitState: "enabled", activeState: "failed", failing: true };
    }
    recordEvents(host, bootHost(host, node.bootTime, 600 + node.nodeid * 3));
    // The onboard NIC's address, set as the node's wake-on-LAN target.
    host.wakeOnLan = `a8:a1:59:${node.sslFingerprint.slice(0, 8).toLowerCase()}`;
    // The package lists are as fresh as the node's last aptupdate task (a week old without one).
    const updates = tasks
      .filter((t) => t.node === node.name && t.type === "aptupdate" && t.finished)
      .map((t) => Math.floor((t.startMs + t.durationMs) / 1000));
    host.aptUpdatedAt = updates.length ? Math.max(...updates) : nowSec - 7 * DAY;
    return host;
  });
}
