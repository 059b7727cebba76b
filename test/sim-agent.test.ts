// The simulator's guest-agent endpoints (qemu-server Agent.pm + qemu-ga): PVE's check order, QGA's
// answer shapes, exec with stdin/stderr/exit codes/truncation/time, files with paging, freeze,
// guest-initiated power changes, passwords, privileges and the Windows guest.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { api, control } from "./helpers/pve";

const post = (path: string, body: Record<string, unknown> = {}) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

const postForm = (path: string, body: string) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body });

async function ok<T = unknown>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  const body = (await r.json()) as { data: T; message?: string };
  expect(r.status, body.message).toBe(200);
  return body.data;
}

/** The error message (or the per-parameter errors) of a failed call with this status. */
async function fails(res: Response | Promise<Response>, status: number): Promise<string> {
  const r = await res;
  const body = (await r.json()) as { data: null; message: string; errors?: Record<string, string> };
  expect(r.status, body.message).toBe(status);
  expect(body.data).toBeNull();
  return body.errors ? JSON.stringify(body.errors) : body.message.replace(/\n$/, "");
}

const AG = (vmid: number, node = "pve1") => `/nodes/${node}/qemu/${vmid}/agent`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ExecStatus {
  exited: 0 | 1;
  exitcode?: number;
  signal?: number;
  "out-data"?: string;
  "err-data"?: string;
  "out-truncated"?: 1;
  "err-truncated"?: 1;
}

async function start(vmid: number, command: unknown, input?: string, node = "pve1"): Promise<number> {
  const body = { command, ...(input !== undefined ? { "input-data": input } : {}) };
  return (await ok<{ pid: number }>(post(`${AG(vmid, node)}/exec`, body))).pid;
}

const status = (vmid: number, pid: number, node = "pve1") =>
  ok<ExecStatus>(api(`${AG(vmid, node)}/exec-status?pid=${pid}`));

/** exec + exec-status for a command that finishes at once. */
async function run(vmid: number, command: unknown, input?: string, node = "pve1"): Promise<ExecStatus> {
  return status(vmid, await start(vmid, command, input, node), node);
}

const sh = (script: string) => ["sh", "-c", script];

interface ReadResult {
  content: string;
  "bytes-read": number;
  truncated?: 1;
}

const read = (vmid: number, file: string, extra = "", node = "pve1") =>
  api(`${AG(vmid, node)}/file-read?file=${encodeURIComponent(file)}${extra}`);

/** Bytes as PVE's JSON carries them: one char per byte. */
const b64bytes = (s: string) => atob(s);

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0, agentTimeoutMs: 0 });
});

describe("checks, in qemu-server's order", () => {
  it("lists every sub-command without looking at the VM", async () => {
    const list = await ok<{ name: string }[]>(api("/nodes/pve1/qemu/999/agent"));
    expect(list.map((x) => x.name)).toEqual([
      "exec",
      "exec-status",
      "file-read",
      "file-write",
      "fsfreeze-freeze",
      "fsfreeze-status",
      "fsfreeze-thaw",
      "fstrim",
      "get-fsinfo",
      "get-host-name",
      "get-memory-block-info",
      "get-memory-blocks",
      "get-osinfo",
      "get-time",
      "get-timezone",
      "get-users",
      "get-vcpus",
      "info",
      "network-get-interfaces",
      "ping",
      "set-user-password",
      "shutdown",
      "suspend-disk",
      "suspend-hybrid",
      "suspend-ram",
    ]);
  });

  it("1: the config must exist on this node", async () => {
    expect(await fails(api(`${AG(999)}/get-osinfo`), 500)).toBe(
      "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist",
    );
    // VM 104 lives on pve2.
    expect(await fails(post(`${AG(104)}/ping`), 500)).toBe(
      "Configuration file 'nodes/pve1/qemu-server/104.conf' does not exist",
    );
  });

  it("2: an `agent` key must be present, even a disabled one; 3: the VM must run", async () => {
    expect(await fails(post(`${AG(104, "pve2")}/ping`), 500)).toBe("No QEMU guest agent configured");
    // VM 110 has agent: 0 and is stopped: step 2 passes, step 3 fails.
    expect(await fails(post(`${AG(110, "pve3")}/ping`), 500)).toBe("VM 110 is not running");
    await ok(
      api("/nodes/pve3/qemu/110/config", {
        method: "PUT",
        body: "delete=agent",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
    expect(await fails(post(`${AG(110, "pve3")}/ping`), 500)).toBe("No QEMU guest agent configured");
    expect(await fails(api(`${AG(103)}/exec-status?pid=1`), 500)).toBe("VM 103 is not running");
  });

  it("4: qemu-ga must answer a guest-ping (3 s timeout, shorter here)", async () => {
    await control("settings", { agentTimeoutMs: 300 });
    // agent: 0 on a running VM: no agent socket, so the failure is immediate.
    await ok(post("/nodes/pve3/qemu/110/status/start"));
    const t0 = Date.now();
    expect(await fails(post(`${AG(110, "pve3")}/ping`), 500)).toBe("QEMU guest agent is not running");
    expect(Date.now() - t0).toBeLessThan(300);
    // A paused VM cannot answer: the ping times out.
    const t1 = Date.now();
    expect(await fails(api(`${AG(105, "pve2")}/get-osinfo`), 500)).toBe("QEMU guest agent is not running");
    expect(Date.now() - t1).toBeGreaterThanOrEqual(290);
    // qemu-ga stopped inside the guest.
    await control("guests/100", { agentRunning: false });
    expect(await fails(post(`${AG(100)}/exec`, { command: ["true"] }), 500)).toBe(
      "QEMU guest agent is not running",
    );
    await control("guests/100", { agentRunning: true });
    expect(await ok(post(`${AG(100)}/ping`))).toEqual({ result: {} });
  });
});

describe("simple commands answer {result: <QGA value>}", () => {
  it("identity, time and zone of a Debian guest", async () => {
    expect(await ok(post(`${AG(100)}/ping`))).toEqual({ result: {} });
    expect(await ok(api(`${AG(100)}/get-host-name`))).toEqual({ result: { "host-name": "pihole" } });
    expect(await ok(api(`${AG(100)}/get-osinfo`))).toEqual({
      result: {
        id: "debian",
        "kernel-release": "6.12.48+deb13-amd64",
        "kernel-version": "#1 SMP PREEMPT_DYNAMIC Debian 6.12.48-1 (2025-09-20)",
        machine: "x86_64",
        name: "Debian GNU/Linux",
        "pretty-name": "Debian GNU/Linux 13 (trixie)",
        version: "13 (trixie)",
        "version-id": "13",
      },
    });
    const { result: ns } = await ok<{ result: number }>(api(`${AG(100)}/get-time`));
    expect(Number.isInteger(ns)).toBe(true);
    expect(Math.abs(ns / 1e6 - Date.now())).toBeLessThan(10_000);
    const { result: tz } = await ok<{ result: { zone: string; offset: number } }>(
      api(`${AG(100)}/get-timezone`),
    );
    expect(["CET", "CEST"]).toContain(tz.zone);
    expect(tz.offset).toBe(tz.zone === "CET" ? 3600 : 7200);
    expect(await ok(api(`${AG(101)}/get-timezone`))).toEqual({ result: { zone: "UTC", offset: 0 } });
  });

  it("users, vCPUs, memory, file systems, network and the agent's own info", async () => {
    const { result: users } = await ok<{ result: { user: string; "login-time": number }[] }>(
      api(`${AG(100)}/get-users`),
    );
    expect(users).toEqual([{ user: "debian", "login-time": expect.any(Number) }]);
    expect(users[0]?.["login-time"] as number).toBeLessThan(Date.now() / 1000);
    expect(await ok(api(`${AG(102)}/get-vcpus`))).toEqual({
      result: [0, 1, 2, 3].map((i) => ({ "logical-id": i, online: true, "can-offline": i > 0 })),
    });
    expect(await ok(api(`${AG(100)}/get-memory-block-info`))).toEqual({ result: { size: 134217728 } });
    const { result: blocks } = await ok<{ result: { "phys-index": number; online: boolean }[] }>(
      api(`${AG(100)}/get-memory-blocks`),
    );
    expect(blocks).toHaveLength(8); // 1 GiB in 128 MiB blocks
    expect(blocks[0]).toEqual({ "phys-index": 0, online: true, "can-offline": false });

    const { result: fs } = await ok<{ result: Record<string, unknown>[] }>(api(`${AG(100)}/get-fsinfo`));
    expect(fs.map((f) => [f.name, f.mountpoint, f.type])).toEqual([
      ["sda1", "/", "ext4"],
      ["sda15", "/boot/efi", "vfat"],
    ]);
    expect(fs[0]).toMatchObject({
      "used-bytes": expect.any(Number),
      "total-bytes": expect.any(Number),
      "total-bytes-privileged": expect.any(Number),
      disk: [
        {
          "bus-type": "scsi",
          bus: 0,
          target: 0,
          unit: 0,
          dev: "/dev/sda1",
          serial: "0QEMU_QEMU_HARDDISK_drive-scsi0",
          "pci-controller": expect.any(Object),
        },
      ],
    });
    expect(fs[0]?.["used-bytes"] as number).toBeLessThan(fs[0]?.["total-bytes"] as number);

    const config = await ok<{ net0: string }>(api("/nodes/pve1/qemu/100/config"));
    const mac = String(/virtio=([0-9A-F:]+)/.exec(config.net0)?.[1]).toLowerCase();
    const { result: nics } = await ok<{ result: Record<string, unknown>[] }>(
      api(`${AG(100)}/network-get-interfaces`),
    );
    expect(nics.map((n) => n.name)).toEqual(["lo", "ens18"]);
    expect(nics[0]?.["ip-addresses"]).toEqual([
      { "ip-address": "127.0.0.1", "ip-address-type": "ipv4", prefix: 8 },
      { "ip-address": "::1", "ip-address-type": "ipv6", prefix: 128 },
    ]);
    expect(nics[1]).toMatchObject({
      "hardware-address": mac,
      "ip-addresses": [
        { "ip-address": "192.168.1.200", "ip-address-type": "ipv4", prefix: 24 },
        { "ip-address": expect.stringMatching(/^fe80::/), "ip-address-type": "ipv6", prefix: 64 },
      ],
      statistics: { "rx-bytes": expect.any(Number), "tx-packets": expect.any(Number), "rx-errs": 0 },
    });

    const { result: info } = await ok<{
      result: { version: string; supported_commands: Record<string, unknown>[] };
    }>(api(`${AG(100)}/info`));
    expect(info.version).toBe("10.0.2");
    expect(info.supported_commands).toContainEqual({
      enabled: true,
      name: "guest-exec",
      "success-response": true,
    });
    expect(info.supported_commands).toContainEqual({
      enabled: true,
      name: "guest-shutdown",
      "success-response": false,
    });
  });

  it("fstrim reports per mount point; the legacy POST /agent takes command=", async () => {
    const { result } = await ok<{ result: { paths: Record<string, unknown>[] } }>(post(`${AG(100)}/fstrim`));
    expect(result.paths.map((p) => p.path)).toEqual(["/", "/boot/efi"]);
    expect(result.paths[0]).toEqual({ path: "/", trimmed: expect.any(Number), minimum: 0 });
    expect(await ok(postForm(AG(100), "command=get-host-name"))).toEqual({
      result: { "host-name": "pihole" },
    });
    expect(await fails(postForm(AG(100), "command=exec"), 400)).toContain(
      "does not have a value in the enumeration",
    );
  });
});

describe("exec and exec-status", () => {
  it("runs argv, returns {pid}, and reports stdout and the exit code once", async () => {
    const pid = await start(100, ["echo", "hello", "world"]);
    expect(pid).toBeGreaterThan(1);
    expect(await status(100, pid)).toEqual({ exited: 1, exitcode: 0, "out-data": "hello world\n" });
    // qemu-ga forgets a pid once it reported the exit.
    expect(await fails(api(`${AG(100)}/exec-status?pid=${pid}`), 500)).toBe(
      "Agent error: Invalid parameter 'pid'",
    );
    expect(await fails(api(`${AG(100)}/exec-status?pid=424242`), 500)).toBe(
      "Agent error: Invalid parameter 'pid'",
    );
  });

  it("passes input-data as stdin", async () => {
    expect(await run(100, ["cat"], "line one\nline two\n")).toEqual({
      exited: 1,
      exitcode: 0,
      "out-data": "line one\nline two\n",
    });
    expect(await run(100, ["wc", "-l"], "a\nb\nc\n")).toEqual({ exited: 1, exitcode: 0, "out-data": "3\n" });
    expect(
      await fails(post(`${AG(100)}/exec`, { command: ["cat"], "input-data": "x".repeat(65537) }), 400),
    ).toContain("value may only be 65536 characters long");
  });

  it("reports stderr and non-zero exits like the real programs", async () => {
    expect(await run(100, ["ls", "/nonexistent"])).toEqual({
      exited: 1,
      exitcode: 2,
      "err-data": "ls: cannot access '/nonexistent': No such file or directory\n",
    });
    expect(await run(100, ["false"])).toEqual({ exited: 1, exitcode: 1 });
    expect(await run(100, sh("unknown"))).toEqual({
      exited: 1,
      exitcode: 127,
      "err-data": "sh: 1: unknown: not found\n",
    });
    expect(await run(100, sh("echo out; echo err >&2; exit 3"))).toEqual({
      exited: 1,
      exitcode: 3,
      "out-data": "out\n",
      "err-data": "err\n",
    });
    expect(await run(100, ["cat", "/etc/shadow"])).toEqual({
      exited: 1,
      exitcode: 1,
      "err-data": "cat: /etc/shadow: Permission denied\n",
    });
  });

  it("runs argv[0] literally: a scalar command is one program name (PVE 8+)", async () => {
    const msg =
      "Agent error: Guest agent command failed, error was 'Failed to execute child process “ls -la” (No such file or directory)'";
    expect(await fails(post(`${AG(100)}/exec`, { command: "ls -la" }), 500)).toBe(msg);
    expect(await fails(postForm(`${AG(100)}/exec`, "command=ls%20-la"), 500)).toBe(msg);
    // Repeated form keys are the array.
    const { pid } = await ok<{ pid: number }>(
      postForm(`${AG(100)}/exec`, "command=ls&command=-a&command=/home"),
    );
    expect((await status(100, pid))["out-data"]).toBe(".\n..\ndebian\n");
    expect(await fails(post(`${AG(100)}/exec`, { command: ["nosuchprog"] }), 500)).toBe(
      "Agent error: Guest agent command failed, error was 'Failed to execute child process “nosuchprog” (No such file or directory)'",
    );
    expect(await fails(post(`${AG(100)}/exec`, { command: ["/etc/hostname"] }), 500)).toContain(
      "(Permission denied)",
    );
    expect(await fails(post(`${AG(100)}/exec`, { command: [] }), 500)).toBe(
      "command or input-data (or both) required",
    );
    expect(await fails(post(`${AG(100)}/exec`, {}), 400)).toBe(
      JSON.stringify({ command: "property is missing and it is not optional" }),
    );
  });

  it("has a shell with pipes, lists, redirections and a file system that keeps what it writes", async () => {
    const r = await run(
      100,
      sh(
        "echo hi | wc -c; false && echo no; false || echo yes; echo a > /tmp/x; echo b >> /tmp/x; cat /tmp/x; grep -c . /tmp/x; hostname; whoami; id -u; uname -r",
      ),
    );
    expect(r).toEqual({
      exited: 1,
      exitcode: 0,
      "out-data": "3\nyes\na\nb\n2\npihole\nroot\n0\n6.12.48+deb13-amd64\n",
    });
    expect(await ok(read(100, "/tmp/x"))).toEqual({ content: "a\nb\n", "bytes-read": 4 });
    expect(
      (await run(100, sh("for f in 1 2; do echo n$f; done; if [ -d /etc ]; then echo dir; fi; echo $((1))")))[
        "out-data"
      ],
    ).toMatch(/^n1\nn2\ndir\n/);
    expect((await run(100, ["head", "-n", "1", "/etc/os-release"]))["out-data"]).toBe(
      'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n',
    );
    expect((await run(100, ["df", "-h", "/"]))["out-data"]).toMatch(
      /^Filesystem +Size +Used Avail Use% Mounted on\n\/dev\/sda1 +\S+ +\S+ +\S+ +\d+% \/\n$/,
    );
    expect((await run(100, ["uptime"]))["out-data"]).toMatch(
      /^ \d\d:\d\d:\d\d up 12 days, +\d+:\d\d, +1 user, +load average: [\d.]+, [\d.]+, [\d.]+\n$/,
    );
    expect((await run(100, sh("echo x > /nodir/f")))["err-data"]).toBe(
      "sh: 1: cannot create /nodir/f: Directory nonexistent\n",
    );
    expect((await run(100, ["bash", "-c", "nope"]))["err-data"]).toBe(
      "bash: line 1: nope: command not found\n",
    );
    expect(await run(100, sh("echo 'open"))).toEqual({
      exited: 1,
      exitcode: 2,
      "err-data": "sh: 1: Syntax error: Unterminated quoted string\n",
    });
  });

  it("lets slow commands run: exited 0 until done, then the result once", async () => {
    await control("settings", { execTimeScale: 0.2 });
    const pid = await start(100, sh("echo start; sleep 2; echo done"));
    expect(await status(100, pid)).toEqual({ exited: 0 });
    await sleep(500);
    expect(await status(100, pid)).toEqual({ exited: 1, exitcode: 0, "out-data": "start\ndone\n" });
    expect(await fails(api(`${AG(100)}/exec-status?pid=${pid}`), 500)).toBe(
      "Agent error: Invalid parameter 'pid'",
    );
    // An endless program never exits.
    const forever = await start(100, ["cat", "/dev/zero"]);
    await sleep(50);
    expect(await status(100, forever)).toEqual({ exited: 0 });
    expect(await status(100, forever)).toEqual({ exited: 0 });
  });

  it("caps captured output per stream and says so", async () => {
    await control("settings", { execOutputLimitBytes: 1000 });
    const r = await run(100, sh("yes | head -c 5000; seq 1 1000 >&2"));
    expect(r["out-data"]).toBe("y\n".repeat(500));
    expect(r["out-truncated"]).toBe(1);
    expect(r["err-data"]).toHaveLength(1000);
    expect(r["err-truncated"]).toBe(1);
    expect(await run(100, ["sh", "-c", "yes | head -n 2"])).toEqual({
      exited: 1,
      exitcode: 0,
      "out-data": "y\ny\n",
    });
  });

  it("returns guest bytes as PVE does: decoded from base64, then JSON-encoded once more", async () => {
    // PVE decodes out-data to bytes and its JSON encoder treats them as Latin-1 characters.
    expect((await run(100, ["echo", "héllo"]))["out-data"]).toBe("h\u00c3\u00a9llo\n");
    await ok(post(`${AG(100)}/file-write`, { file: "/tmp/ü.txt", content: "ü" }));
    expect(await ok(read(100, "/tmp/ü.txt"))).toEqual({ content: "\u00c3\u00bc", "bytes-read": 2 });
    expect((await run(100, ["ls", "/tmp"]))["out-data"]).toBe("\u00c3\u00bc.txt\n");
    expect(await fails(post(`${AG(100)}/exec`, { command: ["grüß"] }), 500)).toContain(
      "“grüß” (No such file or directory)",
    );
  });

  it("reports a signal instead of an exit code when the process is killed", async () => {
    expect(await run(100, sh("echo before; kill -9 $$; echo after"))).toEqual({
      exited: 1,
      signal: 9,
      "out-data": "before\n",
    });
  });
});

describe("file-read and file-write", () => {
  it("round-trips text and binary, truncating on write", async () => {
    expect(
      await ok(post(`${AG(100)}/file-write`, { file: "/root/note.txt", content: "first version, long\n" })),
    ).toBeNull();
    await ok(post(`${AG(100)}/file-write`, { file: "/root/note.txt", content: "second\n" }));
    expect(await ok(read(100, "/root/note.txt"))).toEqual({ content: "second\n", "bytes-read": 7 });
    // encode=0: the content is base64 already.
    const bytes = "\x00\x01\xfe\xffbin";
    await ok(post(`${AG(100)}/file-write`, { file: "/tmp/b.bin", content: btoa(bytes), encode: 0 }));
    expect(await ok(read(100, "/tmp/b.bin"))).toEqual({ content: bytes, "bytes-read": 7 });
    expect(await ok(read(100, "/tmp/b.bin", "&decode=0"))).toEqual({ content: btoa(bytes), "bytes-read": 7 });
    expect((await run(100, ["cat", "/root/note.txt"]))["out-data"]).toBe("second\n");
    // Invalid base64 fails after the file was opened (and truncated).
    expect(
      await fails(
        post(`${AG(100)}/file-write`, { file: "/root/note.txt", content: "not base64!", encode: 0 }),
        500,
      ),
    ).toBe("Agent error: Base64 data is not valid");
    expect(await ok(read(100, "/root/note.txt"))).toEqual({ content: "", "bytes-read": 0 });
    expect(await fails(post(`${AG(100)}/file-write`, { file: "/x", content: "y".repeat(61441) }), 400)).toBe(
      JSON.stringify({ content: "value may only be 61440 characters long" }),
    );
  });

  it("reads seeded files, the binary ones and a log that grows with uptime", async () => {
    expect(await ok(read(100, "/etc/hostname"))).toEqual({ content: "pihole\n", "bytes-read": 7 });
    const passwd = await ok<ReadResult>(read(100, "/etc/passwd"));
    expect(passwd.content).toMatch(/^root:x:0:0:root:\/root:\/bin\/bash\n/);
    expect(passwd.content).toContain("\ndebian:x:1000:1000:debian:/home/debian:/bin/bash\n");
    const elf = await ok<ReadResult>(read(100, "/usr/bin/true"));
    expect(elf.content.slice(0, 4)).toBe("\x7fELF");
    expect(elf["bytes-read"]).toBe(elf.content.length);
    const log = await ok<ReadResult>(read(100, "/var/log/app.log"));
    const lines = log.content.split("\n").filter(Boolean);
    const width = (lines[0] as string).length + 1;
    const current = await ok<{ uptime: number }>(api("/nodes/pve1/qemu/100/status/current"));
    expect(lines.length).toBe(Math.floor(current.uptime / 30) + 1);
    expect(log["bytes-read"]).toBe(lines.length * width);
    expect(lines[lines.length - 1]).toMatch(/INFO {2}\[worker-\d\] heartbeat seq=\d{6} queue=\d\d$/);
    expect((await ok<ReadResult>(read(101, "/var/log/syslog"))).content).toMatch(
      / web-01 healthcheck\[\d+\]: probe \d{6} ok/,
    );
  });

  it("pages with offset and count, and returns per-chunk base64 with decode=0 (PVE 9.1.5+)", async () => {
    const whole = await ok<ReadResult>(read(100, "/etc/os-release"));
    const page = await ok<ReadResult>(read(100, "/etc/os-release", "&offset=13&count=20"));
    expect(page).toEqual({ content: whole.content.slice(13, 33), "bytes-read": 20, truncated: 1 });
    expect(await ok(read(100, "/etc/os-release", `&offset=${whole["bytes-read"]}`))).toEqual({
      content: "",
      "bytes-read": 0,
    });
    // 1 MiB is not a multiple of 3: the first chunk's base64 ends in padding mid-string.
    const libc = await ok<ReadResult>(
      read(100, "/usr/lib/x86_64-linux-gnu/libc.so.6", `&count=${1048576 + 3}&decode=0`),
    );
    expect(libc["bytes-read"]).toBe(1048579);
    expect(libc.truncated).toBe(1);
    const first = libc.content.slice(0, 1398104);
    expect(first.endsWith("==")).toBe(true);
    expect(libc.content).toHaveLength(1398104 + 4);
    expect(b64bytes(first).slice(0, 4)).toBe("\x7fELF");
    expect(await fails(read(100, "/etc/hostname", "&count=0"), 400)).toBe(
      JSON.stringify({ count: "value must have a minimum value of 1" }),
    );
    const dev = await ok<ReadResult>(read(100, "/dev/zero", "&count=5"));
    expect(dev).toEqual({ content: "\0\0\0\0\0", "bytes-read": 5, truncated: 1 });
  });

  it("before 9.1.5, offset/count/decode are unknown parameters", async () => {
    await control("settings", { agentFileReadParams: false });
    expect(await fails(read(100, "/etc/hostname", "&offset=1"), 400)).toBe(
      JSON.stringify({
        offset: "property is not defined in schema and the schema does not allow additional properties",
      }),
    );
    expect(await fails(read(100, "/etc/hostname", "&decode=0&count=3"), 400)).toContain('"decode"');
    expect(await ok(read(100, "/etc/hostname"))).toEqual({ content: "pihole\n", "bytes-read": 7 });
  });

  it("fails like qemu-ga: missing, directory, permission, read-only", async () => {
    expect(await fails(read(100, "/nope"), 500)).toBe(
      "Agent error: failed to open file '/nope' (mode: 'r'): No such file or directory",
    );
    expect(await fails(read(100, "/etc"), 500)).toBe("Agent error: failed to read file: Is a directory");
    expect(await fails(read(100, "/etc/shadow"), 500)).toBe(
      "Agent error: failed to open file '/etc/shadow' (mode: 'r'): Permission denied",
    );
    expect(await fails(post(`${AG(100)}/file-write`, { file: "/no/dir/f", content: "x" }), 500)).toBe(
      "Agent error: failed to open file '/no/dir/f' (mode: 'wb'): No such file or directory",
    );
    expect(await fails(post(`${AG(100)}/file-write`, { file: "/etc", content: "x" }), 500)).toBe(
      "Agent error: failed to open file '/etc' (mode: 'wb'): Is a directory",
    );
    // Home Assistant OS has a read-only root.
    expect(await fails(post(`${AG(111, "pve3")}/file-write`, { file: "/etc/x", content: "x" }), 500)).toBe(
      "Agent error: failed to open file '/etc/x' (mode: 'wb'): Read-only file system",
    );
  });
});

describe("fsfreeze", () => {
  it("freezes, refuses writes and most commands while frozen, thaws", async () => {
    expect(await ok(post(`${AG(100)}/fsfreeze-status`))).toEqual({ result: "thawed" });
    expect(await ok(post(`${AG(100)}/fsfreeze-freeze`))).toEqual({ result: 2 });
    expect(await ok(post(`${AG(100)}/fsfreeze-status`))).toEqual({ result: "frozen" });
    expect(await fails(post(`${AG(100)}/file-write`, { file: "/tmp/f", content: "x" }), 500)).toBe(
      "Agent error: Command guest-file-open has been disabled: the agent is in frozen state",
    );
    expect(await fails(post(`${AG(100)}/exec`, { command: sh("echo x > /tmp/f") }), 500)).toBe(
      "Agent error: Command guest-exec has been disabled: the agent is in frozen state",
    );
    // Simple commands relay QGA's error reply with status 200.
    expect(await ok(api(`${AG(100)}/get-osinfo`))).toEqual({
      result: {
        error: {
          class: "CommandNotFound",
          desc: "Command guest-get-osinfo has been disabled: the agent is in frozen state",
        },
      },
    });
    expect(await ok(post(`${AG(100)}/fsfreeze-freeze`))).toMatchObject({
      result: { error: { class: "CommandNotFound" } },
    });
    expect(await ok(post(`${AG(100)}/ping`))).toEqual({ result: {} });
    expect(await ok(post(`${AG(100)}/fsfreeze-thaw`))).toEqual({ result: 2 });
    expect(await ok(post(`${AG(100)}/fsfreeze-thaw`))).toEqual({ result: 0 });
    expect(await ok(post(`${AG(100)}/file-write`, { file: "/tmp/f", content: "x" }))).toBeNull();
  });
});

describe("power commands", () => {
  it("shutdown answers null and the VM stops", async () => {
    expect(await ok(post(`${AG(100)}/shutdown`))).toEqual({ result: null });
    expect((await ok<{ status: string }>(api("/nodes/pve1/qemu/100/status/current"))).status).toBe("stopped");
    expect(await fails(post(`${AG(100)}/ping`), 500)).toBe("VM 100 is not running");
  });

  it("takes a moment: the agent is gone at once, the VM follows", async () => {
    await control("settings", { taskDurationMs: 300 });
    await ok(post(`${AG(102)}/suspend-disk`));
    expect((await ok<{ status: string }>(api("/nodes/pve1/qemu/102/status/current"))).status).toBe("running");
    expect(await fails(post(`${AG(102)}/ping`), 500)).toBe("QEMU guest agent is not running");
    await sleep(400);
    expect((await ok<{ status: string }>(api("/nodes/pve1/qemu/102/status/current"))).status).toBe("stopped");
  });

  it("suspend-ram leaves QEMU running but suspended until it is resumed", async () => {
    expect(await ok(post(`${AG(100)}/suspend-ram`))).toEqual({ result: null });
    const cur = await ok<{ status: string; qmpstatus: string }>(api("/nodes/pve1/qemu/100/status/current"));
    expect([cur.status, cur.qmpstatus]).toEqual(["running", "suspended"]);
    expect(await fails(post(`${AG(100)}/ping`), 500)).toBe("QEMU guest agent is not running");
    await ok(post("/nodes/pve1/qemu/100/status/resume"));
    expect(await ok(post(`${AG(100)}/ping`))).toEqual({ result: {} });
  });

  it("a restart forgets exec jobs and thaws the file systems", async () => {
    await control("settings", { execTimeScale: 100 });
    const pid = await start(100, ["sleep", "1"]);
    await ok(post(`${AG(100)}/fsfreeze-freeze`));
    await ok(post("/nodes/pve1/qemu/100/status/stop"));
    await ok(post("/nodes/pve1/qemu/100/status/start"));
    expect(await ok(post(`${AG(100)}/fsfreeze-status`))).toEqual({ result: "thawed" });
    expect(await fails(api(`${AG(100)}/exec-status?pid=${pid}`), 500)).toBe(
      "Agent error: Invalid parameter 'pid'",
    );
  });
});

describe("set-user-password", () => {
  it("answers {result: {}} for a known user and an agent error otherwise", async () => {
    expect(
      await ok(post(`${AG(100)}/set-user-password`, { username: "debian", password: "s3cret-pw" })),
    ).toEqual({ result: {} });
    expect(
      await ok(
        post(`${AG(100)}/set-user-password`, { username: "root", password: "$y$j9T$abc$def", crypted: 1 }),
      ),
    ).toEqual({ result: {} });
    expect(
      await fails(
        post(`${AG(100)}/set-user-password`, { username: "nobody-here", password: "s3cret-pw" }),
        500,
      ),
    ).toBe("Agent error: child process has failed to set user password");
    expect(
      await fails(post(`${AG(100)}/set-user-password`, { username: "debian", password: "1234" }), 400),
    ).toBe(JSON.stringify({ password: "value must be at least 5 characters long" }));
  });
});

describe("privileges (PVE 9 VM.GuestAgent.*)", () => {
  const CASES: [string, string, Record<string, unknown> | null, string][] = [
    ["GET", "get-osinfo", null, "VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted"],
    ["POST", "ping", {}, "VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted"],
    [
      "POST",
      "fsfreeze-status",
      {},
      "VM.GuestAgent.Audit|VM.GuestAgent.FileSystemMgmt|VM.GuestAgent.Unrestricted",
    ],
    ["POST", "fsfreeze-freeze", {}, "VM.GuestAgent.FileSystemMgmt|VM.GuestAgent.Unrestricted"],
    ["POST", "fstrim", {}, "VM.GuestAgent.FileSystemMgmt|VM.GuestAgent.Unrestricted"],
    ["GET", "file-read?file=/etc/hostname", null, "VM.GuestAgent.FileRead|VM.GuestAgent.Unrestricted"],
    [
      "POST",
      "file-write",
      { file: "/tmp/x", content: "x" },
      "VM.GuestAgent.FileWrite|VM.GuestAgent.Unrestricted",
    ],
    ["POST", "shutdown", {}, "VM.PowerMgmt|VM.GuestAgent.Unrestricted"],
    ["POST", "suspend-ram", {}, "VM.PowerMgmt|VM.GuestAgent.Unrestricted"],
    ["POST", "exec", { command: ["true"] }, "VM.GuestAgent.Unrestricted"],
    ["GET", "exec-status?pid=1", null, "VM.GuestAgent.Unrestricted"],
    ["POST", "set-user-password", { username: "root", password: "secret" }, "VM.GuestAgent.Unrestricted"],
    ["POST", "", { command: "ping" }, "VM.GuestAgent.Unrestricted|VM.GuestAgent.Unrestricted"],
  ];

  it("answers 403 with the privileges each endpoint needs", async () => {
    await control("settings", {
      deniedPrivileges: [
        "VM.GuestAgent.Audit",
        "VM.GuestAgent.FileRead",
        "VM.GuestAgent.FileWrite",
        "VM.GuestAgent.FileSystemMgmt",
        "VM.GuestAgent.Unrestricted",
        "VM.PowerMgmt",
      ],
    });
    for (const [method, sub, body, privs] of CASES) {
      const path = sub ? `${AG(100)}/${sub}` : AG(100);
      const res = method === "GET" ? api(path) : post(path, body ?? {});
      expect(await fails(res, 403), sub).toBe(`Permission check failed (/vms/100, ${privs})`);
    }
    // The index is open to every user; the check runs before parameter validation.
    await ok(api(AG(100)));
    expect(await fails(post(`${AG(100)}/exec`, {}), 403)).toBe(
      "Permission check failed (/vms/100, VM.GuestAgent.Unrestricted)",
    );
  });

  it("Unrestricted alone satisfies every agent check; a narrower role is narrower", async () => {
    await control("settings", {
      deniedPrivileges: ["VM.GuestAgent.Audit", "VM.PowerMgmt", "VM.GuestAgent.FileRead"],
    });
    await ok(api(`${AG(100)}/get-osinfo`));
    await ok(read(100, "/etc/hostname"));
    await control("settings", { deniedPrivileges: ["VM.GuestAgent.Unrestricted"] });
    await ok(api(`${AG(100)}/get-osinfo`));
    await ok(read(100, "/etc/hostname"));
    expect(await fails(post(`${AG(100)}/exec`, { command: ["true"] }), 403)).toBe(
      "Permission check failed (/vms/100, VM.GuestAgent.Unrestricted)",
    );
    await control("settings", { deniedPrivileges: [] });
    await ok(post(`${AG(100)}/exec`, { command: ["true"] }));
  });

  it("applies to the other endpoints too", async () => {
    await control("settings", { deniedPrivileges: ["VM.PowerMgmt"] });
    expect(await fails(post("/nodes/pve1/qemu/100/status/stop"), 403)).toBe(
      "Permission check failed (/vms/100, VM.PowerMgmt)",
    );
    await ok(api("/nodes/pve1/qemu/100/status/current"));
  });
});

describe("a Windows guest", () => {
  beforeEach(async () => {
    await ok(post("/nodes/pve1/qemu/103/status/start"));
  });

  it("reports its identity the way the Windows agent does", async () => {
    expect(await ok(api(`${AG(103)}/get-osinfo`))).toEqual({
      result: {
        id: "mswindows",
        "kernel-release": "26100",
        "kernel-version": "10.0",
        machine: "x86_64",
        name: "Microsoft Windows",
        "pretty-name": "Windows 11 Pro",
        variant: "client",
        "variant-id": "client",
        version: "Microsoft Windows 11",
        "version-id": "11",
      },
    });
    const { result: tz } = await ok<{ result: { zone: string } }>(api(`${AG(103)}/get-timezone`));
    expect(tz.zone).toMatch(/^W\. Europe (Standard|Daylight) Time$/);
    const { result: nics } = await ok<{ result: { name: string }[] }>(
      api(`${AG(103)}/network-get-interfaces`),
    );
    expect(nics.map((n) => n.name)).toEqual(["Ethernet", "Loopback Pseudo-Interface 1"]);
    const { result: fs } = await ok<{ result: Record<string, unknown>[] }>(api(`${AG(103)}/get-fsinfo`));
    expect(fs[0]).toMatchObject({ mountpoint: "C:\\", type: "NTFS" });
    expect(await ok(api(`${AG(103)}/get-memory-blocks`))).toEqual({
      result: {
        error: { class: "CommandNotFound", desc: "Command guest-get-memory-blocks has been disabled" },
      },
    });
    const { result: users } = await ok<{ result: Record<string, unknown>[] }>(api(`${AG(103)}/get-users`));
    expect(users).toEqual([]); // logged in 95 s after boot; it just started
  });

  it("runs cmd.exe, PowerShell and ipconfig, with CRLF and Windows exit codes", async () => {
    expect(await run(103, ["cmd.exe", "/c", "echo hello & hostname & whoami"])).toEqual({
      exited: 1,
      exitcode: 0,
      "out-data": "hello \r\nwin11\r\nnt authority\\system\r\n",
    });
    expect(await run(103, ["cmd", "/c", "nosuch"])).toEqual({
      exited: 1,
      exitcode: 9009,
      "err-data":
        "'nosuch' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
    });
    expect(
      (await run(103, ["powershell", "-Command", "Write-Output 'hi'; $env:COMPUTERNAME"]))["out-data"],
    ).toBe("hi\r\nWIN11\r\n");
    const ps = await run(103, ["powershell.exe", "-Command", "Get-Nothing"]);
    expect(ps.exitcode).toBe(1);
    expect(ps["err-data"]).toMatch(
      /^Get-Nothing : The term 'Get-Nothing' is not recognized as the name of a cmdlet/,
    );
    const ip = await run(103, ["ipconfig"]);
    expect(ip["out-data"]).toMatch(
      /\r\nEthernet adapter Ethernet:\r\n[\s\S]*IPv4 Address[. ]+: 192\.168\.1\.203\r\n/,
    );
    expect((await run(103, ["cmd.exe", "/c", "dir C:\\Users\\homelab"]))["out-data"]).toMatch(
      / Directory of C:\\Users\\homelab\r\n[\s\S]*<DIR> +Documents\r\n/,
    );
    expect(await fails(post(`${AG(103)}/exec`, { command: ["ls"] }), 500)).toBe(
      "Agent error: Guest agent command failed, error was 'Failed to execute child process (No such file or directory)'",
    );
  });

  it("reads and writes files with Windows paths and errors", async () => {
    const hosts = await ok<ReadResult>(read(103, "C:\\Windows\\System32\\drivers\\etc\\hosts"));
    expect(hosts.content).toMatch(/^# Copyright \(c\) 1993-2009 Microsoft Corp\.\r\n/);
    await ok(post(`${AG(103)}/file-write`, { file: "C:\\Users\\Public\\note.txt", content: "hi\r\n" }));
    expect(await ok(read(103, "c:/users/public/NOTE.TXT"))).toEqual({ content: "hi\r\n", "bytes-read": 4 });
    expect((await run(103, ["cmd.exe", "/c", "type C:\\Users\\Public\\note.txt"]))["out-data"]).toBe(
      "hi\r\n",
    );
    expect(await fails(read(103, "C:\\nope.txt"), 500)).toBe(
      "Agent error: failed to open file 'C:\\nope.txt': The system cannot find the file specified.",
    );
    expect(await fails(read(103, "C:\\pagefile.sys"), 500)).toBe(
      "Agent error: failed to open file 'C:\\pagefile.sys': The process cannot access the file because it is being used by another process.",
    );
    expect(
      await fails(
        post(`${AG(103)}/set-user-password`, { username: "homelab", password: "x$1$abc", crypted: 1 }),
        500,
      ),
    ).toBe("Agent error: this feature or command is not currently supported");
    expect(
      await ok(post(`${AG(103)}/set-user-password`, { username: "HOMELAB", password: "s3cret-pw" })),
    ).toEqual({ result: {} });
  });
});

describe("the request log", () => {
  it("records agent calls like any other", async () => {
    await env.PVE!.fetch("http://pve/_sim/requests", { method: "DELETE" });
    await post(`${AG(100)}/exec`, { command: ["ls", "-la"] });
    const res = await env.PVE!.fetch("http://pve/_sim/requests");
    const { requests } = (await res.json()) as {
      requests: { method: string; path: string; body: unknown; status: number }[];
    };
    expect(requests).toEqual([
      expect.objectContaining({
        method: "POST",
        path: "/nodes/pve1/qemu/100/agent/exec",
        body: { command: ["ls", "-la"] },
        status: 200,
      }),
    ]);
  });
});
