import type { GuestType } from "../proxmox/locate";
import { flag, splitTags } from "./format";
import { type GuestTarget, onGuest } from "./guests";
import { assertAllowed } from "./policy";
import { type ToolDeps, ToolError } from "./tool";

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
  /** Tasks running on the guest right now (start, migrate, backup, ...), when asked for. */
  activeTasks?: { type: string; upid: string }[];
}

export const WORD: Record<GuestType, string> = { qemu: "VM", lxc: "Container" };

/** "VM 101 'web-01'" */
export function label(guest: { type: GuestType; vmid: number; name?: string }): string {
  return `${WORD[guest.type]} ${guest.vmid}${guest.name ? ` '${guest.name}'` : ""}`;
}

/**
 * Finds the guest, reads its status and config now (two requests; the guest index only says
 * which node to ask), and applies the allowlists. With `activeTasks` it also reads the tasks
 * running on the guest, in parallel: a guest whose start task is still running reports
 * "stopped", and only its task says it is about to run.
 */
export async function guestFacts(
  deps: ToolDeps,
  target: { vmid: number; node?: string; type?: GuestType },
  options: { activeTasks?: boolean } = {},
): Promise<GuestFacts> {
  assertAllowed(deps.policy, { vmid: target.vmid });
  return onGuest(deps, target, async (guest) => {
    const params = { node: guest.node, vmid: guest.vmid };
    const tasks = options.activeTasks
      ? deps.client.call("GET /nodes/{node}/tasks", { node: guest.node, vmid: guest.vmid, source: "active" })
      : Promise.resolve(undefined);
    const [status, config, active] =
      guest.type === "qemu"
        ? await Promise.all([
            deps.client.call("GET /nodes/{node}/qemu/{vmid}/status/current", params),
            deps.client.call("GET /nodes/{node}/qemu/{vmid}/config", params),
            tasks,
          ])
        : await Promise.all([
            deps.client.call("GET /nodes/{node}/lxc/{vmid}/status/current", params),
            deps.client.call("GET /nodes/{node}/lxc/{vmid}/config", params),
            tasks,
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
      ...(active
        ? {
            activeTasks: active
              .filter((t) => t.id === String(guest.vmid) && !t.endtime)
              .map((t) => ({ type: t.type, upid: t.upid })),
          }
        : {}),
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

/**
 * Refuses a change that needs the guest to itself: a task running on it (a start that has not
 * brought it up yet, a migration, a backup) or a lock. Needs guestFacts with activeTasks.
 */
export function assertIdle(guest: GuestFacts): void {
  assertUnlocked(guest);
  const task = guest.activeTasks?.[0];
  if (!task) return;
  throw new ToolError(
    `${label(guest)} has a ${task.type} task running, so it is ${TASK_MEANING[task.type] ?? "busy"}. ` +
      `Wait for that task to end (wait_for_task with its upid) and try again.\ntask: ${task.upid}`,
  );
}

const TASK_MEANING: Record<string, string> = {
  qmstart: "starting",
  vzstart: "starting",
  qmresume: "resuming",
  qmreboot: "rebooting",
  vzreboot: "rebooting",
  qmshutdown: "shutting down",
  vzshutdown: "shutting down",
  qmstop: "stopping",
  vzstop: "stopping",
  qmigrate: "being migrated",
  vzmigrate: "being migrated",
  vzdump: "being backed up",
  qmclone: "being cloned",
  vzclone: "being cloned",
  qmsnapshot: "being snapshotted",
  vzsnapshot: "being snapshotted",
  qmrollback: "being rolled back",
  vzrollback: "being rolled back",
};

export function assertUnprotected(guest: GuestFacts, action: string): void {
  if (!guest.protection) return;
  const cli = guest.type === "qemu" ? "qm" : "pct";
  throw new ToolError(
    `${label(guest)} is protected (Proxmox protection flag or 'protected' tag), so this server will not ${action} it, and no tool of it lifts protection. ` +
      `Only the owner can, outside this server: in the Proxmox web UI (the guest's Options > Protection, and its tags) or on a node with \`${cli} set ${guest.vmid} --protection 0\` (and \`--delete tags\` or new tags without 'protected').`,
  );
}

const OFF = /^(0|false|no|off)$/i;

/**
 * Whether a config change lifts the guest's protection: clears the flag, or drops the
 * `protected` tag (set tags without it, or delete tags). Returns the refused action, if any.
 */
export function protectionRemoval(
  guest: GuestFacts,
  set: Readonly<Record<string, unknown>>,
  deleted: readonly string[],
): string | undefined {
  if (!guest.protection) return undefined;
  const protection = set.protection;
  if (
    deleted.includes("protection") ||
    protection === false ||
    protection === 0 ||
    (typeof protection === "string" && OFF.test(protection.trim()))
  )
    return "remove protection from";
  const tagged = (
    splitTags(typeof guest.config.tags === "string" ? guest.config.tags : undefined) ?? []
  ).includes("protected");
  if (!tagged) return undefined;
  if (deleted.includes("tags")) return "remove the 'protected' tag from";
  if (set.tags !== undefined && !(splitTags(String(set.tags)) ?? []).includes("protected"))
    return "remove the 'protected' tag from";
  return undefined;
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

/** How long guest_power waits for the guest OS to do what it was asked. */
export const GUEST_POWER_WAIT_MS = 20_000;

/**
 * Waits (bounded) until a VM the guest agent was asked to shut down or suspend has done so, so
 * the next tool sees it stopped or suspended rather than still running. Returns the state
 * reached, or undefined when the guest had not done it by the deadline.
 */
export async function waitForGuestPower(
  deps: ToolDeps,
  guest: { node: string; vmid: number },
  to: "stopped" | "suspended",
  signal?: AbortSignal,
  timeoutMs = GUEST_POWER_WAIT_MS,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline && !signal?.aborted; attempt++) {
    await new Promise((resolve) =>
      setTimeout(
        resolve,
        Math.min(Math.round(250 * 1.3 ** attempt), 1000, Math.max(0, deadline - Date.now())),
      ),
    );
    try {
      const params = { node: guest.node, vmid: guest.vmid };
      const status = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/status/current", params, {
        signal,
      });
      if (status.status === "stopped") return "stopped";
      if (to === "suspended" && status.qmpstatus && status.qmpstatus !== "running") return status.qmpstatus;
    } catch {
      // A status read that fails for a moment does not change what the guest is doing; ask again.
    }
  }
  return undefined;
}
