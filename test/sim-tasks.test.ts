// Tasks in the simulator: UPIDs, status, log and list semantics, the task lifecycle and the guest
// power actions that start tasks.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, nodeOf, taskStatus as status, taskFinished as waitStopped } from "./helpers/pve";

const UPID_RE = /^UPID:([a-zA-Z0-9-]+):([0-9A-F]{8}):([0-9A-F]{8,9}):([0-9A-F]{8}):([^:]+):([^:]*):([^:]+):$/;

const post = <T = string>(path: string) => data<T>(path, { method: "POST" });

async function logOf(upid: string, query = ""): Promise<{ data: { n: number; t: string }[]; total: number }> {
  const res = await api(`/nodes/${nodeOf(upid)}/tasks/${upid}/log${query}`);
  expect(res.status).toBe(200);
  return res.json();
}

async function guest(node: string, kind: "qemu" | "lxc", vmid: number) {
  return data<{ status: string; qmpstatus?: string; uptime: number }>(
    `/nodes/${node}/${kind}/${vmid}/status/current`,
  );
}

beforeEach(async () => {
  await control("reset");
  await control("settings", { taskDurationMs: 50, authFailureDelayMs: 0 });
});

describe("UPIDs and task status", () => {
  it("returns a well-formed UPID owned by the token, and splits the token in the status", async () => {
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    const m = UPID_RE.exec(upid);
    expect(m).not.toBeNull();
    expect(m?.slice(1)).toEqual([
      "pve1",
      expect.any(String),
      expect.any(String),
      expect.any(String),
      "qmstart",
      "103",
      "root@pam!mcp",
    ]);
    const s = await status(upid);
    expect(s).toEqual({
      upid,
      node: "pve1",
      pid: Number.parseInt(m?.[2] as string, 16),
      pstart: Number.parseInt(m?.[3] as string, 16),
      starttime: Number.parseInt(m?.[4] as string, 16),
      type: "qmstart",
      id: "103",
      user: "root@pam",
      tokenid: "mcp",
      status: "running",
    });
    expect(typeof s.id).toBe("string");
    const done = await waitStopped(upid);
    expect(done.exitstatus).toBe("OK");
    expect(done).not.toHaveProperty("endtime");
  });

  it("accepts raw and percent-encoded UPIDs but not double-encoded ones", async () => {
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    expect((await api(`/nodes/pve1/tasks/${upid}/status`)).status).toBe(200);
    expect((await api(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).status).toBe(200);
    const twice = await api(`/nodes/pve1/tasks/${encodeURIComponent(encodeURIComponent(upid))}/status`);
    expect(twice.status).toBe(400);
    expect(await twice.json()).toEqual({
      data: null,
      message: "Parameter verification failed.\n",
      errors: { upid: "unable to parse worker upid" },
    });
  });

  it("answers 'no such task' for an unknown UPID, but a log line for its log", async () => {
    const unknown = "UPID:pve1:00001234:00ABCDEF:6B000000:qmstart:100:root@pam:";
    const res = await api(`/nodes/pve1/tasks/${unknown}/status`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      data: null,
      message: "Parameter verification failed.\n",
      errors: { upid: "no such task" },
    });
    expect(await logOf(unknown)).toEqual({
      data: [{ n: 1, t: "unable to open file - No such file or directory" }],
      total: 1,
    });
    // A task only exists in the log directory of its own node.
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    expect((await api(`/nodes/pve2/tasks/${upid}/status`)).status).toBe(400);
  });
});

describe("task log", () => {
  it("shows 'no content' while a silent task runs, then its final line", async () => {
    await control("settings", { taskDurationMs: 300 });
    const upid = await post("/nodes/pve3/qemu/110/status/start");
    expect(await logOf(upid)).toEqual({ data: [{ n: 1, t: "no content" }], total: 1 });
    await waitStopped(upid);
    expect(await logOf(upid)).toEqual({ data: [{ n: 1, t: "TASK OK" }], total: 1 });
  });

  it("pages with start (lines skipped) and limit (0 = all), with the line count as total", async () => {
    const [task] = await data<{ upid: string }[]>("/nodes/pve1/tasks?typefilter=vzdump");
    const upid = task?.upid as string;
    const all = await logOf(upid, "?limit=0");
    expect(all.total).toBeGreaterThan(10);
    expect(all.data).toHaveLength(all.total);
    expect(all.data[0]).toEqual({ n: 1, t: expect.stringContaining("starting new backup job") });
    expect(all.data.at(-1)).toEqual({ n: all.total, t: "TASK WARNINGS: 1" });
    const page = await logOf(upid, "?start=2&limit=3");
    expect(page.total).toBe(all.total);
    expect(page.data).toEqual(all.data.slice(2, 5));
    expect((await logOf(upid)).data).toHaveLength(Math.min(50, all.total));
  });

  it("lets a long task's log grow while it runs", async () => {
    const [backup] = await data<{ upid: string; status: string }[]>("/nodes/pve2/tasks?source=active");
    expect(backup?.status).toBe("RUNNING");
    const log = await logOf(backup?.upid as string, "?limit=0");
    expect(log.data.some((l) => /^INFO: \d+% /.test(l.t))).toBe(true);
    expect(log.data.some((l) => l.t.startsWith("TASK"))).toBe(false);
  });
});

describe("task list", () => {
  it("lists finished tasks newest first with string ids, end times and exit statuses", async () => {
    const res = await api("/nodes/pve2/tasks");
    const body = (await res.json()) as { data: Record<string, unknown>[]; total: number };
    expect(body.total).toBe(body.data.length);
    expect(body.data.length).toBeGreaterThanOrEqual(5);
    for (const t of body.data) {
      expect(typeof t.id).toBe("string");
      expect(typeof t.endtime).toBe("number");
      expect(t.status).not.toBe("RUNNING");
    }
    const ends = body.data.map((t) => t.endtime as number);
    expect([...ends].sort((a, b) => b - a)).toEqual(ends);
    expect(body.data.map((t) => t.status)).toContain("VM quit/powerdown failed - got timeout");
  });

  it("includes running tasks only for source=active|all", async () => {
    const archive = await data<{ status: string }[]>("/nodes/pve2/tasks");
    expect(archive.some((t) => t.status === "RUNNING")).toBe(false);
    const active = await data<{ status: string; id: string }[]>("/nodes/pve2/tasks?source=active");
    expect(active).toEqual([expect.objectContaining({ status: "RUNNING", id: "106", type: "vzdump" })]);
    const all = await data<{ status: string }[]>("/nodes/pve2/tasks?source=all");
    expect(all[0]?.status).toBe("RUNNING");
    expect(all.length).toBe(archive.length + 1);
  });

  it("filters by type, vmid, errors, status, user and time, and pages with start/limit", async () => {
    const qm = await data<{ type: string }[]>("/nodes/pve1/tasks?typefilter=qmstart");
    expect(qm.map((t) => t.type)).toEqual(["qmstart"]);
    const vm101 = await data<{ id: string }[]>("/nodes/pve1/tasks?vmid=101");
    expect(vm101.every((t) => t.id === "101")).toBe(true);
    expect(vm101.length).toBe(2);
    const errors = await data<{ status: string }[]>("/nodes/pve2/tasks?errors=1");
    expect(errors.map((t) => t.status)).toEqual(["VM quit/powerdown failed - got timeout"]);
    const warnings = await data<{ status: string }[]>("/nodes/pve1/tasks?statusfilter=warning");
    expect(warnings.map((t) => t.status)).toEqual(["WARNINGS: 1"]);
    expect(await data("/nodes/pve1/tasks?userfilter=nobody")).toEqual([]);
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    await waitStopped(upid);
    const mine = await data<{ upid: string; user: string; tokenid: string }[]>(
      "/nodes/pve1/tasks?userfilter=root@pam",
    );
    expect(mine[0]).toMatchObject({ upid, user: "root@pam", tokenid: "mcp" });
    const future = await data("/nodes/pve1/tasks?since=4000000000");
    expect(future).toEqual([]);
    const res = await api("/nodes/pve1/tasks?start=1&limit=2");
    const page = (await res.json()) as { data: { upid: string }[]; total: number };
    const full = await data<{ upid: string }[]>("/nodes/pve1/tasks");
    expect(page.total).toBe(full.length);
    expect(page.data.map((t) => t.upid)).toEqual(full.slice(1, 3).map((t) => t.upid));
  });
});

describe("task lifecycle", () => {
  it("stops a running task on DELETE with an interrupted exit status", async () => {
    await control("settings", { taskDurationMs: 60_000 });
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    expect((await status(upid)).status).toBe("running");
    expect(await data(`/nodes/pve1/tasks/${upid}`, { method: "DELETE" })).toBeNull();
    expect(await status(upid)).toMatchObject({ status: "stopped", exitstatus: "interrupted by signal" });
    expect((await logOf(upid)).data.at(-1)?.t).toBe("TASK ERROR: interrupted by signal");
    expect((await guest("pve1", "qemu", 103)).status).toBe("stopped");
  });

  it("keeps the guest unchanged until the task ends", async () => {
    await control("settings", { taskDurationMs: 300 });
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    expect((await guest("pve1", "qemu", 103)).status).toBe("stopped");
    await waitStopped(upid);
    const vm = await guest("pve1", "qemu", 103);
    expect(vm).toMatchObject({ status: "running", qmpstatus: "running" });
  });

  it("honours the duration scale when no fixed duration is set", async () => {
    await control("settings", { taskDurationMs: null, taskDurationScale: 0 });
    const upid = await post("/nodes/pve1/lxc/201/status/shutdown");
    expect(await status(upid)).toMatchObject({ status: "stopped", exitstatus: "OK" });
  });
});

describe("power actions", () => {
  it("uses Proxmox's task types and applies the state change at the end", async () => {
    const cases: [string, string, string, string][] = [
      ["/nodes/pve1/qemu/100/status/shutdown", "qmshutdown", "stopped", ""],
      ["/nodes/pve1/qemu/100/status/start", "qmstart", "running", "running"],
      ["/nodes/pve1/qemu/100/status/suspend", "qmpause", "running", "paused"],
      ["/nodes/pve1/qemu/100/status/resume", "qmresume", "running", "running"],
      ["/nodes/pve1/qemu/100/status/reset", "qmreset", "running", "running"],
      ["/nodes/pve1/qemu/100/status/reboot", "qmreboot", "running", "running"],
      ["/nodes/pve1/qemu/100/status/stop", "qmstop", "stopped", "stopped"],
    ];
    for (const [path, type, state, qmp] of cases) {
      const upid = await post(path);
      expect(upid.split(":")[5], path).toBe(type);
      expect((await waitStopped(upid)).exitstatus, path).toBe("OK");
      const vm = await guest("pve1", "qemu", 100);
      expect(vm.status, path).toBe(state);
      if (qmp) expect(vm.qmpstatus, path).toBe(qmp);
    }
    const lxc: [string, string, string][] = [
      ["shutdown", "vzshutdown", "stopped"],
      ["start", "vzstart", "running"],
      ["reboot", "vzreboot", "running"],
      ["suspend", "vzsuspend", "stopped"],
      ["resume", "vzresume", "running"],
      ["stop", "vzstop", "stopped"],
    ];
    for (const [action, type, state] of lxc) {
      const upid = await post(`/nodes/pve1/lxc/200/status/${action}`);
      expect(upid.split(":")[5]).toBe(type);
      expect((await waitStopped(upid)).exitstatus).toBe("OK");
      expect((await guest("pve1", "lxc", 200)).status, action).toBe(state);
    }
  });

  it("fails the start task of a running VM", async () => {
    const upid = await post("/nodes/pve1/qemu/100/status/start");
    expect(await waitStopped(upid)).toMatchObject({ exitstatus: "VM 100 already running" });
    expect((await logOf(upid)).data).toEqual([{ n: 1, t: "TASK ERROR: VM 100 already running" }]);
  });

  it("refuses synchronously what Proxmox checks before forking", async () => {
    const cases: [string, string][] = [
      ["/nodes/pve1/qemu/103/status/reboot", "VM 103 not running"],
      ["/nodes/pve1/qemu/103/status/reset", "VM 103 not running"],
      ["/nodes/pve1/qemu/103/status/suspend", "VM 103 not running"],
      ["/nodes/pve1/qemu/103/status/resume", "VM 103 not running"],
      ["/nodes/pve2/qemu/105/status/shutdown", "VM is paused - cannot shutdown"],
      ["/nodes/pve2/qemu/105/status/reboot", "VM is paused - cannot shutdown"],
      ["/nodes/pve1/lxc/200/status/start", "CT 200 already running"],
      ["/nodes/pve2/lxc/203/status/shutdown", "CT 203 not running"],
      [
        "/nodes/pve1/qemu/200/status/start",
        "Configuration file 'nodes/pve1/qemu-server/200.conf' does not exist",
      ],
      ["/nodes/pve2/lxc/200/status/start", "Configuration file 'nodes/pve2/lxc/200.conf' does not exist"],
    ];
    for (const [path, message] of cases) {
      const res = await api(path, { method: "POST" });
      expect(res.status, path).toBe(500);
      expect(res.statusText, path).toBe(message);
      expect(await res.json()).toEqual({ data: null, message: `${message}\n` });
    }
  });

  it("fails tasks on a locked VM and on a template, as the worker checks those", async () => {
    const locked = await post("/nodes/pve2/qemu/106/status/stop");
    expect((await waitStopped(locked)).exitstatus).toBe("VM is locked (backup)");
    expect((await guest("pve2", "qemu", 106)).status).toBe("running");
    const template = await post("/nodes/pve2/qemu/107/status/start");
    expect((await waitStopped(template)).exitstatus).toBe("you can't start a vm if it's a template");
  });

  it("lets a paused VM be stopped with forceStop, and refuses skiplock to a token", async () => {
    const upid = await post("/nodes/pve2/qemu/105/status/shutdown?forceStop=1");
    expect((await waitStopped(upid)).exitstatus).toBe("OK");
    const res = await api("/nodes/pve2/qemu/106/status/stop?skiplock=1", { method: "POST" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: { skiplock: "Only root may use this option." } });
  });
});
