// The refusals of issue-by-issue reviews of the API tools, as write_api calls: options that reach
// the Proxmox host, and references to guests outside the allowlists. Shared by the trust test
// (test/trust.test.ts) and the benchmark's invalid-input section (bench/fuzz.ts): every one must
// be refused with no request to Proxmox.

/** [method, path, params, what the refusal names] */
export type RefusalCase = readonly [string, string, Readonly<Record<string, unknown>>, string];

/** Refused under the default PVE_ALLOW_HOST_OPTIONS=false. */
export const HOST_OPTION_CASES: readonly RefusalCase[] = [
  ["PUT", "/nodes/pve1/lxc/200/config", { mp0: "/,mp=/mnt/host" }, "mp0 mounts a host path"],
  ["PUT", "/nodes/pve1/lxc/200/config", { mp1: "volume=/etc/pve,mp=/mnt/pve" }, "mp1 mounts a host path"],
  ["PUT", "/nodes/pve1/lxc/200/config", { rootfs: "/srv/x" }, "rootfs mounts a host path"],
  ["PUT", "/nodes/pve1/lxc/200/config", { dev0: "/dev/kvm" }, "dev0 passes a host device"],
  ["PUT", "/nodes/pve1/lxc/200/config", { hookscript: "local:snippets/hook.sh" }, "hookscript runs a script"],
  ["PUT", "/nodes/pve1/qemu/101/config", { scsi5: "/dev/sda" }, "scsi5 uses a host device or file"],
  ["PUT", "/nodes/pve1/qemu/101/config", { efidisk0: "/dev/sdb" }, "efidisk0 uses a host device"],
  ["PUT", "/nodes/pve1/qemu/101/config", { tpmstate0: "/dev/tpm0" }, "tpmstate0 uses a host device"],
  ["PUT", "/nodes/pve1/qemu/101/config", { sata3: "/dev/disk/by-id/ata-disk" }, "sata3 uses a host device"],
  [
    "PUT",
    "/nodes/pve1/qemu/101/config",
    { scsi6: "local-lvm:0,import-from=/etc/pve/priv/authkey.key" },
    "scsi6 reads a host file into a disk",
  ],
  ["PUT", "/nodes/pve1/qemu/101/config", { usb0: "046d:c52b" }, "usb0 passes a host USB device"],
  [
    "PUT",
    "/nodes/pve1/qemu/101/config",
    { ide2: "cdrom,media=cdrom" },
    "ide2 uses the host's physical CD/DVD drive",
  ],
  ["PUT", "/nodes/pve1/qemu/101/config", { virtiofs0: "dirid=share" }, "virtiofs0 shares a host directory"],
  ["PUT", "/nodes/pve1/qemu/101/config", { ivshmem: "size=32" }, "ivshmem maps shared memory"],
  [
    "PUT",
    "/nodes/pve1/qemu/101/config",
    { hostpci0: "mapping=gpu,host=0000:01:00.0" },
    "hostpci0 passes a host PCI",
  ],
  ["PUT", "/nodes/pve1/qemu/101/config", { args: "-monitor stdio" }, "args passes raw arguments"],
  ["PUT", "/nodes/pve1/qemu/101/config", { serial0: "/dev/ttyS0" }, "serial0 passes a host serial device"],
  [
    "PUT",
    "/nodes/pve1/qemu/101/config",
    { parallel0: "/dev/parport0" },
    "parallel0 passes a host parallel port",
  ],
  ["POST", "/nodes/pve1/qemu", { vmid: 150, scsi0: "/dev/sda" }, "scsi0 uses a host device"],
  [
    "POST",
    "/nodes/pve1/qemu",
    { vmid: 151, archive: "/var/lib/vz/dump/x.vma" },
    "archive reads a file of the Proxmox host",
  ],
  ["POST", "/nodes/pve1/vzdump", { vmid: "101", script: "/root/x.sh" }, "script runs a script"],
  ["POST", "/nodes/pve1/vzdump", { vmid: "101", dumpdir: "/etc" }, "dumpdir writes to a directory"],
  ["POST", "/nodes/pve1/vzdump", { vmid: "101", tmpdir: "/etc" }, "tmpdir writes to a directory"],
  [
    "POST",
    "/cluster/backup",
    { vmid: "101", schedule: "daily", storage: "local", script: "/root/x.sh" },
    "script runs a script",
  ],
];

/** The allowlists these cases are refused under. */
export const FENCED = { PVE_ALLOWED_VMIDS: "100-105,200", PVE_ALLOWED_NODES: "pve1,pve2" } as const;

const upid = "UPID:pve2:00001234:00ABCDEF:65000000:vzdump:106:root@pam:";

/** [label, method, path, params, what the refusal names], refused under FENCED. */
export const ALLOWLIST_CASES: readonly (readonly [string, ...RefusalCase])[] = [
  ["HA sid", "POST", "/cluster/ha/resources", { sid: "vm:108" }, "Guest 108"],
  ["HA sid, bare", "POST", "/cluster/ha/resources", { sid: "108" }, "Guest 108"],
  ["HA sid in the path", "DELETE", "/cluster/ha/resources/ct:204", {}, "Guest 204"],
  [
    "HA rule resources",
    "POST",
    "/cluster/ha/rules",
    { rule: "keep", type: "node-affinity", resources: "vm:101,vm:108", nodes: "pve1" },
    "Guest 108",
  ],
  ["a volume", "DELETE", "/nodes/pve2/storage/local-lvm/content/local-lvm:vm-203-disk-0", {}, "Guest 203"],
  [
    "a volume without storage",
    "DELETE",
    "/nodes/pve2/storage/local-lvm/content/vm-203-disk-0",
    {},
    "Guest 203",
  ],
  [
    "a backup volid",
    "DELETE",
    "/nodes/pve1/storage/nas/content/nas:backup/vzdump-qemu-108-2026_01_01-00_00_00.vma.zst",
    {},
    "Guest 108",
  ],
  [
    "a PBS snapshot",
    "DELETE",
    "/nodes/pve1/storage/pbs/content/pbs:backup/vm/931/2026-01-01T00:00:00Z",
    {},
    "Guest 931",
  ],
  [
    "another guest's disk attached",
    "PUT",
    "/nodes/pve1/qemu/101/config",
    { scsi5: "local-lvm:vm-203-disk-0" },
    "Guest 203",
  ],
  ["a UPID", "DELETE", `/nodes/pve2/tasks/${upid}`, {}, "Guest 106"],
  ["a replication id", "DELETE", "/cluster/replication/108-0", {}, "Guest 108"],
  ["a replication run", "POST", "/nodes/pve1/replication/108-0/schedule_now", {}, "Guest 108"],
  [
    "move_disk to another guest",
    "POST",
    "/nodes/pve1/qemu/101/move_disk",
    { disk: "scsi0", "target-vmid": 108 },
    "Guest 108",
  ],
  ["stopall on a node", "POST", "/nodes/pve1/stopall", {}, "every guest of a node"],
  ["startall on a node", "POST", "/nodes/pve1/startall", {}, "every guest of a node"],
  ["suspendall on a node", "POST", "/nodes/pve1/suspendall", {}, "every guest of a node"],
  ["migrateall", "POST", "/nodes/pve1/migrateall", { target: "pve2" }, "every guest of a node"],
  ["stopall naming one outside", "POST", "/nodes/pve1/stopall", { vms: "101,108" }, "Guest 108"],
  ["a cluster bulk action", "POST", "/cluster/bulk-action/guest/shutdown", {}, "every guest of the cluster"],
  ["vzdump all", "POST", "/nodes/pve1/vzdump", { all: 1, storage: "local" }, "every guest"],
  [
    "vzdump of a pool",
    "POST",
    "/nodes/pve1/vzdump",
    { pool: "prod", storage: "local" },
    "every guest of a pool",
  ],
  [
    "a node outside, through a UPID",
    "DELETE",
    "/nodes/pve1/tasks/UPID:pve3:00001234:00ABCDEF:65000000:qmstart:101:root@pam:",
    {},
    "Node pve3",
  ],
];
