// What a node logs when it boots and when it goes down, and the unit states a boot leaves behind.

import { KERNEL_RELEASE, KERNEL_VERSION } from "../state/seed";
import type { HostState, JournalEvent } from "./model";
import { bootState, SERVICES, type ServiceInfo } from "./services";

/**
 * Boots the node's units (fresh pids from `firstPid`) and returns the journal of that boot:
 * kernel, systemd, and each unit starting (or failing, for a unit whose config is broken).
 */
export function bootHost(host: HostState, bootTimeSec: number, firstPid: number): JournalEvent[] {
  const t0 = bootTimeSec * 1000;
  const kernel = (ms: number, message: string): JournalEvent => ({ at: t0 + ms, ident: "kernel", message });
  const events: JournalEvent[] = [
    kernel(
      0,
      `Linux version ${KERNEL_RELEASE} (build@proxmox) (gcc (Debian 14.2.0-19) 14.2.0, GNU ld (GNU Binutils for Debian) 2.44) ${KERNEL_VERSION} ()`,
    ),
    kernel(0, `Command line: BOOT_IMAGE=/boot/vmlinuz-${KERNEL_RELEASE} root=/dev/mapper/pve-root ro quiet`),
    {
      at: t0 + 2100,
      ident: "systemd",
      pid: 1,
      message:
        "systemd 257.8-1~deb13u2 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +IPE +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBCRYPTSETUP_PLUGINS +LIBFDISK +PCRE2 +PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD +BPF_FRAMEWORK +BTF -XKBCOMMON -UTMP +SYSVINIT +LIBARCHIVE)",
    },
    { at: t0 + 2110, ident: "systemd", pid: 1, message: `Hostname set to <${host.node}>.` },
  ];
  let pid = firstPid;
  let ms = 4000;
  for (const [name, info] of Object.entries(SERVICES) as [string, ServiceInfo][]) {
    const was = host.services[name];
    const state = bootState(info, pid, was?.failing === true);
    host.services[name] = state;
    if (info.unitState === "not-found" || info.unitState === "disabled") continue;
    const unit = info.unit;
    const title = `${unit}.service - ${info.desc}`;
    const sys = (message: string): JournalEvent => ({ at: t0 + ms, ident: "systemd", pid: 1, unit, message });
    events.push(sys(`Starting ${title}...`));
    if (state.failing) {
      const said = (message: string, after: number): JournalEvent => ({
        at: t0 + ms + after,
        ident: info.ident,
        pid,
        unit,
        message,
      });
      if (name === "chrony") {
        events.push(
          said(
            "chronyd version 4.6.1 starting (+CMDMON +NTP +REFCLOCK +RTC +PRIVDROP +SCFILTER +SIGND +ASYNCDNS +NTS +SECHASH +IPV6 -DEBUG)",
            40,
          ),
          said("Fatal error : Invalid command at line 3 in file /etc/chrony/sources.d/local-ntp.sources", 45),
        );
      } else {
        events.push(said("error loading configuration, exiting", 40));
      }
      const later = (message: string): JournalEvent => ({ ...sys(message), at: t0 + ms + 60 });
      events.push(
        later(`${unit}.service: Control process exited, code=exited, status=1/FAILURE`),
        later(`${unit}.service: Failed with result 'exit-code'.`),
        later(`Failed to start ${title}.`),
      );
    } else {
      events.push(sys(`Started ${title}.`));
    }
    pid += 17;
    ms += 230;
  }
  return events;
}

/** What systemd logs while it powers the node off or reboots it. */
export function shutdownEvents(
  host: HostState,
  command: "reboot" | "shutdown",
  atMs: number,
): JournalEvent[] {
  const target = command === "reboot" ? "reboot" : "power off";
  const events: JournalEvent[] = [
    { at: atMs, ident: "systemd-logind", pid: 790, message: `The system will ${target} now!` },
    {
      at: atMs + 5,
      ident: "systemd-logind",
      pid: 790,
      message: `System is ${command === "reboot" ? "rebooting" : "powering down"}.`,
    },
  ];
  let ms = 20;
  for (const [name, info] of Object.entries(SERVICES) as [string, ServiceInfo][]) {
    const s = host.services[name];
    if (s?.activeState !== "active") continue;
    const title = `${info.unit}.service - ${info.desc}`;
    events.push(
      { at: atMs + ms, ident: "systemd", pid: 1, unit: info.unit, message: `Stopping ${title}...` },
      { at: atMs + ms + 60, ident: "systemd", pid: 1, unit: info.unit, message: `Stopped ${title}.` },
    );
    ms += 80;
  }
  events.push({
    at: atMs + ms,
    ident: "systemd",
    pid: 1,
    message: `Reached target ${command === "reboot" ? "reboot.target - System Reboot" : "poweroff.target - System Power Off"}.`,
  });
  return events;
}
