// Host changes carried by tasks: applied when the srv* or aptupdate worker ends.

import type { Store } from "../state/store";
import { recordEvents } from "./journal";
import type { HostChange } from "./model";
import { applyServiceCommand } from "./services";

export function applyHostChange(store: Store, node: string, change: HostChange, nowMs: number): void {
  const host = store.hosts.get(node);
  if (!host) return;
  switch (change.kind) {
    case "service": {
      const n = store.nodes.get(node);
      const pid = n ? n.nextPid : 1000;
      if (n) {
        n.nextPid += 5;
        store.nodes.put(n);
      }
      recordEvents(host, applyServiceCommand(host, change.name, change.cmd, nowMs, pid));
      break;
    }
    case "apt-updated":
      host.aptUpdatedAt = Math.floor(nowMs / 1000);
      if (change.notify) host.notifiedAt = host.aptUpdatedAt;
      break;
  }
  store.hosts.put(host);
}
