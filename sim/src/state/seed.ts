// The seeded cluster: a hand-written homelab by default, or N nodes with M generated guests for
// benchmarks. Deterministic: the same options give the same data; times are relative to the reset.

import { seedHosts } from "../host/seed";
import { seedAccess } from "./access";
import { seedBackupJobs } from "./backup-jobs";
import { seedHa } from "./ha";
import type {
  GuestConfig,
  GuestOs,
  GuestState,
  GuestType,
  NodeState,
  PoolState,
  SeedOptions,
  SnapshotState,
  StorageState,
  TaskEffect,
  TaskOutcome,
  TaskState,
  VolumeState,
} from "./model";
import { seedNetwork } from "./network";
import { digestOf, Rng } from "./random";
import { seedConfigFiles } from "./seed-config";
import type { World } from "./store";
import { formatUpid } from "./upid";
import { PROFILES } from "./version";

export const CLUSTER_NAME = "homelab";
// The default release's strings; the `version` setting picks another profile (state/version.ts).
export const PVE_VERSION = PROFILES["9.2"].version;
export const PVE_RELEASE = PROFILES["9.2"].release;
export const PVE_REPOID = PROFILES["9.2"].repoid;
export const KERNEL_RELEASE = PROFILES["9.2"].kernelRelease;
export const KERNEL_VERSION = PROFILES["9.2"].kernelVersion;

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const DAY = 86400;

interface NodeHardware {
  cpuModel: string;
  sockets: number;
  cores: number;
  cpus: number;
  memGiB: number;
  rootGiB: number;
  uptimeDays: number;
}

const HARDWARE: NodeHardware[] = [
  {
    cpuModel: "AMD Ryzen 9 5950X 16-Core Processor",
    sockets: 1,
    cores: 16,
    cpus: 32,
    memGiB: 128,
    rootGiB: 94,
    uptimeDays: 12.4,
  },
  {
    cpuModel: "12th Gen Intel(R) Core(TM) i7-12700",
    sockets: 1,
    cores: 12,
    cpus: 20,
    memGiB: 64,
    rootGiB: 94,
    uptimeDays: 34.2,
  },
  { cpuModel: "Intel(R) N100", sockets: 1, cores: 4, cpus: 4, memGiB: 32, rootGiB: 58, uptimeDays: 3.1 },
  {
    cpuModel: "Intel(R) Xeon(R) E-2388G CPU @ 3.20GHz",
    sockets: 1,
    cores: 8,
    cpus: 16,
    memGiB: 128,
    rootGiB: 94,
    uptimeDays: 21.7,
  },
];

// ---------------------------------------------------------------------------------------------
// Guests of the hand-written homelab.

interface GuestSpec {
  vmid: number;
  type: GuestType;
  /** 0-based node index (wrapped when fewer nodes are requested). */
  node: number;
  name: string;
  state: "running" | "stopped" | "paused";
  cores: number;
  memMiB: number;
  diskGiB: number;
  os: "debian" | "ubuntu" | "windows" | "haos" | "alpine";
  agent?: "1" | "0";
  tags?: string;
  protection?: boolean;
  template?: boolean;
  lock?: string;
  description?: string;
  onboot?: boolean;
  pool?: string;
  /** Days ago the guest last started (running guests). */
  upDays?: number;
}

const HOMELAB: GuestSpec[] = [
  {
    vmid: 100,
    type: "qemu",
    node: 0,
    name: "pihole",
    state: "running",
    cores: 1,
    memMiB: 1024,
    diskGiB: 16,
    os: "debian",
    agent: "1",
    tags: "dns;infra",
    onboot: true,
    upDays: 12.3,
  },
  {
    vmid: 101,
    type: "qemu",
    node: 0,
    name: "web-01",
    state: "running",
    cores: 2,
    memMiB: 4096,
    diskGiB: 32,
    os: "ubuntu",
    agent: "1",
    tags: "prod;web",
    onboot: true,
    pool: "prod",
    description: "Public web server (nginx + certbot).\nManaged by Ansible.",
    upDays: 2.1,
  },
  {
    vmid: 102,
    type: "qemu",
    node: 0,
    name: "db-01",
    state: "running",
    cores: 4,
    memMiB: 8192,
    diskGiB: 64,
    os: "debian",
    agent: "1",
    tags: "db;prod",
    protection: true,
    onboot: true,
    pool: "prod",
    description: "PostgreSQL 16 primary. Do not delete.",
    upDays: 12.3,
  },
  {
    vmid: 103,
    type: "qemu",
    node: 0,
    name: "win11",
    state: "stopped",
    cores: 4,
    memMiB: 8192,
    diskGiB: 80,
    os: "windows",
    agent: "1",
    tags: "desktop",
  },
  {
    vmid: 104,
    type: "qemu",
    node: 1,
    name: "k8s-master",
    state: "running",
    cores: 2,
    memMiB: 4096,
    diskGiB: 32,
    os: "ubuntu",
    tags: "k8s;lab",
    pool: "lab",
    upDays: 20.5,
  },
  {
    vmid: 105,
    type: "qemu",
    node: 1,
    name: "k8s-worker-1",
    state: "paused",
    cores: 2,
    memMiB: 4096,
    diskGiB: 32,
    os: "ubuntu",
    agent: "1",
    tags: "k8s;lab",
    pool: "lab",
    upDays: 20.5,
  },
  {
    vmid: 106,
    type: "qemu",
    node: 1,
    name: "k8s-worker-2",
    state: "running",
    cores: 2,
    memMiB: 4096,
    diskGiB: 32,
    os: "ubuntu",
    agent: "1",
    tags: "k8s;lab",
    lock: "backup",
    upDays: 20.5,
  },
  {
    vmid: 107,
    type: "qemu",
    node: 1,
    name: "ubuntu-2404-template",
    state: "stopped",
    cores: 2,
    memMiB: 2048,
    diskGiB: 20,
    os: "ubuntu",
    agent: "1",
    template: true,
    description: "Ubuntu 24.04 cloud-init template",
  },
  {
    vmid: 108,
    type: "qemu",
    node: 2,
    name: "media",
    state: "running",
    cores: 2,
    memMiB: 4096,
    diskGiB: 48,
    os: "debian",
    agent: "1",
    tags: "media",
    onboot: true,
    upDays: 3.0,
  },
  {
    vmid: 109,
    type: "qemu",
    node: 2,
    name: "nextcloud",
    state: "running",
    cores: 2,
    memMiB: 6144,
    diskGiB: 100,
    os: "debian",
    agent: "1",
    tags: "prod;web",
    onboot: true,
    pool: "prod",
    upDays: 3.0,
  },
  {
    vmid: 110,
    type: "qemu",
    node: 2,
    name: "test-vm",
    state: "stopped",
    cores: 1,
    memMiB: 2048,
    diskGiB: 16,
    os: "debian",
    agent: "0",
  },
  {
    vmid: 111,
    type: "qemu",
    node: 2,
    name: "homeassistant",
    state: "running",
    cores: 2,
    memMiB: 4096,
    diskGiB: 32,
    os: "haos",
    agent: "1",
    tags: "home;iot",
    onboot: true,
    upDays: 3.0,
  },
  {
    vmid: 200,
    type: "lxc",
    node: 0,
    name: "proxy",
    state: "running",
    cores: 1,
    memMiB: 512,
    diskGiB: 8,
    os: "debian",
    tags: "infra",
    onboot: true,
    upDays: 12.3,
  },
  {
    vmid: 201,
    type: "lxc",
    node: 0,
    name: "monitoring",
    state: "running",
    cores: 2,
    memMiB: 2048,
    diskGiB: 20,
    os: "debian",
    tags: "infra;prod",
    protection: true,
    onboot: true,
    pool: "prod",
    description: "Prometheus + Grafana",
    upDays: 12.3,
  },
  {
    vmid: 202,
    type: "lxc",
    node: 1,
    name: "git",
    state: "running",
    cores: 2,
    memMiB: 2048,
    diskGiB: 16,
    os: "debian",
    tags: "dev",
    upDays: 20.5,
  },
  {
    vmid: 203,
    type: "lxc",
    node: 1,
    name: "dev-ct",
    state: "stopped",
    cores: 2,
    memMiB: 1024,
    diskGiB: 8,
    os: "ubuntu",
    pool: "lab",
  },
  {
    vmid: 204,
    type: "lxc",
    node: 2,
    name: "minecraft",
    state: "stopped",
    cores: 4,
    memMiB: 6144,
    diskGiB: 24,
    os: "ubuntu",
    tags: "games",
  },
  {
    vmid: 205,
    type: "lxc",
    node: 2,
    name: "unifi",
    state: "running",
    cores: 1,
    memMiB: 1024,
    diskGiB: 8,
    os: "alpine",
    tags: "infra",
    onboot: true,
    upDays: 3.0,
  },
];

// ---------------------------------------------------------------------------------------------

/** The keys a VM and a container config share: tags, description, protection, template, lock. */
function withMarks(c: GuestConfig, spec: GuestSpec): GuestConfig {
  if (spec.tags) c.tags = spec.tags;
  if (spec.description) c.description = spec.description;
  if (spec.protection) c.protection = 1;
  if (spec.template) c.template = 1;
  if (spec.lock) c.lock = spec.lock;
  return c;
}
class Seeder {
  readonly rng: Rng;
  readonly now: number;
  readonly nodes: NodeState[] = [];
  readonly guests: GuestState[] = [];
  readonly volumes: VolumeState[] = [];
  readonly tasks: TaskState[] = [];

  constructor(
    readonly opts: SeedOptions,
    readonly nowMs: number,
  ) {
    this.rng = new Rng(0x5eed + opts.nodes * 7919 + (opts.guests ?? 0));
    this.now = Math.floor(nowMs / 1000);
  }

  mac(): string {
    const b = () => this.rng.int(0, 255).toString(16).toUpperCase().padStart(2, "0");
    return `BC:24:11:${b()}:${b()}:${b()}`;
  }

  uuid(): string {
    const h = this.rng.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  addNodes(count: number): void {
    for (let i = 0; i < count; i++) {
      const hw = HARDWARE[i % HARDWARE.length] as NodeHardware;
      const memTotal = hw.memGiB * GiB;
      const fp = Array.from({ length: 32 }, () => this.rng.hex(2).toUpperCase()).join(":");
      this.nodes.push({
        name: `pve${i + 1}`,
        nodeid: i + 1,
        ip: `192.168.1.${11 + i}`,
        online: true,
        bootTime: this.now - Math.floor(hw.uptimeDays * DAY) - i * 37,
        cpuModel: hw.cpuModel,
        sockets: hw.sockets,
        cores: hw.cores,
        cpus: hw.cpus,
        memTotal,
        memUsedBase: Math.floor(memTotal * (0.08 + this.rng.next() * 0.05)),
        swapTotal: 8 * GiB,
        swapUsed: this.rng.int(0, 64) * MiB,
        rootTotal: hw.rootGiB * GiB,
        rootUsed: Math.floor(hw.rootGiB * GiB * (0.12 + this.rng.next() * 0.1)),
        loadavg: [
          round2(0.2 + this.rng.next() * 1.5),
          round2(0.3 + this.rng.next()),
          round2(0.3 + this.rng.next()),
        ],
        cpuUsage: round4(0.01 + this.rng.next() * 0.08),
        kernel: KERNEL_RELEASE,
        kernelBuild: KERNEL_VERSION,
        sslFingerprint: fp,
        nextPid: 2000 + this.rng.int(0, 4000),
      });
    }
  }

  nodeOf(index: number): NodeState {
    return this.nodes[index % this.nodes.length] as NodeState;
  }

  addGuest(spec: GuestSpec): GuestState {
    const node = this.nodeOf(spec.node);
    const config = spec.type === "qemu" ? this.qemuConfig(spec) : this.lxcConfig(spec);
    const running = spec.state !== "stopped";
    const upSeconds = Math.floor((spec.upDays ?? this.rng.next() * 10 + 0.2) * DAY);
    const guest: GuestState = {
      vmid: spec.vmid,
      type: spec.type,
      node: node.name,
      status: running ? "running" : "stopped",
      config,
      pending: {},
      pendingDelete: [],
      snapshots: [],
      usage: {
        cpu: round4(0.002 + this.rng.next() * 0.12),
        memFraction: round4(0.25 + this.rng.next() * 0.55),
        diskUsed: Math.floor(spec.diskGiB * GiB * (0.15 + this.rng.next() * 0.5)),
        netRate: this.rng.int(200, 90_000),
        diskRate: this.rng.int(1_000, 400_000),
      },
    };
    if (running) {
      guest.runState = spec.state === "paused" ? "paused" : "running";
      guest.startedAt = Math.min(this.now - 60, Math.max(node.bootTime + 30, this.now - upSeconds));
      guest.pid = node.nextPid;
      node.nextPid += 11;
    }
    if (spec.type === "qemu") guest.os = this.guestOs(spec);
    this.guests.push(guest);
    return guest;
  }

  qemuConfig(spec: GuestSpec): GuestConfig {
    const c: GuestConfig = {};
    const win = spec.os === "windows";
    c.name = spec.name;
    if (spec.agent !== undefined) c.agent = spec.agent;
    if (win) {
      c.bios = "ovmf";
      c.efidisk0 = `local-lvm:vm-${spec.vmid}-disk-0,efitype=4m,pre-enrolled-keys=1,size=4M`;
      c.machine = "pc-q35-9.2+pve1";
      c.tpmstate0 = `local-lvm:vm-${spec.vmid}-disk-2,size=4M,version=v2.0`;
      c.ide2 = "nas:iso/Win11_25H2_English_x64.iso,media=cdrom,size=7632M";
      c.ide0 = "local:iso/virtio-win-0.1.271.iso,media=cdrom,size=709M";
    } else if (spec.os === "haos") {
      c.bios = "ovmf";
      c.efidisk0 = `local-lvm:vm-${spec.vmid}-disk-1,efitype=4m,size=4M`;
      c.machine = "q35";
    } else {
      c.ide2 = "none,media=cdrom";
    }
    c.boot = win ? "order=scsi0;ide2;ide0;net0" : "order=scsi0;ide2;net0";
    c.cores = spec.cores;
    c.sockets = 1;
    c.cpu = win ? "host" : "x86-64-v2-AES";
    c.memory = String(spec.memMiB);
    if (spec.memMiB >= 4096 && !win) c.balloon = Math.floor(spec.memMiB / 2);
    c.meta = `creation-qemu=9.2.0,ctime=${this.now - this.rng.int(40, 400) * DAY}`;
    c.net0 = `virtio=${this.mac()},bridge=vmbr0,firewall=1`;
    c.numa = 0;
    if (spec.onboot) c.onboot = 1;
    c.ostype = win ? "win11" : "l26";
    c.scsi0 = `local-lvm:${spec.template ? "base" : "vm"}-${spec.vmid}-disk-${win ? 1 : 0},iothread=1,size=${spec.diskGiB}G`;
    c.scsihw = "virtio-scsi-single";
    c.smbios1 = `uuid=${this.uuid()}`;
    c.vmgenid = this.uuid();
    return withMarks(c, spec);
  }

  lxcConfig(spec: GuestSpec): GuestConfig {
    const c: GuestConfig = {};
    c.arch = "amd64";
    c.cores = spec.cores;
    if (spec.os !== "alpine") c.features = "nesting=1";
    c.hostname = spec.name;
    c.memory = spec.memMiB;
    c.net0 = `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${this.mac()},ip=dhcp,type=veth`;
    if (spec.onboot) c.onboot = 1;
    c.ostype = spec.os === "windows" || spec.os === "haos" ? "debian" : spec.os;
    c.rootfs = `local-lvm:vm-${spec.vmid}-disk-0,size=${spec.diskGiB}G`;
    c.swap = 512;
    c.unprivileged = 1;
    return withMarks(c, spec);
  }

  guestOs(spec: GuestSpec): GuestOs {
    const ip = `192.168.1.${100 + (spec.vmid % 150)}`;
    const base = {
      hostname: spec.name,
      agentRunning: spec.agent === "1",
      ipv4: ip,
      files: {},
      // A cloud image boots and runs cloud-init before qemu-ga answers.
      ...(spec.template ? { bootSec: 12 } : {}),
    };
    const root = { name: "root", uid: 0, home: "/root", shell: "/bin/bash" };
    switch (spec.os) {
      case "windows":
        return {
          ...base,
          id: "mswindows",
          name: "Microsoft Windows",
          prettyName: "Windows 11 Pro",
          version: "Microsoft Windows 11",
          versionId: "11",
          kernelRelease: "26100",
          kernelVersion: "10.0",
          machine: "x86_64",
          variant: "client",
          timezone: "W. Europe Standard Time",
          qgaVersion: "9.2.0",
          users: [
            { name: "Administrator", uid: 500, home: "C:\\Users\\Administrator", shell: "" },
            { name: "homelab", uid: 1001, home: "C:\\Users\\homelab", shell: "" },
          ],
          logins: [{ user: "homelab", domain: spec.name.toUpperCase(), afterBootSec: 95 }],
        };
      case "ubuntu":
        return {
          ...base,
          id: "ubuntu",
          name: "Ubuntu",
          prettyName: "Ubuntu 24.04.3 LTS",
          version: "24.04.3 LTS (Noble Numbat)",
          versionId: "24.04",
          kernelRelease: "6.8.0-87-generic",
          kernelVersion: "#88-Ubuntu SMP PREEMPT_DYNAMIC Sat Oct 11 09:28:41 UTC 2025",
          machine: "x86_64",
          timezone: "Etc/UTC",
          qgaVersion: "8.2.2",
          users: [root, { name: "ubuntu", uid: 1000, home: "/home/ubuntu", shell: "/bin/bash" }],
          logins: [{ user: "ubuntu", afterBootSec: 4200 }],
        };
      case "haos":
        return {
          ...base,
          id: "haos",
          name: "Home Assistant OS",
          prettyName: "Home Assistant OS 16.2",
          version: "16.2",
          versionId: "16.2",
          kernelRelease: "6.12.51-haos",
          kernelVersion: "#1 SMP PREEMPT_DYNAMIC Tue Oct 14 08:09:41 UTC 2025",
          machine: "x86_64",
          timezone: "Europe/Berlin",
          qgaVersion: "9.2.4",
          users: [{ ...root, shell: "/bin/ash" }],
          logins: [],
        };
      default:
        return {
          ...base,
          id: "debian",
          name: "Debian GNU/Linux",
          prettyName: "Debian GNU/Linux 13 (trixie)",
          version: "13 (trixie)",
          versionId: "13",
          kernelRelease: "6.12.48+deb13-amd64",
          kernelVersion: "#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)",
          machine: "x86_64",
          timezone: "Europe/Berlin",
          qgaVersion: "10.0.2",
          users: [root, { name: "debian", uid: 1000, home: "/home/debian", shell: "/bin/bash" }],
          logins: [{ user: "debian", afterBootSec: 3600 }],
        };
    }
  }

  snapshot(guest: GuestState, name: string, daysAgo: number, description: string, vmstate?: boolean): void {
    const { lock: _l, parent, ...config } = guest.config;
    const snap: SnapshotState = {
      name,
      ...(typeof parent === "string" ? { parent } : {}),
      snaptime: this.now - Math.floor(daysAgo * DAY),
      description,
      ...(guest.type === "qemu" ? { vmstate: vmstate ?? false } : {}),
      config: vmstate ? { ...config, vmstate: `local-lvm:vm-${guest.vmid}-state-${name}` } : config,
    };
    if (snap.vmstate) snap.config.runningmachine = "pc-i440fx-9.2+pve1";
    guest.snapshots.push(snap);
    guest.config.parent = name;
  }

  /** A backup file on a storage, named after its (seeded) start time like vzdump does. */
  backup(
    storage: string,
    node: string | undefined,
    guest: GuestState,
    daysAgo: number,
    extra: Partial<VolumeState> = {},
  ) {
    const ctime = this.dayAt(daysAgo, 2, guest.vmid % 50);
    const qemu = guest.type === "qemu";
    const file = `vzdump-${qemu ? "qemu" : "lxc"}-${guest.vmid}-${stamp(ctime)}.${qemu ? "vma.zst" : "tar.zst"}`;
    const disk = sizeOf(String(guest.config.scsi0 ?? guest.config.rootfs ?? "size=8G"));
    this.volumes.push({
      volid: `${storage}:backup/${file}`,
      storage,
      ...(node ? { node } : {}),
      content: "backup",
      format: qemu ? "vma.zst" : "tar.zst",
      size: Math.floor(disk * (0.18 + this.rng.next() * 0.2)),
      ctime,
      vmid: guest.vmid,
      subtype: guest.type,
      notes: String(guest.config.name ?? guest.config.hostname ?? ""),
      // The config inside the archive, so a restore brings back the guest as it was.
      guest: {
        type: guest.type,
        config: Object.fromEntries(
          Object.entries(guest.config).filter(([k]) => k !== "lock" && k !== "parent"),
        ),
        usage: { ...guest.usage },
        ...(guest.os ? { os: structuredClone(guest.os) } : {}),
      },
      ...extra,
    });
  }

  /** Epoch seconds of hour:minute UTC, `daysAgo` days before today. */
  dayAt(daysAgo: number, hour: number, minute: number): number {
    const midnight = Math.floor(this.now / DAY) * DAY;
    return midnight - daysAgo * DAY + hour * 3600 + minute * 60 + this.rng.int(0, 59);
  }

  file(
    storage: string,
    node: string | undefined,
    content: VolumeState["content"],
    name: string,
    size: number,
  ) {
    const format = content === "iso" ? "iso" : name.endsWith(".tar.zst") ? "tzst" : "tgz";
    this.volumes.push({
      volid: `${storage}:${content}/${name}`,
      storage,
      ...(node ? { node } : {}),
      content,
      format,
      size,
      ctime: this.now - this.rng.int(20, 200) * DAY,
    });
  }

  /** A finished (or running) task in the history. */
  task(
    nodeName: string,
    type: string,
    id: string,
    startSecondsAgo: number,
    durationS: number,
    lines: string[],
    outcome: TaskOutcome = { kind: "ok" },
    user = "root@pam",
    effects: TaskEffect[] = [],
  ): void {
    const node = this.nodes.find((n) => n.name === nodeName);
    if (!node) return;
    const starttime = Math.max(node.bootTime + 60, this.now - Math.floor(startSecondsAgo));
    const pid = node.nextPid;
    node.nextPid += 13;
    const pstart = (starttime - node.bootTime) * 100 + this.rng.int(0, 99);
    const parts = { node: nodeName, pid, pstart, starttime, type, id, user };
    const durationMs = Math.floor(durationS * 1000);
    const startMs = starttime * 1000;
    const running = startMs + durationMs > this.nowMs;
    this.tasks.push({
      upid: formatUpid(parts),
      ...parts,
      startMs,
      durationMs,
      lines: lines.map((t, i) => [Math.floor((durationMs * i) / Math.max(1, lines.length)), t]),
      outcome,
      effects,
      abortEffects: effects,
      finished: !running,
    });
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const round4 = (n: number) => Math.round(n * 10000) / 10000;

function stamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}-${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

/** Bytes of a `size=32G` option in a disk property string. */
export function sizeOf(disk: string): number {
  const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)/.exec(disk);
  if (!m) return 0;
  const unit = { "": 1, K: 1024, M: MiB, G: GiB, T: 1024 * GiB }[m[2] as "" | "K" | "M" | "G" | "T"];
  return Math.floor(Number(m[1]) * unit);
}

function storages(): StorageState[] {
  return [
    {
      storage: "local",
      type: "dir",
      content: ["iso", "vztmpl", "backup"],
      shared: false,
      enabled: true,
      path: "/var/lib/vz",
      total: 94 * GiB,
      baseUsed: 9 * GiB,
    },
    {
      storage: "local-lvm",
      type: "lvmthin",
      content: ["images", "rootdir"],
      shared: false,
      enabled: true,
      vgname: "pve",
      thinpool: "data",
      total: 794 * GiB,
      baseUsed: 0,
    },
    {
      storage: "nas",
      type: "nfs",
      content: ["backup", "iso"],
      shared: true,
      enabled: true,
      path: "/mnt/pve/nas",
      server: "192.168.1.50",
      export: "/mnt/tank/pve",
      total: 7680 * GiB,
      baseUsed: 2150 * GiB,
    },
  ];
}

function vzdumpLines(guests: GuestState[], startedAt: number, warn?: number): string[] {
  const lines = [
    "INFO: starting new backup job: vzdump --mode snapshot --storage nas --compress zstd --all 0",
  ];
  for (const g of guests) {
    const kind = g.type === "qemu" ? "VM" : "CT";
    lines.push(`INFO: Starting Backup of VM ${g.vmid} (${g.type})`);
    lines.push(
      `INFO: Backup started at ${new Date(startedAt * 1000).toISOString().replace("T", " ").slice(0, 19)}`,
    );
    lines.push(`INFO: status = ${g.status}`);
    lines.push(`INFO: ${kind} Name: ${g.config.name ?? g.config.hostname}`);
    if (warn === g.vmid) lines.push("WARN: guest-agent fs-freeze timed out - continuing without freeze");
    lines.push("INFO: creating vzdump archive");
    lines.push("INFO: 100% (32.0 GiB of 32.0 GiB) in 2m 11s, read: 250.1 MiB/s, write: 112.4 MiB/s");
    lines.push(`INFO: Finished Backup of VM ${g.vmid} (00:02:14)`);
  }
  lines.push("INFO: Backup job finished successfully");
  return lines;
}

function homelab(s: Seeder): { pools: PoolState[] } {
  for (const spec of HOMELAB) s.addGuest(spec);
  const g = (vmid: number) => s.guests.find((x) => x.vmid === vmid) as GuestState;
  const nodeName = (i: number) => s.nodeOf(i).name;

  s.snapshot(g(101), "pre-upgrade", 10.2, "Before apt dist-upgrade to 24.04");
  s.snapshot(g(101), "before-nginx", 2.3, "Before nginx config rewrite");
  s.snapshot(g(109), "stable", 6.5, "Known good state with RAM", true);
  s.snapshot(g(202), "initial", 30.1, "Fresh install");

  // Files on each node's local storage, ISOs and backups on the shared NAS.
  for (const n of s.nodes) {
    s.file("local", n.name, "vztmpl", "debian-13-standard_13.1-2_amd64.tar.zst", 131_972_405);
    s.file("local", n.name, "vztmpl", "ubuntu-24.04-standard_24.04-2_amd64.tar.zst", 141_215_344);
  }
  s.file("local", nodeName(0), "iso", "virtio-win-0.1.271.iso", 742_973_440);
  s.file("nas", undefined, "iso", "ubuntu-24.04.3-live-server-amd64.iso", 3_213_064_192);
  s.file("nas", undefined, "iso", "debian-13.1.0-amd64-netinst.iso", 791_674_880);
  s.file("nas", undefined, "iso", "Win11_25H2_English_x64.iso", 7_999_969_280);
  s.file("nas", undefined, "iso", "proxmox-ve_9.1-1.iso", 1_692_745_728);
  s.backup("nas", undefined, g(101), 15, { protected: true, notes: "web-01 before 24.04 upgrade" });
  s.backup("nas", undefined, g(101), 8);
  s.backup("nas", undefined, g(101), 1);
  s.backup("nas", undefined, g(100), 1);
  s.backup("nas", undefined, g(102), 8);
  s.backup("nas", undefined, g(102), 1);
  s.backup("nas", undefined, g(109), 1);
  s.backup("nas", undefined, g(201), 1);
  s.backup("local", nodeName(1), g(202), 3);

  // Task history per node (newest last), incl. one WARNINGS and one error.
  const [n1, n2, n3] = [nodeName(0), nodeName(1), nodeName(2)];
  s.task(n1, "aptupdate", "", 3 * DAY, 9, [
    "starting apt-get update",
    "Hit:1 http://deb.debian.org/debian trixie InRelease",
    "Reading package lists...",
  ]);
  s.task(n1, "qmshutdown", "103", 2.5 * DAY, 14, []);
  s.task(n1, "qmsnapshot", "101", 2.3 * DAY, 3, [
    "snapshotting 'drive-scsi0' (local-lvm:vm-101-disk-0)",
    '  Logical volume "snap_vm-101-disk-0_before-nginx" created.',
  ]);
  s.task(n1, "qmstart", "101", 2.1 * DAY, 2, []);
  s.task(n1, "vzdump", "", 22 * 3600, 412, vzdumpLines([g(100), g(101), g(102)], s.now - 22 * 3600, 101), {
    kind: "warnings",
    count: 1,
  });
  s.task(n1, "vzstart", "200", 5 * 3600, 2, []);
  s.task(n2, "qmstart", "104", 20.5 * DAY, 2, []);
  s.task(n2, "qmclone", "107", 4 * DAY, 38, [
    "create full clone of drive scsi0 (local-lvm:base-107-disk-0)",
    "transferred 20.0 GiB of 20.0 GiB (100.00%)",
  ]);
  s.task(n2, "vzdump", "202", 3 * DAY, 61, vzdumpLines([g(202)], s.now - 3 * DAY));
  s.task(n2, "qmshutdown", "105", 2 * DAY, 180, ["VM quit/powerdown failed - got timeout"], {
    kind: "error",
    message: "VM quit/powerdown failed - got timeout",
  });
  s.task(n2, "vncproxy", "104", 6 * 3600, 95, []);
  s.task(n3, "qmstart", "108", 2.9 * DAY, 2, []);
  s.task(n3, "qmstart", "109", 2.9 * DAY - 30, 3, []);
  s.task(n3, "vzstop", "204", 1.5 * DAY, 2, []);
  s.task(
    n3,
    "qmigrate",
    "110",
    1.2 * DAY,
    7,
    [
      "starting migration of VM 110 to node 'pve1' (192.168.1.11)",
      "ERROR: migration aborted (duration 00:00:07): target storage is not available",
    ],
    { kind: "error", message: "migration aborted" },
  );
  s.task(n3, "vzdump", "", 20 * 3600, 180, vzdumpLines([g(109)], s.now - 20 * 3600));
  // The backup that holds VM 106's lock: still running, releases the lock when it ends.
  const progress = Array.from(
    { length: 40 },
    (_, i) =>
      `INFO: ${Math.round(((i + 1) * 100) / 41)}% (${(((i + 1) * 32) / 41).toFixed(1)} GiB of 32.0 GiB)`,
  );
  s.task(
    n2,
    "vzdump",
    "106",
    600,
    3 * 3600,
    [
      "INFO: starting new backup job: vzdump 106 --storage nas --mode snapshot --compress zstd",
      "INFO: Starting Backup of VM 106 (qemu)",
      ...progress,
    ],
    { kind: "ok" },
    "root@pam",
    [{ kind: "guest-lock", vmid: 106, lock: null }],
  );

  return {
    pools: [
      { poolid: "prod", comment: "Production services", vmids: [101, 102, 109, 201], storages: ["nas"] },
      { poolid: "lab", comment: "Lab and experiments", vmids: [104, 105, 203], storages: [] },
    ],
  };
}

const NAMES = ["web", "db", "app", "cache", "worker", "k8s", "build", "mail", "vpn", "log"];

function generated(s: Seeder, count: number): { pools: PoolState[] } {
  for (let i = 0; i < count; i++) {
    const vmid = 100 + i;
    const type: GuestType = i % 3 === 2 ? "lxc" : "qemu";
    const r = s.rng.next();
    const state = r < 0.7 ? "running" : r < 0.95 || type === "lxc" ? "stopped" : "paused";
    s.addGuest({
      vmid,
      type,
      node: i % s.nodes.length,
      name: `${s.rng.pick(NAMES)}-${vmid}`,
      state,
      cores: s.rng.pick([1, 2, 2, 4, 8]),
      memMiB: s.rng.pick([512, 1024, 2048, 4096, 8192]),
      diskGiB: s.rng.pick([8, 16, 32, 64]),
      os: s.rng.pick(["debian", "ubuntu"] as const),
      ...(type === "qemu" && s.rng.next() < 0.7 ? { agent: "1" as const } : {}),
      ...(s.rng.next() < 0.4 ? { tags: s.rng.pick(["prod", "lab", "prod;web", "infra"]) } : {}),
      ...(s.rng.next() < 0.05 ? { protection: true } : {}),
    });
  }
  for (const n of s.nodes) {
    s.file("local", n.name, "vztmpl", "debian-13-standard_13.1-2_amd64.tar.zst", 131_972_405);
    s.task(n.name, "aptupdate", "", DAY, 9, ["starting apt-get update", "Reading package lists..."]);
  }
  s.file("nas", undefined, "iso", "debian-13.1.0-amd64-netinst.iso", 791_674_880);
  for (const g of s.guests.slice(0, 10)) s.backup("nas", undefined, g, 1);
  const ids = s.guests.map((g) => g.vmid);
  return {
    pools: [
      {
        poolid: "prod",
        comment: "Production services",
        vmids: ids.filter((v) => v % 10 === 1),
        storages: ["nas"],
      },
      { poolid: "lab", comment: "Lab and experiments", vmids: ids.filter((v) => v % 10 === 7), storages: [] },
    ],
  };
}

export function seedWorld(opts: SeedOptions, nowMs: number): World {
  const s = new Seeder(opts, nowMs);
  s.addNodes(opts.nodes);
  const { pools } = opts.guests === undefined ? homelab(s) : generated(s, opts.guests);
  const files = seedConfigFiles(s.nodes, s.guests, opts.guests === undefined, nowMs);
  return {
    meta: { t0: nowMs, seed: opts },
    nodes: s.nodes,
    guests: s.guests,
    storages: [...storages(), ...files.storages],
    volumes: s.volumes,
    pools,
    tasks: s.tasks,
    configs: [
      seedAccess(opts, nowMs),
      ...seedHa(s.nodes, s.guests, opts.guests !== undefined),
      ...seedNetwork(s.nodes, Math.floor(nowMs / 1000)),
      seedBackupJobs(s.guests, opts.guests !== undefined),
    ],
    firewall: files.firewall,
    datacenter: files.datacenter,
    replication: files.replication,
    hosts: seedHosts(s.nodes, s.tasks, s.now),
  };
}

/** The config digest clients send back to detect concurrent modification. */
export function configDigest(config: GuestConfig): string {
  return digestOf(JSON.stringify(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1))));
}
