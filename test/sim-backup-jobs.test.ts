// Scheduled backup jobs in the simulator: /cluster/backup CRUD, the volumes a job includes, and
// the guests no job covers.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, form, post, put, type Row, refused } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

describe("backup jobs", () => {
  it("lists the seeded nightly job with its next run", async () => {
    const jobs = await data<Row[]>("/cluster/backup");
    expect(jobs).toHaveLength(1);
    const job = jobs[0] as Row;
    expect(job).toMatchObject({
      id: "backup-nightly",
      type: "vzdump",
      schedule: "02:30",
      enabled: 1,
      all: 1,
      exclude: "107,110",
      storage: "nas",
      mode: "snapshot",
      compress: "zstd",
      "notes-template": "{{guestname}} nightly",
      "prune-backups": { "keep-daily": 7, "keep-weekly": 4, "keep-monthly": 3 },
    });
    const next = new Date(Number(job["next-run"]) * 1000);
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([2, 30]);
    expect(Number(job["next-run"]) - Date.now() / 1000).toBeGreaterThan(0);
    expect(Number(job["next-run"]) - Date.now() / 1000).toBeLessThanOrEqual(86400);
    expect((await data<Row>("/cluster/backup/backup-nightly"))["next-run"]).toBeUndefined();
  });

  it("shows which guests no job covers, following the jobs and the guests", async () => {
    let missing = await data<Row[]>("/cluster/backup-info/not-backed-up");
    expect(missing).toEqual([
      { vmid: 107, type: "qemu", name: "ubuntu-2404-template" },
      { vmid: 110, type: "qemu", name: "test-vm" },
    ]);
    await post("/cluster/backup", { id: "templates", schedule: "sun 04:00", vmid: "107", storage: "nas" });
    missing = await data<Row[]>("/cluster/backup-info/not-backed-up");
    expect(missing.map((g) => g.vmid)).toEqual([110]);
    // A job limited to a pool covers only its members.
    await put("/cluster/backup/backup-nightly", { pool: "prod" });
    missing = await data<Row[]>("/cluster/backup-info/not-backed-up");
    expect(missing.map((g) => g.vmid)).toEqual([
      100, 103, 104, 105, 106, 108, 110, 111, 200, 202, 203, 204, 205,
    ]);
    expect(await data("/cluster/backup/backup-nightly")).not.toHaveProperty("all");
    await data("/cluster/backup/templates", { method: "DELETE" });
    await data("/cluster/backup/backup-nightly", { method: "DELETE" });
    expect(await data<Row[]>("/cluster/backup-info/not-backed-up")).toHaveLength(18);
    // The index has no permission entry in the schema: only root@pam itself may read it.
    expect(await refused("/cluster/backup-info")).toEqual({
      status: 403,
      message: "Permission check failed (user != root@pam)\n",
    });
  });

  it("creates, updates and deletes a job with calendar schedules and the deprecated starttime", async () => {
    await post("/cluster/backup", {
      id: "weekly-lab",
      schedule: "mon..fri 22:15",
      pool: "lab",
      storage: "nas",
      mode: "stop",
      enabled: 0,
      comment: "Lab on weekdays",
    });
    const job = (await data<Row[]>("/cluster/backup")).find((j) => j.id === "weekly-lab") as Row;
    expect(job).toMatchObject({ schedule: "mon..fri 22:15", pool: "lab", enabled: 0, mode: "stop" });
    const next = new Date(Number(job["next-run"]) * 1000);
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay());
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([22, 15]);

    await put("/cluster/backup/weekly-lab", { starttime: "03:00", dow: "sat,sun", delete: "comment" });
    expect(await data("/cluster/backup/weekly-lab")).toMatchObject({ schedule: "sat,sun 03:00" });
    expect(await data("/cluster/backup/weekly-lab")).not.toHaveProperty("comment");
    await put("/cluster/backup/weekly-lab", { vmid: "104,105" });
    const updated = await data<Row>("/cluster/backup/weekly-lab");
    expect(updated).toMatchObject({ vmid: "104,105" });
    expect(updated).not.toHaveProperty("pool");
    await data("/cluster/backup/weekly-lab", { method: "DELETE" });
    expect(await refused("/cluster/backup/weekly-lab")).toMatchObject({
      status: 400,
      errors: { id: "No such job 'weekly-lab'" },
    });
  });

  it("refuses what Proxmox refuses", async () => {
    expect(await refused("/cluster/backup", form({ vmid: "100", storage: "nas" }))).toMatchObject({
      status: 400,
      errors: { schedule: "neither 'starttime' nor 'schedule' were set" },
    });
    expect(await refused("/cluster/backup", form({ schedule: "bogus day", vmid: "100" }))).toMatchObject({
      status: 400,
      errors: {
        schedule: "invalid format - invalid calendar event 'bogus day' - unable to parse calendar event\n",
      },
    });
    expect(await refused("/cluster/backup", form({ schedule: "01:00", storage: "nas" }))).toMatchObject({
      status: 500,
      message: "400 Parameter verification failed.\nvmid: property is missing\n",
    });
    expect(await refused("/cluster/backup", form({ schedule: "01:00", all: 1, vmid: "100" }))).toMatchObject({
      message: "400 Parameter verification failed.\nall: option conflicts with option 'vmid'\n",
    });
    expect(
      await refused("/cluster/backup", form({ id: "backup-nightly", schedule: "01:00", all: 1 })),
    ).toMatchObject({
      status: 500,
      message: "Job 'backup-nightly' already exists\n",
    });
    expect(
      await refused(
        "/cluster/backup",
        form({ schedule: "01:00", all: 1, storage: "nas", "notes-template": "{{name}}" }),
      ),
    ).toMatchObject({
      message:
        "400 Parameter verification failed.\nnotes-template: found unknown: variable 'name' at char 2\n\n",
    });
    // The simulator's token is not root@pam itself.
    expect(
      await refused("/cluster/backup", form({ schedule: "01:00", all: 1, dumpdir: "/tmp" })),
    ).toMatchObject({
      status: 400,
      errors: { dumpdir: "Only root may set this option." },
    });
    await data("/cluster/backup/backup-nightly", { method: "DELETE" });
    expect(await refused("/cluster/backup/backup-nightly", { method: "DELETE" })).toMatchObject({
      status: 500,
      message: "400 Parameter verification failed.\nid: No such job 'backup-nightly'\n",
    });
  });

  it("lists each included guest's disks with vzdump's reasons", async () => {
    await put("/nodes/pve3/qemu/110/config", { scsi1: "local-lvm:4,backup=0" });
    await post("/cluster/backup", { id: "test", schedule: "daily", vmid: "110,200,999" });
    const { children } = await data<{ children: Row[] }>("/cluster/backup/test/included_volumes");
    expect(children.map((c) => [c.id, c.type])).toEqual([
      [110, "qemu"],
      [200, "lxc"],
      [999, "unknown"],
    ]);
    const vm = children[0] as Row;
    expect(vm.name).toBe("test-vm");
    expect(vm.children).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: "110:scsi0", included: 1, reason: "backup=yes", leaf: 1 }),
        expect.objectContaining({ id: "110:scsi1", included: 0, reason: "backup=no", leaf: 1 }),
      ]),
    );
    expect((children[1] as Row).children).toEqual([
      expect.objectContaining({ id: "200:rootfs", included: 1, reason: "rootfs" }),
    ]);
  });

  it("needs Sys.Audit to read and Sys.Modify to change, and shows only guests the caller may audit", async () => {
    await post("/access/users", { userid: "bk@pve" });
    const token = await post<Row>("/access/users/bk@pve/token/ro", { privsep: 0 });
    const auth = `PVEAPIToken=bk@pve!ro=${token.value}`;
    await put("/access/acl", { path: "/", users: "bk@pve", roles: "PVEAuditor", propagate: 0 });
    await put("/access/acl", { path: "/vms/110", users: "bk@pve", roles: "PVEAuditor" });
    const list = await api("/cluster/backup", {}, auth);
    expect(list.status).toBe(200);
    const res = await api("/cluster/backup", form({ schedule: "01:00", all: 1 }), auth);
    expect(res.status).toBe(403);
    expect(((await res.json()) as Row).message).toBe("Permission check failed (/, Sys.Modify)\n");
    const missing = (await (await api("/cluster/backup-info/not-backed-up", {}, auth)).json()) as {
      data: Row[];
    };
    expect(missing.data.map((g) => g.vmid)).toEqual([110]);
  });
});
