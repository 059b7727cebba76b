// Seeded configuration files beside the guests: a zfspool storage with a replicated container,
// the firewall files, datacenter.cfg and replication.cfg. Proportional at scale.

import { type DatacenterConfig, type ReplicationJob, seedDatacenter, seedReplication } from "./clusterconfig";
import { type FirewallConfig, seedFirewall } from "./firewall";
import type { GuestState, NodeState, StorageState } from "./model";

const GiB = 1024 ** 3;

export interface SeededConfig {
  storages: StorageState[];
  firewall: FirewallConfig[];
  datacenter: DatacenterConfig[];
  replication: ReplicationJob[];
}

/**
 * `local-zfs` (rpool/data) holds the root file system of container 205 in the homelab (configured
 * on its node and the one before it, so it can be replicated there); at scale it exists on every
 * node and every tenth container lives on it.
 */
export function seedConfigFiles(
  nodes: NodeState[],
  guests: GuestState[],
  homelab: boolean,
  nowMs: number,
): SeededConfig {
  const names = nodes.map((n) => n.name);
  const onZfs = guests.filter((g) =>
    homelab ? g.vmid === 205 : g.type === "lxc" && (g.vmid - 100) % 30 === 2,
  );
  for (const g of onZfs) {
    const size = /size=([^,]+)/.exec(String(g.config.rootfs ?? ""))?.[1] ?? "8G";
    g.config.rootfs = `local-zfs:subvol-${g.vmid}-disk-0,size=${size}`;
  }
  let zfsNodes: string[] | undefined;
  if (homelab) {
    const home = onZfs[0]?.node ?? (names[0] as string);
    const i = names.indexOf(home);
    zfsNodes = [...new Set([names[(i + names.length - 1) % names.length] as string, home])].sort();
  }
  const zfs: StorageState = {
    storage: "local-zfs",
    type: "zfspool",
    content: ["images", "rootdir"],
    shared: false,
    enabled: true,
    ...(zfsNodes ? { nodes: zfsNodes } : {}),
    total: 1800 * GiB,
    baseUsed: 12 * GiB,
    options: { pool: "rpool/data", sparse: 1 },
  };
  return {
    storages: [zfs],
    firewall: seedFirewall(names, guests, homelab),
    datacenter: [seedDatacenter()],
    replication: seedReplication(
      onZfs.map((g) => ({ vmid: g.vmid, node: g.node, zfs: true })),
      names,
      Math.floor(nowMs / 1000),
    ),
  };
}
