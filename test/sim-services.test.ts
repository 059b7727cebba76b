// A node's own system in the simulator: systemd services and their srv* tasks, the journal and
// syslog, and apt (pending updates, the package-list refresh, versions, changelogs).
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, post, type Row, refused, taskFinished, taskLog } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const service = (node: string, name: string) => data<Row>(`/nodes/${node}/services/${name}/state`);

describe("services", () => {
  it("lists every service Proxmox knows with its systemd states, sorted, with the seeded failed chrony", async () => {
    const list = await data<Row[]>("/nodes/pve3/services");
    expect(list.map((s) => s.service)).toEqual([...(list.map((s) => s.service) as string[])].sort());
    expect(list).toHaveLength(23);
    expect(list.find((s) => s.service === "chrony")).toEqual({
      service: "chrony",
      name: "chrony",
      desc: "chrony, an NTP client/server",
      state: "failed",
      "unit-state": "enabled",
      "active-state": "failed",
    });
    expect(list.find((s) => s.service === "pveproxy")).toMatchObject({
      state: "running",
      "active-state": "active",
    });
    // Not installed on PVE 9 (no rsyslog; chrony instead of timesyncd).
    expect(list.find((s) => s.service === "syslog")).toMatchObject({
      state: "dead",
      "unit-state": "not-found",
    });
    expect(list.find((s) => s.service === "postfix")).toMatchObject({
      state: "exited",
      "active-state": "active",
    });
    // The other nodes' chrony runs.
    expect(await service("pve1", "chrony")).toMatchObject({ state: "running" });
    expect(await data<Row[]>("/nodes/pve1/services/chrony")).toEqual(
      ["state", "start", "stop", "restart", "reload"].map((subdir) => ({ subdir })),
    );
  });

  it("starts a failed service through an srvstart task named after it, and the state follows", async () => {
    const upid = await post("/nodes/pve3/services/chrony/start");
    expect(upid).toMatch(/^UPID:pve3:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:srvstart:chrony:root@pam!mcp:$/);
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    expect(await service("pve3", "chrony")).toMatchObject({ state: "running", "active-state": "active" });

    const stop = await post("/nodes/pve3/services/chrony/stop");
    expect(stop).toContain(":srvstop:chrony:");
    await taskFinished(stop);
    expect(await service("pve3", "chrony")).toMatchObject({ state: "dead", "active-state": "inactive" });

    // try-reload-or-restart leaves a stopped unit alone; restart brings it up.
    await taskFinished(await post("/nodes/pve3/services/chrony/reload"));
    expect(await service("pve3", "chrony")).toMatchObject({ state: "dead" });
    const restart = await post("/nodes/pve3/services/chrony/restart");
    expect(restart).toContain(":srvrestart:chrony:");
    await taskFinished(restart);
    expect(await service("pve3", "chrony")).toMatchObject({ state: "running" });
  });

  it("refuses to stop an essential service inside the task, and fails on a unit that is not installed", async () => {
    const upid = await post("/nodes/pve1/services/pveproxy/stop");
    expect((await taskFinished(upid)).exitstatus).toBe(
      "invalid service cmd 'pveproxy stop': refusing to stop essential service!",
    );
    expect(await service("pve1", "pveproxy")).toMatchObject({ state: "running" });

    const missing = await post("/nodes/pve1/services/syslog/start");
    expect((await taskFinished(missing)).exitstatus).toBe(
      "command 'systemctl start syslog' failed: exit code 5",
    );
    expect(await taskLog(missing)).toEqual([
      "Failed to start syslog.service: Unit syslog.service not found.",
      "TASK ERROR: command 'systemctl start syslog' failed: exit code 5",
    ]);
  });

  it("keeps a failed chrony on every third node of a bigger cluster", async () => {
    await control("reset", { nodes: 6, guests: 30 });
    const states = await Promise.all(
      ["pve1", "pve2", "pve3", "pve4", "pve5", "pve6"].map(async (n) => (await service(n, "chrony")).state),
    );
    expect(states).toEqual(["running", "running", "failed", "running", "running", "failed"]);
    // Every node refreshed its package lists a day ago (the seeded aptupdate tasks).
    expect((await data<Row[]>("/nodes/pve5/apt/update")).length).toBeGreaterThan(3);
  });

  it("validates the service id against Proxmox's list", async () => {
    const bad = await refused("/nodes/pve1/services/nginx/state");
    expect(bad.status).toBe(400);
    expect(bad.errors?.service).toMatch(
      /^value 'nginx' does not have a value in the enumeration 'chrony, corosync/,
    );
  });

  it("checks Sys.Audit to read and Sys.Modify to act", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Modify"] });
    expect(await data<Row[]>("/nodes/pve1/services")).toHaveLength(23);
    const denied = await refused("/nodes/pve1/services/chrony/restart", { method: "POST" });
    expect(denied).toMatchObject({
      status: 403,
      message: "Permission check failed (/nodes/pve1, Sys.Modify)\n",
    });
    await control("settings", { deniedPrivileges: ["Sys.Audit"] });
    expect(await refused("/nodes/pve1/services")).toMatchObject({
      status: 403,
      message: "Permission check failed (/nodes/pve1, Sys.Audit)\n",
    });
  });
});

type Line = { n: number; t: string };
const LINE_RE = /^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} pve\d [\w/.@-]+(\[\d+\])?: /;

describe("syslog and journal", () => {
  it("pages the syslog with n/t lines and a total, 50 lines by default", async () => {
    const res = await api("/nodes/pve1/syslog");
    const body = (await res.json()) as { data: Line[]; total: number };
    expect(res.status).toBe(200);
    expect(body.data).toHaveLength(50);
    expect(body.data[0]?.n).toBe(1);
    expect(body.total).toBeGreaterThan(200);
    for (const l of body.data) expect(l.t).toMatch(LINE_RE);
    expect(body.data[0]?.t).toMatch(/ kernel: Linux version 6\.17\.2-1-pve /);
    const page = await api("/nodes/pve1/syslog?start=100&limit=5");
    const paged = (await page.json()) as { data: Line[]; total: number };
    expect(paged.data.map((l) => l.n)).toEqual([101, 102, 103, 104, 105]);
    expect(paged.total).toBe(body.total);
  });

  it("filters by service unit and by time, and answers 'no content' when nothing matches", async () => {
    const chrony = await data<Line[]>("/nodes/pve3/syslog?service=chrony&limit=100");
    expect(chrony.map((l) => l.t.replace(/^.{15} pve3 /, ""))).toEqual([
      "systemd[1]: Starting chrony.service - chrony, an NTP client/server...",
      expect.stringMatching(/^chronyd\[\d+\]: chronyd version 4\.6\.1 starting/),
      expect.stringMatching(/^chronyd\[\d+\]: Fatal error : Invalid command at line 3/),
      "systemd[1]: chrony.service: Control process exited, code=exited, status=1/FAILURE",
      "systemd[1]: chrony.service: Failed with result 'exit-code'.",
      "systemd[1]: Failed to start chrony.service - chrony, an NTP client/server.",
    ]);
    const all = (await api("/nodes/pve1/syslog?limit=5000")).json() as Promise<{
      data: Line[];
      total: number;
    }>;
    const { data: every, total } = await all;
    expect(every).toHaveLength(total);
    // The last hour: fewer lines, all of them cron's or later.
    const hourAgo = new Date(Date.now() - 3600_000).toISOString().slice(0, 16).replace("T", " ");
    const recent = await api(`/nodes/pve1/syslog?since=${encodeURIComponent(hourAgo)}&limit=5000`);
    const recentBody = (await recent.json()) as { total: number };
    expect(recentBody.total).toBeLessThan(total);
    expect(recentBody.total).toBeGreaterThan(0);
    const future = await api("/nodes/pve1/syslog?since=2099-01-01");
    expect(await future.json()).toEqual({ data: [{ n: 1, t: "no content" }], total: 1 });
    const bad = await refused("/nodes/pve1/syslog?since=yesterday");
    expect(bad.errors?.since).toBe("value does not match the regex pattern");
  });

  it("logs tasks and service changes: pvedaemon's task lines and systemd's unit lines", async () => {
    const upid = await post("/nodes/pve3/services/chrony/restart");
    await taskFinished(upid);
    const lines = (await data<Line[]>("/nodes/pve3/syslog?limit=1000&start=0")).map((l) => l.t);
    const all = lines.join("\n");
    expect(all).toContain(`pvedaemon[`);
    expect(all).toContain(`<root@pam!mcp> starting task ${upid}`);
    expect(all).toContain(`re-starting service chrony: ${upid}`);
    expect(all).toContain("systemd[1]: Started chrony.service - chrony, an NTP client/server.");
    expect(all).toContain(`<root@pam!mcp> end task ${upid} OK`);
  });

  it("reads the journal with cursors around the lines, the last entries and a start cursor", async () => {
    const last = await data<string[]>("/nodes/pve1/journal?lastentries=5");
    expect(last).toHaveLength(7);
    expect(last[0]).toMatch(
      /^s=[0-9a-f]{32};i=[0-9a-f]+;b=[0-9a-f]{32};m=[0-9a-f]+;t=[0-9a-f]+;x=[0-9a-f]+$/,
    );
    for (const l of last.slice(1, 6)) expect(l).toMatch(LINE_RE);
    const endCursor = last[6] as string;
    // Nothing new after the end: only the cursor comes back.
    expect(await data<string[]>(`/nodes/pve1/journal?startcursor=${encodeURIComponent(endCursor)}`)).toEqual([
      endCursor,
    ]);
    const upid = await post("/nodes/pve1/services/cron/reload");
    await taskFinished(upid);
    const next = await data<string[]>(`/nodes/pve1/journal?startcursor=${encodeURIComponent(endCursor)}`);
    expect(next.slice(1, -1).join("\n")).toContain(`starting task ${upid}`);
    expect(next.slice(1, -1).join("\n")).toContain("Reloaded cron.service");
    const conflict = await refused("/nodes/pve1/journal?lastentries=5&since=1");
    expect(conflict.message).toBe("ERROR: -n conflicts with -b and/or -f\n");
  });

  it("needs Sys.Syslog", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Syslog"] });
    expect(await refused("/nodes/pve1/journal")).toMatchObject({
      status: 403,
      message: "Permission check failed (/nodes/pve1, Sys.Syslog)\n",
    });
  });
});

describe("apt", () => {
  it("lists pending updates as the last refresh saw them, and a refresh task finds newer ones", async () => {
    const before = await data<Row[]>("/nodes/pve1/apt/update");
    const names = before.map((p) => p.Package);
    expect(names).toContain("pve-manager");
    expect(names).toContain("openssl");
    // Published after pve1's last apt-get update (three days ago).
    expect(names).not.toContain("libpve-storage-perl");
    expect(names).not.toContain("openssh-server");
    expect(before.find((p) => p.Package === "pve-manager")).toEqual({
      Package: "pve-manager",
      Title: "Proxmox Virtual Environment Management Tools",
      Origin: "Proxmox",
      Description: "This package contains the Proxmox Virtual Environment management tools.",
      Section: "admin",
      Arch: "amd64",
      Priority: "optional",
      Version: "9.2.12",
      OldVersion: "9.2.11",
    });

    const upid = await post("/nodes/pve1/apt/update");
    expect(upid).toMatch(/:aptupdate::root@pam!mcp:$/);
    await taskFinished(upid);
    const log = await taskLog(upid);
    expect(log[0]).toBe("starting apt-get update");
    expect(log).toContain("Hit:4 http://download.proxmox.com/debian/pve trixie InRelease");
    expect(log.at(-1)).toBe("TASK OK");
    const after = (await data<Row[]>("/nodes/pve1/apt/update")).map((p) => p.Package);
    expect(after).toContain("libpve-storage-perl");
    expect(after).toContain("openssh-server");
    // Other nodes keep their own package lists.
    expect((await data<Row[]>("/nodes/pve2/apt/update")).map((p) => p.Package)).not.toContain(
      "libpve-storage-perl",
    );

    const quiet = await post("/nodes/pve2/apt/update", { quiet: 1, notify: 1 });
    await taskFinished(quiet);
    expect(await taskLog(quiet)).toEqual(["TASK OK"]);
    // The notification about them was sent: each update carries the version it was about.
    const notified = await data<Row[]>("/nodes/pve2/apt/update");
    for (const p of notified) expect(p.NotifyStatus).toBe(p.Version);
    expect((await data<Row[]>("/nodes/pve1/apt/update")).some((p) => "NotifyStatus" in p)).toBe(false);
  });

  it("reports versions with pve-manager and proxmox-ve first and the running kernel", async () => {
    const v = await data<Row[]>("/nodes/pve1/apt/versions");
    expect(v.slice(0, 2).map((p) => p.Package)).toEqual(["proxmox-ve", "pve-manager"]);
    expect(v[0]).toMatchObject({ RunningKernel: "6.17.2-1-pve", CurrentState: "Installed" });
    expect(v[1]).toMatchObject({
      ManagerVersion: expect.stringMatching(/^9\.2\.11\//),
      OldVersion: "9.2.11",
    });
    expect(v.map((p) => p.Package)).toContain("qemu-server");
    expect(v.map((p) => p.Package)).toContain("amd64-microcode");
    expect((await data<Row[]>("/nodes/pve2/apt/versions")).map((p) => p.Package)).not.toContain(
      "amd64-microcode",
    );
  });

  it("shows a package's changelog, and apt-get's error for an unknown package", async () => {
    const text = await data<string>("/nodes/pve1/apt/changelog?name=pve-manager");
    expect(text).toMatch(/^pve-manager \(9\.2\.12\) trixie; urgency=medium\n\n {2}\* /);
    expect(text).toContain(" -- Proxmox Support Team <support@proxmox.com>  ");
    expect(text).toContain("pve-manager (9.2.11) trixie");
    const older = await data<string>("/nodes/pve1/apt/changelog?name=pve-manager&version=9.2.11");
    expect(older).not.toContain("9.2.12");
    expect(await data<string>("/nodes/pve1/apt/changelog?name=no-such-pkg")).toBe(
      "E: Unable to locate package no-such-pkg\nRC: 100",
    );
  });

  it("needs Sys.Modify for updates and Sys.Audit for versions", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Modify"] });
    expect((await refused("/nodes/pve1/apt/update")).status).toBe(403);
    expect((await refused("/nodes/pve1/apt/update", { method: "POST" })).message).toBe(
      "Permission check failed (/nodes/pve1, Sys.Modify)\n",
    );
    expect((await data<Row[]>("/nodes/pve1/apt/versions")).length).toBeGreaterThan(10);
  });
});
