// The simulated cluster's state. Everything here is plain JSON so it can be persisted row by row.
import type { HostChange } from "../host/model";
import type { UpidParts } from "./upid";

/** A value in a guest config file: property strings and names are strings, counts are numbers. */
export type ConfigValue = string | number;
export type GuestConfig = Record<string, ConfigValue>;
export type GuestType = "qemu" | "lxc";

export interface NodeState {
  name: string;
  nodeid: number;
  ip: string;
  online: boolean;
  /** Epoch seconds when the node booted; uptime grows with real time. */
  bootTime: number;
  cpuModel: string;
  sockets: number;
  cores: number;
  cpus: number;
  memTotal: number;
  memUsedBase: number;
  swapTotal: number;
  swapUsed: number;
  rootTotal: number;
  rootUsed: number;
  loadavg: [number, number, number];
  cpuUsage: number;
  kernel: string;
  kernelBuild: string;
  sslFingerprint: string;
  /** Next worker pid handed out on this node. */
  nextPid: number;
}

export interface SnapshotState {
  name: string;
  parent?: string;
  snaptime: number;
  description: string;
  /** qemu only: RAM state saved with the snapshot. */
  vmstate?: boolean;
  config: GuestConfig;
}

/** Runtime counters of a guest; derived values (uptime, net traffic) grow with time. */
export interface GuestUsage {
  cpu: number;
  memFraction: number;
  diskUsed: number;
  netRate: number;
  diskRate: number;
}

/** An account inside a guest (/etc/passwd, or a local Windows account). */
export interface GuestUser {
  name: string;
  uid: number;
  home: string;
  shell: string;
}

/** A login session qemu-ga reports (utmp / WTS sessions), counted from the guest's boot. */
export interface GuestLogin {
  user: string;
  /** Windows only: the computer or domain name. */
  domain?: string;
  afterBootSec: number;
}

/**
 * What runs inside a VM, for the guest-agent endpoints: identity, accounts, network and a small
 * file system. The image that the identity implies is computed (sim/src/guest/image.ts); only what
 * the guest changed is stored here, so it persists with the guest, its backups and its clones.
 */
export interface GuestOs {
  /** os-release ID, or "mswindows". */
  id: string;
  name: string;
  prettyName: string;
  version: string;
  versionId: string;
  kernelRelease: string;
  kernelVersion: string;
  machine: string;
  /** Windows: "client" or "server". */
  variant?: string;
  hostname: string;
  /** IANA zone (Linux) or Windows zone name. */
  timezone: string;
  ipv4?: string;
  /** qemu-ga version string (guest-info). */
  qgaVersion: string;
  /** Whether qemu-ga answers (only meaningful when the VM runs and `agent` is configured). */
  agentRunning: boolean;
  /**
   * Seconds from the VM's start until qemu-ga answers: the OS boots and (in a cloud image)
   * cloud-init runs first. Scaled by the execTimeScale setting like every guest program.
   */
  bootSec?: number;
  users: GuestUser[];
  logins: GuestLogin[];
  /** Files written in the guest, over the image (binary strings: one char per byte). */
  files: Record<string, string>;
  /** Epoch seconds each of those files was last written. */
  mtimes?: Record<string, number>;
  /** Image files and directories removed in the guest. */
  deleted?: string[];
  /** Directories created in the guest. */
  dirs?: string[];
  /** The boot (see bootKey) whose file systems are frozen by guest-fsfreeze-freeze. */
  frozenBoot?: string;
}

export interface GuestState {
  vmid: number;
  type: GuestType;
  node: string;
  status: "running" | "stopped";
  /** qemu: QMP status ("running" | "paused" | "suspended" after guest S3); lxc: "frozen". */
  runState?: "running" | "paused" | "frozen" | "suspended";
  /** Epoch seconds when the guest started (running guests). */
  startedAt?: number;
  pid?: number;
  config: GuestConfig;
  pending: GuestConfig;
  pendingDelete: string[];
  snapshots: SnapshotState[];
  usage: GuestUsage;
  os?: GuestOs;
  /** Nothing inside reacts to the ACPI power button (no OS installed yet): shutdowns time out. */
  ignoresAcpi?: boolean;
}

export type StorageType = "dir" | "lvmthin" | "nfs" | "zfspool" | "pbs";

export interface StorageState {
  storage: string;
  type: StorageType;
  content: string[];
  shared: boolean;
  enabled: boolean;
  /** Nodes it is configured on; undefined = all nodes. */
  nodes?: string[];
  path?: string;
  server?: string;
  export?: string;
  vgname?: string;
  thinpool?: string;
  total: number;
  /** Bytes used by things the simulator does not model (OS files, other data). */
  baseUsed: number;
  /** The other storage.cfg options of its type (pool, sparse, datastore, prune-backups, ...). */
  options?: Record<string, string | number>;
}

export type VolumeContent = "iso" | "vztmpl" | "backup" | "snippets" | "import";

/** A file-like volume (ISO, template, backup). Guest disks are derived from guest configs. */
export interface VolumeState {
  volid: string;
  storage: string;
  /** Node for node-local storages, undefined for shared ones. */
  node?: string;
  content: VolumeContent;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  subtype?: GuestType;
  notes?: string;
  protected?: boolean;
  /** Backups the simulator made: the guest as it was, so a restore can bring it back. */
  guest?: BackedUpGuest;
}

/** What a backup archive holds besides the data: the config and what ran inside. */
export interface BackedUpGuest {
  type: GuestType;
  config: GuestConfig;
  usage: GuestUsage;
  os?: GuestOs;
}

export interface PoolState {
  poolid: string;
  comment?: string;
  vmids: number[];
  storages: string[];
}

export type TaskOutcome =
  | { kind: "ok" }
  | { kind: "warnings"; count: number }
  | { kind: "error"; message: string };

/** A state change applied when a task ends (or when it starts, for locks). Plain data. */
export type TaskEffect =
  | { kind: "guest-running"; vmid: number }
  | { kind: "guest-stopped"; vmid: number }
  | { kind: "guest-paused"; vmid: number; paused: boolean }
  | { kind: "guest-rebooted"; vmid: number }
  | { kind: "guest-lock"; vmid: number; lock: string | null }
  | { kind: "snapshot-create"; vmid: number; name: string; description: string; vmstate: boolean }
  | { kind: "snapshot-delete"; vmid: number; name: string }
  | { kind: "snapshot-rollback"; vmid: number; name: string }
  /** Creates or replaces a whole guest (create, clone, restore). */
  | { kind: "guest-put"; guest: GuestState }
  /** Removes a guest and its pool membership (destroy, or undoing a create). */
  | { kind: "guest-remove"; vmid: number }
  /** Sets and deletes config keys (resize, async config, template). */
  | { kind: "guest-config"; vmid: number; set: GuestConfig; delete?: string[] }
  /** Moves a guest to another node (migration); a running guest gets a new process there. */
  | { kind: "guest-move"; vmid: number; node: string }
  | { kind: "volume-put"; volume: VolumeState }
  | { kind: "volume-remove"; key: string }
  | { kind: "pool-add"; vmid: number; poolid: string }
  /** A change to the node's own system (services, apt cache), see sim/src/host/effects.ts. */
  | { kind: "host"; node: string; change: HostChange };

/** A task: its UPID's parts (`user` is the full id, e.g. "root@pam!mcp"), timing, log and effects. */
export interface TaskState extends UpidParts {
  upid: string;
  /** Epoch milliseconds. */
  startMs: number;
  durationMs: number;
  /** Log lines with their offset (ms) from the task start. The final status line is not included. */
  lines: [number, string][];
  outcome: TaskOutcome;
  effects: TaskEffect[];
  /** Effects applied if the task is stopped (DELETE) before it ends. */
  abortEffects: TaskEffect[];
  /** Set once the task has ended and its effects are applied. */
  finished: boolean;
  /** Epoch ms when it was stopped through DELETE /nodes/{node}/tasks/{upid}. */
  killedAtMs?: number;
}

export interface Settings {
  latencyMs: number;
  authFailureDelayMs: number;
  /** When set, every new task takes exactly this long. */
  taskDurationMs: number | null;
  /** Multiplies the built-in task durations (ignored when taskDurationMs is set). */
  taskDurationScale: number;
  /** How long a guest-ping waits before "QEMU guest agent is not running" (qemu-server: 3 s). */
  agentTimeoutMs: number;
  /** QGA's cap on captured exec output per stream (GUEST_EXEC_MAX_OUTPUT, 16 MiB). */
  execOutputLimitBytes: number;
  /** Multiplies the time guest programs take (`sleep 5` takes 5 s at 1). */
  execTimeScale: number;
  /** false: file-read without offset/count/decode, as before qemu-server 9.1.5. */
  agentFileReadParams: boolean;
  /** Privileges the API token lacks on every path (403 where an endpoint needs them). */
  deniedPrivileges: string[];
  version: "9.2" | "8.4";
}

export const DEFAULT_SETTINGS: Settings = {
  latencyMs: 0,
  authFailureDelayMs: 3000,
  taskDurationMs: null,
  taskDurationScale: 1,
  agentTimeoutMs: 3000,
  execOutputLimitBytes: 16 * 1024 * 1024,
  execTimeScale: 1,
  agentFileReadParams: true,
  deniedPrivileges: [],
  version: "9.2",
};

export type FaultKind = "json" | "empty" | "access-login" | "tunnel-error" | "hang";

export interface Fault {
  remaining: number;
  status?: number;
  kind: FaultKind;
  message?: string;
  pathPrefix?: string;
}

export interface SeedOptions {
  nodes: number;
  /** Undefined: the hand-written homelab; a number: that many generated guests. */
  guests?: number;
}

export interface Meta {
  /** Epoch ms of the last reset; seeded times are relative to it. */
  t0: number;
  seed: SeedOptions;
}

/**
 * A configuration file kept whole, as pmxcfs keeps /etc/pve (user.cfg, ha/resources.cfg,
 * jobs.cfg) and each node keeps /etc/network/interfaces: one JSON document per file, so one
 * digest covers the file as in Proxmox.
 */
export interface ConfigFile {
  name: string;
  data: unknown;
}
