import { beforeEach, describe, expect, it } from "vitest";
import {
  control,
  data,
  taskFinished as finished,
  form,
  taskLog as log,
  post,
  type Row,
  refused,
  taskStatus as status,
} from "./helpers/pve";

const config = (node: string, kind: string, vmid: number) =>
  data<Row>(`/nodes/${node}/${kind}/${vmid}/config`);

const resources = async () => data<Row[]>("/cluster/resources?type=vm");

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 30 });
});

describe("POST /nodes/{node}/qemu (create)", () => {
  it("creates a VM with new disks, a CD, cloud-init, MACs, a pool, and starts it", async () => {
    const sshkeys = encodeURIComponent(
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMuIfmU0hFpoxBvcmVyZ3VseT3fXhzT4k user@host",
    );
    const upid = await post("/nodes/pve1/qemu", {
      vmid: 150,
      name: "new-vm",
      memory: 2048,
      cores: 2,
      scsi0: "local-lvm:32,iothread=1",
      scsihw: "virtio-scsi-single",
      ide2: "nas:iso/debian-13.1.0-amd64-netinst.iso,media=cdrom",
      ide0: "local-lvm:cloudinit",
      net0: "virtio,bridge=vmbr0",
      ciuser: "admin",
      cipassword: "s3cret!",
      sshkeys,
      ipconfig0: "ip=dhcp",
      pool: "lab",
      start: 1,
    });
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmcreate:150:root@pam!mcp:$/);
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "qmcreate", id: "150", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines).toContain('  Logical volume "vm-150-disk-0" created.');
    expect(lines).toContain("scsi0: successfully created disk 'local-lvm:vm-150-disk-0,iothread=1,size=32G'");
    expect(lines).toContain("ide0: successfully created disk 'local-lvm:vm-150-cloudinit,media=cdrom'");
    expect(lines.at(-2)).toBe("Execute autostart");
    expect(lines.at(-1)).toBe("TASK OK");

    const conf = await config("pve1", "qemu", 150);
    expect(conf).toMatchObject({
      name: "new-vm",
      memory: "2048",
      cores: 2,
      scsi0: "local-lvm:vm-150-disk-0,iothread=1,size=32G",
      ide0: "local-lvm:vm-150-cloudinit,media=cdrom",
      ide2: "nas:iso/debian-13.1.0-amd64-netinst.iso,media=cdrom,size=755M",
      ciuser: "admin",
      cipassword: "**********",
      sshkeys,
      ipconfig0: "ip=dhcp",
      boot: "order=scsi0;ide0;net0",
    });
    expect(conf.net0).toMatch(/^virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0$/);
    expect(conf.smbios1).toMatch(/^uuid=[0-9a-f-]{36}$/);
    expect(conf.meta).toMatch(/^creation-qemu=[\d.]+,ctime=\d+$/);
    expect(conf.lock).toBeUndefined();

    const row = (await resources()).find((r) => r.vmid === 150);
    expect(row).toMatchObject({ node: "pve1", status: "running", pool: "lab", maxdisk: 32 * 1024 ** 3 });
    const disks = await data<Row[]>("/nodes/pve1/storage/local-lvm/content?vmid=150");
    expect(disks.map((d) => d.volid).sort()).toEqual([
      "local-lvm:vm-150-cloudinit",
      "local-lvm:vm-150-disk-0",
    ]);
    // Only pve1's thin pool holds the new disk.
    expect(await data<Row[]>("/nodes/pve2/storage/local-lvm/content?vmid=150")).toEqual([]);
  });

  it("holds the id with a 'create' lock while the task runs, then unlocks", async () => {
    await control("settings", { taskDurationMs: 400 });
    const upid = await post("/nodes/pve2/qemu", { vmid: 151, scsi0: "local-lvm:8" });
    expect(await config("pve2", "qemu", 151)).toMatchObject({ lock: "create" });
    expect((await resources()).find((r) => r.vmid === 151)).toMatchObject({ lock: "create", node: "pve2" });
    expect((await refused("/cluster/nextid?vmid=151")).errors).toEqual({ vmid: "VM 151 already exists" });
    const running = await data<Row[]>("/nodes/pve2/tasks?source=active");
    expect(running.map((t) => t.upid)).toContain(upid);
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect((await config("pve2", "qemu", 151)).lock).toBeUndefined();
    const cluster = await data<Row[]>("/cluster/tasks");
    expect(cluster.find((t) => t.upid === upid)).toMatchObject({ type: "qmcreate", status: "OK" });
  });

  it("refuses a taken id, a missing pool, a storage without images, an ISO without media=cdrom", async () => {
    expect(await refused("/nodes/pve1/qemu", form({ vmid: 100, scsi0: "local-lvm:8" }))).toEqual({
      status: 500,
      message: "unable to create VM 100 - VM 100 already exists on node 'pve1'\n",
    });
    expect((await refused("/nodes/pve2/qemu", form({ vmid: 200 }))).message).toBe(
      "unable to create VM 200 - CT 200 already exists on node 'pve1'\n",
    );
    expect(await refused("/nodes/pve1/qemu", form({ vmid: 152, pool: "nope" }))).toEqual({
      status: 403,
      message: "Permission check failed (pool 'nope' does not exist)\n",
    });
    expect((await refused("/nodes/pve1/qemu", form({ vmid: 152, scsi0: "local:8" }))).errors).toEqual({
      storage: "storage 'local' does not support vm images",
    });
    expect((await refused("/nodes/pve1/qemu", form({ vmid: 152, scsi0: "nope:8" }))).message).toBe(
      "storage 'nope' does not exist\n",
    );
    expect(
      (await refused("/nodes/pve1/qemu", form({ vmid: 152, ide2: "nas:iso/proxmox-ve_9.1-1.iso" }))).errors,
    ).toEqual({
      ide2: "explicit 'media=cdrom' is required for iso images",
    });
    expect((await refused("/nodes/pve1/qemu", form({ vmid: 152, sshkeys: "not%20a%20key" }))).message).toBe(
      "SSH public key validation error\n",
    );
    // sshkeys must be URL-encoded inside the value.
    expect(
      (await refused("/nodes/pve1/qemu", form({ vmid: 152, sshkeys: "ssh-ed25519 AAAA" }))).errors,
    ).toEqual({
      sshkeys: "invalid format - invalid urlencoded string: ssh-ed25519 AAAA\n",
    });
    expect((await resources()).some((r) => r.vmid === 152)).toBe(false);
  });

  it("fails the task when the disk does not fit the storage, and leaves nothing behind", async () => {
    const upid = await post("/nodes/pve1/qemu", {
      vmid: 153,
      scsi0: "local-lvm:8",
      scsi1: "local-lvm:10240",
    });
    const s = await finished(upid);
    expect(s.exitstatus).toMatch(
      /^unable to create VM 153 - lvcreate 'pve\/vm-153-disk-1' error: {3}Volume group "pve" has insufficient free space \(\d+ extents\): 2621440 required\.$/,
    );
    expect(await log(upid)).toContain("scsi0: successfully created disk 'local-lvm:vm-153-disk-0,size=8G'");
    expect((await resources()).some((r) => r.vmid === 153)).toBe(false);
    expect(await data<Row[]>("/nodes/pve1/storage/local-lvm/content?vmid=153")).toEqual([]);
  });

  it("imports a disk from an existing image with import-from", async () => {
    const upid = await post("/nodes/pve2/qemu", {
      vmid: 155,
      scsi0: "local-lvm:0,import-from=local-lvm:base-107-disk-0,discard=on",
    });
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await log(upid)).toContain("transferred 20.0 GiB of 20.0 GiB (100.00%)");
    expect((await config("pve2", "qemu", 155)).scsi0).toBe("local-lvm:vm-155-disk-0,discard=on,size=20G");
    expect(
      (
        await refused(
          "/nodes/pve2/qemu",
          form({ vmid: 156, scsi0: "local-lvm:5,import-from=local-lvm:base-107-disk-0" }),
        )
      ).errors,
    ).toEqual({ scsi0: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>" });
  });

  it("allocations use up the thin pool's free space", async () => {
    const before = await data<Row>("/nodes/pve3/storage/local-lvm/status");
    await finished(await post("/nodes/pve3/qemu", { vmid: 154, scsi0: "local-lvm:100" }));
    const after = await data<Row>("/nodes/pve3/storage/local-lvm/status");
    expect(Number(after.used)).toBeGreaterThan(Number(before.used));
    expect(Number(after.avail)).toBeLessThan(Number(before.avail));
  });
});

describe("POST /nodes/{node}/lxc (create)", () => {
  it("creates a container from a template; password and keys are not stored", async () => {
    const upid = await post("/nodes/pve2/lxc", {
      vmid: 250,
      ostemplate: "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
      hostname: "ct250",
      rootfs: "local-lvm:8",
      net0: "name=eth0,bridge=vmbr0,ip=dhcp",
      password: "secret123",
      "ssh-public-keys": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMuIfmU0hFpoxBvcmVyZ3VseT3fXhzT4k user@host",
      unprivileged: 1,
      start: 1,
    });
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "vzcreate", id: "250", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines).toContain(
      "extracting archive '/var/lib/vz/template/cache/debian-13-standard_13.1-2_amd64.tar.zst'",
    );
    expect(lines).toContain("Detected container architecture: amd64");
    const conf = await config("pve2", "lxc", 250);
    expect(conf).toMatchObject({
      hostname: "ct250",
      ostype: "debian",
      arch: "amd64",
      memory: 512,
      swap: 512,
      unprivileged: 1,
      rootfs: "local-lvm:vm-250-disk-0,size=8G",
    });
    expect(conf.net0).toMatch(/^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth$/);
    expect(Object.keys(conf)).not.toContain("password");
    expect(Object.keys(conf)).not.toContain("ssh-public-keys");
    expect(await data<Row>("/nodes/pve2/lxc/250/status/current")).toMatchObject({ status: "running" });
  });

  it("refuses a taken id and a default storage without container volumes; a missing template fails the task", async () => {
    const tmpl = "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst";
    expect((await refused("/nodes/pve1/lxc", form({ vmid: 101, ostemplate: tmpl }))).message).toBe(
      "VM 101 already exists on node 'pve1'\n",
    );
    expect((await refused("/nodes/pve1/lxc", form({ vmid: 251, ostemplate: tmpl }))).errors).toEqual({
      storage: "storage 'local' does not support container directories",
    });
    const upid = await post("/nodes/pve1/lxc", {
      vmid: 251,
      ostemplate: "local:vztmpl/nope.tar.zst",
      storage: "local-lvm",
    });
    const s = await finished(upid);
    expect(s.exitstatus).toMatch(/^unable to create CT 251 - command '.*tar xpf - .*' failed: exit code 2$/);
    expect(await log(upid)).toContain(
      "tar: /var/lib/vz/template/cache/nope.tar.zst: Cannot open: No such file or directory",
    );
    expect((await resources()).some((r) => r.vmid === 251)).toBe(false);
  });
});

describe("restore", () => {
  const backup101 = async () => {
    const list = await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup&vmid=101");
    return String(list[0]?.volid);
  };

  it("restores a VM backup to a new id (qmrestore)", async () => {
    const archive = await backup101();
    const upid = await post("/nodes/pve2/qemu", { vmid: 160, archive, storage: "local-lvm", unique: 1 });
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "qmrestore", id: "160", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines[0]).toMatch(
      /^restore vma archive: zstd -q -d -c \/mnt\/pve\/nas\/dump\/vzdump-qemu-101-.*\.vma\.zst \| vma extract/,
    );
    expect(lines).toContain("new volume ID is 'local-lvm:vm-160-disk-0'");
    expect(lines.some((l) => /^progress 100% \(read \d+ bytes, duration \d+ sec\)$/.test(l))).toBe(true);
    const conf = await config("pve2", "qemu", 160);
    expect(conf).toMatchObject({ name: "web-01", scsi0: "local-lvm:vm-160-disk-0,iothread=1,size=32G" });
    expect(conf.net0).not.toBe((await config("pve1", "qemu", 101)).net0);
  });

  it("needs force to overwrite, refuses a running VM, and refuses disks next to an archive", async () => {
    const archive = await backup101();
    expect((await refused("/nodes/pve1/qemu", form({ vmid: 101, archive }))).message).toBe(
      "unable to restore VM 101 - VM 101 already exists on node 'pve1'\n",
    );
    const upid = await post("/nodes/pve1/qemu", { vmid: 101, archive, force: 1 });
    expect(await config("pve1", "qemu", 101)).toMatchObject({ lock: "create" });
    expect((await finished(upid)).exitstatus).toBe("unable to restore VM 101 - vm is running");
    expect((await config("pve1", "qemu", 101)).lock).toBeUndefined();
    expect(
      (await refused("/nodes/pve1/qemu", form({ vmid: 161, archive, scsi0: "local-lvm:8" }))).errors,
    ).toEqual({
      scsi0: "option conflicts with option 'archive'",
    });
    expect(
      (await refused("/nodes/pve1/qemu", form({ vmid: 161, archive: "nas:backup/none.vma.zst" }))).message,
    ).toBe("volume 'nas:backup/none.vma.zst' does not exist\n");
  });

  it("overwrites a stopped VM with force", async () => {
    await finished(await post("/nodes/pve1/qemu/101/status/stop"));
    await data("/nodes/pve1/qemu/101/config", form({ name: "renamed" }, "PUT"));
    const archive = await backup101();
    const upid = await post("/nodes/pve1/qemu", { vmid: 101, archive, force: 1 });
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await log(upid)).toContain('  Logical volume "vm-101-disk-0" successfully removed.');
    expect(await config("pve1", "qemu", 101)).toMatchObject({ name: "web-01" });
  });

  it("restores a container backup (vzrestore)", async () => {
    const [b] = await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup&vmid=201");
    const upid = await post("/nodes/pve1/lxc", {
      vmid: 260,
      ostemplate: String(b?.volid),
      restore: 1,
      storage: "local-lvm",
    });
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "vzrestore", id: "260", exitstatus: "OK" });
    expect(await log(upid)).toContain(`recovering backed-up configuration from '${b?.volid}'`);
    expect(await config("pve1", "lxc", 260)).toMatchObject({
      hostname: "monitoring",
      rootfs: "local-lvm:vm-260-disk-0,size=20G",
    });
  });
});

describe("DELETE /nodes/{node}/{qemu,lxc}/{vmid}", () => {
  it("destroys a stopped VM, its disks and its pool membership", async () => {
    await data("/pools/lab", form({ vms: "110", "allow-move": 1 }, "PUT"));
    await control("settings", { taskDurationMs: 300 });
    const upid = await data<string>("/nodes/pve3/qemu/110", { method: "DELETE" });
    expect(await config("pve3", "qemu", 110)).toMatchObject({ lock: "destroyed" });
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "qmdestroy", id: "110", exitstatus: "OK" });
    expect(await log(upid)).toEqual(['  Logical volume "vm-110-disk-0" successfully removed.', "TASK OK"]);
    expect((await refused("/nodes/pve3/qemu/110/config")).message).toBe(
      "Configuration file 'nodes/pve3/qemu-server/110.conf' does not exist\n",
    );
    expect((await data<Row>("/pools/lab")).members).not.toContainEqual(
      expect.objectContaining({ vmid: 110 }),
    );
    expect(await data<Row[]>("/nodes/pve3/storage/local-lvm/content?vmid=110")).toEqual([]);
    expect(await data("/cluster/nextid?vmid=110")).toBe("110");
  });

  it("refuses running, protected and locked guests", async () => {
    expect((await refused("/nodes/pve1/qemu/100", { method: "DELETE" })).message).toBe(
      "VM 100 is running - destroy failed\n",
    );
    await finished(await post("/nodes/pve1/qemu/102/status/stop"));
    expect((await refused("/nodes/pve1/qemu/102", { method: "DELETE" })).message).toBe(
      "can't remove VM 102 - protection mode enabled\n",
    );
    expect((await refused("/nodes/pve1/lxc/200", { method: "DELETE" })).message).toBe(
      "unable to destroy CT 200 - container is running\n",
    );
    expect((await refused("/nodes/pve1/lxc/201", { method: "DELETE" })).message).toBe(
      "can't remove CT 201 - protection mode enabled\n",
    );
    // force stops a running container first.
    const forced = await data<string>("/nodes/pve1/lxc/200?force=1&purge=1", { method: "DELETE" });
    expect((await finished(forced)).exitstatus).toBe("OK");
    expect(await log(forced)).toEqual([
      "forced to stop CT 200 before destroying!",
      '  Logical volume "vm-200-disk-0" successfully removed.',
      "purging CT 200 from related configurations..",
      "TASK OK",
    ]);
  });

  it("fails the task for a locked VM (check_lock runs in the worker)", async () => {
    await control("settings", { taskDurationMs: 2000 });
    const backup = await post("/nodes/pve3/vzdump", { vmid: 110, storage: "nas" });
    await control("settings", { taskDurationMs: 30 });
    const upid = await data<string>("/nodes/pve3/qemu/110", { method: "DELETE" });
    expect(await finished(upid)).toMatchObject({ type: "qmdestroy", exitstatus: "VM is locked (backup)" });
    await data(`/nodes/pve3/tasks/${backup}`, { method: "DELETE" });
    expect((await config("pve3", "qemu", 110)).lock).toBeUndefined();
  });
});

describe("POST .../clone", () => {
  it("full-clones a running VM with drive-mirror progress; the new VM is locked 'clone' until done", async () => {
    await control("settings", { taskDurationMs: 400 });
    const upid = await post("/nodes/pve1/qemu/101/clone", {
      newid: 170,
      name: "web-02",
      full: 1,
      pool: "lab",
    });
    expect(upid).toMatch(/:qmclone:101:root@pam!mcp:$/);
    expect(await config("pve1", "qemu", 170)).toMatchObject({
      lock: "clone",
      description: " qmclone temporary file\n",
    });
    // qemu-server only holds a file lock on the source; its config stays unlocked.
    expect((await config("pve1", "qemu", 101)).lock).toBeUndefined();
    const early = await post("/nodes/pve1/qemu/170/status/start");
    expect((await finished(early)).exitstatus).toBe("VM is locked (clone)");
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "qmclone", id: "101", node: "pve1", exitstatus: "OK" });
    const lines = await log(upid);
    expect(lines).toContain("create full clone of drive scsi0 (local-lvm:vm-101-disk-0)");
    expect(lines).toContain("drive mirror is starting for drive-scsi0");
    expect(
      lines.some((l) =>
        /^drive-scsi0: transferred 32\.0 GiB of 32\.0 GiB \(100\.00%\) in .*, ready$/.test(l),
      ),
    ).toBe(true);
    expect(lines).toContain("drive-scsi0: mirror-job finished");
    const conf = await config("pve1", "qemu", 170);
    expect(conf).toMatchObject({ name: "web-02", scsi0: "local-lvm:vm-170-disk-0,iothread=1,size=32G" });
    expect(conf.lock).toBeUndefined();
    expect(conf.parent).toBeUndefined();
    expect(conf.net0).not.toBe((await config("pve1", "qemu", 101)).net0);
    expect(await data<Row[]>("/nodes/pve1/qemu/170/snapshot")).toHaveLength(1);
    expect((await resources()).find((r) => r.vmid === 170)).toMatchObject({ status: "stopped", pool: "lab" });
  });

  it("links a clone of a template and refuses a linked clone of a normal VM", async () => {
    const upid = await post("/nodes/pve2/qemu/107/clone", { newid: 171 });
    expect((await finished(upid)).exitstatus).toBe("OK");
    expect(await log(upid)).toEqual([
      "create linked clone of drive scsi0 (local-lvm:base-107-disk-0)",
      '  Logical volume "vm-171-disk-0" created.',
      "TASK OK",
    ]);
    expect(await config("pve2", "qemu", 171)).toMatchObject({
      name: "Copy-of-VM-ubuntu-2404-template",
      scsi0: "local-lvm:base-107-disk-0/vm-171-disk-0,iothread=1,size=20G",
    });
    expect((await config("pve2", "qemu", 171)).template).toBeUndefined();
    expect((await refused("/nodes/pve1/qemu/100/clone", form({ newid: 172, full: 0 }))).message).toBe(
      "Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)\n",
    );
    expect(
      (await refused("/nodes/pve2/qemu/107/clone", form({ newid: 172, full: 0, storage: "local-lvm" })))
        .message,
    ).toBe("parameter 'storage' not allowed for linked clones\n");
    expect((await refused("/nodes/pve1/qemu/100/clone", form({ newid: 101 }))).message).toBe(
      "unable to create VM 101: config file already exists\n",
    );
    expect((await refused("/nodes/pve1/qemu/100/clone", form({ newid: 172, target: "pve2" }))).message).toBe(
      "can't clone VM to node 'pve2' (VM uses local storage)\n",
    );
    expect((await refused("/nodes/pve2/qemu/106/clone", form({ newid: 172 }))).message).toBe(
      "VM is locked (backup)\n",
    );
    // The template cannot take its base volume along while a linked clone uses it.
    const gone = await data<string>("/nodes/pve2/qemu/107", { method: "DELETE" });
    await finished(gone);
    expect(await log(gone)).toEqual([
      "Could not remove disk 'local-lvm:base-107-disk-0', check manually: base volume 'base-107-disk-0' is still in use by linked clones",
      "TASK OK",
    ]);
  });

  it("a stopped clone leaves no half guest", async () => {
    await control("settings", { taskDurationMs: 5000 });
    const upid = await post("/nodes/pve1/qemu/100/clone", { newid: 173 });
    expect((await resources()).find((r) => r.vmid === 173)).toMatchObject({ lock: "clone" });
    expect(await data(`/nodes/pve1/tasks/${upid}`, { method: "DELETE" })).toBeNull();
    expect(await status(upid)).toMatchObject({ status: "stopped", exitstatus: "interrupted by signal" });
    expect((await resources()).some((r) => r.vmid === 173)).toBe(false);
    expect(await data<Row[]>("/nodes/pve1/storage/local-lvm/content?vmid=173")).toEqual([]);
  });

  it("clones a container (vzclone): source locked 'disk', hostname kept or given", async () => {
    await control("settings", { taskDurationMs: 300 });
    expect((await refused("/nodes/pve1/lxc/200/clone", form({ newid: 280 }))).message).toBe(
      "Cannot do full clones on a running container without snapshots\n",
    );
    const upid = await post("/nodes/pve2/lxc/203/clone", { newid: 280, hostname: "dev-ct-2" });
    expect(await config("pve2", "lxc", 203)).toMatchObject({ lock: "disk" });
    expect(await config("pve2", "lxc", 280)).toMatchObject({ lock: "create" });
    const s = await finished(upid);
    expect(s).toMatchObject({ type: "vzclone", id: "203", exitstatus: "OK" });
    expect(await log(upid)).toContain("create full clone of mountpoint rootfs (local-lvm:vm-203-disk-0)");
    expect((await config("pve2", "lxc", 203)).lock).toBeUndefined();
    expect(await config("pve2", "lxc", 280)).toMatchObject({
      hostname: "dev-ct-2",
      rootfs: "local-lvm:vm-280-disk-0,size=8G",
    });
  });
});

describe("POST .../template", () => {
  it("turns a stopped VM into a template, renaming its disks to base volumes", async () => {
    const upid = await post("/nodes/pve3/qemu/110/template");
    expect((await finished(upid)).type).toBe("qmtemplate");
    expect(await config("pve3", "qemu", 110)).toMatchObject({
      template: 1,
      scsi0: "local-lvm:base-110-disk-0,iothread=1,size=16G",
    });
    expect((await refused("/nodes/pve3/qemu/110/template", form({}))).message).toBe(
      "you can't convert a template to a template\n",
    );
    expect((await refused("/nodes/pve1/qemu/100/template", form({}))).message).toBe(
      "you can't convert a VM to template if VM is running\n",
    );
    expect((await refused("/nodes/pve1/qemu/101/template", form({}))).message).toBe(
      "unable to create template, because VM contains snapshots\n",
    );
  });
});
