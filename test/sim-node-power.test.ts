// Node power and hardware in the simulator: reboot and shutdown (the node and its guests drop out
// of the cluster, a reboot brings them back with the onboot guests), physical disks with SMART
// and the ZFS pools on them.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, post, type Row, refused, taskFinished, taskLog } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` passes (node transitions take a few task durations). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`never happened: ${what}`);
}

const nodeOnline = async (node: string) =>
  (await data<Row[]>("/cluster/status")).find((r) => r.name === node)?.online === 1;

describe("node reboot and shutdown", () => {
  it("shuts a node down: it answers null, then the node and its guests drop out of the cluster", async () => {
    await control("settings", { taskDurationMs: 150 });
    expect(await post<null>("/nodes/pve3/status", { command: "shutdown" })).toBeNull();
    await eventually(async () => !(await nodeOnline("pve3")), "pve3 offline");
    const nodes = await data<Row[]>("/nodes");
    expect(nodes.find((n) => n.node === "pve3")).toEqual({
      node: "pve3",
      id: "node/pve3",
      type: "node",
      status: "offline",
      level: "",
      ssl_fingerprint: expect.any(String),
    });
    const vms = await data<Row[]>("/cluster/resources?type=vm");
    for (const g of vms.filter((r) => r.node === "pve3")) expect(g.status).toBe("unknown");
    expect(vms.find((g) => g.vmid === 101)?.status).toBe("running");
    // pveproxy cannot reach the node any more.
    const res = await api("/nodes/pve3/status");
    expect(res.status).toBe(595);
    // It stays down.
    await sleep(600);
    expect(await nodeOnline("pve3")).toBe(false);
    const storages = (await data<Row[]>("/cluster/resources?type=storage")).filter((r) => r.node === "pve3");
    expect(storages.length).toBeGreaterThan(0);
    for (const s of storages) expect(s.status).toBe("unknown");
  });

  it("reboots a node: its guests stop, it comes back with a new uptime and only the onboot guests run", async () => {
    await control("settings", { taskDurationMs: 150 });
    // A guest started by hand (VM 110 has no onboot) does not come back after the reboot.
    await taskFinished(await post("/nodes/pve3/qemu/110/status/start"));
    const before = await data<Row>("/nodes/pve3/status");
    const guests: Row[] = [
      ...(await data<Row[]>("/nodes/pve3/qemu")).map((g) => ({ kind: "qemu", ...g })),
      ...(await data<Row[]>("/nodes/pve3/lxc")).map((g) => ({ kind: "lxc", ...g })),
    ];
    const onboot = new Map<number, boolean>();
    for (const g of guests) {
      const config = await data<Row>(`/nodes/pve3/${g.kind}/${g.vmid}/config`);
      // Container lists carry vmids as strings, as real hosts send them.
      onboot.set(Number(g.vmid), config.onboot === 1 && config.template !== 1);
    }
    const running = guests.filter((g) => g.status === "running");
    expect(running.some((g) => onboot.get(Number(g.vmid)))).toBe(true);
    expect(running.some((g) => !onboot.get(Number(g.vmid)))).toBe(true);
    expect(await post<null>("/nodes/pve3/status", { command: "reboot" })).toBeNull();
    await eventually(async () => !(await nodeOnline("pve3")), "pve3 offline");
    await eventually(async () => nodeOnline("pve3"), "pve3 back");
    const after = await data<Row>("/nodes/pve3/status");
    expect(after.uptime as number).toBeLessThan(before.uptime as number);
    await eventually(async () => {
      const cts = await data<Row[]>("/nodes/pve3/lxc");
      return cts.find((c) => Number(c.vmid) === 205)?.status === "running";
    }, "CT 205 running");
    const wanted = [...onboot.entries()]
      .filter(([, on]) => on)
      .map(([vmid]) => vmid)
      .sort((a, b) => a - b);
    await eventually(
      async () => {
        const now = [...(await data<Row[]>("/nodes/pve3/qemu")), ...(await data<Row[]>("/nodes/pve3/lxc"))];
        const up = now
          .filter((g) => g.status === "running")
          .map((g) => Number(g.vmid))
          .sort((a, b) => a - b);
        return JSON.stringify(up) === JSON.stringify(wanted);
      },
      `only ${wanted.join(", ")} running`,
    );
    // pve-guests left its workers in the node's task list.
    const tasks = await data<Row[]>("/nodes/pve3/tasks?source=all&limit=100");
    const stopall = tasks.find((t) => t.type === "stopall");
    const startall = tasks.find((t) => t.type === "startall");
    expect(stopall).toBeDefined();
    expect(startall).toBeDefined();
    const stopLog = await taskLog(stopall?.upid as string);
    for (const g of running) {
      expect(stopLog).toContain(
        `Stopping ${g.kind === "qemu" ? "VM" : "CT"} ${g.vmid} (timeout = 180 seconds)`,
      );
    }
    const startLog = await taskLog((await taskFinished(startall?.upid as string)).upid);
    expect(startLog).toContain("Starting CT 205");
    expect(startLog.at(-1)).toBe("TASK OK");
    // The journal shows the reboot.
    const journal = await data<string[]>("/nodes/pve3/journal?lastentries=2000");
    expect(journal).toContain("-- Reboot --");
    expect(journal.join("\n")).toContain("systemd-logind[790]: The system will reboot now!");
  });

  it("wakes a shut-down node over LAN from another node, and refuses to wake the local node", async () => {
    await control("settings", { taskDurationMs: 150 });
    await post<null>("/nodes/pve2/status", { command: "shutdown" });
    await eventually(async () => !(await nodeOnline("pve2")), "pve2 offline");
    // Not proxied to the target: it works while pve2 is off.
    const mac = await post<string>("/nodes/pve2/wakeonlan");
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    await eventually(async () => nodeOnline("pve2"), "pve2 back");
    expect((await data<Row>("/nodes/pve2/status")).uptime as number).toBeLessThan(60);
    const self = await refused("/nodes/pve1/wakeonlan", { method: "POST" });
    expect(self).toMatchObject({ status: 500, message: "'pve1' is local node, cannot wake my self!\n" });
  });

  it("needs Sys.PowerMgmt and a known command", async () => {
    await control("settings", { deniedPrivileges: ["Sys.PowerMgmt"] });
    const denied = await refused("/nodes/pve1/status", {
      method: "POST",
      body: "command=reboot",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(denied).toMatchObject({
      status: 403,
      message: "Permission check failed (/nodes/pve1, Sys.PowerMgmt)\n",
    });
    await control("settings", { deniedPrivileges: [] });
    const bad = await refused("/nodes/pve1/status", {
      method: "POST",
      body: "command=halt",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(bad.errors?.command).toBe(
      "value 'halt' does not have a value in the enumeration 'reboot, shutdown'",
    );
    expect(await nodeOnline("pve1")).toBe(true);
  });
});

describe("node disks", () => {
  it("lists the physical disks with Proxmox's fields", async () => {
    const disks = await data<Row[]>("/nodes/pve1/disks/list");
    expect(disks.map((d) => d.devpath)).toEqual(["/dev/nvme0n1", "/dev/sda", "/dev/sdb"]);
    expect(disks[0]).toMatchObject({
      devpath: "/dev/nvme0n1",
      type: "nvme",
      model: "Samsung SSD 980 PRO 1TB",
      size: 1000204886016,
      gpt: 1,
      rpm: 0,
      health: "PASSED",
      wearout: 97,
      used: "BIOS boot",
      osdid: -1,
      serial: expect.any(String),
    });
    expect(disks[2]).toMatchObject({
      type: "hdd",
      rpm: 5400,
      health: "FAILED!",
      wearout: "N/A",
      used: "ZFS",
    });
    const withParts = await data<Row[]>("/nodes/pve1/disks/list?include-partitions=1");
    expect(withParts.find((d) => d.devpath === "/dev/nvme0n1")?.used).toBe("partitions");
    expect(withParts.find((d) => d.devpath === "/dev/nvme0n1p3")).toMatchObject({
      parent: "/dev/nvme0n1",
      type: "partition",
      used: "LVM",
    });
    // pve2 has an empty SATA SSD.
    expect((await data<Row[]>("/nodes/pve2/disks/list?type=unused")).map((d) => d.devpath)).toEqual([
      "/dev/sda",
    ]);
    const skipped = await data<Row[]>("/nodes/pve1/disks/list?skipsmart=1");
    expect(skipped.every((d) => d.health === "UNKNOWN")).toBe(true);
  });

  it("reads SMART: ATA attributes with the failing one, NVMe as text", async () => {
    const sdb = await data<Row>("/nodes/pve1/disks/smart?disk=/dev/sdb");
    expect(sdb).toMatchObject({ health: "FAILED!", type: "ata" });
    const realloc = (sdb.attributes as Row[]).find((a) => a.name === "Reallocated_Sector_Ct");
    expect(realloc).toEqual({
      id: "  5",
      name: "Reallocated_Sector_Ct",
      flags: "PO--CK",
      value: 120,
      normalized: 120,
      worst: 120,
      threshold: 140,
      fail: "FAILING_NOW",
      raw: "1872",
    });
    const nvme = await data<Row>("/nodes/pve1/disks/smart?disk=/dev/nvme0n1");
    expect(nvme).toMatchObject({ health: "PASSED", type: "text", wearout: 97 });
    expect(nvme.text).toContain("Percentage Used:                    3%");
    expect(await data<Row>("/nodes/pve1/disks/smart?disk=/dev/sda&healthonly=1")).toEqual({
      health: "PASSED",
    });
    expect(await refused("/nodes/pve1/disks/smart?disk=/dev/sdz")).toMatchObject({
      status: 500,
      message: "not a valid block device\n",
    });
    expect((await refused("/nodes/pve1/disks/smart?disk=sda")).errors?.disk).toBe(
      "value does not match the regex pattern",
    );
  });

  it("lists ZFS pools and details the one with device errors", async () => {
    expect(await data<Row[]>("/nodes/pve1/disks/zfs")).toEqual([
      {
        name: "tank",
        size: 3985729650688,
        alloc: 1318554542080,
        free: 2667175108608,
        frag: 7,
        dedup: 1,
        health: "ONLINE",
      },
    ]);
    expect(await data<Row[]>("/nodes/pve3/disks/zfs")).toEqual([]);
    const tank = await data<Row>("/nodes/pve1/disks/zfs/tank");
    expect(tank).toMatchObject({ name: "tank", state: "ONLINE", errors: "No known data errors", leaf: 0 });
    expect(tank.status).toMatch(/^One or more devices has experienced an unrecoverable error/);
    const top = (tank.children as Row[])[0] as Row;
    const mirror = (top.children as Row[])[0] as Row;
    expect(mirror.name).toBe("mirror-0");
    const members = mirror.children as Row[];
    expect(members.map((m) => [m.read, m.cksum, m.leaf])).toEqual([
      [0, 0, 1],
      [12, 3, 1],
    ]);
    expect(members[1]?.name).toMatch(/^\/dev\/disk\/by-id\/ata-WDC_WD40EFRX-68N32N0_WD-.+-part1$/);
    expect(await refused("/nodes/pve1/disks/zfs/rpool")).toMatchObject({
      status: 500,
      message: "command '/sbin/zpool status -P rpool' failed: exit code 1\n",
    });
  });

  it("keeps disks in proportion on a bigger cluster", async () => {
    await control("reset", { nodes: 8, guests: 40 });
    const pools = await Promise.all(
      ["pve1", "pve4", "pve5", "pve8"].map((n) => data<Row[]>(`/nodes/${n}/disks/zfs`)),
    );
    expect(pools.map((p) => p.map((x) => x.name))).toEqual([["tank"], ["rpool"], ["tank"], ["rpool"]]);
    const a = await data<Row[]>("/nodes/pve1/disks/list");
    const b = await data<Row[]>("/nodes/pve5/disks/list");
    expect(a[0]?.serial).not.toBe(b[0]?.serial);
  });

  it("needs Sys.Audit", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Audit"] });
    expect(await refused("/nodes/pve1/disks/zfs")).toMatchObject({
      status: 403,
      message: "Permission check failed (/, Sys.Audit)\n",
    });
    expect((await refused("/nodes/pve1/disks/list")).status).toBe(403);
  });
});
