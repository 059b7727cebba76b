// The systemd units pve-manager's Services.pm knows (PVE/API2/Services.pm $service_name_list), as
// they look on a PVE 9 node (Debian 13): what `systemctl show` reports and what the units log.

import type { HostState, JournalEvent, ServiceState } from "./model";

export interface ServiceInfo {
  /** systemd Description. */
  desc: string;
  /** The unit journalctl filters on (Nodes.pm syslog maps postfix and sshd to these). */
  unit: string;
  /** SYSLOG_IDENTIFIER of the daemon's own lines. */
  ident: string;
  /** Default UnitFileState; "not-found" = not installed on a PVE 9 node. */
  unitState: "enabled" | "static" | "disabled" | "not-found";
  /** Oneshot units with RemainAfterExit report SubState "exited" while active. */
  oneshot?: boolean;
}

export const SERVICES: Readonly<Record<string, ServiceInfo>> = {
  chrony: { desc: "chrony, an NTP client/server", unit: "chrony", ident: "chronyd", unitState: "enabled" },
  corosync: { desc: "Corosync Cluster Engine", unit: "corosync", ident: "corosync", unitState: "enabled" },
  cron: {
    desc: "Regular background program processing daemon",
    unit: "cron",
    ident: "cron",
    unitState: "enabled",
  },
  ksmtuned: {
    desc: "Kernel Samepage Merging (KSM) Tuning Daemon",
    unit: "ksmtuned",
    ident: "ksmtuned",
    unitState: "enabled",
  },
  lxcfs: { desc: "FUSE filesystem for LXC", unit: "lxcfs", ident: "lxcfs", unitState: "enabled" },
  // Since postfix 3.1 the postfix unit only manages instances: a oneshot that stays "exited".
  postfix: {
    desc: "Postfix Mail Transport Agent",
    unit: "postfix@-",
    ident: "postfix/master",
    unitState: "enabled",
    oneshot: true,
  },
  "proxmox-firewall": {
    desc: "Proxmox nftables firewall",
    unit: "proxmox-firewall",
    ident: "proxmox-firewall",
    unitState: "enabled",
  },
  "pve-cluster": {
    desc: "The Proxmox VE cluster filesystem",
    unit: "pve-cluster",
    ident: "pmxcfs",
    unitState: "enabled",
  },
  "pve-firewall": {
    desc: "Proxmox VE firewall",
    unit: "pve-firewall",
    ident: "pve-firewall",
    unitState: "enabled",
  },
  "pve-ha-crm": {
    desc: "PVE Cluster HA Resource Manager Daemon",
    unit: "pve-ha-crm",
    ident: "pve-ha-crm",
    unitState: "enabled",
  },
  "pve-ha-lrm": {
    desc: "PVE Local HA Resource Manager Daemon",
    unit: "pve-ha-lrm",
    ident: "pve-ha-lrm",
    unitState: "enabled",
  },
  "pve-lxc-syscalld": {
    desc: "Proxmox VE LXC Syscall Daemon",
    unit: "pve-lxc-syscalld",
    ident: "pve-lxc-syscalld",
    unitState: "enabled",
  },
  pvedaemon: { desc: "PVE API Daemon", unit: "pvedaemon", ident: "pvedaemon", unitState: "enabled" },
  "pvefw-logger": {
    desc: "Proxmox VE firewall logger",
    unit: "pvefw-logger",
    ident: "pvefw-logger",
    unitState: "static",
  },
  pveproxy: { desc: "PVE API Proxy Server", unit: "pveproxy", ident: "pveproxy", unitState: "enabled" },
  pvescheduler: {
    desc: "Proxmox VE scheduler",
    unit: "pvescheduler",
    ident: "pvescheduler",
    unitState: "enabled",
  },
  pvestatd: { desc: "PVE Status Daemon", unit: "pvestatd", ident: "pvestatd", unitState: "enabled" },
  qmeventd: { desc: "PVE Qemu Event Daemon", unit: "qmeventd", ident: "qmeventd", unitState: "enabled" },
  spiceproxy: {
    desc: "PVE SPICE Proxy Server",
    unit: "spiceproxy",
    ident: "spiceproxy",
    unitState: "enabled",
  },
  sshd: { desc: "OpenBSD Secure Shell server", unit: "ssh", ident: "sshd", unitState: "enabled" },
  // PVE 8 and later no longer install rsyslog; chrony replaces systemd-timesyncd.
  syslog: { desc: "syslog.service", unit: "syslog", ident: "rsyslogd", unitState: "not-found" },
  "systemd-journald": {
    desc: "Journal Service",
    unit: "systemd-journald",
    ident: "systemd-journald",
    unitState: "static",
  },
  "systemd-timesyncd": {
    desc: "systemd-timesyncd.service",
    unit: "systemd-timesyncd",
    ident: "systemd-timesyncd",
    unitState: "not-found",
  },
};

/** Services.pm $essential_services: stopping them would cut the API off. */
export const ESSENTIAL = new Set(["pveproxy", "pvedaemon", "pve-cluster"]);

export type ServiceCommand = "start" | "stop" | "restart" | "reload";

export const running = (info: ServiceInfo, pid: number): ServiceState => ({
  state: info.oneshot ? "exited" : "running",
  unitState: info.unitState,
  activeState: "active",
  ...(info.oneshot ? {} : { pid }),
});

export const stopped = (info: ServiceInfo): ServiceState => ({
  state: "dead",
  unitState: info.unitState,
  activeState: "inactive",
});

export const failed = (info: ServiceInfo): ServiceState => ({
  state: "failed",
  unitState: info.unitState,
  activeState: "failed",
});

/** The state a unit reaches when systemd starts it at boot. */
export function bootState(info: ServiceInfo, pid: number, failing: boolean): ServiceState {
  if (info.unitState === "not-found" || info.unitState === "disabled") return stopped(info);
  return failing ? { ...failed(info), failing: true } : running(info, pid);
}

/** The API's view (Services.pm $service_state). */
export function serviceView(name: string, s: ServiceState | undefined): Record<string, unknown> {
  const info = SERVICES[name] as ServiceInfo;
  return {
    service: name,
    name,
    desc: info.desc,
    state: s?.state ?? "unknown",
    "unit-state": s?.unitState ?? "unknown",
    "active-state": s?.activeState ?? "unknown",
  };
}

/** systemctl's complaint for a unit that is not installed (exit code 5). */
export function notFoundLine(name: string, cmd: ServiceCommand): string {
  const info = SERVICES[name] as ServiceInfo;
  const verb = { start: "start", stop: "stop", restart: "restart", reload: "try-reload-or-restart" }[cmd];
  return `Failed to ${verb} ${info.unit}.service: Unit ${info.unit}.service ${cmd === "stop" ? "not loaded" : "not found"}.`;
}

/**
 * Applies a finished srvstart/srvstop/srvrestart/srvreload worker to the node: the new unit state
 * and the lines systemd writes to the journal.
 */
export function applyServiceCommand(
  host: HostState,
  name: string,
  cmd: ServiceCommand,
  atMs: number,
  pid: number,
): JournalEvent[] {
  const info = SERVICES[name];
  if (!info || info.unitState === "not-found") return [];
  const cur = host.services[name] ?? stopped(info);
  const unit = info.unit;
  const sys = (message: string): JournalEvent => ({ at: atMs, ident: "systemd", pid: 1, unit, message });
  const title = `${unit}.service - ${info.desc}`;
  const isActive = cur.activeState === "active";
  const events: JournalEvent[] = [];
  const start = () => {
    events.push(sys(`Starting ${title}...`), sys(`Started ${title}.`));
    // A start by hand clears what made the unit fail at boot (somebody fixed its config).
    host.services[name] = running(info, pid);
  };
  switch (cmd) {
    case "start":
      if (!isActive) start();
      break;
    case "stop":
      if (cur.activeState !== "inactive" || cur.state === "failed") {
        events.push(sys(`Stopping ${title}...`));
        if (isActive) events.push(sys(`${unit}.service: Deactivated successfully.`));
        events.push(sys(`Stopped ${title}.`));
      }
      // Stopping does not repair what makes the unit fail at boot.
      host.services[name] = { ...stopped(info), ...(cur.failing ? { failing: true } : {}) };
      break;
    case "restart":
      if (isActive) events.push(sys(`Stopping ${title}...`), sys(`Stopped ${title}.`));
      start();
      break;
    // try-reload-or-restart: reloads a running unit and leaves a stopped one alone.
    case "reload":
      if (isActive) events.push(sys(`Reloading ${title}...`), sys(`Reloaded ${title}.`));
      break;
  }
  return events;
}
