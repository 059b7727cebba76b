// qemu-ga inside a simulated VM: the QGA commands PVE relays, with QGA's return shapes and error
// texts. Exec jobs live as long as the guest's boot (like qemu-ga's own table, they vanish when the
// guest reboots) and are saved on every change, so a restart of the simulator keeps them
// (qga-store.ts); the guest's files and freeze state persist with the guest.

import type { GuestOs, GuestState, Settings } from "../state/model";
import type { Store } from "../state/store";
import { type Bytes, base64, unbase64Strict, utf8 } from "./bytes";
import { zoneAt } from "./clock";
import { type ExecResult, SpawnError, spawn } from "./exec";
import { FsError, GuestFs } from "./fs";
import { accountNames, isWindows } from "./image";
import { filesystems, interfaces, MEMORY_BLOCK, memoryBytes, sessions, vcpuCount } from "./system";

/** A QGA error reply: {"error": {"class": ..., "desc": ...}}. */
export class QgaError extends Error {
  constructor(
    readonly desc: string,
    readonly cls = "GenericError",
  ) {
    super(desc);
  }
}

export interface ExecJob {
  pid: number;
  startMs: number;
  /** Infinity for a job that never ends. */
  endMs: number;
  result: ExecResult;
  /** QGA's capture cap when the job started. */
  limit: number;
  /** Its file changes are in the guest's files. */
  committed: boolean;
}

/** qemu-ga's state for one boot of a guest (not persisted). */
export interface QgaRuntime {
  boot: string;
  nextPid: number;
  jobs: Map<number, ExecJob>;
  /** A guest-initiated power change in progress (guest-shutdown, guest-suspend-*). */
  power?: { atMs: number; to: "stopped" | "suspended" };
}

/** One boot of one VM: a restart gives a new qemu-ga with no jobs and thawed file systems. */
export const bootKey = (g: GuestState) => `${g.vmid}:${g.node}:${g.pid ?? 0}:${g.startedAt ?? 0}`;

export function runtimeOf(store: Store, g: GuestState): QgaRuntime {
  let rt = store.qga.get(g.vmid);
  if (!rt || rt.boot !== bootKey(g)) {
    rt = { boot: bootKey(g), nextPid: 1200 + ((g.vmid * 7919) % 2800), jobs: new Map() };
    store.qga.set(g.vmid, rt);
  }
  return rt;
}

export const isFrozen = (g: GuestState) => g.os?.frozenBoot !== undefined && g.os.frozenBoot === bootKey(g);

/** Whether guest-ping answers: qemu-ga runs, the vCPUs run, and it is not going down. */
export function agentAnswers(store: Store, g: GuestState, nowMs?: number): boolean {
  if (!g.os?.agentRunning || g.status !== "running" || (g.runState ?? "running") !== "running") return false;
  // Until the guest has booted, nothing listens on the agent's virtio port.
  if (nowMs !== undefined && g.os.bootSec && g.startedAt !== undefined) {
    if (nowMs < g.startedAt * 1000 + g.os.bootSec * 1000 * store.settings.execTimeScale) return false;
  }
  return !store.qga.get(g.vmid)?.power || store.qga.get(g.vmid)?.boot !== bootKey(g);
}

const jobDone = (g: GuestState, job: ExecJob, nowMs: number) =>
  // A job writing to frozen file systems blocks in write(2) until they are thawed.
  nowMs >= job.endMs && !(job.result.journal.length > 0 && !job.committed && isFrozen(g));

/**
 * Runs on every request: applies the file changes of exec jobs that have ended and guest-initiated
 * power changes that are due; forgets the qemu-ga state of guests that stopped or restarted.
 */
export function settleGuests(
  store: Store,
  nowMs: number,
  apply: (g: GuestState, to: "stopped" | "suspended", atMs: number) => void,
): void {
  for (const [vmid, rt] of store.qga) {
    const g = store.guests.get(vmid);
    if (!g?.os) {
      store.qga.delete(vmid);
      store.saveQga(vmid);
      continue;
    }
    let changed = false;
    for (const job of rt.jobs.values()) {
      if (job.committed || !jobDone(g, job, nowMs)) continue;
      const fs = new GuestFs(g, g.os, Math.min(nowMs, job.endMs));
      fs.replay(job.result.journal);
      fs.commit();
      job.committed = true;
      changed = true;
    }
    if (changed) store.guests.put(g);
    if (rt.boot !== bootKey(g)) {
      store.qga.delete(vmid);
      store.saveQga(vmid);
      continue;
    }
    if (rt.power && rt.power.atMs <= nowMs) {
      const { to, atMs } = rt.power;
      delete rt.power;
      apply(g, to, atMs);
      changed = true;
    }
    if (changed) store.saveQga(vmid);
  }
}

// ---- the commands -------------------------------------------------------------------------------

/** Commands qemu-ga still accepts while the file systems are frozen (qga/main.c ga_freeze_allowlist). */
const FREEZE_ALLOWLIST = new Set([
  "guest-ping",
  "guest-info",
  "guest-sync",
  "guest-sync-delimited",
  "guest-fsfreeze-status",
  "guest-fsfreeze-thaw",
]);

/** Commands the Windows agent does not implement (blocked at start-up, so "disabled"). */
const WINDOWS_BLOCKED = new Set([
  "guest-suspend-hybrid",
  "guest-get-memory-blocks",
  "guest-set-memory-blocks",
  "guest-get-memory-block-info",
  "guest-set-vcpus",
  "guest-get-diskstats",
  "guest-get-cpustats",
  "guest-get-load",
  "guest-network-get-route",
]);

const NO_REPLY = new Set([
  "guest-shutdown",
  "guest-suspend-disk",
  "guest-suspend-ram",
  "guest-suspend-hybrid",
]);

const ALL_COMMANDS = [
  "guest-sync-delimited",
  "guest-sync",
  "guest-ping",
  "guest-get-time",
  "guest-set-time",
  "guest-info",
  "guest-shutdown",
  "guest-file-open",
  "guest-file-close",
  "guest-file-read",
  "guest-file-write",
  "guest-file-seek",
  "guest-file-flush",
  "guest-fsfreeze-status",
  "guest-fsfreeze-freeze",
  "guest-fsfreeze-freeze-list",
  "guest-fsfreeze-thaw",
  "guest-fstrim",
  "guest-suspend-disk",
  "guest-suspend-ram",
  "guest-suspend-hybrid",
  "guest-network-get-interfaces",
  "guest-get-vcpus",
  "guest-set-vcpus",
  "guest-get-disks",
  "guest-get-fsinfo",
  "guest-set-user-password",
  "guest-get-memory-blocks",
  "guest-set-memory-blocks",
  "guest-get-memory-block-info",
  "guest-exec-status",
  "guest-exec",
  "guest-get-host-name",
  "guest-get-users",
  "guest-get-timezone",
  "guest-get-osinfo",
  "guest-get-devices",
  "guest-ssh-get-authorized-keys",
  "guest-ssh-add-authorized-keys",
  "guest-ssh-remove-authorized-keys",
  "guest-get-diskstats",
  "guest-get-cpustats",
  "guest-network-get-route",
  "guest-get-load",
];

const versionAtLeast = (v: string, major: number, minor: number) => {
  const [a = 0, b = 0] = v.split(".").map(Number);
  return a > major || (a === major && b >= minor);
};

/** The commands this agent build has (newer ones only in newer QEMU). */
function knownCommands(os: GuestOs): string[] {
  return ALL_COMMANDS.filter((c) => {
    if (isWindows(os)) return true;
    if (c === "guest-network-get-route") return versionAtLeast(os.qgaVersion, 9, 1);
    if (c === "guest-get-load") return versionAtLeast(os.qgaVersion, 10, 0);
    return true;
  });
}

/** The error qmp_dispatch gives for a disabled command. */
function checkEnabled(g: GuestState, os: GuestOs, command: string): void {
  if (isWindows(os) && WINDOWS_BLOCKED.has(command))
    throw new QgaError(`Command ${command} has been disabled`, "CommandNotFound");
  if (isFrozen(g) && !FREEZE_ALLOWLIST.has(command))
    throw new QgaError(
      `Command ${command} has been disabled: the agent is in frozen state`,
      "CommandNotFound",
    );
}

export interface QgaContext {
  store: Store;
  g: GuestState;
  os: GuestOs;
  nowMs: number;
  settings: Settings;
}

function info(c: QgaContext): unknown {
  return {
    version: c.os.qgaVersion,
    supported_commands: knownCommands(c.os).map((name) => ({
      enabled:
        !(isWindows(c.os) && WINDOWS_BLOCKED.has(name)) && (!isFrozen(c.g) || FREEZE_ALLOWLIST.has(name)),
      name,
      "success-response": !NO_REPLY.has(name),
    })),
  };
}

function networkInterfaces(c: QgaContext): unknown {
  return interfaces(c.g, c.os, c.nowMs).map((i) => ({
    name: i.name,
    ...(i.mac ? { "hardware-address": i.mac } : {}),
    "ip-addresses": [
      ...i.ipv4.map((a) => ({ "ip-address": a.addr, "ip-address-type": "ipv4", prefix: a.prefix })),
      ...i.ipv6.map((a) => ({ "ip-address": a.addr, "ip-address-type": "ipv6", prefix: a.prefix })),
    ],
    statistics: {
      "rx-bytes": i.stats.rxBytes,
      "rx-dropped": 0,
      "rx-errs": 0,
      "rx-packets": i.stats.rxPackets,
      "tx-bytes": i.stats.txBytes,
      "tx-dropped": 0,
      "tx-errs": 0,
      "tx-packets": i.stats.txPackets,
    },
  }));
}

function fsinfo(c: QgaContext): unknown {
  const win = isWindows(c.os);
  return filesystems(c.g, c.os).map((f) => ({
    name: f.name,
    mountpoint: f.mountpoint,
    type: f.type,
    "used-bytes": f.used,
    "total-bytes": f.used + f.avail,
    ...(win ? {} : { "total-bytes-privileged": f.size }),
    disk: [
      {
        "pci-controller": { domain: 0, bus: 1, slot: 1, function: 0 },
        "bus-type": "scsi",
        bus: 0,
        target: 0,
        unit: 0,
        serial: win ? "drive-scsi0" : "0QEMU_QEMU_HARDDISK_drive-scsi0",
        dev: win ? f.dev : f.dev,
      },
    ],
  }));
}

function memoryBlocks(c: QgaContext): unknown {
  const n = Math.floor(memoryBytes(c.g) / MEMORY_BLOCK);
  // Memory above 3 GiB sits behind the PCI hole, from 4 GiB on.
  return Array.from({ length: n }, (_, i) => ({
    "phys-index": i < 24 ? i : 32 + (i - 24),
    online: true,
    "can-offline": i >= 8,
  }));
}

function scheduledPower(c: QgaContext, to: "stopped" | "suspended"): null {
  const rt = runtimeOf(c.store, c.g);
  const ms = c.settings.taskDurationMs ?? Math.round(3000 * c.settings.taskDurationScale);
  rt.power = { atMs: c.nowMs + ms, to };
  c.store.saveQga(c.g.vmid);
  return null;
}

/** A simple command (no arguments): its QGA return value. Throws QgaError. */
export function simpleCommand(c: QgaContext, command: string): unknown {
  const name = `guest-${command}`;
  checkEnabled(c.g, c.os, name);
  const { g, os, nowMs } = c;
  switch (command) {
    case "ping":
      return {};
    case "info":
      return info(c);
    case "get-time":
      return nowMs * 1_000_000 + ((nowMs * 7919) % 1_000_000);
    case "get-host-name":
      return { "host-name": os.hostname };
    case "get-osinfo":
      return {
        id: os.id,
        "kernel-release": os.kernelRelease,
        "kernel-version": os.kernelVersion,
        machine: os.machine,
        name: os.name,
        "pretty-name": os.prettyName,
        ...(os.variant ? { variant: os.variant, "variant-id": os.variant } : {}),
        version: os.version,
        "version-id": os.versionId,
      };
    case "get-timezone": {
      const z = zoneAt(os.timezone, nowMs);
      return { zone: z.abbrev, offset: z.offset };
    }
    case "get-users":
      return sessions(g, os, nowMs).map((s) => ({
        user: s.user,
        ...(s.domain ? { domain: s.domain } : {}),
        "login-time": s.since + ((s.since * 7) % 1000) / 1000 + 0.000123,
      }));
    case "get-vcpus":
      return Array.from({ length: vcpuCount(g) }, (_, i) => ({
        "logical-id": i,
        online: true,
        "can-offline": !isWindows(os) && i > 0,
      }));
    case "get-fsinfo":
      return fsinfo(c);
    case "get-memory-blocks":
      return memoryBlocks(c);
    case "get-memory-block-info":
      return { size: MEMORY_BLOCK };
    case "network-get-interfaces":
      return networkInterfaces(c);
    case "fsfreeze-status":
      return isFrozen(g) ? "frozen" : "thawed";
    case "fsfreeze-freeze": {
      os.frozenBoot = bootKey(g);
      c.store.guests.put(g);
      return filesystems(g, os).length;
    }
    case "fsfreeze-thaw": {
      if (!isFrozen(g)) return 0;
      delete os.frozenBoot;
      c.store.guests.put(g);
      return filesystems(g, os).length;
    }
    case "fstrim":
      return {
        paths: filesystems(g, os).map((f) =>
          isWindows(os)
            ? { path: f.mountpoint }
            : { path: f.mountpoint, trimmed: Math.floor((f.avail * 0.9) / 4096) * 4096, minimum: 0 },
        ),
      };
    case "shutdown":
    case "suspend-disk":
      return scheduledPower(c, "stopped");
    case "suspend-ram":
    case "suspend-hybrid":
      return scheduledPower(c, "suspended");
    default:
      throw new QgaError(`The command ${name} has not been found`, "CommandNotFound");
  }
}

export function setUserPassword(
  c: QgaContext,
  username: string,
  password: string,
  crypted: boolean,
): unknown {
  checkEnabled(c.g, c.os, "guest-set-user-password");
  const win = isWindows(c.os);
  if (win && crypted) throw new QgaError("this feature or command is not currently supported");
  if (!win && !crypted && /[\n:]/.test(password)) throw new QgaError("forbidden characters in raw password");
  if (!accountNames(c.os).some((n) => (win ? n.toLowerCase() === username.toLowerCase() : n === username))) {
    throw new QgaError(
      win
        ? "failed to set password: The user name could not be found."
        : "child process has failed to set user password",
    );
  }
  return {};
}

export function execStart(
  c: QgaContext,
  argv: (string | undefined)[],
  inputData: string | undefined,
): { pid: number } {
  checkEnabled(c.g, c.os, "guest-exec");
  const path = argv[0];
  if (path === undefined) throw new QgaError("Invalid parameter type for 'path', expected: string");
  const rt = runtimeOf(c.store, c.g);
  const pid = rt.nextPid;
  rt.nextPid += 1 + (pid % 3);
  const fs = new GuestFs(c.g, c.os, c.nowMs);
  let result: ExecResult;
  try {
    result = spawn(
      { g: c.g, os: c.os, fs, startMs: c.nowMs, timeScale: c.settings.execTimeScale, pid },
      // JSON hands qemu-ga UTF-8: the guest sees bytes.
      (argv as string[]).map(utf8),
      inputData === undefined ? undefined : utf8(inputData),
    );
  } catch (e) {
    if (e instanceof SpawnError) throw new QgaError(`Guest agent command failed, error was '${e.message}'`);
    throw e;
  }
  rt.jobs.set(pid, {
    pid,
    startMs: c.nowMs,
    endMs: c.nowMs + result.durationMs,
    result,
    limit: c.settings.execOutputLimitBytes,
    committed: result.journal.length === 0,
  });
  c.store.saveQga(c.g.vmid);
  return { pid };
}

/** guest-exec-status, as PVE returns it: output base64-decoded, booleans as 0/1. */
export function execStatus(c: QgaContext, pid: number): Record<string, unknown> {
  checkEnabled(c.g, c.os, "guest-exec-status");
  const rt = runtimeOf(c.store, c.g);
  const job = rt.jobs.get(pid);
  if (!job) throw new QgaError("Invalid parameter 'pid'");
  if (!jobDone(c.g, job, c.nowMs)) return { exited: 0 };
  // qemu-ga frees the entry once it has reported the exit.
  rt.jobs.delete(pid);
  c.store.saveQga(c.g.vmid);
  const r = job.result;
  const out: Record<string, unknown> = { exited: 1 };
  if (r.signal !== undefined) out.signal = r.signal;
  else out.exitcode = r.exitcode;
  const stream = (b: Bytes, key: "out" | "err") => {
    if (b.length === 0) return;
    out[`${key}-data`] = b.text(job.limit);
    if (b.length > job.limit) out[`${key}-truncated`] = 1;
  };
  stream(r.out, "out");
  stream(r.err, "err");
  return out;
}

const MiB = 1024 * 1024;

function openError(c: QgaContext, fs: GuestFs, path: string, mode: string, e: unknown): QgaError {
  if (!(e instanceof FsError)) throw e;
  return new QgaError(
    isWindows(c.os)
      ? `failed to open file '${path}': ${fs.text(e.errno)}`
      : `failed to open file '${path}' (mode: '${mode}'): ${fs.text(e.errno)}`,
  );
}

/**
 * PVE's file-read loop over guest-file-open/seek/read (1 MiB chunks) and its answer:
 * {content, bytes-read, truncated?}. With decode=false each chunk's base64 is concatenated.
 */
export function fileRead(
  c: QgaContext,
  path: string,
  offset: number,
  count: number,
  decode: boolean,
): Record<string, unknown> {
  checkEnabled(c.g, c.os, "guest-file-open");
  const fs = new GuestFs(c.g, c.os, c.nowMs);
  const real = fs.abs(utf8(path));
  try {
    fs.checkReadable(real);
  } catch (e) {
    throw openError(c, fs, path, "r", e);
  }
  let data: Bytes;
  try {
    data = fs.read(real);
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    // Linux opens a directory fine; the first read fails.
    throw new QgaError(`failed to read file: ${fs.text(e.errno)}`);
  }
  const win = isWindows(c.os);
  let pos = offset;
  let left = count;
  let eof = false;
  let content = "";
  while (left > 0 && !eof) {
    const want = Math.min(MiB, left);
    const chunk = data.slice(pos, pos + want);
    const got = chunk.length;
    // glibc fread sets EOF only when it ran short; ReadFile reports EOF as a 0-byte read.
    eof = win ? got === 0 : got < want;
    const text = chunk.text();
    content += decode ? text : base64(text);
    pos += got;
    left -= got;
  }
  const result: Record<string, unknown> = { content, "bytes-read": count - left };
  if (!eof) result.truncated = 1;
  return result;
}

/** PVE's file-write: guest-file-open (wb, truncates), guest-file-write, guest-file-close. */
export function fileWrite(c: QgaContext, path: string, b64: string): null {
  checkEnabled(c.g, c.os, "guest-file-open");
  const fs = new GuestFs(c.g, c.os, c.nowMs);
  const real = fs.abs(utf8(path));
  try {
    fs.write(real, "");
  } catch (e) {
    throw openError(c, fs, path, "wb", e);
  }
  const data = unbase64Strict(b64);
  let error: QgaError | undefined;
  if (data === null) error = new QgaError("Base64 data is not valid");
  else {
    try {
      fs.write(real, data);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      error = new QgaError(`failed to write to file: ${fs.text(e.errno)}`);
    }
  }
  fs.commit();
  c.store.guests.put(c.g);
  if (error) throw error;
  return null;
}
