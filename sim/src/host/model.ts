// What the simulator keeps about each node's own system (not its guests): systemd services, the
// apt package cache, the journal's history of boots and service events, and a pending reboot or
// shutdown. One row per node, persisted like every other entity.

/** One systemd unit as `systemctl show` reports it (SubState, UnitFileState, ActiveState). */
export interface ServiceState {
  /** SubState: running, dead, exited, failed, ... */
  state: string;
  /** UnitFileState, or "not-found" when the unit is not installed. */
  unitState: string;
  /** ActiveState: active, inactive, failed, ... */
  activeState: string;
  /** Main pid while it runs (journal lines name it). */
  pid?: number;
  /** The unit fails whenever systemd starts it at boot (a broken config nobody fixed yet). */
  failing?: boolean;
}

/** A journal entry the simulator recorded (service changes, power events, API side effects). */
export interface JournalEvent {
  /** Epoch milliseconds. */
  at: number;
  /** SYSLOG_IDENTIFIER, e.g. "systemd", "pvedaemon", "chronyd". */
  ident: string;
  pid?: number;
  /** The systemd unit the line belongs to (journalctl --unit), without ".service". */
  unit?: string;
  message: string;
}

/** A reboot or shutdown requested through POST /nodes/{node}/status, applied lazily. */
export interface PowerPlan {
  command: "reboot" | "shutdown";
  /** Epoch ms when the node is gone (guests stopped, node offline). */
  downAt: number;
  /** Epoch ms when a rebooting node is back (onboot guests then start). */
  upAt?: number;
}

export interface HostState {
  node: string;
  services: Record<string, ServiceState>;
  /** Epoch seconds of the last `apt-get update` (what GET apt/update knows about). */
  aptUpdatedAt: number;
  /** Epoch seconds of earlier boots, oldest first (the current one is NodeState.bootTime). */
  pastBoots: { bootTime: number; downAt: number }[];
  /** Recorded journal entries, oldest first, capped (see journal.ts). */
  events: JournalEvent[];
  power?: PowerPlan;
  /** The node config's `wakeonlan` MAC (a node without one cannot be woken). */
  wakeOnLan?: string;
  /** Epoch seconds of the last refresh that sent a notification about new packages. */
  notifiedAt?: number;
  /** Files this node downloaded: volid → URL (what they hold, for a later checksum check). */
  downloads?: Record<string, string>;
}

/** A change to a node's system applied when a task ends (see effects.ts). */
export type HostChange =
  | { kind: "service"; name: string; cmd: "start" | "stop" | "restart" | "reload" }
  /** `notify`: the refresh sent a notification about the new packages (APT.pm NotifyStatus). */
  | { kind: "apt-updated"; notify?: boolean };
