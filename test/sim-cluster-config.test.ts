// The simulator's cluster log, datacenter options and storage replication.
import { beforeEach, describe, expect, it } from "vitest";
import { control, data, form, post, put, type Row, refused, taskFinished } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

describe("cluster log", () => {
  it("records task starts and ends, newest first, bounded by max", async () => {
    const seeded = await data<Row[]>("/cluster/log?max=500");
    expect(seeded.length).toBeGreaterThan(10);
    for (const e of seeded) {
      expect(Object.keys(e).sort()).toEqual(["msg", "node", "pid", "pri", "tag", "time", "uid", "user"]);
    }
    const times = seeded.map((e) => Number(e.time));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const failed = seeded.find((e) => String(e.msg).includes(":qmshutdown:105:"));
    expect(failed).toMatchObject({
      pri: 3,
      msg: expect.stringMatching(/^end task UPID:pve2:.* VM quit\/powerdown failed - got timeout$/),
    });

    const upid = await post("/nodes/pve1/qemu/103/status/start");
    await taskFinished(upid);
    const recent = await data<Row[]>("/cluster/log?max=2");
    expect(recent).toHaveLength(2);
    expect(recent.map((e) => e.msg)).toEqual([`end task ${upid} OK`, `starting task ${upid}`]);
    expect(recent[0]).toMatchObject({ node: "pve1", user: "root@pam!mcp", tag: "pvedaemon", pri: 6 });
    expect(Number(recent[0]?.uid)).toBeGreaterThan(Number(recent[1]?.uid));
    expect(await data<Row[]>("/cluster/log?max=5")).toHaveLength(5);
    expect(await data<Row[]>("/cluster/log")).toHaveLength(Math.min(50, seeded.length + 2));
  });

  it("shows only the caller's own entries without Sys.Syslog", async () => {
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    await control("settings", { deniedPrivileges: ["Sys.Syslog"] });
    const mine = await data<Row[]>("/cluster/log?max=500");
    expect(mine.map((e) => e.msg)).toEqual([`end task ${upid} OK`, `starting task ${upid}`]);
  });
});

describe("datacenter options", () => {
  it("reads datacenter.cfg with property strings expanded, and updates and deletes keys", async () => {
    const opts = await data<Row>("/cluster/options");
    expect(opts).toMatchObject({
      keyboard: "en-us",
      console: "html5",
      migration: { type: "secure", network: "192.168.1.0/24" },
      "tag-style": { "color-map": "prod:ff4d4d;lab:4d88ff", ordering: "config", shape: "circle" },
    });
    expect(opts["allowed-tags"]).toEqual(expect.arrayContaining(["dns", "infra", "prod", "web"]));
    await put("/cluster/options", { keyboard: "de-ch", "next-id": "lower=150,upper=200", delete: "console" });
    const after = await data<Row>("/cluster/options");
    expect(after).toMatchObject({ keyboard: "de-ch", "next-id": { lower: 150, upper: 200 } });
    expect(after).not.toHaveProperty("console");
    // nextid hands out from the configured range.
    expect(await data("/cluster/nextid")).toBe("150");
    // Setting and deleting one key in one call deletes it; unknown keys in `delete` are ignored.
    await put("/cluster/options", { language: "de", delete: "language,nosuch" });
    expect(await data<Row>("/cluster/options")).not.toHaveProperty("language");
    expect((await refused("/cluster/options", form({ keyboard: "klingon" }, "PUT"))).errors).toEqual({
      keyboard:
        "value 'klingon' does not have a value in the enumeration 'de, de-ch, da, en-gb, en-us, es, fi, fr, fr-be, fr-ca, fr-ch, hu, is, it, ja, lt, mk, nl, no, pl, pt, pt-br, sv, sl, tr'",
    });
    const badMigration = await refused(
      "/cluster/options",
      form({ migration: "secure,network=10.0.0.0/99" }, "PUT"),
    );
    expect(badMigration.errors?.migration).toMatch(
      /^invalid format - format error\nmigration.network: invalid format - value does not look like a valid CIDR network/,
    );
  });

  it("hides all but console and tag-style without Sys.Audit and needs Sys.Modify to change", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Audit", "Sys.Modify"] });
    const opts = await data<Row>("/cluster/options");
    expect(Object.keys(opts).sort()).toEqual(["allowed-tags", "console", "tag-style"]);
    expect(await refused("/cluster/options", form({ keyboard: "de" }, "PUT"))).toMatchObject({
      status: 403,
      message: "Permission check failed (/, Sys.Modify)\n",
    });
  });
});

describe("storage replication", () => {
  it("lists the seeded job and its status on the source node, with the last run's log", async () => {
    expect(await data<Row[]>("/cluster/replication")).toEqual([
      {
        id: "205-0",
        type: "local",
        guest: 205,
        jobnum: 0,
        target: "pve2",
        source: "pve3",
        schedule: "*/15",
        comment: "keep a warm copy",
      },
    ]);
    const job = await data<Row>("/cluster/replication/205-0");
    expect(job.digest).toMatch(/^[0-9a-f]{40}$/);
    const status = await data<Row[]>("/nodes/pve3/replication");
    expect(status).toHaveLength(1);
    const s = status[0] as Row;
    expect(s).toMatchObject({ id: "205-0", guest: 205, target: "pve2", fail_count: 0, vmtype: "lxc" });
    const now = Math.floor(Date.now() / 1000);
    expect(Number(s.last_sync)).toBeGreaterThan(now - 900);
    expect(Number(s.next_sync)).toBeGreaterThan(Number(s.last_sync));
    expect(await data<Row[]>("/nodes/pve1/replication")).toEqual([]);
    expect(await data<Row[]>("/nodes/pve3/replication?guest=204")).toEqual([]);
    expect(await data<Row>("/nodes/pve3/replication/205-0/status")).toMatchObject({
      id: "205-0",
      fail_count: 0,
    });
    const log = await data<{ n: number; t: string }[]>("/nodes/pve3/replication/205-0/log");
    expect(log[0]?.t).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 205-0: start replication job$/);
    expect(log.some((l) => l.t.includes("incremental sync 'local-zfs:subvol-205-disk-0'"))).toBe(true);
    expect(log.at(-1)?.t).toMatch(/205-0: end replication job$/);
    expect(await refused("/nodes/pve1/replication/205-0/status")).toMatchObject({
      message: "no such replication job '205-0'\n",
    });
  });

  it("creates, updates and removes jobs with Proxmox's checks", async () => {
    await post("/cluster/replication", {
      id: "205-1",
      type: "local",
      target: "pve1",
      schedule: "22:30",
      rate: 50,
    });
    expect(await data<Row>("/cluster/replication/205-1")).toMatchObject({
      target: "pve1",
      schedule: "22:30",
      rate: 50,
      source: "pve3",
    });
    expect(
      await refused("/cluster/replication", form({ id: "205-1", type: "local", target: "pve1" })),
    ).toMatchObject({
      status: 500,
      message: "replication job '205-1' already exists\n",
    });
    expect(
      (await refused("/cluster/replication", form({ id: "205-2", type: "local", target: "pve1" }))).message,
    ).toBe("replication job for guest '205' to target 'pve1' already exists\n");
    expect(
      (await refused("/cluster/replication", form({ id: "100-0", type: "local", target: "pve2" }))).message,
    ).toBe("missing replicate feature on volume 'local-lvm:vm-100-disk-0'\n");
    expect(
      (await refused("/cluster/replication", form({ id: "999-0", type: "local", target: "pve2" }))).message,
    ).toBe("Guest '999' does not exists.\n");
    expect(
      (await refused("/cluster/replication", form({ id: "205-3", type: "local", target: "pve9" }))).message,
    ).toBe("Target 'pve9' does not exists.\n");
    expect(
      (await refused("/cluster/replication", form({ id: "205", type: "local", target: "pve1" }))).errors?.id,
    ).toBe("value does not match the regex pattern");
    const digest = String((await data<Row>("/cluster/replication/205-1")).digest);
    await put("/cluster/replication/205-1", { comment: "nightly", digest, delete: "rate" });
    const updated = await data<Row>("/cluster/replication/205-1");
    expect(updated).toMatchObject({ comment: "nightly" });
    expect(updated).not.toHaveProperty("rate");
    expect(await refused("/cluster/replication/205-1", form({ disable: 1, digest }, "PUT"))).toMatchObject({
      message: "detected modified configuration - file changed by other user? Try again.\n",
    });
    // Removal is marked and done by the next run; force drops it at once.
    await data("/cluster/replication/205-1", { method: "DELETE" });
    expect(await data<Row>("/cluster/replication/205-1")).toMatchObject({ remove_job: "full" });
    expect((await refused("/cluster/replication/205-1?force=1&keep=1", { method: "DELETE" })).errors).toEqual(
      {
        keep: "conflicts with parameter 'force'",
      },
    );
    await data("/cluster/replication/205-1?force=1", { method: "DELETE" });
    expect(await refused("/cluster/replication/205-1")).toMatchObject({
      message: "no such replication job '205-1'\n",
    });
  });

  it("fails a run while the target node is offline and counts the failures", async () => {
    await control("nodes/pve2", { online: false });
    await post("/nodes/pve3/replication/205-0/schedule_now");
    const s = await data<Row>("/nodes/pve3/replication/205-0/status");
    expect(s).toMatchObject({ fail_count: 1 });
    expect(String(s.error)).toMatch(
      /HostKeyAlias=pve2' root@192\.168\.1\.12 -- pvesr prepare-local-job 205-0 .*failed: exit code 255$/,
    );
    await control("nodes/pve2", { online: true });
    await post("/nodes/pve3/replication/205-0/schedule_now");
    const ok = await data<Row>("/nodes/pve3/replication/205-0/status");
    expect(ok).toMatchObject({ fail_count: 0 });
    expect(ok).not.toHaveProperty("error");
  });

  it("turns the job around when the guest migrates to the target", async () => {
    await taskFinished(await post("/nodes/pve3/lxc/205/migrate", { target: "pve2", restart: 1 }));
    expect(await data<Row>("/cluster/replication/205-0")).toMatchObject({ source: "pve2", target: "pve3" });
    expect((await data<Row[]>("/nodes/pve2/replication")).map((j) => j.id)).toEqual(["205-0"]);
    expect(await data<Row[]>("/nodes/pve3/replication")).toEqual([]);
  });

  it("checks VM.Replicate and VM.Audit on the guest", async () => {
    await control("settings", { deniedPrivileges: ["VM.Replicate"] });
    expect(
      await refused("/cluster/replication", form({ id: "205-1", type: "local", target: "pve1" })),
    ).toMatchObject({
      status: 403,
      message: "Permission check failed (/vms/205, VM.Replicate)\n",
    });
    expect((await refused("/cluster/replication/205-0", { method: "DELETE" })).status).toBe(403);
    await control("settings", { deniedPrivileges: ["VM.Audit"] });
    expect(await data<Row[]>("/cluster/replication")).toEqual([]);
    expect(await data<Row[]>("/nodes/pve3/replication")).toEqual([]);
    expect((await refused("/cluster/replication/205-0")).message).toBe(
      "Permission check failed (/vms/205, VM.Audit)\n",
    );
    // The run log is also open to node auditors.
    expect((await data<Row[]>("/nodes/pve3/replication/205-0/log")).length).toBeGreaterThan(3);
    await control("settings", { deniedPrivileges: ["VM.Audit", "Sys.Audit"] });
    expect((await refused("/nodes/pve3/replication/205-0/log")).status).toBe(403);
  });

  it("seeds replication in proportion at scale", async () => {
    await control("reset", { nodes: 4, guests: 300 });
    const jobs = await data<Row[]>("/cluster/replication");
    expect(jobs.length).toBeGreaterThanOrEqual(8);
    expect(jobs.every((j) => j.target !== j.source)).toBe(true);
    const rules = await data<Row[]>("/cluster/firewall/rules");
    expect(rules.length).toBeGreaterThan(0);
    expect((await data<Row[]>("/nodes/pve4/firewall/rules")).length).toBeGreaterThan(0);
    // A single node has nowhere to replicate to.
    await control("reset", { nodes: 1 });
    expect(await data<Row[]>("/cluster/replication")).toEqual([]);
    expect(await data<Row>("/storage/local-zfs")).toMatchObject({ nodes: "pve1" });
  });
});
