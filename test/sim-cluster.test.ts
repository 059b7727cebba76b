import { beforeEach, describe, expect, it } from "vitest";
import { api, control } from "./helpers/pve";

async function data<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await api(path, init);
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).toBe(200);
  return (JSON.parse(text) as { data: T }).data;
}

const form = (body: string, method = "POST"): RequestInit => ({
  method,
  body,
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});

type Row = Record<string, unknown>;

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

describe("cluster views", () => {
  it("names the cluster and its three nodes", async () => {
    const status = await data<Row[]>("/cluster/status");
    expect(status[0]).toMatchObject({ type: "cluster", name: "homelab", nodes: 3, quorate: 1 });
    expect(status.slice(1).map((n) => [n.name, n.online, n.nodeid])).toEqual([
      ["pve1", 1, 1],
      ["pve2", 1, 2],
      ["pve3", 1, 3],
    ]);
  });

  it("lists guests in /cluster/resources with numeric vmids, 0/1 templates and ;-separated tags", async () => {
    const vms = await data<Row[]>("/cluster/resources?type=vm");
    expect(vms.map((g) => g.vmid)).toEqual([
      100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 200, 201, 202, 203, 204, 205,
    ]);
    for (const g of vms) {
      expect(typeof g.vmid).toBe("number");
      expect([0, 1]).toContain(g.template);
      expect(g.id).toBe(`${g.type}/${g.vmid}`);
    }
    expect(vms.find((g) => g.vmid === 101)).toMatchObject({
      tags: "prod;web",
      pool: "prod",
      status: "running",
    });
    expect(vms.find((g) => g.vmid === 107)).toMatchObject({ template: 1, status: "stopped" });
    expect(vms.find((g) => g.vmid === 106)).toMatchObject({ lock: "backup" });
    // pvestatd records qmpstatus here, so a paused VM is "paused" (it is "running" in node lists).
    expect(vms.find((g) => g.vmid === 105)).toMatchObject({ status: "paused" });
  });

  it("filters /cluster/resources by type and uses disk/maxdisk for storage rows", async () => {
    const all = await data<Row[]>("/cluster/resources");
    expect(new Set(all.map((r) => r.type))).toEqual(
      new Set(["qemu", "lxc", "node", "storage", "sdn", "pool"]),
    );
    const storage = await data<Row[]>("/cluster/resources?type=storage");
    expect(storage.every((r) => r.type === "storage")).toBe(true);
    expect(storage.find((r) => r.id === "storage/pve1/local-lvm")).toMatchObject({
      plugintype: "lvmthin",
      status: "available",
      shared: 0,
      content: "images,rootdir",
      disk: expect.any(Number),
      maxdisk: expect.any(Number),
    });
    expect(storage[0]).not.toHaveProperty("used");
    const nodes = await data<Row[]>("/cluster/resources?type=node");
    expect(nodes.map((n) => n.id)).toEqual(["node/pve1", "node/pve2", "node/pve3"]);
    expect(await data<Row[]>("/cluster/resources?type=sdn")).toHaveLength(3);
  });

  it("hands out the next free VMID as Perl does (a string), and refuses a taken one", async () => {
    expect(await data("/cluster/nextid")).toBe("112");
    expect(await data("/cluster/nextid?vmid=150")).toBe("150");
    const taken = await api("/cluster/nextid?vmid=100");
    expect(taken.status).toBe(400);
    expect(await taken.json()).toEqual({
      data: null,
      message: "Parameter verification failed.\n",
      errors: { vmid: "VM 100 already exists" },
    });
  });

  it("lists recent tasks of all nodes", async () => {
    const tasks = await data<Row[]>("/cluster/tasks");
    expect(new Set(tasks.map((t) => t.node))).toEqual(new Set(["pve1", "pve2", "pve3"]));
    expect(tasks.every((t) => typeof t.id === "string" && typeof t.upid === "string")).toBe(true);
  });

  it("reports the version and full privileges of the token", async () => {
    expect(await data("/version")).toMatchObject({ version: "9.2.11", release: "9.2" });
    const perms = await data<Record<string, Record<string, number>>>("/access/permissions");
    expect(perms["/"]).toMatchObject({
      "VM.Audit": 1,
      "VM.PowerMgmt": 1,
      "VM.GuestAgent.Unrestricted": 1,
      "Sys.Audit": 1,
    });
    expect(perms["/"]).not.toHaveProperty("VM.Monitor");
    const one = await data<Record<string, unknown>>("/access/permissions?path=/vms/101");
    expect(Object.keys(one)).toEqual(["/vms/101"]);
  });
});

describe("nodes", () => {
  it("reports node status with Proxmox's fields", async () => {
    const s = await data<Row>("/nodes/pve1/status");
    expect(s).toMatchObject({
      pveversion: expect.stringMatching(/^pve-manager\/9\.2\.11\//),
      kversion: expect.stringMatching(/^Linux 6\.17/),
      cpuinfo: { cpus: 32, sockets: 1, cores: 16, model: expect.any(String) },
      "boot-info": { mode: "efi" },
      "current-kernel": { sysname: "Linux", machine: "x86_64" },
      memory: { total: expect.any(Number), used: expect.any(Number), free: expect.any(Number) },
      rootfs: { total: expect.any(Number), avail: expect.any(Number) },
    });
    expect((s.loadavg as unknown[]).every((l) => typeof l === "string")).toBe(true);
    const uptime = s.uptime as number;
    expect(uptime).toBeGreaterThan(86400);
  });
});

describe("guests", () => {
  it("returns qemu config with memory as a string and cores as a number, plus a digest", async () => {
    const conf = await data<Row>("/nodes/pve1/qemu/101/config");
    expect(conf).toMatchObject({
      name: "web-01",
      memory: "4096",
      cores: 2,
      sockets: 1,
      agent: "1",
      ostype: "l26",
      scsi0: "local-lvm:vm-101-disk-0,iothread=1,size=32G",
      net0: expect.stringMatching(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0/),
      smbios1: expect.stringMatching(/^uuid=/),
      digest: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    const ct = await data<Row>("/nodes/pve1/lxc/200/config");
    expect(ct).toMatchObject({
      hostname: "proxy",
      memory: 512,
      swap: 512,
      arch: "amd64",
      unprivileged: 1,
      rootfs: "local-lvm:vm-200-disk-0,size=8G",
      net0: expect.stringContaining("name=eth0,bridge=vmbr0"),
    });
  });

  it("shows the full qemu status: qmpstatus, agent flag, ha", async () => {
    expect(await data("/nodes/pve2/qemu/105/status/current")).toMatchObject({
      status: "running",
      qmpstatus: "paused",
      vmid: 105,
      agent: 1,
      ha: { managed: 0 },
    });
    const noAgent = await data<Row>("/nodes/pve2/qemu/104/status/current");
    expect(noAgent).not.toHaveProperty("agent");
    const stopped = await data<Row>("/nodes/pve1/qemu/103/status/current");
    expect(stopped).toMatchObject({ status: "stopped", qmpstatus: "stopped", uptime: 0 });
    const list = await data<Row[]>("/nodes/pve1/qemu");
    expect(list.map((v) => v.vmid)).toEqual([100, 101, 102, 103]);
    expect(list[0]).not.toHaveProperty("qmpstatus");
    const full = await data<Row[]>("/nodes/pve2/qemu?full=1");
    expect(full.find((v) => v.vmid === 105)).toMatchObject({ qmpstatus: "paused" });
  });

  it("lists containers and their status", async () => {
    const cts = await data<Row[]>("/nodes/pve1/lxc");
    // The list has string vmids, as real hosts send them (pve-container); status/current numbers.
    expect(cts.map((c) => [c.vmid, c.name, c.status])).toEqual([
      ["200", "proxy", "running"],
      ["201", "monitoring", "running"],
    ]);
    expect(await data("/nodes/pve2/lxc/203/status/current")).toMatchObject({
      status: "stopped",
      type: "lxc",
    });
  });

  it("lists pending values per key", async () => {
    const pending = await data<Row[]>("/nodes/pve1/qemu/100/pending");
    expect(pending).toContainEqual({ key: "memory", value: "1024" });
    expect(pending).toContainEqual({ key: "cores", value: 1 });
  });
});

describe("snapshots", () => {
  it("lists snapshots with their parents and the current pseudo-entry", async () => {
    const snaps = await data<Row[]>("/nodes/pve1/qemu/101/snapshot");
    expect(snaps.map((s) => [s.name, s.parent])).toEqual([
      ["pre-upgrade", undefined],
      ["before-nginx", "pre-upgrade"],
      ["current", "before-nginx"],
    ]);
    expect(snaps[2]).toMatchObject({ description: "You are here!", running: 1 });
    expect(snaps[0]).toMatchObject({ snaptime: expect.any(Number), description: expect.any(String) });
    const withState = await data<Row[]>("/nodes/pve3/qemu/109/snapshot");
    expect(withState[0]).toMatchObject({ name: "stable", vmstate: 1 });
    const ct = await data<Row[]>("/nodes/pve2/lxc/202/snapshot");
    expect(ct.map((s) => s.name)).toEqual(["initial", "current"]);
  });

  it("returns a snapshot's config, or 'does not exist'", async () => {
    const conf = await data<Row>("/nodes/pve1/qemu/101/snapshot/pre-upgrade/config");
    expect(conf).toMatchObject({ name: "web-01", memory: "4096", snaptime: expect.any(Number) });
    const missing = await api("/nodes/pve1/qemu/101/snapshot/nope/config");
    expect(missing.status).toBe(500);
    expect(await missing.json()).toEqual({ data: null, message: "snapshot 'nope' does not exist\n" });
    expect(await data("/nodes/pve1/qemu/101/snapshot/pre-upgrade")).toEqual([
      { cmd: "rollback" },
      { cmd: "config" },
    ]);
  });

  it("creates, rolls back and deletes snapshots through tasks", async () => {
    const create = await data<string>(
      "/nodes/pve1/qemu/100/snapshot",
      form("snapname=test1&description=first"),
    );
    expect(create.split(":")[5]).toBe("qmsnapshot");
    let snaps = await data<Row[]>("/nodes/pve1/qemu/100/snapshot");
    expect(snaps.map((s) => s.name)).toEqual(["test1", "current"]);
    expect(snaps[0]).toMatchObject({ description: "first" });
    const rollback = await data<string>("/nodes/pve1/qemu/100/snapshot/test1/rollback", { method: "POST" });
    expect(rollback.split(":")[5]).toBe("qmrollback");
    expect(await data("/nodes/pve1/qemu/100/status/current")).toMatchObject({ status: "stopped" });
    const del = await data<string>("/nodes/pve1/qemu/100/snapshot/test1", { method: "DELETE" });
    expect(del.split(":")[5]).toBe("qmdelsnapshot");
    snaps = await data<Row[]>("/nodes/pve1/qemu/100/snapshot");
    expect(snaps.map((s) => s.name)).toEqual(["current"]);
    const gone = await data<string>("/nodes/pve1/qemu/100/snapshot/test1", { method: "DELETE" });
    const st = await data<Row>(`/nodes/pve1/tasks/${gone}/status`);
    expect(st.exitstatus).toBe("snapshot 'test1' does not exist");
  });

  it("holds the snapshot lock while the task runs", async () => {
    await control("settings", { taskDurationMs: 60_000 });
    await data<string>("/nodes/pve1/lxc/200/snapshot", form("snapname=busy"));
    expect(await data("/nodes/pve1/lxc/200/config")).toMatchObject({ lock: "snapshot" });
    await control("settings", { taskDurationMs: 0 });
    const again = await data<string>("/nodes/pve1/lxc/200/snapshot", form("snapname=other"));
    const st = await data<Row>(`/nodes/pve1/tasks/${again}/status`);
    expect(st.status).toBe("stopped");
    expect(st.exitstatus).toBe("CT is locked (snapshot)");
  });
});

describe("storage", () => {
  it("lists node storage with used/total/avail and filters", async () => {
    const list = await data<Row[]>("/nodes/pve1/storage");
    expect(list.map((s) => s.storage)).toEqual(["local", "local-lvm", "nas"]);
    for (const s of list) {
      expect(s).toMatchObject({
        total: expect.any(Number),
        used: expect.any(Number),
        avail: expect.any(Number),
      });
      expect(s).not.toHaveProperty("disk");
    }
    expect(list.find((s) => s.storage === "nas")).toMatchObject({
      type: "nfs",
      shared: 1,
      content: "backup,iso",
    });
    expect((await data<Row[]>("/nodes/pve1/storage?content=images")).map((s) => s.storage)).toEqual([
      "local-lvm",
    ]);
    expect((await data<Row[]>("/nodes/pve1/storage?storage=nas")).map((s) => s.storage)).toEqual(["nas"]);
    expect(await data("/nodes/pve1/storage/local/status")).toMatchObject({
      type: "dir",
      active: 1,
      enabled: 1,
    });
  });

  it("lists content: backups with their metadata, filtered by content and vmid", async () => {
    const backups = await data<Row[]>("/nodes/pve1/storage/nas/content?content=backup");
    expect(backups.length).toBeGreaterThanOrEqual(8);
    for (const b of backups) {
      expect(b.volid).toMatch(
        /^nas:backup\/vzdump-(qemu|lxc)-\d+-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.(vma|tar)\.zst$/,
      );
      expect(b).toMatchObject({ content: "backup", ctime: expect.any(Number), size: expect.any(Number) });
      expect(b.subtype).toBe(String(b.volid).includes("-qemu-") ? "qemu" : "lxc");
    }
    expect(backups.some((b) => b.protected === 1)).toBe(true);
    const of101 = await data<Row[]>("/nodes/pve1/storage/nas/content?vmid=101");
    expect(of101).toHaveLength(3);
    const isos = await data<Row[]>("/nodes/pve2/storage/nas/content?content=iso");
    expect(isos.every((i) => i.format === "iso")).toBe(true);
    const images = await data<Row[]>("/nodes/pve1/storage/local-lvm/content");
    expect(images.map((i) => i.volid)).toContain("local-lvm:vm-101-disk-0");
    const templates = await data<Row[]>("/nodes/pve3/storage/local/content?content=vztmpl");
    expect(templates).toHaveLength(2);
  });

  it("reads one volume, raw or encoded", async () => {
    const [backup] = await data<Row[]>("/nodes/pve1/storage/nas/content?vmid=102");
    const volid = String(backup?.volid);
    const raw = await data<Row>(`/nodes/pve1/storage/nas/content/${volid}`);
    expect(raw).toMatchObject({
      size: backup?.size,
      format: "vma.zst",
      path: expect.stringContaining("/dump/"),
    });
    expect(await data(`/nodes/pve1/storage/nas/content/${encodeURIComponent(volid)}`)).toEqual(raw);
  });
});

describe("pools", () => {
  it("lists pools and their members", async () => {
    expect(await data("/pools")).toEqual([
      { poolid: "lab", comment: "Lab and experiments" },
      { poolid: "prod", comment: "Production services" },
    ]);
    const prod = await data<{ comment: string; members: Row[] }>("/pools/prod");
    expect(prod.comment).toBe("Production services");
    expect(prod.members.filter((m) => m.type !== "storage").map((m) => m.vmid)).toEqual([101, 102, 109, 201]);
    expect(prod.members.filter((m) => m.type === "storage")).toEqual([
      expect.objectContaining({ id: "storage/pve1/nas", storage: "nas", node: "pve1", shared: 1 }),
    ]);
    const [viaQuery] = await data<Row[]>("/pools?poolid=lab");
    expect(viaQuery).toMatchObject({ poolid: "lab", members: expect.any(Array) });
  });

  it("creates, updates and deletes a pool", async () => {
    expect(await data("/pools", form("poolid=test&comment=Testing"))).toBeNull();
    expect(await data("/pools/test", form("vms=110,204", "PUT"))).toBeNull();
    const test = await data<{ members: Row[] }>("/pools/test");
    expect(test.members.map((m) => m.vmid)).toEqual([110, 204]);
    const busy = await api("/pools/test", { method: "DELETE" });
    expect(busy.status).toBe(500);
    expect(await busy.json()).toEqual({
      data: null,
      message: "delete pool failed: pool 'test' is not empty (contains VM 110)\n",
    });
    expect(await data("/pools/test", form("vms=110,204&delete=1", "PUT"))).toBeNull();
    expect(await data("/pools/test", { method: "DELETE" })).toBeNull();
    const gone = await api("/pools/test");
    expect(gone.status).toBe(500);
    expect(await gone.json()).toEqual({ data: null, message: "pool 'test' does not exist\n" });
  });
});
