// Cluster-wide configuration files: /etc/pve/datacenter.cfg (the datacenter options) and
// /etc/pve/replication.cfg (storage replication jobs), plus the replication state pvesr keeps per
// job on its source node (/var/lib/pve-manager/pve-replication-state.json).

/** datacenter.cfg as written: option name to its raw value (property strings stay strings). */
export interface DatacenterConfig {
  /** Always "datacenter.cfg": the table holds this one file. */
  file: string;
  options: Record<string, string | number>;
}

/** One replication job of replication.cfg plus its run state. */
export interface ReplicationJob {
  /** "<vmid>-<jobnum>". */
  id: string;
  type: "local";
  guest: number;
  jobnum: number;
  target: string;
  /** Node the guest ran on when the job was made; the job follows the guest. */
  source?: string;
  schedule?: string;
  rate?: number;
  comment?: string;
  disable?: boolean;
  /** Set by DELETE: the job is removed by its next run ("local" keeps the target's volumes). */
  remove_job?: "local" | "full";
  /** Epoch seconds of the last successful sync (0 = never). */
  lastSync: number;
  /** Epoch seconds of the last attempt. */
  lastTry: number;
  durationSec: number;
  failCount: number;
  error?: string;
}

export function seedDatacenter(): DatacenterConfig {
  return {
    file: "datacenter.cfg",
    options: {
      keyboard: "en-us",
      console: "html5",
      migration: "secure,network=192.168.1.0/24",
      "tag-style": "color-map=prod:ff4d4d;lab:4d88ff,ordering=config,shape=circle",
      mac_prefix: "BC:24:11",
      description: "Homelab cluster",
    },
  };
}

/**
 * One job per guest whose disks are on the zfspool storage, to the next node: synced every 15
 * minutes, last run a few minutes ago.
 */
export function seedReplication(
  guests: { vmid: number; node: string; zfs: boolean }[],
  nodes: string[],
  nowSec: number,
): ReplicationJob[] {
  if (nodes.length < 2) return [];
  const out: ReplicationJob[] = [];
  for (const g of guests) {
    if (!g.zfs) continue;
    const target = nodes[(nodes.indexOf(g.node) + nodes.length - 1) % nodes.length] as string;
    const lastSync = Math.floor(nowSec / 900) * 900 - (g.vmid % 5) * 60;
    out.push({
      id: `${g.vmid}-0`,
      type: "local",
      guest: g.vmid,
      jobnum: 0,
      target,
      source: g.node,
      schedule: "*/15",
      comment: "keep a warm copy",
      lastSync,
      lastTry: lastSync,
      durationSec: 3.2 + (g.vmid % 7) / 10,
      failCount: 0,
    });
  }
  return out;
}
