// The node's packages and the repositories they come from. Newer versions are published at times
// relative to the last reset; a node's package list (GET apt/update) knows what was published up
// to its last `apt-get update`, so refreshing it (POST apt/update) can bring new updates.

import { KERNEL_RELEASE, PVE_REPOID, PVE_VERSION } from "../state/seed";

const DAY = 86400;

interface Release {
  version: string;
  /** Days before the reset the version was published (installed ones: long ago). */
  daysAgo: number;
  changes: string[];
  date?: string;
}

export interface Package {
  name: string;
  title: string;
  description: string;
  section: string;
  priority: string;
  arch: "amd64" | "all";
  origin: "Proxmox" | "Debian" | "Debian-Security";
  /** Oldest first: the installed version, then newer ones. */
  releases: Release[];
}

const proxmox = (
  name: string,
  title: string,
  section: string,
  releases: Release[],
  description = title,
): Package => ({
  name,
  title,
  description,
  section,
  priority: "optional",
  arch: "amd64",
  origin: "Proxmox",
  releases,
});

/** Packages with updates in the repositories (the first release is the installed one). */
export const UPDATABLE: Package[] = [
  proxmox(
    "pve-manager",
    "Proxmox Virtual Environment Management Tools",
    "admin",
    [
      {
        version: PVE_VERSION,
        daysAgo: 40,
        changes: ["api: services: report the unit and active state of each service"],
      },
      {
        version: "9.2.12",
        daysAgo: 5,
        changes: [
          "ui: node summary: show pending package updates",
          "api: apt: keep the notification status when refreshing the package list",
        ],
      },
    ],
    "This package contains the Proxmox Virtual Environment management tools.",
  ),
  proxmox("qemu-server", "Qemu Server Tools", "admin", [
    { version: "9.2.6", daysAgo: 45, changes: ["agent: file-read: allow reading at an offset"] },
    {
      version: "9.2.7",
      daysAgo: 4,
      changes: ["migration: fix a race when the target node is slow to answer"],
    },
  ]),
  proxmox("pve-qemu-kvm", "Full virtualization on x86 hardware", "admin", [
    { version: "10.1.2-1", daysAgo: 50, changes: ["update to QEMU 10.1.2"] },
    { version: "10.1.2-3", daysAgo: 5, changes: ["backport fix for virtio-scsi hot-unplug crash"] },
  ]),
  proxmox("libpve-storage-perl", "Proxmox VE storage management library", "perl", [
    {
      version: "9.2.3",
      daysAgo: 30,
      changes: ["download-url: normalize the file name before the extension check"],
    },
    { version: "9.2.4", daysAgo: 0.5, changes: ["lvm thin: report the pool's metadata usage"] },
  ]),
  proxmox("proxmox-kernel-6.17", "Latest Proxmox Kernel Image", "kernel", [
    { version: KERNEL_RELEASE.replace(/-pve$/, ""), daysAgo: 40, changes: ["update to Ubuntu-6.17.0-5.5"] },
    { version: "6.17.4-1", daysAgo: 6, changes: ["update to Ubuntu-6.17.0-7.7", "fix for CVE-2025-40018"] },
  ]),
  {
    name: "openssl",
    title: "Secure Sockets Layer toolkit - cryptographic utility",
    description:
      "This package is part of the OpenSSL project's implementation of the SSL and TLS cryptographic protocols.",
    section: "utils",
    priority: "optional",
    arch: "amd64",
    origin: "Debian-Security",
    releases: [
      { version: "3.5.1-1", daysAgo: 120, changes: ["New upstream release."] },
      {
        version: "3.5.1-1+deb13u1",
        daysAgo: 9,
        changes: ["CVE-2025-9230: fix out-of-bounds read in CMS decryption"],
      },
    ],
  },
  {
    name: "libssl3t64",
    title: "Secure Sockets Layer toolkit - shared libraries",
    description:
      "This package is part of the OpenSSL project's implementation of the SSL and TLS cryptographic protocols.",
    section: "libs",
    priority: "optional",
    arch: "amd64",
    origin: "Debian-Security",
    releases: [
      { version: "3.5.1-1", daysAgo: 120, changes: ["New upstream release."] },
      {
        version: "3.5.1-1+deb13u1",
        daysAgo: 9,
        changes: ["CVE-2025-9230: fix out-of-bounds read in CMS decryption"],
      },
    ],
  },
  {
    name: "openssh-server",
    title: "secure shell (SSH) server, for secure access from remote machines",
    description:
      "This is the portable version of OpenSSH, a free implementation of the Secure Shell protocol.",
    section: "net",
    priority: "optional",
    arch: "amd64",
    origin: "Debian-Security",
    releases: [
      { version: "1:10.0p1-7", daysAgo: 110, changes: ["New upstream release."] },
      {
        version: "1:10.0p1-7+deb13u1",
        daysAgo: 1.2,
        changes: ["CVE-2025-61984: disallow control characters in usernames"],
      },
    ],
  },
  {
    name: "tzdata",
    title: "time zone and daylight-saving time data",
    description: "This package contains data required for the implementation of standard local time.",
    section: "localization",
    priority: "required",
    arch: "all",
    origin: "Debian",
    releases: [
      { version: "2025b-4", daysAgo: 150, changes: ["New upstream release."] },
      { version: "2025b-4+deb13u1", daysAgo: 12, changes: ["Update for the Paraguay time zone change."] },
    ],
  },
  {
    name: "libc6",
    title: "GNU C Library: Shared libraries",
    description: "Contains the standard libraries that are used by nearly all programs on the system.",
    section: "libs",
    priority: "optional",
    arch: "amd64",
    origin: "Debian",
    releases: [
      { version: "2.41-12", daysAgo: 130, changes: ["New upstream release."] },
      {
        version: "2.41-12+deb13u1",
        daysAgo: 8,
        changes: ["Fix a memory leak in getaddrinfo with AF_UNSPEC."],
      },
    ],
  },
];

/** Packages pveversion reports that have no update pending: name, version, title. */
const STEADY: [string, string, string][] = [
  ["proxmox-ve", "9.2.0", "Proxmox Virtual Environment"],
  ["proxmox-kernel-6.17.2-1-pve-signed", "6.17.2-1", "Proxmox Kernel Image (signed)"],
  ["proxmox-kernel-6.14.11-4-pve-signed", "6.14.11-4", "Proxmox Kernel Image (signed)"],
  ["ceph-fuse", "19.2.3-pve2", "FUSE-based client for the Ceph distributed file system"],
  ["corosync", "3.1.9-pve2", "cluster engine daemon and utilities"],
  ["criu", "4.1.1-1", "checkpoint and restore in userspace"],
  ["frr-pythontools", "10.3.1-1+pve4", "FRRouting suite - Python tools"],
  ["ifupdown2", "3.3.0-1+pmx10", "Network Interface Management tool similar to ifupdown"],
  ["ksm-control-daemon", "1.5-1", "Kernel Samepage Merging (KSM) tuning daemon"],
  ["libjs-extjs", "7.0.0-5", "cross-browser JavaScript library"],
  ["libknet1", "1.30-pve2", "kronosnet core switching implementation"],
  ["libproxmox-acme-perl", "1.7.0", "Proxmox ACME integration"],
  ["libproxmox-backup-qemu0", "2.0.1", "Proxmox Backup Server client library for QEMU"],
  ["libproxmox-rs-perl", "0.4.1", "Perl bindings for Proxmox Rust code"],
  ["libpve-access-control", "9.0.3", "Proxmox VE access control library"],
  ["libpve-apiclient-perl", "3.4.0", "Proxmox VE API client library"],
  ["libpve-cluster-api-perl", "9.0.6", "Proxmox VE cluster API modules"],
  ["libpve-cluster-perl", "9.0.6", "Proxmox VE cluster Perl modules"],
  ["libpve-common-perl", "9.2.1", "Proxmox VE base library"],
  ["libpve-guest-common-perl", "6.0.2", "Proxmox VE common guest-related modules"],
  ["libpve-http-server-perl", "6.0.5", "Proxmox VE HTTP server implementation"],
  ["libpve-network-perl", "1.2.1", "Proxmox VE SDN library"],
  ["libpve-notify-perl", "9.0.6", "Proxmox VE notification framework"],
  ["libpve-rs-perl", "0.10.10", "Perl bindings for Proxmox VE Rust code"],
  ["libqb0", "1.0.5-1", "high performance client server features library"],
  ["libspice-server1", "0.15.2-1+b1", "Implements the server side of the SPICE protocol"],
  ["lvm2", "2.03.31-2+pmx1", "Linux Logical Volume Manager"],
  ["lxc-pve", "6.0.5-1", "Linux containers userspace tools"],
  ["lxcfs", "6.0.4-pve1", "FUSE based filesystem for LXC"],
  ["novnc-pve", "1.6.0-3", "HTML5 VNC client"],
  ["proxmox-backup-client", "4.0.16-1", "Proxmox Backup Client tools"],
  ["proxmox-backup-file-restore", "4.0.16-1", "Proxmox Backup single file restore tools"],
  ["proxmox-backup-restore-image", "1.0.0", "Kernel/initramfs images for Proxmox Backup single-file restore"],
  ["proxmox-firewall", "1.2.0", "Proxmox's nftables-based firewall written in rust"],
  ["proxmox-kernel-helper", "9.0.4", "Function for various kernel maintenance tasks"],
  ["proxmox-mail-forward", "1.0.2", "Proxmox mail forward helper"],
  ["proxmox-mini-journalreader", "1.6", "Minimal systemd Journal Reader"],
  ["proxmox-widget-toolkit", "5.1.1", "Core Widgets and ExtJS Helper Classes for Proxmox Web UIs"],
  ["pve-cluster", "9.0.6", "Cluster Infrastructure for Proxmox Virtual Environment"],
  ["pve-container", "6.1.10", "Proxmox VE Container management tool"],
  ["pve-docs", "9.2.2", "Proxmox VE Documentation"],
  ["pve-edk2-firmware", "4.2025.05-2", "edk2 based UEFI firmware modules for virtual machines"],
  ["pve-esxi-import-tools", "1.0.1", "Tools to allow importing VMs from ESXi hosts"],
  ["pve-firewall", "6.0.3", "Proxmox VE Firewall"],
  ["pve-firmware", "3.17-2", "Binary firmware code for the pve-kernel"],
  ["pve-ha-manager", "5.0.5", "Proxmox VE HA Manager"],
  ["pve-i18n", "3.6.1", "Internationalization support for Proxmox VE"],
  ["pve-xtermjs", "5.5.0-2", "HTML/TS/JS client for xterm.js"],
  ["smartmontools", "7.4-pve1", "control and monitor storage systems using S.M.A.R.T."],
  ["spiceterm", "3.4.1", "SPICE Terminal Emulator"],
  ["swtpm", "0.8.0+pve2", "Libtpms-based TPM emulator"],
  ["vncterm", "1.9.1", "VNC Terminal Emulator"],
  ["zfsutils-linux", "2.3.4-pve1", "command-line tools to manage OpenZFS filesystems"],
];

/** The newest release published by `atSec` (the reset time t0 anchors daysAgo). */
function candidate(p: Package, t0Sec: number, atSec: number): Release {
  let best = p.releases[0] as Release;
  for (const r of p.releases) if (t0Sec - r.daysAgo * DAY <= atSec) best = r;
  return best;
}

function pkgInfo(p: Package, version: string, old?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Package: p.name,
    Title: p.title,
    Origin: p.origin,
    Description: p.description,
    Section: p.section,
    Arch: p.arch,
    Priority: p.priority,
    Version: version,
  };
  if (old !== undefined) out.OldVersion = old;
  return out;
}

/** GET apt/update: upgradable packages as the node's last package-list refresh saw them. */
export function pendingUpdates(
  t0Sec: number,
  updatedAt: number,
  notified: Record<string, string> = {},
): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of UPDATABLE) {
    const installed = (p.releases[0] as Release).version;
    const cand = candidate(p, t0Sec, updatedAt);
    if (cand.version === installed) continue;
    const info = pkgInfo(p, cand.version, installed);
    // Only kept while it names the version on offer (a newer one is news again).
    if (notified[p.name] === cand.version) info.NotifyStatus = cand.version;
    out.push(info);
  }
  return out;
}

/** GET apt/versions: the packages `pveversion -v` lists, most important first. */
export function versions(t0Sec: number, updatedAt: number, cpuVendorAmd: boolean): Record<string, unknown>[] {
  const rows = new Map<string, Record<string, unknown>>();
  for (const [name, version, title] of STEADY) {
    const section = name.startsWith("proxmox-kernel") ? "kernel" : name.startsWith("lib") ? "perl" : "admin";
    rows.set(name, {
      ...pkgInfo(proxmox(name, title, section, []), version, version),
      CurrentState: "Installed",
    });
  }
  for (const p of UPDATABLE) {
    if (p.origin !== "Proxmox") continue;
    const installed = (p.releases[0] as Release).version;
    rows.set(p.name, {
      ...pkgInfo(p, candidate(p, t0Sec, updatedAt).version, installed),
      CurrentState: "Installed",
    });
  }
  if (cpuVendorAmd) {
    rows.set("amd64-microcode", {
      ...pkgInfo(
        proxmox(
          "amd64-microcode",
          "Platform firmware and microcode for AMD CPUs and SoCs",
          "non-free-firmware/admin",
          [],
        ),
        "3.20250311.1",
        "3.20250311.1",
      ),
      Origin: "Debian",
      CurrentState: "Installed",
    });
  }
  const pve = rows.get("pve-manager");
  if (pve) pve.ManagerVersion = `${PVE_VERSION}/${PVE_REPOID}`;
  const ve = rows.get("proxmox-ve");
  if (ve) ve.RunningKernel = KERNEL_RELEASE;
  const first = ["proxmox-ve", "pve-manager"];
  const kernels = [...rows.keys()]
    .filter((n) => /^(?:pve|proxmox)-kernel-\d/.test(n))
    .sort()
    .reverse();
  const rest = [...rows.keys()].filter((n) => !first.includes(n) && !kernels.includes(n)).sort();
  return [...first, ...kernels, ...rest].map((n) => rows.get(n) as Record<string, unknown>);
}

const MAINTAINER: Record<Package["origin"], string> = {
  Proxmox: "Proxmox Support Team <support@proxmox.com>",
  Debian: "Debian Maintainers <debian-devel@lists.debian.org>",
  "Debian-Security": "Debian Security Team <team@security.debian.org>",
};

/** `apt-get changelog -qq name[=version]` as APT.pm returns it (errors end with "RC: 100"). */
export function changelog(name: string, version: string | undefined, t0Sec: number): string {
  const p = UPDATABLE.find((x) => x.name === name);
  const steady = STEADY.find(([n]) => n === name);
  if (!p && !steady) return `E: Unable to locate package ${name}\nRC: 100`;
  const releases: Release[] = p
    ? p.releases
    : [{ version: (steady as [string, string, string])[1], daysAgo: 60, changes: ["New upstream release."] }];
  let upTo = releases.length;
  if (version !== undefined) {
    upTo = releases.findIndex((r) => r.version === version) + 1;
    if (upTo === 0) return `E: Version '${version}' for '${name}' was not found\nRC: 100`;
  }
  const dist = p?.origin === "Debian-Security" ? "trixie-security" : "trixie";
  const urgency = p?.origin === "Debian-Security" ? "high" : "medium";
  const maint = MAINTAINER[p?.origin ?? "Proxmox"];
  const out: string[] = [];
  for (const r of releases.slice(0, upTo).reverse()) {
    const date = new Date((t0Sec - r.daysAgo * DAY) * 1000).toUTCString().replace(/ GMT$/, " +0000");
    out.push(`${name} (${r.version}) ${dist}; urgency=${urgency}`, "");
    for (const c of r.changes) out.push(`  * ${c}`);
    out.push("", ` -- ${maint}  ${date}`, "");
  }
  return `${out.join("\n")}\n`;
}
