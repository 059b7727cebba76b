import { createExecutionContext, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createMcpHandler } from "agents/mcp/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServer, LOCAL_SESSION, toolDeps } from "../src/server/server";
import type { SessionApi } from "../src/session/session";
import { connect, expectError, expectOk, type TestClient, TOOL_ERA, tableRows, textOf } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

const sessionStub = () => env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION));
const session = () => sessionStub() as unknown as SessionApi;

const ok = expectOk;
const fails = expectError;

/** Mutating API requests the simulator received (reads are fine before a refusal). */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const UPID = /UPID:pve\d:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:\w+:\d*:[^:\s]+:/;

describe("power tools", () => {
  let client: TestClient;
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

  it("start_vm starts a stopped VM, waits for the task, and the session tracks it", async () => {
    const { text } = await ok(client, "start_vm", { vmid: 103 });
    expect(text).toMatch(
      /^Start VM 103 'win11' on pve1: done\.\ntask: UPID:pve1:.*:qmstart:103:root@pam!mcp:$/,
    );
    const vm = await ok(client, "get_vm", { vmid: 103 });
    expect(vm.data.status).toBe("running");
    const tracked = await ok(client, "get_tracked_tasks");
    expect(tracked.data.tasks[0]).toMatchObject({
      tool: "start_vm",
      target: "VM 103 'win11'",
      status: "OK",
      ok: true,
    });
    const audit = await session().listAudit(5);
    expect(audit[0]).toMatchObject({
      tool: "start_vm",
      target: "VM 103 'win11'",
      outcome: "OK",
      actor: "local",
    });
    expect(audit[0]?.args).toEqual({ vmid: 103, node: "pve1" });
  });

  it("start_container and shutdown_container", async () => {
    expect((await ok(client, "start_container", { vmid: 204 })).text).toMatch(
      /^Start Container 204 'minecraft' on pve3: done/,
    );
    expect((await ok(client, "shutdown_container", { vmid: 204 })).text).toMatch(
      /^Shut down Container 204 'minecraft' on pve3: done/,
    );
    expect((await ok(client, "get_container", { vmid: 204 })).data.status).toBe("stopped");
  });

  it("reboot_vm, reboot_container, stop_container and delete_container", async () => {
    expect((await ok(client, "reboot_vm", { vmid: 100 })).text).toMatch(
      /^Reboot VM 100 'pihole' on pve1: done\.\ntask: UPID:pve1:.*:qmreboot:100:/,
    );
    expect((await ok(client, "reboot_container", { vmid: 200 })).text).toMatch(
      /^Reboot Container 200 'proxy' on pve1: done/,
    );
    expect((await ok(client, "stop_container", { vmid: 205 })).text).toMatch(
      /^Not done: This hard-stops Container 205 'unifi'/,
    );
    expect((await ok(client, "stop_container", { vmid: 205, confirm: true })).text).toMatch(
      /^Stop Container 205 'unifi' on pve3: done/,
    );
    expect((await ok(client, "delete_container", { vmid: 204 })).text).toMatch(
      /^Not done: This deletes Container 204 'minecraft' on pve3 and its 1 disk: local-lvm:vm-204-disk-0 \(\d+G\)\./,
    );
    expect((await ok(client, "delete_container", { vmid: 204, confirm: true })).text).toMatch(
      /^Delete Container 204 'minecraft': done/,
    );
    expect((await ok(client, "get_containers")).data.rows.map((row: number[]) => row[0])).not.toContain(204);
  });

  it("preconditions are answered before any change is sent", async () => {
    expect(await fails(client, "start_vm", { vmid: 101 })).toBe("VM 101 'web-01' is already running.");
    expect(await fails(client, "shutdown_vm", { vmid: 103 })).toBe("VM 103 'win11' is already stopped.");
    expect(await fails(client, "shutdown_vm", { vmid: 105 })).toContain(
      "VM 105 'k8s-worker-1' is paused and cannot shut down cleanly",
    );
    expect(await fails(client, "reboot_vm", { vmid: 110 })).toBe(
      "VM 110 'test-vm' is not running; start it with start_vm.",
    );
    expect(await fails(client, "start_vm", { vmid: 107 })).toContain("is a template and never runs");
    expect(await fails(client, "reboot_vm", { vmid: 106 })).toContain(
      "VM 106 'k8s-worker-2' is locked (backup): a backup is running on it",
    );
    expect(await fails(client, "start_container", { vmid: 101 })).toContain(
      "101 is a VM ('web-01') on pve1, not a container",
    );
    expect(await changesSent()).toEqual([]);
  });

  it("start_vm resumes a paused VM", async () => {
    const { text } = await ok(client, "start_vm", { vmid: 105 });
    expect(text).toMatch(
      /^Resume VM 105 'k8s-worker-1' \(it was paused\): done\.\ntask: UPID:pve2:.*:qmresume:105:/,
    );
  });

  it("stop_vm needs confirm, and refuses a protected VM", async () => {
    const preview = await ok(client, "stop_vm", { vmid: 101 });
    expect(preview.text).toBe(
      "Not done: This hard-stops VM 101 'web-01' on pve1, which is running; unsaved data in it is lost. Call stop_vm again with confirm: true to go ahead.",
    );
    expect(await changesSent()).toEqual([]);
    expect(await fails(client, "stop_vm", { vmid: 102, confirm: true })).toContain(
      "VM 102 'db-01' is protected",
    );
    expect(await changesSent()).toEqual([]);
    const done = await ok(client, "stop_vm", { vmid: 101, confirm: true });
    expect(done.text).toMatch(/^Stop VM 101 'web-01' on pve1: done/);
    expect(await changesSent()).toEqual(["POST /nodes/pve1/qemu/101/status/stop"]);
  });
});

describe("waiting, tracking and progress", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-11-25");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
  });

  it("a task still running when the wait ends is followed by the Session's alarm, across an eviction", async () => {
    await sim.settings({ taskDurationMs: 1500 });
    const started = await ok(client, "start_vm", { vmid: 103, wait_seconds: 1 });
    expect(started.text).toMatch(/^Start VM 103 'win11' on pve1: still running after 1 s\. .*\ntask: UPID:/);
    expect(started.text).toContain("call wait_for_task with this upid");
    const upid = UPID.exec(started.text)?.[0] as string;
    expect((await session().getTask(upid))?.status).toBe("running");

    await sleep(1600);
    await evictDurableObject(sessionStub());
    // The alarm may already have fired on its own; if not, run it now. Either way no tool asked.
    await runDurableObjectAlarm(sessionStub());
    const tracked = await session().getTask(upid);
    expect(tracked).toMatchObject({ status: "stopped", exitstatus: "OK", ok: true, tool: "start_vm" });

    // wait_for_task answers from the Session, without asking Proxmox again.
    await sim.clearRequests();
    const waited = await ok(client, "wait_for_task", { upid });
    expect(waited.text).toBe("Task qmstart 103 on pve1 finished: OK.");
    expect(waited.data).toEqual({ upid, status: "stopped", exitstatus: "OK", ok: true });
    expect(await sim.requests()).toEqual([]);
    const list = await ok(client, "get_tracked_tasks");
    expect(list.text).toMatch(/ start_vm VM 103 'win11': OK \| UPID:pve1:/);
  });

  it("wait: false returns at once; wait_for_task waits for the end", async () => {
    await sim.settings({ taskDurationMs: 800 });
    const started = await ok(client, "shutdown_vm", { vmid: 100, wait: false });
    expect(started.text).toMatch(
      /^Shut down VM 100 'pihole' on pve1: started\. Follow it with wait_for_task.*\ntask: UPID:pve1:.*:qmshutdown:100:.*:$/,
    );
    const upid = UPID.exec(started.text)?.[0] as string;
    const running = await ok(client, "get_tracked_tasks", { running: true });
    expect(running.data.tasks.map((t: { upid: string }) => t.upid)).toEqual([upid]);
    const waited = await ok(client, "wait_for_task", { upid, wait_seconds: 10 });
    expect(waited.data).toMatchObject({ status: "stopped", ok: true });
    expect((await session().getTask(upid))?.status).toBe("stopped");
  });

  it("progress carries the task log's percentage, read every 2 s while elapsed time goes out on every poll", async () => {
    await sim.settings({ taskDurationMs: 4500 });
    await sim.clearRequests();
    const seen: { progress: number; message?: string }[] = [];
    const result = await client.callWithProgress("create_backup", { vmid: 100, storage: "nas" }, (p) =>
      seen.push(p),
    );
    expect(result.isError ?? false, textOf(result)).toBe(false);
    // "2s elapsed, 30%, INFO:  30% (4.8 GiB of 16.0 GiB) in 1s, ..."
    expect(seen.some((p) => /^\d+s elapsed, \d+%, INFO: +\d+% \(/.test(p.message ?? ""))).toBe(true);
    const requests = await sim.requests();
    const logReads = requests.filter((r) => r.method === "GET" && /\/tasks\/[^/]+\/log$/.test(r.path));
    const statusReads = requests.filter((r) => r.method === "GET" && /\/tasks\/[^/]+\/status$/.test(r.path));
    expect(seen.length).toBeGreaterThanOrEqual(statusReads.length - 1);
    expect(logReads.length).toBeGreaterThan(0);
    expect(logReads.length).toBeLessThanOrEqual(4);
    expect(logReads.length).toBeLessThan(statusReads.length);
  });

  it("sends progress notifications while waiting when the client asks", async () => {
    await sim.settings({ taskDurationMs: 1500 });
    const seen: { progress: number; message?: string }[] = [];
    const result = await client.callWithProgress("start_vm", { vmid: 103 }, (p) => seen.push(p));
    expect(result.isError ?? false).toBe(false);
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen[0]?.message).toMatch(/elapsed/);
  });

  it("get_task_log pages through a long log", async () => {
    const tasks = await ok(client, "get_tasks", { node: "pve1", type: "vzdump" });
    const upid = tableRows(tasks.data as never)[0]?.upid as string;
    const first = await ok(client, "get_task_log", { upid, limit: 10 });
    expect(first.data).toMatchObject({ start: 0, next: 10 });
    expect(first.data.total).toBeGreaterThan(15);
    expect(first.data.lines).toHaveLength(10);
    expect(first.text.split("\n")[0]).toMatch(/^Task vzdump on pve1: lines 1-10 of \d+$/);
    expect(first.text).toContain("call again with start=10");
    const second = await ok(client, "get_task_log", { upid, start: 10, limit: 5 });
    expect(second.data.lines[0]).not.toBe(first.data.lines[0]);
    expect(second.text.split("\n")[0]).toMatch(/lines 11-15 of/);
  });

  it("stop_task needs confirm, then aborts the task", async () => {
    const tasks = await ok(client, "get_tasks", { node: "pve2", running: true });
    const upid = tableRows(tasks.data as never)[0]?.upid as string;
    const preview = await ok(client, "stop_task", { upid });
    expect(preview.text).toMatch(/^Not done: This aborts the task vzdump 106 on pve2, running for /);
    const done = await ok(client, "stop_task", { upid, confirm: true });
    expect(done.text).toMatch(/^Stopped the task vzdump 106 on pve2: it ended with /);
    expect(await fails(client, "stop_task", { upid, confirm: true })).toMatch(/already ended/);
    const audit = await session().listAudit(5);
    expect(audit.find((a) => a.tool === "stop_task")).toMatchObject({ upid });
  });

  it("a task that fails while the tool waits is an error with its last log lines", async () => {
    await sim.settings({ taskDurationMs: 4000 });
    const pending = client.call("start_vm", { vmid: 103 });
    await sleep(600);
    const running = await session().listTasks({ limit: 1, running: true });
    const upid = running.tasks[0]?.upid as string;
    expect(upid).toMatch(/:qmstart:103:/);
    await ok(client, "stop_task", { upid, confirm: true });
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /^Start VM 103 'win11' on pve1 failed: .+\.\ntask: UPID:pve1:\S*:\nLast log lines:\n/,
    );
    const waited = await ok(client, "wait_for_task", { upid });
    expect(waited.text).toMatch(/^Task qmstart 103 on pve1 FAILED: /);
    expect(waited.data.ok).toBe(false);
  });

  it("wait_seconds is bounded", async () => {
    expect(await fails(client, "start_vm", { vmid: 103, wait_seconds: 241 })).toContain(
      "wait_seconds must be at most 240",
    );
    expect(await changesSent()).toEqual([]);
  });
});

describe("allowlists", () => {
  let client: TestClient;
  beforeAll(async () => {
    const guarded = { ...env, PVE_ALLOWED_VMIDS: "100-104, 200", PVE_ALLOWED_NODES: "pve1" };
    const handler = createMcpHandler(() => createServer(toolDeps(guarded)));
    client = await connect("2026-07-28", (request) => handler(request, guarded, createExecutionContext()));
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 200 });
  });

  it("refuses guests and nodes outside the lists, and still reads them", async () => {
    expect(await fails(client, "start_vm", { vmid: 110 })).toContain(
      "Guest 110 is outside PVE_ALLOWED_VMIDS",
    );
    expect(await fails(client, "shutdown_vm", { vmid: 104 })).toContain(
      "Node pve2 is outside PVE_ALLOWED_NODES",
    );
    expect(await fails(client, "start_container", { vmid: 200, node: "pve1" })).toBe(
      "Container 200 'proxy' is already running.",
    );
    expect(await fails(client, "shutdown_container", { vmid: 202 })).toContain("outside PVE_ALLOWED_VMIDS");
    expect((await ok(client, "get_vm", { vmid: 110 })).data.vmid).toBe(110);
    expect(await changesSent()).toEqual([]);
    expect((await ok(client, "shutdown_vm", { vmid: 100 })).text).toMatch(/: done/);
  });
});
