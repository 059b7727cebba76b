import { assertAllowed } from "../mcp/changes";
import { flag } from "../mcp/format";
import { type GuestTarget, onGuest } from "../mcp/guests";
import { type ToolDeps, ToolError } from "../mcp/tool";
import type { GuestType } from "../proxmox/locate";
import { splitTags } from "./guest-views";

/**
 * What a tool checks before it changes a guest: where it is, whether it runs, locks, protection.
 * Checking first turns a task that would fail (or a change that should not happen) into a clear
 * answer before anything is sent.
 */
export interface GuestFacts extends GuestTarget {
  name?: string;
  /** running, stopped, paused, ... (qmpstatus for VMs). */
  status: string;
  lock?: string;
  template: boolean;
  protection: boolean;
  config: Record<string, unknown>;
}

export const WORD: Record<GuestType, string> = { qemu: "VM", lxc: "Container" };

/** "VM 101 'web-01'" */
export function label(guest: { type: GuestType; vmid: number; name?: string }): string {
  return `${WORD[guest.type]} ${guest.vmid}${guest.name ? ` '${guest.name}'` : ""}`;
}

/** Finds the guest, reads its status and config (two requests), and applies the allowlists. */
export async function guestFacts(
  deps: ToolDeps,
  target: { vmid: number; node?: string; type?: GuestType },
): Promise<GuestFacts> {
  assertAllowed(deps.policy, { vmid: target.vmid });
  return onGuest(deps, target, async (guest) => {
    const params = { node: guest.node, vmid: guest.vmid };
    const [status, config] =
      guest.type === "qemu"
        ? await Promise.all([
            deps.client.call("GET /nodes/{node}/qemu/{vmid}/status/current", params),
            deps.client.call("GET /nodes/{node}/qemu/{vmid}/config", params),
          ])
        : await Promise.all([
            deps.client.call("GET /nodes/{node}/lxc/{vmid}/status/current", params),
            deps.client.call("GET /nodes/{node}/lxc/{vmid}/config", params),
          ]);
    assertAllowed(deps.policy, { node: guest.node });
    const raw = status as { status: string; qmpstatus?: string; lock?: string; name?: string };
    const cfg = config as Record<string, unknown>;
    const tags = splitTags(typeof cfg.tags === "string" ? cfg.tags : undefined) ?? [];
    return {
      ...guest,
      name:
        raw.name ??
        (typeof cfg.name === "string"
          ? cfg.name
          : typeof cfg.hostname === "string"
            ? cfg.hostname
            : undefined),
      status:
        raw.status === "running" && raw.qmpstatus && raw.qmpstatus !== "running" ? raw.qmpstatus : raw.status,
      lock: raw.lock || (typeof cfg.lock === "string" ? cfg.lock : undefined) || undefined,
      template: flag(cfg.template),
      // A `protected` tag counts like Proxmox's protection flag.
      protection: flag(cfg.protection) || tags.includes("protected"),
      config: cfg,
    };
  });
}

const LOCK_MEANING: Record<string, string> = {
  backup: "a backup is running on it",
  snapshot: "a snapshot is being taken",
  "snapshot-delete": "a snapshot is being deleted",
  rollback: "a rollback is running",
  clone: "it is being cloned",
  migrate: "it is being migrated",
  create: "it is being created",
  disk: "a disk operation is running",
  suspending: "it is being suspended",
  suspended: "it is suspended to disk",
};

export function assertUnlocked(guest: GuestFacts): void {
  if (!guest.lock) return;
  throw new ToolError(
    `${label(guest)} is locked (${guest.lock}): ${LOCK_MEANING[guest.lock] ?? "another operation holds it"}. ` +
      `Wait for that task to end (get_tasks node=${guest.node} running=true shows it) and try again.`,
  );
}

export function assertUnprotected(guest: GuestFacts, action: string): void {
  if (!guest.protection) return;
  throw new ToolError(
    `${label(guest)} is protected (Proxmox protection flag or 'protected' tag), so this server will not ${action} it. ` +
      "Clear protection in its options first if you really mean it.",
  );
}

/** The disks of a guest config, e.g. ["scsi0 local-lvm:vm-101-disk-0 (32G)"]. */
export function disksOf(config: Record<string, unknown>): { key: string; volume: string; size?: string }[] {
  const disks: { key: string; volume: string; size?: string }[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!/^(scsi|virtio|sata|ide|efidisk|tpmstate|rootfs|mp)\d*$/.test(key) || typeof value !== "string")
      continue;
    if (/media=cdrom/.test(value) || value === "none") continue;
    const [volume] = value.split(",");
    if (!volume?.includes(":")) continue;
    const size = /(?:^|,)size=([^,]+)/.exec(value)?.[1];
    disks.push({ key, volume, size });
  }
  return disks;
}
