// The file system a guest's OS identity implies: a Debian, Ubuntu, Home Assistant OS or Windows 11
// install with a few real files, program binaries, devices, /proc entries and a log that grows
// while the guest runs. Computed on demand; the guest's own changes live in GuestOs.files.

import type { GuestOs, GuestState } from "../state/model";
import { Bytes } from "./bytes";
import { rfc3339, strftime } from "./clock";

export type ImageNode =
  | { kind: "dir"; mode: number }
  | { kind: "link"; target: string }
  | {
      kind: "file";
      mode: number;
      owner?: string;
      group?: string;
      content: Bytes | ((nowMs: number) => Bytes);
      /** Opening it fails with EACCES (Linux) or a sharing violation (Windows). */
      denied?: boolean;
      /** Changes with time (logs, /proc): its mtime is now. */
      live?: boolean;
    }
  /** Character devices: reads give `content` (often endless), writes vanish. */
  | { kind: "dev"; content: Bytes };

export interface Image {
  windows: boolean;
  /** Keyed by lookup key (Linux: the path; Windows: the lower-cased path). */
  nodes: Map<string, { path: string; node: ImageNode }>;
  /** Why a write under this path fails, if it does. */
  readOnly(path: string): "EACCES" | "EROFS" | null;
  /** Epoch seconds the image files carry as mtime. */
  installedAt: number;
}

export const isWindows = (os: GuestOs) => os.id === "mswindows";

/** The programs the exec engine implements, as they lie in /usr/bin. */
export const LINUX_PROGRAMS = [
  "base64",
  "bash",
  "cat",
  "cp",
  "dash",
  "date",
  "df",
  "echo",
  "env",
  "false",
  "free",
  "grep",
  "head",
  "hostname",
  "id",
  "kill",
  "ls",
  "mkdir",
  "printf",
  "rm",
  "seq",
  "sleep",
  "tail",
  "touch",
  "true",
  "uname",
  "uptime",
  "wc",
  "whoami",
  "yes",
];

export const WINDOWS_PROGRAMS: Record<string, string> = {
  "cmd.exe": "C:\\Windows\\System32\\cmd.exe",
  "hostname.exe": "C:\\Windows\\System32\\HOSTNAME.EXE",
  "ipconfig.exe": "C:\\Windows\\System32\\ipconfig.exe",
  "whoami.exe": "C:\\Windows\\System32\\whoami.exe",
  "powershell.exe": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
};

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const ELF = "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00\x01\x00\x00\x00";
const PE = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00";

const binary = (header: string, name: string, size: number) =>
  Bytes.concat(Bytes.of(header), Bytes.noise(hash(name), size - header.length));

/** A log with one fixed-width line every `everySec` seconds from `since` to now. */
function growingLog(
  since: number,
  everySec: number,
  line: (seq: number, epochMs: number) => string,
): (nowMs: number) => Bytes {
  const width = line(0, since * 1000).length;
  return (nowMs) => {
    const count = Math.max(0, Math.floor((nowMs / 1000 - since) / everySec) + 1);
    return Bytes.lines(count, width, (n) => line(n, (since + n * everySec) * 1000 + (n % 997)));
  };
}

function osRelease(os: GuestOs): string {
  const q = (v: string) => `"${v}"`;
  switch (os.id) {
    case "ubuntu":
      return [
        `PRETTY_NAME=${q(os.prettyName)}`,
        `NAME=${q(os.name)}`,
        `VERSION_ID=${q(os.versionId)}`,
        `VERSION=${q(os.version)}`,
        "VERSION_CODENAME=noble",
        "ID=ubuntu",
        "ID_LIKE=debian",
        'HOME_URL="https://www.ubuntu.com/"',
        'SUPPORT_URL="https://help.ubuntu.com/"',
        'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"',
        'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"',
        "UBUNTU_CODENAME=noble",
        "LOGO=ubuntu-logo",
        "",
      ].join("\n");
    case "haos":
      return [
        `NAME=${q(os.name)}`,
        `VERSION=${q(os.version)}`,
        "ID=haos",
        `VERSION_ID=${os.versionId}`,
        `PRETTY_NAME=${q(os.prettyName)}`,
        `CPE_NAME=cpe:2.3:o:home-assistant:haos:${os.versionId}:*:production:*:*:*:generic-x86-64:*`,
        "HOME_URL=https://hass.io/",
        'VARIANT="Home Assistant OS"',
        "VARIANT_ID=haos",
        "",
      ].join("\n");
    default:
      return [
        `PRETTY_NAME=${q(os.prettyName)}`,
        `NAME=${q(os.name)}`,
        `VERSION_ID=${q(os.versionId)}`,
        `VERSION=${q(os.version)}`,
        "VERSION_CODENAME=trixie",
        "DEBIAN_VERSION_FULL=13.1",
        `ID=${os.id}`,
        'HOME_URL="https://www.debian.org/"',
        'SUPPORT_URL="https://www.debian.org/support"',
        'BUG_REPORT_URL="https://bugs.debian.org/"',
        "",
      ].join("\n");
  }
}

const SYSTEM_ACCOUNTS = [
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "bin:x:2:2:bin:/bin:/usr/sbin/nologin",
  "sys:x:3:3:sys:/dev:/usr/sbin/nologin",
  "sync:x:4:65534:sync:/bin:/bin/sync",
  "games:x:5:60:games:/usr/games:/usr/sbin/nologin",
  "man:x:6:12:man:/var/cache/man:/usr/sbin/nologin",
  "lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin",
  "mail:x:8:8:mail:/var/mail:/usr/sbin/nologin",
  "news:x:9:9:news:/var/spool/news:/usr/sbin/nologin",
  "uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin",
  "proxy:x:13:13:proxy:/bin:/usr/sbin/nologin",
  "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",
  "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin",
  "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin",
  "messagebus:x:100:101::/nonexistent:/usr/sbin/nologin",
  "sshd:x:101:65534::/run/sshd:/usr/sbin/nologin",
];

/** /etc/passwd: root, the system accounts, then the guest's users. */
export function passwd(os: GuestOs): string {
  const line = (u: GuestOs["users"][number]) =>
    `${u.name}:x:${u.uid}:${u.uid}:${u.uid === 0 ? "root" : u.name}:${u.home}:${u.shell}`;
  const root = os.users.find((u) => u.uid === 0);
  const rest = os.users.filter((u) => u.uid !== 0);
  const system = os.id === "haos" ? [] : SYSTEM_ACCOUNTS;
  return `${[...(root ? [line(root)] : []), ...system, ...rest.map(line)].join("\n")}\n`;
}

/** The accounts set-user-password and id know: /etc/passwd, or the local Windows accounts. */
export function accountNames(os: GuestOs): string[] {
  if (isWindows(os)) return [...os.users.map((u) => u.name), "Guest", "DefaultAccount"];
  return passwd(os)
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(":")[0] as string);
}

function addParents(nodes: Image["nodes"], path: string, windows: boolean): void {
  const sep = windows ? "\\" : "/";
  const parts = path.split(sep);
  for (let i = 1; i < parts.length; i++) {
    const dir = windows && i === 1 ? `${parts[0]}\\` : parts.slice(0, i).join(sep) || "/";
    const key = windows ? dir.toLowerCase() : dir;
    if (!nodes.has(key)) nodes.set(key, { path: dir, node: { kind: "dir", mode: 0o755 } });
  }
}

function linuxImage(g: GuestState, os: GuestOs): Image {
  const nodes: Image["nodes"] = new Map();
  const put = (path: string, node: ImageNode) => {
    addParents(nodes, path, false);
    nodes.set(path, { path, node });
  };
  const file = (path: string, content: string | Bytes | ((nowMs: number) => Bytes), extra = {}) =>
    put(path, {
      kind: "file",
      mode: 0o644,
      content: typeof content === "string" ? Bytes.of(content) : content,
      ...extra,
    });
  const dir = (path: string, mode = 0o755) => put(path, { kind: "dir", mode });
  const boot = g.startedAt ?? Math.floor(Date.now() / 1000);
  const mem = Number.parseInt(String(g.config.memory ?? "2048"), 10) * 1024;
  const cores = Number(g.config.cores ?? 1) * Number(g.config.sockets ?? 1);
  const haos = os.id === "haos";

  for (const d of ["/boot", "/home", "/media", "/mnt", "/opt", "/run", "/srv", "/usr/local/bin", "/var/tmp"])
    dir(d);
  dir("/root", 0o700);
  dir("/tmp", 0o1777);
  dir("/proc", 0o555);
  dir("/sys", 0o555);
  if (haos) dir("/mnt/data");
  for (const [link, target] of [
    ["/bin", "usr/bin"],
    ["/sbin", "usr/sbin"],
    ["/lib", "usr/lib"],
  ] as const)
    put(link, { kind: "link", target });

  file("/etc/hostname", `${os.hostname}\n`);
  file(
    "/etc/hosts",
    `127.0.0.1\tlocalhost\n127.0.1.1\t${os.hostname}\n\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  );
  file("/etc/os-release", osRelease(os));
  file("/etc/passwd", passwd(os));
  file("/etc/group", "root:x:0:\nadm:x:4:\nsudo:x:27:\nusers:x:100:\nnogroup:x:65534:\n");
  // qemu-ga runs confined here: reading the password hashes is refused.
  file("/etc/shadow", "", { mode: 0o640, group: "shadow", denied: true });
  file("/etc/timezone", `${os.timezone}\n`);
  file("/etc/resolv.conf", "nameserver 192.168.1.1\nsearch lan\n");
  file("/etc/machine-id", `${hash(`mid${g.vmid}`).toString(16).padStart(8, "0").repeat(4)}\n`);
  file(
    "/etc/fstab",
    "# <file system> <mount point>   <type>  <options>       <dump>  <pass>\nPARTUUID=3c1b9e1f-01  /  ext4  rw,discard,errors=remount-ro,x-systemd.growfs  0  1\nPARTUUID=3c1b9e1f-0f  /boot/efi  vfat  defaults  0  0\n",
  );
  for (const u of os.users) {
    if (u.uid !== 0) put(u.home, { kind: "dir", mode: 0o750 });
    file(
      `${u.home}/.bashrc`,
      '# ~/.bashrc: executed by bash(1) for non-login shells.\n[ -z "$PS1" ] && return\nHISTCONTROL=ignoreboth\n',
    );
    if (u.uid !== 0)
      file(`${u.home}/notes.txt`, `todo on ${os.hostname}:\n- rotate backups\n- update packages\n`);
  }

  for (const p of LINUX_PROGRAMS)
    file(`/usr/bin/${p}`, binary(ELF, p, 30_000 + (hash(p) % 120_000)), { mode: 0o755 });
  put("/usr/bin/sh", { kind: "link", target: "dash" });
  file("/usr/sbin/qemu-ga", binary(ELF, "qemu-ga", 1_022_336), { mode: 0o755 });
  // Larger than one guest-file-read chunk (1 MiB), for paging.
  file("/usr/lib/x86_64-linux-gnu/libc.so.6", binary(ELF, "libc", 2_003_496), { mode: 0o755 });
  // Larger than a whole file-read call (16 MiB).
  if (!haos) file("/var/cache/apt/pkgcache.bin", Bytes.noise(hash(`apt${g.vmid}`), 36_512_418));

  put("/dev/null", { kind: "dev", content: Bytes.empty });
  put("/dev/zero", { kind: "dev", content: Bytes.repeat("\0") });
  put("/dev/urandom", {
    kind: "dev",
    content: Bytes.concat(Bytes.noise(g.vmid, 1 << 30), Bytes.repeat("\x5a")),
  });
  put("/dev/random", {
    kind: "dev",
    content: Bytes.concat(Bytes.noise(g.vmid + 1, 1 << 30), Bytes.repeat("\xa5")),
  });

  const live = { live: true, mode: 0o444 };
  file(
    "/proc/uptime",
    (now) => {
      const up = Math.max(0, now / 1000 - boot);
      return Bytes.of(`${up.toFixed(2)} ${(up * cores * 0.97).toFixed(2)}\n`);
    },
    live,
  );
  file(
    "/proc/loadavg",
    (now) =>
      Bytes.of(`${loadavg(g.vmid, now).join(" ")} 1/${120 + (g.vmid % 40)} ${2000 + (g.vmid % 900)}\n`),
    live,
  );
  file(
    "/proc/meminfo",
    () => {
      const free = Math.floor(mem * (1 - g.usage.memFraction));
      const kb = (n: number) => `${String(n).padStart(8)} kB`;
      return Bytes.of(
        `MemTotal:       ${kb(mem)}\nMemFree:        ${kb(Math.floor(free * 0.4))}\nMemAvailable:   ${kb(free)}\nBuffers:        ${kb(Math.floor(mem * 0.02))}\nCached:         ${kb(Math.floor(free * 0.5))}\nSwapTotal:      ${kb(0)}\nSwapFree:       ${kb(0)}\n`,
      );
    },
    live,
  );
  file(
    "/proc/version",
    `Linux version ${os.kernelRelease} (${haos ? "builder@buildkitsandbox" : "debian-kernel@lists.debian.org"}) (gcc (GCC) 14.2.0, GNU ld (GNU Binutils) 2.44) ${os.kernelVersion}\n`,
    live,
  );

  // A log that grows while the guest runs (rsyslog on Ubuntu, an application log elsewhere).
  const pid = 600 + (g.vmid % 300);
  if (os.id === "ubuntu") {
    const midnight = Math.floor(Date.now() / 86_400_000) * 86_400;
    file(
      "/var/log/syslog",
      growingLog(
        Math.max(boot, midnight),
        30,
        (n, t) =>
          `${rfc3339(os.timezone, t)} ${os.hostname} healthcheck[${pid}]: probe ${String(n % 1_000_000).padStart(6, "0")} ok latency=${String(3 + (hash(`${n}`) % 90)).padStart(3, "0")}ms\n`,
      ),
      { mode: 0o640, owner: "syslog", group: "adm", live: true },
    );
  } else {
    file(
      "/var/log/app.log",
      growingLog(
        boot,
        30,
        (n, t) =>
          `${strftime("%F %T", os.timezone, t)} INFO  [worker-${n % 4}] heartbeat seq=${String(n % 1_000_000).padStart(6, "0")} queue=${String(hash(`q${n}`) % 50).padStart(2, "0")}\n`,
      ),
      { live: true },
    );
  }
  file(
    "/var/log/dpkg.log",
    "2025-10-02 09:14:11 startup archives unpack\n2025-10-02 09:14:12 install qemu-guest-agent:amd64 <none> 1:10.0.2+ds-2\n",
  );

  return {
    windows: false,
    nodes,
    installedAt: installTime(g),
    readOnly(path) {
      if (/^\/(proc|sys)(\/|$)/.test(path)) return "EACCES";
      if (haos && !/^\/(tmp|mnt\/data|root|run)(\/|$)/.test(path)) return "EROFS";
      return null;
    },
  };
}

const WIN_HOSTS = [
  "# Copyright (c) 1993-2009 Microsoft Corp.",
  "#",
  "# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.",
  "#",
  "# This file contains the mappings of IP addresses to host names. Each",
  "# entry should be kept on an individual line. The IP address should",
  "# be placed in the first column followed by the corresponding host name.",
  "# The IP address and the host name should be separated by at least one",
  "# space.",
  "#",
  "# Additionally, comments (such as these) may be inserted on individual",
  "# lines or following the machine name denoted by a '#' symbol.",
  "#",
  "# For example:",
  "#",
  "#      102.54.94.97     rhino.acme.com          # source server",
  "#       38.25.63.10     x.acme.com              # x client host",
  "",
  "# localhost name resolution is handled within DNS itself.",
  "#\t127.0.0.1       localhost",
  "#\t::1             localhost",
  "",
].join("\r\n");

function windowsImage(g: GuestState, os: GuestOs): Image {
  const nodes: Image["nodes"] = new Map();
  const put = (path: string, node: ImageNode) => {
    addParents(nodes, path, true);
    nodes.set(path.toLowerCase(), { path, node });
  };
  const file = (path: string, content: string | Bytes | ((nowMs: number) => Bytes), extra = {}) =>
    put(path, {
      kind: "file",
      mode: 0o644,
      content: typeof content === "string" ? Bytes.of(content) : content,
      ...extra,
    });
  const boot = g.startedAt ?? Math.floor(Date.now() / 1000);
  for (const d of [
    "C:\\Program Files",
    "C:\\Program Files (x86)",
    "C:\\ProgramData",
    "C:\\Users\\Public",
    "C:\\Windows\\Temp",
  ])
    put(d, { kind: "dir", mode: 0o755 });
  for (const u of os.users) put(`${u.home}\\Desktop`, { kind: "dir", mode: 0o755 });
  file("C:\\Windows\\System32\\drivers\\etc\\hosts", WIN_HOSTS);
  file(
    "C:\\Windows\\System32\\drivers\\etc\\networks",
    "# Copyright (c) 1993-1999 Microsoft Corp.\r\n\r\nloopback                 127\r\n",
  );
  file(
    "C:\\Windows\\win.ini",
    "; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n[Mail]\r\nMAPI=1\r\n",
  );
  const user = os.users.find((u) => u.uid >= 1000);
  if (user) file(`${user.home}\\Documents\\notes.txt`, `todo on ${os.hostname}:\r\n- install updates\r\n`);
  for (const [name, path] of Object.entries(WINDOWS_PROGRAMS))
    file(path, binary(PE, name, 60_000 + (hash(name) % 400_000)));
  file("C:\\Program Files\\Qemu-ga\\qemu-ga.exe", binary(PE, "qemu-ga.exe", 2_381_312));
  // In use by the memory manager: opening it is a sharing violation.
  file("C:\\pagefile.sys", Bytes.noise(hash("pagefile"), 1_476_395_008), { denied: true });
  file(
    "C:\\Windows\\Temp\\app.log",
    growingLog(
      boot,
      60,
      (n, t) =>
        `${strftime("%F %T", os.timezone, t)} [INFO] Sync cycle ${String(n % 1_000_000).padStart(6, "0")} completed\r\n`,
    ),
    { live: true },
  );
  return {
    windows: true,
    nodes,
    installedAt: installTime(g),
    readOnly: (path) => (/^c:\\windows\\system32(\\|$)/i.test(path) ? "EACCES" : null),
  };
}

function installTime(g: GuestState): number {
  const m = /ctime=(\d+)/.exec(String(g.config.meta ?? ""));
  return m ? Number(m[1]) + 900 : (g.startedAt ?? 0) - 86_400;
}

/** Load averages that drift slowly with time, like a quiet server's. */
export function loadavg(vmid: number, nowMs: number): [string, string, string] {
  const t = nowMs / 60_000;
  const base = 0.05 + ((vmid * 37) % 40) / 100;
  const f = (k: number, p: number) => Math.max(0, base * (1 + 0.4 * Math.sin(t / p + vmid * k))).toFixed(2);
  return [f(1, 3), f(2, 9), f(3, 27)];
}

export function buildImage(g: GuestState, os: GuestOs): Image {
  return isWindows(os) ? windowsImage(g, os) : linuxImage(g, os);
}
