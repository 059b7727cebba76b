import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_SESSION } from "../src/server/server";
import type { Session, SessionApi } from "../src/session/session";
import { connect, expectError, expectOk, type TestClient, TOOL_ERA, tableRows } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

const sessionStub = () =>
  env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION)) as DurableObjectStub<Session>;
const session = () => sessionStub() as unknown as SessionApi;

/** The UPID of an answer, taken the way a person copies it: the rest of the `task: ` line. */
function copiedUpid(text: string): string {
  const line = text.split("\n").find((l) => l.startsWith("task: "));
  expect(line, text).toBeDefined();
  return (line as string).slice("task: ".length);
}

/** A UPID is never followed by punctuation that a copy would take along. */
function expectCopyableUpids(text: string) {
  expect(text).not.toMatch(/UPID:\S*:[.,;)]/);
}

describe("changes answer with one structured shape", () => {
  let client: TestClient;
  const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
  beforeAll(async () => {
    client = await connect(TOOL_ERA);
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 300 });
  });

  it("a task: done with its target, UPID and exit status; a UPID copied from the text works", async () => {
    const started = await ok("start_vm", { vmid: 103 });
    expect(started.data).toEqual({
      state: "done",
      action: "Start VM 103 'win11' on pve1",
      target: { vmid: 103, node: "pve1", name: "win11" },
      upid: expect.stringMatching(
        /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmstart:103:root@pam!mcp:$/,
      ),
      exitstatus: "OK",
    });
    expect(copiedUpid(started.text)).toBe(started.data.upid);
    expectCopyableUpids(started.text);

    const preview = await ok("stop_vm", { vmid: 103 });
    expect(preview.data).toEqual({
      state: "needs_confirm",
      action: expect.stringContaining("This hard-stops VM 103 'win11' on pve1"),
      target: { vmid: 103, node: "pve1", name: "win11" },
    });

    const background = await ok("shutdown_vm", { vmid: 103, wait: false });
    expect(background.data).toMatchObject({
      state: "started",
      target: { vmid: 103 },
      upid: expect.any(String),
    });
    expectCopyableUpids(background.text);
    const waited = await ok("wait_for_task", { upid: copiedUpid(background.text), wait_seconds: 10 });
    expect(waited.data).toMatchObject({ status: "stopped", ok: true });
  });

  it("changes that are not tasks: pools, config, snapshots and guest-agent writes", async () => {
    expect((await ok("create_pool", { poolid: "shape" })).data).toEqual({
      state: "done",
      action: "Create pool shape",
      target: { pool: "shape" },
    });
    expect((await ok("delete_pool", { poolid: "shape" })).data).toMatchObject({
      state: "needs_confirm",
      target: { pool: "shape" },
    });
    expect((await ok("delete_pool", { poolid: "shape", confirm: true })).data.state).toBe("done");

    expect((await ok("update_vm", { vmid: 100, cores: 4 })).data).toEqual({
      state: "done",
      action: "Update VM 100 'pihole'",
      target: { vmid: 100, node: "pve1", name: "pihole" },
      changed: ["cores"],
    });
    const snapshot = await ok("create_snapshot", { vmid: 100, snapname: "shape" });
    expect(snapshot.data).toMatchObject({ state: "done", upid: expect.stringContaining(":qmsnapshot:100:") });
    expect((await ok("delete_snapshot", { vmid: 100, snapname: "shape" })).data.state).toBe("needs_confirm");

    expect((await ok("guest_file_write", { vmid: 100, path: "/tmp/shape.txt", content: "x" })).data).toEqual({
      state: "done",
      action: "Write /tmp/shape.txt in VM 100",
      target: { vmid: 100, node: "pve1" },
    });
    expect(
      (await ok("guest_file_write", { vmid: 100, path: "/tmp/shape.txt", content: "y" })).data.state,
    ).toBe("needs_confirm");
    expect((await ok("guest_fstrim", { vmid: 100 })).data).toMatchObject({
      state: "done",
      target: { vmid: 100 },
    });
  });
});

describe("answers", () => {
  let client: TestClient;
  const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
  const fails = (name: string, args: Record<string, unknown>) => expectError(client, name, args);
  beforeAll(async () => {
    client = await connect("2025-11-25");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 300 });
  });

  it("create_vm start: true says the VM was started, in text and structure", async () => {
    const created = await ok("create_vm", { vmid: 150, name: "up", start: true });
    expect(created.text).toMatch(
      /^Create VM 150 'up' on pve\d and start it: done\. VM 150 is on pve\d and was started/,
    );
    expect(created.data).toMatchObject({ state: "done", started: true, target: { vmid: 150, name: "up" } });
    const quiet = await ok("create_vm", { vmid: 151 });
    expect(quiet.text).toMatch(/^Create VM 151 on pve\d: done\. VM 151 is on pve\d\.\ntask: UPID:/);
    expect(quiet.data.started).toBeUndefined();
  });

  it("create_container refuses a template the storage does not have, naming the ones it has", async () => {
    const message = await fails("create_container", {
      node: "pve2",
      template: "local:vztmpl/no-such-template.tar.zst",
    });
    const templates = tableRows(
      (await ok("get_storage_content", { storage: "local", node: "pve2", content: "vztmpl" })).data as never,
    ).map((row) => row.volid as string);
    expect(templates.length).toBeGreaterThan(0);
    expect(message).toBe(
      `There is no template local:vztmpl/no-such-template.tar.zst on pve2. Templates on local: ${templates.join(", ")}.`,
    );
    expect(await changesSent()).toEqual([]);
  });

  it("a well-formed UPID Proxmox does not know: no such task on its node", async () => {
    const upid = "UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam:";
    // get_task_log is left out: Proxmox answers an unknown task's log with a line saying it has none.
    for (const tool of ["get_task_status", "wait_for_task"]) {
      const message = await fails(tool, { upid });
      expect(message, tool).toMatch(/^There is no such task on pve1: /);
      expect(message).not.toContain("rejected the request");
    }
  });
});

describe("waits survive transient faults", () => {
  let client: TestClient;
  const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 800 });
  });

  it("a 500, an Access sign-in page and a tunnel 502 during start_vm's wait: it still ends with the outcome", async () => {
    const tasks = "/nodes/pve1/tasks/";
    await sim.fail({ count: 1, status: 500, kind: "json", pathPrefix: tasks });
    await sim.fail({ count: 1, kind: "access-login", pathPrefix: tasks });
    await sim.fail({ count: 2, kind: "tunnel-error", status: 502, pathPrefix: tasks });
    const started = await ok("start_vm", { vmid: 103 });
    expect(started.text).toMatch(/^Start VM 103 'win11' on pve1: done\.\ntask: UPID:/);
    expect(started.data).toMatchObject({ state: "done", exitstatus: "OK" });
    const failed = (await sim.requests()).filter((r) => r.path.startsWith(tasks) && r.status !== 200);
    expect(failed.map((r) => r.status)).toEqual([500, 200, 502, 502].filter((s) => s !== 200));
    expect((await ok("get_vm", { vmid: 103 })).data.status).toBe("running");
  });

  it("a wait whose deadline passes while Proxmox keeps failing names the UPID and says it stays tracked", async () => {
    await sim.settings({ taskDurationMs: 2500 });
    await sim.fail({ count: 100_000, status: 500, kind: "json", pathPrefix: "/nodes/pve1/tasks/" });
    const started = await ok("start_vm", { vmid: 103, wait_seconds: 2 });
    expect(started.text).toMatch(
      /^Start VM 103 'win11' on pve1: started, but Proxmox could not be asked how it is going \(Proxmox: simulated failure\), so it may still be running after 2 s\. It stays tracked: call wait_for_task/,
    );
    const upid = copiedUpid(started.text);
    expect(started.data).toMatchObject({ state: "unknown", upid, target: { vmid: 103 } });
    expect((await session().getTask(upid))?.status).toBe("running");
    await sim.clearFaults();
    const waited = await ok("wait_for_task", { upid, wait_seconds: 10 });
    expect(waited.data).toMatchObject({ status: "stopped", exitstatus: "OK", ok: true });
  });

  it("an exec wait rides out failed status reads, and one that cannot read in time keeps the job", async () => {
    const execStatus = "/nodes/pve1/qemu/100/agent/exec-status";
    await sim.fail({ count: 3, status: 500, kind: "json", pathPrefix: execStatus });
    const echoed = await ok("guest_exec", { vmid: 100, argv: ["echo", "through"] });
    expect(echoed.data).toMatchObject({ status: "exited", exitcode: 0, stdout: "through\n" });

    await sim.fail({ count: 100_000, status: 502, kind: "tunnel-error", pathPrefix: execStatus });
    const blind = await ok("guest_exec", { vmid: 100, argv: ["echo", "later"], wait_seconds: 2 });
    expect(blind.text).toMatch(
      /^Started echo later \(VM 100, pid \d+\), but its result could not be read \(Cloudflare reached the tunnel/,
    );
    expect(blind.text).toContain(
      `It stays tracked as job ${blind.data.job} (guest_exec_status reads it later).`,
    );
    expect(blind.data.status).toBe("running");
    await sim.clearFaults();
    const later = await ok("guest_exec_status", { job: blind.data.job });
    expect(later.data).toMatchObject({ status: "exited", stdout: "later\n" });
  });

  it("a read is sent again once after a 502; a write never is", async () => {
    await sim.clearRequests();
    await sim.fail({ count: 1, kind: "tunnel-error", status: 502, pathPrefix: "/nodes" });
    expect((await ok("get_nodes")).data.nodes).toHaveLength(3);
    expect((await sim.requests()).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /nodes 502",
      "GET /nodes 200",
    ]);

    await sim.clearRequests();
    await sim.fail({ count: 1, kind: "tunnel-error", status: 502, pathPrefix: "/pools" });
    expect(await expectError(client, "create_pool", { poolid: "once" })).toContain(
      "Cloudflare reached the tunnel but not Proxmox (HTTP 502",
    );
    expect(await changesSent()).toEqual(["POST /pools"]);
    expect((await ok("get_pools")).text).not.toContain("once");
  });
});

describe("the Session lets go of tasks it cannot follow", () => {
  let client: TestClient;
  const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
  beforeAll(async () => {
    client = await connect("2025-06-18");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 60_000 });
  });

  /**
   * Runs the Session's alarm now, as if its next check were due, and then holds the next one
   * off for a minute, so only these runs check (a loaded machine must not add runs of its own).
   */
  async function alarmNow() {
    await runInDurableObject(sessionStub(), async (_instance, state) => {
      state.storage.sql.exec("UPDATE tasks SET next_check_at = 0 WHERE status = 'running'");
      state.storage.sql.exec("UPDATE exec_jobs SET next_check_at = 0 WHERE status = 'running'");
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(sessionStub())).toBe(true);
    await holdAlarm();
  }

  async function holdAlarm() {
    await runInDurableObject(sessionStub(), async (_instance, state) => {
      const later = Date.now() + 60_000;
      state.storage.sql.exec("UPDATE tasks SET next_check_at = ? WHERE status = 'running'", later);
      state.storage.sql.exec("UPDATE exec_jobs SET next_check_at = ? WHERE status = 'running'", later);
      if ((await state.storage.getAlarm()) !== null) await state.storage.setAlarm(later);
    });
  }

  it("a task whose node no longer knows it is marked unknown after a few answers, and no longer polled", async () => {
    const started = await ok("start_vm", { vmid: 103, wait: false });
    const upid = copiedUpid(started.text);
    await holdAlarm();
    // The simulated cluster starts over: its nodes know none of the tasks started before.
    await sim.reset();
    await alarmNow();
    await alarmNow();
    expect((await session().getTask(upid))?.status).toBe("running");
    await alarmNow();
    const task = await session().getTask(upid);
    expect(task).toMatchObject({ status: "unknown" });
    expect(task?.reason).toMatch(/^Proxmox no longer knows this task \(There is no such task on pve1/);
    const listed = await ok("get_tracked_tasks", { limit: 200 });
    expect(listed.text).toMatch(
      / start_vm VM 103 'win11': unknown: Proxmox no longer knows this task .* \| UPID:pve1:/,
    );
    expect(listed.data.tasks.find((t: { upid: string }) => t.upid === upid)).toMatchObject({
      status: "unknown",
      reason: task?.reason,
    });
    const audit = await session().listAudit({ limit: 20, tool: "start_vm" });
    expect(audit.find((e) => e.upid === upid)?.outcome).toMatch(/^unknown: Proxmox no longer knows/);

    // Nothing is left to follow: no alarm is set, and no request about the task goes out.
    await sim.clearRequests();
    expect(await runDurableObjectAlarm(sessionStub())).toBe(false);
    expect((await sim.requests()).filter((r) => r.path.includes(upid))).toEqual([]);
  });

  it("a task on a node that left the cluster is marked unknown too", async () => {
    const started = await ok("start_container", { vmid: 204, wait: false });
    const upid = copiedUpid(started.text);
    expect(upid).toMatch(/^UPID:pve3:/);
    await holdAlarm();
    await sim.reset({ nodes: 2, guests: 10 });
    for (let i = 0; i < 3; i++) await alarmNow();
    const task = await session().getTask(upid);
    expect(task?.status).toBe("unknown");
    expect(task?.reason).toContain("no such cluster node 'pve3'");
  });

  it("an offline node is not the same as an unknown task: it is asked again later", async () => {
    const started = await ok("start_vm", { vmid: 103, wait: false });
    const upid = copiedUpid(started.text);
    await sim.setNodeOnline("pve1", false);
    for (let i = 0; i < 4; i++) await alarmNow();
    expect((await session().getTask(upid))?.status).toBe("running");
    await sim.setNodeOnline("pve1", true);
  });

  it("tasks and exec jobs are followed at most 24 hours", async () => {
    const started = await ok("start_vm", { vmid: 103, wait: false });
    const upid = copiedUpid(started.text);
    await sim.agentSettings({ execTimeScale: 1 });
    const job = await ok("guest_exec", { vmid: 100, argv: ["sleep", "600"], wait_seconds: 0 });
    expect(job.data.status).toBe("running");
    await runInDurableObject(sessionStub(), async (_instance, state) => {
      const dayAgo = Date.now() - 25 * 60 * 60 * 1000;
      state.storage.sql.exec("UPDATE tasks SET started_at = ? WHERE upid = ?", dayAgo, upid);
      state.storage.sql.exec("UPDATE exec_jobs SET started_at = ? WHERE id = ?", dayAgo, job.data.job);
    });
    await alarmNow();
    expect(await session().getTask(upid)).toMatchObject({
      status: "unknown",
      reason: expect.stringMatching(/^still running after 24 h, so it is not followed any more/),
    });
    const message = await expectError(client, "guest_exec_status", { job: job.data.job });
    expect(message).toContain("still running after 24 h, so its result is not fetched any more");
  });
});

describe("preconditions read the guest as it is now", () => {
  let client: TestClient;
  const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
  const fails = (name: string, args: Record<string, unknown>) => expectError(client, name, args);
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 300 });
  });

  it("right after start_vm wait: false, restoring over that VM or starting it again is refused", async () => {
    const volid = tableRows((await ok("get_backups", { vmid: 101 })).data as never)[0]?.volid as string;
    await sim.settings({ taskDurationMs: 5000 });
    const started = await ok("start_vm", { vmid: 103, wait: false });
    const upid = copiedUpid(started.text);
    await sim.clearRequests();
    const restore = await fails("restore_backup", { volid, vmid: 103, confirm: true });
    expect(restore).toBe(
      `VM 103 'win11' has a qmstart task running, so it is starting. Wait for that task to end (wait_for_task with its upid) and try again.\ntask: ${upid}`,
    );
    expect(await fails("start_vm", { vmid: 103 })).toBe(
      `VM 103 'win11' is already starting (a qmstart task is running); wait_for_task follows it.\ntask: ${upid}`,
    );
    expect(await fails("delete_vm", { vmid: 103, confirm: true })).toContain("has a qmstart task running");
    expect(await changesSent()).toEqual([]);
  });

  it("restoring over a running or locked guest is refused", async () => {
    const volid = tableRows((await ok("get_backups", { vmid: 101 })).data as never)[0]?.volid as string;
    expect(await fails("restore_backup", { volid, vmid: 101, confirm: true })).toBe(
      "VM 101 'web-01' is running; stop it before restoring over it.",
    );
    await ok("stop_vm", { vmid: 100, confirm: true });
    await ok("create_snapshot", { vmid: 100, snapname: "held", wait: false });
    const locked = await fails("restore_backup", { volid, vmid: 100, confirm: true });
    expect(locked).toMatch(
      /^VM 100 'pihole' is locked \(snapshot\)|^VM 100 'pihole' has a qmsnapshot task running/,
    );
    expect(await changesSent()).toEqual([
      "POST /nodes/pve1/qemu/100/status/stop",
      "POST /nodes/pve1/qemu/100/snapshot",
    ]);
  });

  it("right after the guest suspends itself, start_vm resumes it instead of saying it runs", async () => {
    const suspended = await ok("guest_power", { vmid: 100, action: "suspend-ram", confirm: true });
    expect(suspended.text).toBe(
      "Ask the guest OS of VM 100 to suspend to ram: done, VM 100 is suspended now.",
    );
    expect(suspended.data).toMatchObject({ state: "done", target: { vmid: 100 } });
    const resumed = await ok("start_vm", { vmid: 100 });
    expect(resumed.text).toMatch(/^Resume VM 100 'pihole' \(it was paused\): done\./);
    expect((await ok("get_vm", { vmid: 100 })).data.status).toBe("running");
  });
});
