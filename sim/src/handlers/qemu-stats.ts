// The live extras of a running VM's status/current that come from QMP (qemu-server vmstatus with
// `full`): per-drive block statistics, balloon statistics, per-tap traffic. Shapes follow a status
// recorded from a real host (go-proxmox's pve7x mock, QEMU 8.0.2).

import type { GuestState } from "../state/model";
import type { Runtime } from "./guests";

const DRIVE = /^(ide|sata|scsi|virtio)\d+$/;

/** query-blockstats per drive, keyed as qemu-server keys it (drive-scsi0 -> scsi0). */
export function blockstat(g: GuestState, rt: Runtime): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const drives = Object.keys(g.config)
    .filter((k) => DRIVE.test(k))
    .sort();
  // The boot disk does the I/O; CD-ROMs and other disks only what booting read from them.
  const boot = drives.find((k) => !/media=cdrom/.test(String(g.config[k])));
  for (const drive of drives) {
    const main = drive === boot;
    const rd = main ? rt.diskread : Math.min(rt.diskread, 344_348);
    const wr = main ? rt.diskwrite : 0;
    const rdOps = Math.floor(rd / 41_680);
    const wrOps = Math.floor(wr / 9_620);
    out[drive] = {
      rd_bytes: rd,
      wr_bytes: wr,
      rd_operations: rdOps,
      wr_operations: wrOps,
      flush_operations: main ? Math.floor(wrOps / 10) : 0,
      unmap_operations: main ? Math.floor(wrOps / 335) : 0,
      unmap_bytes: main ? wr * 10 : 0,
      rd_total_time_ns: rdOps * 455_000,
      wr_total_time_ns: wrOps * 418_000,
      flush_total_time_ns: main ? Math.floor(wrOps / 10) * 480_000 : 0,
      unmap_total_time_ns: main ? Math.floor(wrOps / 335) * 20_000 : 0,
      rd_merged: 0,
      wr_merged: 0,
      unmap_merged: 0,
      failed_rd_operations: 0,
      failed_wr_operations: 0,
      failed_flush_operations: 0,
      failed_unmap_operations: 0,
      invalid_rd_operations: 0,
      invalid_wr_operations: 0,
      invalid_flush_operations: 0,
      invalid_unmap_operations: 0,
      wr_highest_offset: main ? Math.min(wr, rt.maxdisk) : 0,
      idle_time_ns: (rt.uptime % 5) * 1e9 + 427_685_914,
      account_invalid: true,
      account_failed: true,
      timed_stats: [],
    };
  }
  return out;
}

/** Traffic per tap device (tap<vmid>i<n>, one per netN); the first NIC carries it all. */
export function nics(g: GuestState, rt: Runtime): Record<string, { netin: number; netout: number }> {
  const out: Record<string, { netin: number; netout: number }> = {};
  const nets = Object.keys(g.config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  nets.forEach((net, i) => {
    out[`tap${g.vmid}i${net.slice(3)}`] =
      i === 0 ? { netin: rt.netin, netout: rt.netout } : { netin: 0, netout: 0 };
  });
  return out;
}

/** The balloon driver's statistics (virtio-balloon guest-stats), when the VM has a balloon. */
export function ballooninfo(rt: Runtime, nowSec: number): Record<string, number> {
  return {
    actual: rt.maxmem,
    max_mem: rt.maxmem,
    free_mem: rt.maxmem - rt.mem,
    total_mem: rt.maxmem,
    major_page_faults: Math.floor(rt.uptime / 94),
    minor_page_faults: Math.floor(rt.uptime * 22.3),
    mem_swapped_in: 0,
    mem_swapped_out: 0,
    last_update: nowSec - (nowSec % 10),
  };
}
