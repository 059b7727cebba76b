import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_SESSION } from "../src/server/server";
import type { SessionApi } from "../src/session/session";
import { connect, expectError, expectOk, type TestClient, tableRows } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

let client: TestClient;
const session = () => env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION)) as unknown as SessionApi;

const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
const fails = (name: string, args: Record<string, unknown>) => expectError(client, name, args);

beforeAll(async () => {
  client = await connect("2025-06-18");
});
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.settings({ taskDurationMs: 200 });
});

describe("create and delete", () => {
  it("create_vm with cloud-init, then it exists with that config", async () => {
    const created = await ok("create_vm", {
      name: "web-02",
      node: "pve1",
      cores: 4,
      memory: 4096,
      disk_gb: 40,
      ciuser: "admin",
      sshkey: "ssh-ed25519 AAAAC3Nza test@laptop",
      ip: "10.0.0.50/24,gw=10.0.0.1",
      start: true,
    });
    expect(created.text).toMatch(
      /^Create VM 112 'web-02' on pve1 and start it: done\. VM 112 is on pve1 and was started: it is running\.\ntask: UPID:pve1:.*:qmcreate:112:\S*:$/,
    );
    expect(created.data).toMatchObject({
      state: "done",
      action: "Create VM 112 'web-02' on pve1 and start it",
      target: { vmid: 112, node: "pve1", name: "web-02" },
      upid: expect.stringMatching(/^UPID:pve1:.*:qmcreate:112:/),
      exitstatus: "OK",
      started: true,
    });
    const sent = (await sim.requests()).find((r) => r.method === "POST" && r.path === "/nodes/pve1/qemu");
    expect(sent?.body).toMatchObject({
      vmid: "112",
      cores: "4",
      memory: "4096",
      scsi0: "local-lvm:40,iothread=1",
      net0: "virtio,bridge=vmbr0",
      ciuser: "admin",
      sshkeys: encodeURIComponent("ssh-ed25519 AAAAC3Nza test@laptop"),
      ipconfig0: "ip=10.0.0.50/24,gw=10.0.0.1",
      start: "1",
    });
    const config = await ok("get_vm_config", { vmid: 112 });
    expect(config.data.config).toMatchObject({ name: "web-02", cores: 4, memory: "4096" });
    expect((await ok("get_vm", { vmid: 112 })).data.status).toBe("running");
  });

  it("create_vm refuses a taken ID and bad extra options before sending", async () => {
    expect(await fails("create_vm", { vmid: 101 })).toBe(
      "VM ID 101 is already taken by VM 'web-01' on pve1. get_next_vmid gives a free one.",
    );
    expect(await fails("create_vm", { extra: "not an option" })).toContain("is not a key=value option");
    expect(await fails("create_vm", { extra: "cores=8" })).toContain("set cores with its own argument");
    expect(await changesSent()).toEqual([]);
  });

  it("create_container from a template", async () => {
    const templates = await ok("get_storage_content", { storage: "local", node: "pve2", content: "vztmpl" });
    const template = templates.data.rows[0][0] as string;
    const created = await ok("create_container", {
      node: "pve2",
      template,
      hostname: "cache",
      password: "s3cretpass",
    });
    expect(created.text).toMatch(/^Create container 112 'cache' on pve2: done\. Container 112 is on pve2/);
    expect(created.text).not.toContain("s3cretpass");
    const ct = await ok("get_container", { vmid: 112 });
    expect(ct.data).toMatchObject({ name: "cache", node: "pve2" });
    const audit = await session().listAudit(3);
    expect(JSON.stringify(audit)).not.toContain("s3cretpass");
    expect(audit[0]?.args.password).toBe("********");
  });

  it("delete_vm needs a stopped guest, refuses a protected one, previews, then deletes", async () => {
    expect(await fails("delete_vm", { vmid: 101, confirm: true })).toBe(
      "VM 101 'web-01' is running; shut it down (shutdown_vm) before deleting it.",
    );
    expect(await fails("delete_container", { vmid: 201, confirm: true })).toContain(
      "Container 201 'monitoring' is protected",
    );
    const preview = await ok("delete_vm", { vmid: 110 });
    expect(preview.text).toMatch(
      /^Not done: This deletes VM 110 'test-vm' on pve3 and its 1 disk: local-lvm:vm-110-disk-0 \(\d+G\)\. Backups are kept\. Call delete_vm again with confirm: true to go ahead\.$/,
    );
    expect(await changesSent()).toEqual([]);
    const done = await ok("delete_vm", { vmid: 110, confirm: true });
    expect(done.text).toMatch(/^Delete VM 110 'test-vm': done/);
    expect(await fails("get_vm", { vmid: 110 })).toContain("There is no VM or container with ID 110");
  });
});

describe("update, resize, clone, migrate", () => {
  it("update_vm changes config and says what waits for a reboot", async () => {
    const updated = await ok("update_vm", { vmid: 101, cores: 4, description: "web frontend" });
    expect(updated.text).toBe(
      "Updated VM 101 'web-01': cores 2 -> 4, description updated. Waiting for a reboot: cores.",
    );
    expect((await ok("get_vm_config", { vmid: 101 })).data.config.cores).toBe(4);
    expect(await fails("update_vm", { vmid: 101 })).toBe(
      "Nothing to change: give at least one setting, extra or delete.",
    );
    const audit = await session().listAudit(1);
    expect(audit[0]).toMatchObject({ tool: "update_vm", target: "VM 101 'web-01'", outcome: "done" });
  });

  it("update_container", async () => {
    await ok("update_container", { vmid: 200, memory: 1024, tags: "infra;edge" });
    const config = (await ok("get_container", { vmid: 200 })).data;
    expect(config.maxmem).toBe(1024 * 1024 * 1024);
  });

  it("resize_vm_disk grows, and refuses to shrink or a missing disk", async () => {
    const grown = await ok("resize_vm_disk", { vmid: 101, disk: "scsi0", size: "+8G" });
    expect(grown.text).toMatch(/^Grow scsi0 of VM 101 'web-01' from \d+G by 8G to [\d.]+ GiB: done/);
    expect(await fails("resize_vm_disk", { vmid: 101, disk: "scsi0", size: "1G" })).toContain(
      "Proxmox can only grow disks",
    );
    expect(await fails("resize_vm_disk", { vmid: 101, disk: "scsi9", size: "+1G" })).toMatch(
      /^VM 101 'web-01' has no disk scsi9\. Its disks: /,
    );
  });

  it("clone_vm: linked from a template, full from a VM, refused linked from a VM", async () => {
    const linked = await ok("clone_vm", { vmid: 107, name: "ubuntu-test" });
    expect(linked.text).toMatch(
      /^Linked clone of VM 107 'ubuntu-2404-template' to VM 112 'ubuntu-test': done/,
    );
    const full = await ok("clone_vm", { vmid: 100, newid: 150, name: "pihole-copy" });
    expect(full.text).toMatch(/^Full clone of VM 100 'pihole' to VM 150 'pihole-copy': done/);
    expect((await ok("get_vm", { vmid: 150 })).data).toMatchObject({ node: "pve1", name: "pihole-copy" });
    expect(await fails("clone_vm", { vmid: 100, target: "pve2" })).toBe(
      "VM 100 'pihole' has disks on local storage (local-lvm), which pve2 cannot reach. Clone it on pve1 and then migrate_vm the clone, or give storage= a shared storage.",
    );
    expect(await fails("clone_vm", { vmid: 100, full: false })).toContain(
      "is not a template: a linked clone needs a template",
    );
    expect(await fails("clone_vm", { vmid: 100, newid: 101 })).toContain("VM ID 101 is already taken");
  });

  it("migrate_vm moves a running VM live, and refuses the node it is on", async () => {
    expect(await fails("migrate_vm", { vmid: 100, target: "pve1" })).toBe(
      "VM 100 'pihole' is already on pve1.",
    );
    await sim.setNodeOnline("pve3", false);
    expect(await fails("migrate_vm", { vmid: 100, target: "pve3" })).toBe(
      "Node pve3 is offline; pick an online node.",
    );
    expect(await changesSent()).toEqual([]);
    const moved = await ok("migrate_vm", { vmid: 100, target: "pve2" });
    expect(moved.text).toMatch(/^Live-migrate VM 100 'pihole' from pve1 to pve2: done/);
    expect((await ok("get_vm", { vmid: 100 })).data).toMatchObject({ node: "pve2", status: "running" });
  });
});

describe("backups", () => {
  it("create_backup to the shared storage, then it is listed", async () => {
    const done = await ok("create_backup", { vmid: 100, notes: "before test" });
    expect(done.text).toMatch(/^Back up VM 100 'pihole' to nas \(snapshot mode\): done/);
    const backups = await ok("get_backups", { storage: "nas", vmid: 100 });
    expect(backups.data.total).toBe(2);
    // Each line names the volume once: no "backup vma.zst" after a volid that already says so.
    const lines = backups.text.split("\n").slice(1);
    expect(lines).toHaveLength(2);
    for (const line of lines)
      expect(line).toMatch(/^nas:backup\/vzdump-qemu-100-\S+\.vma\.zst [\d.]+ [KMG]iB, /);
  });

  it("create_backup refuses a storage without backup content, and a locked guest", async () => {
    expect(await fails("create_backup", { vmid: 100, storage: "local-lvm" })).toContain(
      "does not hold backups",
    );
    expect(await fails("create_backup", { vmid: 106 })).toContain("is locked (backup)");
    expect(await changesSent()).toEqual([]);
  });

  it("restore_backup to a new ID, and over an existing guest only with confirm", async () => {
    const list = await ok("get_backups", { vmid: 101 });
    const volid = tableRows(list.data as never)[0]?.volid as string;
    const restored = await ok("restore_backup", { volid, vmid: 160, node: "pve1" });
    expect(restored.text).toMatch(/^Restore nas:backup\/vzdump-qemu-101-.* to new VM 160 on pve1: done/);
    expect((await ok("get_vm_config", { vmid: 160 })).data.config.name).toBe("web-01");

    const over = await ok("restore_backup", { volid, vmid: 160 });
    expect(over.text).toMatch(
      /^Not done: This replaces VM 160 'web-01' on pve1 with the backup .*: its current config and \d+ disks? .* are overwritten\./,
    );
    expect(await fails("restore_backup", { volid, vmid: 101, confirm: true })).toBe(
      "VM 101 'web-01' is running; stop it before restoring over it.",
    );
    expect(await fails("restore_backup", { volid, vmid: 102, confirm: true })).toContain(
      "VM 102 'db-01' is protected",
    );
    expect(await fails("restore_backup", { volid, vmid: 201, confirm: true })).toContain(
      "is a container but this backup is of a VM",
    );
    const done = await ok("restore_backup", { volid, vmid: 160, confirm: true });
    expect(done.text).toMatch(/^Restore .* over VM 160 on pve1: done/);
  });
});
