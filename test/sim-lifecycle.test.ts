import { beforeEach, describe, expect, it } from "vitest";
import {
  control,
  data,
  taskFinished as finished,
  form,
  taskLog as log,
  post,
  put,
  type Row,
  refused,
  taskStatus as status,
} from "./helpers/pve";

const config = (node: string, kind: string, vmid: number, query = "") =>
  data<Row>(`/nodes/${node}/${kind}/${vmid}/config${query}`);
const current = (node: string, kind: string, vmid: number) =>
  data<Row>(`/nodes/${node}/${kind}/${vmid}/status/current`);

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 30 });
});

describe("config updates", () => {
  it("PUT applies a stopped VM's changes at once and returns null; delete and digest", async () => {
    const before = await config("pve1", "qemu", 103);
    expect(
      await put("/nodes/pve1/qemu/103/config", {
        cores: 8,
        memory: 16384,
        delete: "tags",
        digest: String(before.digest),
      }),
    ).toBeNull();
    const after = await config("pve1", "qemu", 103);
    expect(after).toMatchObject({ cores: 8, memory: "16384" });
    expect(after.tags).toBeUndefined();
    expect(await data<Row[]>("/nodes/pve1/qemu/103/pending")).not.toContainEqual(
      expect.objectContaining({ pending: 8 }),
    );
    expect(
      await refused("/nodes/pve1/qemu/103/config", form({ cores: 2, digest: String(before.digest) }, "PUT")),
    ).toEqual({
      status: 500,
      message: "checksum mismatch (file change by other user?)\n",
    });
    expect(
      (await refused("/nodes/pve1/qemu/103/config", form({ cores: 2, delete: "cores" }, "PUT"))).errors,
    ).toEqual({
      delete: "you can't use '-cores' and -delete cores' at the same time",
    });
    expect((await refused("/nodes/pve1/qemu/103/config", form({}, "PUT"))).message).toBe(
      "no options specified\n",
    );
  });

  it("keeps non-hotpluggable changes of a running VM pending; name and protection apply at once", async () => {
    await put("/nodes/pve1/qemu/100/config", { cores: 4, memory: 4096, name: "dns", protection: 1 });
    const conf = await config("pve1", "qemu", 100, "?current=1");
    expect(conf).toMatchObject({ cores: 1, memory: "1024", name: "dns", protection: 1 });
    expect(await config("pve1", "qemu", 100)).toMatchObject({ cores: 4, memory: "4096" });
    const pending = await data<Row[]>("/nodes/pve1/qemu/100/pending");
    expect(pending.find((p) => p.key === "cores")).toEqual({ key: "cores", value: 1, pending: 4 });
    await put("/nodes/pve1/qemu/100/config", { revert: "memory" });
    expect(await config("pve1", "qemu", 100)).toMatchObject({ cores: 4, memory: "1024" });
    await put("/nodes/pve1/qemu/100/config", { memory: 4096 });
    // Pending changes take effect at the next start (here: a reboot).
    await finished(await post("/nodes/pve1/qemu/100/status/reboot"));
    expect(await config("pve1", "qemu", 100, "?current=1")).toMatchObject({ cores: 4, memory: "4096" });
    // Protection can be switched off again on the protected VM.
    await put("/nodes/pve1/qemu/100/config", { protection: 0 });
    expect((await config("pve1", "qemu", 100)).protection).toBe(0);
  });

  it("adds and removes disks: a removed disk becomes unused<N>, deleting that frees it", async () => {
    await put("/nodes/pve3/qemu/110/config", { scsi1: "local-lvm:10" });
    expect((await config("pve3", "qemu", 110)).scsi1).toBe("local-lvm:vm-110-disk-1,size=10G");
    await put("/nodes/pve3/qemu/110/config", { delete: "scsi1" });
    expect(await config("pve3", "qemu", 110)).toMatchObject({ unused0: "local-lvm:vm-110-disk-1" });
    await put("/nodes/pve3/qemu/110/config", { delete: "unused0" });
    const after = await config("pve3", "qemu", 110);
    expect(after.unused0).toBeUndefined();
    expect((await data<Row[]>("/nodes/pve3/storage/local-lvm/content?vmid=110")).map((v) => v.volid)).toEqual(
      ["local-lvm:vm-110-disk-0"],
    );
  });

  it("refuses a locked VM and a huge new disk", async () => {
    expect((await refused("/nodes/pve2/qemu/106/config", form({ cores: 4 }, "PUT"))).message).toBe(
      "VM is locked (backup)\n",
    );
    expect(
      (await refused("/nodes/pve3/qemu/110/config", form({ scsi1: "local-lvm:10240" }, "PUT"))).message,
    ).toMatch(/^lvcreate 'pve\/vm-110-disk-1' error: {3}Volume group "pve" has insufficient free space/);
  });

  it("POST runs a qmconfig task; background_delay returns null once it finished", async () => {
    const upid = await post("/nodes/pve3/qemu/110/config", { memory: 4096, cipassword: "x" });
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "qmconfig", id: "110", exitstatus: "OK" });
    expect((await log(upid))[0]).toBe("update VM 110: -cipassword <hidden> -memory 4096");
    expect((await config("pve3", "qemu", 110)).cipassword).toBe("**********");
    expect(await post("/nodes/pve3/qemu/110/config", { cores: 2, background_delay: 5 })).toBeNull();
    expect((await config("pve3", "qemu", 110)).cores).toBe(2);
    expect((await refused("/nodes/pve2/qemu/106/config", form({ cores: 4 }))).message).toBe(
      "VM is locked (backup)\n",
    );
  });

  it("containers: PUT config, digest, pending for a running CT", async () => {
    const conf = await config("pve1", "lxc", 200);
    await put("/nodes/pve1/lxc/200/config", {
      memory: 1024,
      hostname: "proxy2",
      digest: String(conf.digest),
    });
    expect(await config("pve1", "lxc", 200, "?current=1")).toMatchObject({ memory: 1024, hostname: "proxy" });
    expect(await config("pve1", "lxc", 200)).toMatchObject({ hostname: "proxy2" });
    expect(
      (await refused("/nodes/pve1/lxc/200/config", form({ memory: 512, digest: String(conf.digest) }, "PUT")))
        .message,
    ).toBe("detected modified configuration - file changed by other user? Try again.\n");
    await put("/nodes/pve1/lxc/201/config", { protection: 0 });
    expect((await config("pve1", "lxc", 201)).protection).toBe(0);
  });
});

describe("PUT .../resize", () => {
  it("grows a disk by +10G and to an absolute size in a 'resize' task", async () => {
    const upid = await data<string>(
      "/nodes/pve1/qemu/101/resize",
      form({ disk: "scsi0", size: "+10G" }, "PUT"),
    );
    expect(upid).toMatch(/:resize:101:/);
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await log(upid)).toEqual([
      "  Size of logical volume pve/vm-101-disk-0 changed from 32.00 GiB (8192 extents) to 42.00 GiB (10752 extents).",
      "  Logical volume pve/vm-101-disk-0 successfully resized.",
      "TASK OK",
    ]);
    expect((await config("pve1", "qemu", 101)).scsi0).toBe("local-lvm:vm-101-disk-0,iothread=1,size=42G");
    await finished(
      await data<string>("/nodes/pve1/qemu/101/resize", form({ disk: "scsi0", size: "50G" }, "PUT")),
    );
    expect((await current("pve1", "qemu", 101)).maxdisk).toBe(50 * 1024 ** 3);
    const ct = await data<string>("/nodes/pve2/lxc/203/resize", form({ disk: "rootfs", size: "+4G" }, "PUT"));
    expect((await finished(ct)).exitstatus).toBe("OK");
    expect(await log(ct)).toContain("resize2fs 1.47.2 (1-Jan-2025)");
    expect((await config("pve2", "lxc", 203)).rootfs).toBe("local-lvm:vm-203-disk-0,size=12G");
  });

  it("refuses shrinking, a missing disk, a CD drive and a size the storage cannot hold", async () => {
    const fails = async (vmid: number, disk: string, size: string) =>
      (await finished(await data<string>(`/nodes/pve1/qemu/${vmid}/resize`, form({ disk, size }, "PUT"))))
        .exitstatus;
    expect(await fails(101, "scsi0", "10G")).toBe("shrinking disks is not supported");
    expect(await fails(101, "scsi5", "+1G")).toBe("disk 'scsi5' does not exist");
    expect(await fails(103, "ide2", "+1G")).toBe("you can't resize a cdrom");
    expect(await fails(101, "scsi0", "+10T")).toMatch(
      /^lvextend 'pve\/vm-101-disk-0' error: {3}Insufficient free space: 2621440 extents needed, but only \d+ available$/,
    );
    expect(
      (await refused("/nodes/pve1/qemu/101/resize", form({ disk: "scsi0", size: "-1G" }, "PUT"))).errors,
    ).toEqual({
      size: "value does not match the regex pattern",
    });
  });
});

describe("POST .../migrate", () => {
  it("migrates a stopped VM offline: the task runs on the source, the VM ends up on the target", async () => {
    await control("settings", { taskDurationMs: 300 });
    const upid = await post("/nodes/pve3/qemu/110/migrate", { target: "pve1" });
    expect(upid).toMatch(/^UPID:pve3:.*:qmigrate:110:/);
    expect(await config("pve3", "qemu", 110)).toMatchObject({ lock: "migrate" });
    const s = await finished(upid);
    expect(s).toMatchObject({ node: "pve3", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d starting migration of VM 110 to node 'pve1' \(192\.168\.1\.11\)$/,
    );
    expect(lines.some((l) => l.endsWith("found local disk 'local-lvm:vm-110-disk-0' (attached)"))).toBe(true);
    expect(lines.at(-2)).toMatch(/migration finished successfully \(duration \d\d:\d\d:\d\d\)$/);
    expect((await refused("/nodes/pve3/qemu/110/config")).status).toBe(500);
    expect((await config("pve1", "qemu", 110)).lock).toBeUndefined();
    const row = (await data<Row[]>("/cluster/resources?type=vm")).find((r) => r.vmid === 110);
    expect(row).toMatchObject({ node: "pve1" });
    expect((await data<Row[]>("/nodes/pve1/qemu")).map((g) => g.vmid)).toContain(110);
    expect((await data<Row[]>("/nodes/pve3/tasks")).map((t) => t.upid)).toContain(upid);
  });

  it("live-migrates a running VM with its local disk", async () => {
    const upid = await post("/nodes/pve1/qemu/100/migrate", {
      target: "pve2",
      online: 1,
      "with-local-disks": 1,
    });
    expect((await finished(upid)).exitstatus).toBe("OK");
    const lines = await log(upid);
    expect(lines.some((l) => l.endsWith("drive mirror is starting for drive-scsi0"))).toBe(true);
    expect(lines.some((l) => l.endsWith("migration status: completed"))).toBe(true);
    expect(await current("pve2", "qemu", 100)).toMatchObject({ status: "running" });
  });

  it("refuses what Proxmox refuses", async () => {
    expect((await refused("/nodes/pve1/qemu/100/migrate", form({ target: "pve2" }))).message).toBe(
      "can't migrate running VM without --online\n",
    );
    expect((await refused("/nodes/pve1/qemu/100/migrate", form({ target: "pve1" }))).errors).toEqual({
      target: "target is local node.",
    });
    expect((await refused("/nodes/pve1/qemu/100/migrate", form({ target: "pve9" }))).message).toBe(
      "no such cluster node 'pve9'\n",
    );
    expect((await refused("/nodes/pve2/qemu/106/migrate", form({ target: "pve1", online: 1 }))).message).toBe(
      "VM is locked (backup)\n",
    );
    expect((await refused("/nodes/pve2/qemu/106/migrate")).message).toBe("VM is locked (backup)\n");
    const noDisks = await post("/nodes/pve1/qemu/100/migrate", { target: "pve2", online: 1 });
    expect((await finished(noDisks)).exitstatus).toBe("migration aborted");
    expect((await log(noDisks)).at(-2)).toMatch(
      /ERROR: migration aborted \(duration 00:00:01\): Problem found while scanning volumes - can't live migrate attached local disks without with-local-disks option$/,
    );
    expect((await config("pve1", "qemu", 100)).lock).toBeUndefined();
    await control("nodes/pve3", { online: false });
    const offline = await post("/nodes/pve1/qemu/103/migrate", { target: "pve3" });
    expect((await finished(offline)).exitstatus).toBe("migration aborted");
    expect(
      (await log(offline)).some((l) =>
        l.endsWith("ssh: connect to host 192.168.1.13 port 22: No route to host"),
      ),
    ).toBe(true);
  });

  it("a stopped migration releases the lock and leaves the VM where it was", async () => {
    await control("settings", { taskDurationMs: 5000 });
    const upid = await post("/nodes/pve3/qemu/110/migrate", { target: "pve2" });
    expect((await data<Row[]>("/cluster/resources?type=vm")).find((r) => r.vmid === 110)).toMatchObject({
      lock: "migrate",
    });
    await data(`/nodes/pve3/tasks/${upid}`, { method: "DELETE" });
    expect((await status(upid)).exitstatus).toBe("interrupted by signal");
    const conf = await config("pve3", "qemu", 110);
    expect(conf.lock).toBeUndefined();
  });

  it("containers: restart mode for a running CT, refused without it", async () => {
    expect((await refused("/nodes/pve1/lxc/200/migrate", form({ target: "pve2" }))).message).toBe(
      "can't migrate running container without --online or --restart\n",
    );
    const online = await post("/nodes/pve1/lxc/200/migrate", { target: "pve2", online: 1 });
    expect((await finished(online)).exitstatus).toBe("migration aborted");
    const upid = await post("/nodes/pve1/lxc/200/migrate", { target: "pve2", restart: 1 });
    expect(await finished(upid)).toMatchObject({ type: "vzmigrate", node: "pve1", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines[0]).toMatch(/ shutdown CT 200$/);
    expect(lines.some((l) => l.endsWith("start container on target node"))).toBe(true);
    expect(await current("pve2", "lxc", 200)).toMatchObject({ status: "running" });
  });
});

describe("snapshots", () => {
  it("updates a snapshot's description; rollback holds the 'rollback' lock", async () => {
    expect(
      await put("/nodes/pve1/qemu/101/snapshot/pre-upgrade/config", { description: "new text" }),
    ).toBeNull();
    expect(await data<Row>("/nodes/pve1/qemu/101/snapshot/pre-upgrade/config")).toMatchObject({
      description: "new text",
    });
    expect(
      (await refused("/nodes/pve1/qemu/101/snapshot/nope/config", form({ description: "x" }, "PUT"))).message,
    ).toBe("snapshot 'nope' does not exist\n");
    await control("settings", { taskDurationMs: 300 });
    const upid = await post("/nodes/pve2/lxc/202/snapshot/initial/rollback");
    expect(await config("pve2", "lxc", 202)).toMatchObject({ lock: "rollback" });
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect((await config("pve2", "lxc", 202)).lock).toBeUndefined();
    const dup = await post("/nodes/pve1/qemu/101/snapshot", { snapname: "before-nginx" });
    expect((await finished(dup)).exitstatus).toBe("snapshot name 'before-nginx' already used");
  });
});

describe("POST /nodes/{node}/vzdump", () => {
  it("backs up one VM: task id, progress, lock while running, a new backup volume with notes", async () => {
    await control("settings", { taskDurationMs: 400 });
    const upid = await post("/nodes/pve1/vzdump", {
      vmid: 100,
      storage: "nas",
      mode: "snapshot",
      compress: "zstd",
      "notes-template": "{{guestname}} on {{node}}",
      protected: 1,
    });
    expect(upid).toMatch(/^UPID:pve1:.*:vzdump:100:root@pam!mcp:$/);
    expect(await config("pve1", "qemu", 100)).toMatchObject({ lock: "backup" });
    expect(await finished(upid)).toMatchObject({ type: "vzdump", id: "100", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines[0]).toBe(
      "INFO: starting new backup job: vzdump 100 --compress zstd --mode snapshot --node pve1 --notes-template '{{guestname}} on {{node}}' --protected 1 --storage nas",
    );
    expect(lines).toContain("INFO: Starting Backup of VM 100 (qemu)");
    expect(
      lines.some((l) => /^INFO: 100% \(16\.0 GiB of 16\.0 GiB\) in \d+s, read: .*\/s, write: .*\/s$/.test(l)),
    ).toBe(true);
    expect(lines.slice(-2)).toEqual(["INFO: Backup job finished successfully", "TASK OK"]);
    expect((await config("pve1", "qemu", 100)).lock).toBeUndefined();
    const backups = await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup&vmid=100");
    const newest = backups.sort((a, b) => Number(b.ctime) - Number(a.ctime))[0] as Row;
    expect(newest).toMatchObject({
      volid: expect.stringMatching(/^nas:backup\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$/),
      format: "vma.zst",
      subtype: "qemu",
      notes: "pihole on pve1",
      protected: 1,
    });
  });

  it("container backups are tar archives; 'OK' without a task for guests on other nodes", async () => {
    const upid = await post("/nodes/pve1/vzdump", { vmid: 200, storage: "local", compress: "lzo" });
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await log(upid)).toContain("INFO: create storage snapshot 'vzdump'");
    const local = await data<Row[]>("/nodes/pve1/storage/local/content?content=backup");
    expect(local.map((v) => v.volid)).toContainEqual(
      expect.stringMatching(/^local:backup\/vzdump-lxc-200-.*\.tar\.lzo$/),
    );
    expect(await post("/nodes/pve1/vzdump", { vmid: 202 })).toBe("OK");
  });

  it("fails on a storage without backup content, a full storage, and a locked guest", async () => {
    const wrong = await post("/nodes/pve1/vzdump", { vmid: 100, storage: "local-lvm" });
    expect((await finished(wrong)).exitstatus).toBe(
      "could not get storage information for 'local-lvm': can't use storage 'local-lvm' for backups - wrong content type",
    );
    await control("storages/nas", { baseUsed: 7680 * 1024 ** 3 - 1024 ** 3 });
    const full = await post("/nodes/pve1/vzdump", { vmid: 101, storage: "nas", compress: "zstd" });
    expect((await finished(full)).exitstatus).toBe("job errors");
    const lines = await log(full);
    expect(lines).toContain(
      "ERROR: Backup of VM 101 failed - vma_queue_write: write error - No space left on device",
    );
    expect(lines.at(-2)).toBe("INFO: Backup job finished with errors");
    expect((await config("pve1", "qemu", 101)).lock).toBeUndefined();
    const locked = await post("/nodes/pve2/vzdump", { vmid: 106, storage: "nas" });
    expect((await finished(locked)).exitstatus).toBe("job errors");
    expect(await log(locked)).toContain("ERROR: Backup of VM 106 failed - VM is locked (backup)");
  });

  it("stop mode stops and restarts a container; a stopped backup leaves no volume", async () => {
    await control("settings", { taskDurationMs: 400 });
    const upid = await post("/nodes/pve1/vzdump", { vmid: 200, storage: "nas", mode: "stop" });
    expect(await current("pve1", "lxc", 200)).toMatchObject({ status: "stopped", lock: "backup" });
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await current("pve1", "lxc", 200)).toMatchObject({ status: "running" });
    expect(await log(upid)).toContain("INFO: stopping virtual guest");

    const before = (await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup")).length;
    const killed = await post("/nodes/pve1/vzdump", { vmid: 102, storage: "nas" });
    await data(`/nodes/pve1/tasks/${killed}`, { method: "DELETE" });
    expect((await status(killed)).exitstatus).toBe("interrupted by signal");
    expect((await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup")).length).toBe(before);
    expect((await config("pve1", "qemu", 102)).lock).toBeUndefined();
  });
});

describe("DELETE /nodes/{node}/storage/{storage}/content/{volume}", () => {
  it("removes a backup in an imgdel task and refuses a protected one", async () => {
    const backups = await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup&vmid=101");
    const plain = backups.find((b) => b.protected === 0) as Row;
    const prot = backups.find((b) => b.protected === 1) as Row;
    const upid = await data<string>(`/nodes/pve1/storage/nas/content/${plain.volid}`, { method: "DELETE" });
    expect(upid).toMatch(/:imgdel:101@nas:root@pam!mcp:$/);
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await log(upid)).toEqual([`Removed volume '${plain.volid}'`, "TASK OK"]);
    const after = await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup&vmid=101");
    expect(after.map((b) => b.volid)).not.toContain(plain.volid);
    const denied = await data<string>(`/nodes/pve1/storage/nas/content/${prot.volid}`, { method: "DELETE" });
    expect((await finished(denied)).exitstatus).toBe(
      `cannot remove protected volume '${String(prot.volid).slice(4)}' on 'nas'`,
    );
    // With delay the call waits for the task and reports its error directly.
    expect(
      (await refused(`/nodes/pve1/storage/nas/content/${prot.volid}?delay=5`, { method: "DELETE" })).message,
    ).toBe(`cannot remove protected volume '${String(prot.volid).slice(4)}' on 'nas'\n`);
  });
});

describe("pools and IDs", () => {
  it("answers like Pool.pm, with the lock_user_config prefixes", async () => {
    expect(await post("/pools", { poolid: "dev", comment: "Dev" })).toBeNull();
    expect((await refused("/pools", form({ poolid: "dev" }))).message).toBe(
      "create pool failed: pool 'dev' already exists\n",
    );
    expect(await put("/pools/dev", { vms: "110" })).toBeNull();
    expect((await refused("/pools/dev", form({ vms: "110" }, "PUT"))).message).toBe(
      "update pools failed: VM 110 is already a pool member\n",
    );
    expect((await refused("/pools/dev", form({ vms: "101" }, "PUT"))).message).toBe(
      "update pools failed: VM 101 belongs already to pool 'prod' and 'allow-move' is not set\n",
    );
    expect(await put("/pools", { poolid: "dev", storage: "nas" })).toBeNull();
    expect((await refused("/pools/dev", { method: "DELETE" })).message).toBe(
      "delete pool failed: pool 'dev' is not empty (contains VM 110)\n",
    );
    await put("/pools/dev", { vms: "110", delete: 1 });
    expect((await refused("/pools?poolid=dev", { method: "DELETE" })).message).toBe(
      "delete pool failed: pool 'dev' is not empty (contains storage 'nas')\n",
    );
    await put("/pools/dev", { storage: "nas", delete: 1 });
    expect(await data("/pools?poolid=dev", { method: "DELETE" })).toBeNull();
    expect((await refused("/pools/dev", { method: "DELETE" })).message).toBe(
      "delete pool failed: pool 'dev' does not exist\n",
    );
  });

  it("nextid: the first free id, or the given one if free", async () => {
    expect(await data("/cluster/nextid")).toBe("112");
    expect(await data("/cluster/nextid?vmid=150")).toBe("150");
    expect(await refused("/cluster/nextid?vmid=101")).toEqual({
      status: 400,
      message: "Parameter verification failed.\n",
      errors: { vmid: "VM 101 already exists" },
    });
  });
});

describe("power actions", () => {
  it("shutdown of a VM that ignores ACPI times out, or is killed with forceStop", async () => {
    await finished(await post("/nodes/pve1/qemu", { vmid: 150, scsi0: "local-lvm:4", start: 1 }));
    const timedOut = await post("/nodes/pve1/qemu/150/status/shutdown", { timeout: 5 });
    expect((await finished(timedOut)).exitstatus).toBe("VM quit/powerdown failed - got timeout");
    expect(await current("pve1", "qemu", 150)).toMatchObject({ status: "running" });
    const forced = await post("/nodes/pve1/qemu/150/status/shutdown", { timeout: 5, forceStop: 1 });
    expect((await finished(forced)).exitstatus).toBe("OK");
    expect(await log(forced)).toEqual(["VM still running - terminating now with SIGTERM", "TASK OK"]);
    expect(await current("pve1", "qemu", 150)).toMatchObject({ status: "stopped" });
    expect((await refused("/nodes/pve1/qemu/150/status/reboot", form({}))).message).toBe(
      "VM 150 not running\n",
    );
  });

  it("a container shutdown that exceeds its timeout fails unless forceStop", async () => {
    const failed = await post("/nodes/pve1/lxc/200/status/shutdown", { timeout: 1 });
    expect((await finished(failed)).exitstatus).toBe(
      "command 'lxc-stop -n 200 --nokill --timeout 1' failed: exit code 1",
    );
    expect(await current("pve1", "lxc", 200)).toMatchObject({ status: "running" });
    await finished(await post("/nodes/pve1/lxc/200/status/shutdown", { timeout: 1, forceStop: 1 }));
    expect(await current("pve1", "lxc", 200)).toMatchObject({ status: "stopped" });
  });

  it("stop with overrule-shutdown aborts a running shutdown", async () => {
    await control("settings", { taskDurationMs: 5000 });
    const shutdown = await post("/nodes/pve1/qemu/100/status/shutdown");
    await control("settings", { taskDurationMs: 30 });
    const stop = await post("/nodes/pve1/qemu/100/status/stop", { "overrule-shutdown": 1 });
    expect((await status(shutdown)).exitstatus).toBe("interrupted by signal");
    expect((await finished(stop)).exitstatus).toBe("OK");
    expect(await log(stop)).toEqual([`overruled qmshutdown tasks: ${shutdown}`, "TASK OK"]);
    expect(await current("pve1", "qemu", 100)).toMatchObject({ status: "stopped" });
  });
});
