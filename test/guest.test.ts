import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_SESSION } from "../src/server/server";
import type { SessionApi } from "../src/session/session";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { sim } from "./helpers/sim";

let client: TestClient;
const sessionStub = () => env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION));
const session = () => sessionStub() as unknown as SessionApi;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  await sim.agentSettings({ agentTimeoutMs: 100, execTimeScale: 0.1 });
});

describe("guest_exec and guest_exec_status", () => {
  it("runs a command given as argv and returns its output", async () => {
    const { text, data } = await ok("guest_exec", { vmid: 100, argv: ["uname", "-s"] });
    expect(data).toMatchObject({ vmid: 100, status: "exited", exitcode: 0, stdout: "Linux\n" });
    expect(text).toBe(`uname -s (VM 100, pid ${data.pid}): exit code 0.\nstdout:\nLinux\n`);
  });

  it("splits a command line like a shell, and takes stdin", async () => {
    expect((await ok("guest_exec", { vmid: 100, command: "echo 'hello   world' \"a b\"" })).data.stdout).toBe(
      "hello   world a b\n",
    );
    expect((await ok("guest_exec", { vmid: 100, argv: ["cat"], input: "from stdin" })).data.stdout).toBe(
      "from stdin",
    );
    expect(
      (await ok("guest_exec", { vmid: 101, argv: ["sh", "-c", "echo one two | wc -w"] })).data.stdout.trim(),
    ).toBe("2");
    expect(await fails("guest_exec", { vmid: 100, command: "echo 'oops" })).toBe(
      "command has an unclosed single quote.",
    );
  });

  it("runs a command line with shell syntax through the guest's shell, and says so", async () => {
    const both = await ok("guest_exec", { vmid: 100, command: "echo one; echo done" });
    expect(both.data).toMatchObject({ status: "exited", exitcode: 0, stdout: "one\ndone\n", shell: "sh -c" });
    expect(both.text).toMatch(/^Ran through the guest's shell \(sh -c\)/);
    expect(both.text).toContain("/bin/sh -c 'echo one; echo done' (VM 100,");
    const piped = await ok("guest_exec", { vmid: 100, command: "cat /etc/os-release | head -2" });
    expect(piped.data.stdout.split("\n").filter(Boolean)).toHaveLength(2);
    expect((await ok("guest_exec", { vmid: 100, command: 'x=5 && echo "v=$x"' })).data.stdout).toBe("v=5\n");
    // Operators inside single quotes are text, and an argv runs as given: no shell either way.
    const quoted = await ok("guest_exec", { vmid: 100, command: "echo 'a; b | c'" });
    expect(quoted.data).toMatchObject({ stdout: "a; b | c\n" });
    expect(quoted.data.shell).toBeUndefined();
    expect((await ok("guest_exec", { vmid: 100, argv: ["echo", "x;", "|", "y"] })).data.stdout).toBe(
      "x; | y\n",
    );
  });

  it("runs a command line with shell syntax through cmd /c on Windows", async () => {
    await ok("start_vm", { vmid: 103 });
    const result = await ok("guest_exec", { vmid: 103, command: "echo one & echo two" });
    expect(result.data).toMatchObject({ status: "exited", exitcode: 0, shell: "cmd.exe /c" });
    expect(result.data.stdout).toMatch(/^one \r?\ntwo\r?\n$/);
  });

  it("command and argv each have one type; exactly one of them is given", async () => {
    const tool = (await client.listTools()).find((t) => t.name === "guest_exec");
    const schema = tool?.inputSchema as { properties: Record<string, { type?: string; anyOf?: unknown }> };
    const props = schema.properties;
    expect(props.command).toMatchObject({ type: "string" });
    expect(props.argv).toMatchObject({ type: "array" });
    expect(props.command?.anyOf).toBeUndefined();
    await sim.clearRequests();
    expect(await fails("guest_exec", { vmid: 100 })).toContain("Give command");
    expect(await fails("guest_exec", { vmid: 100, command: "id", argv: ["id"] })).toBe(
      "Give command or argv, not both.",
    );
    expect(await sim.requests()).toEqual([]);
  });

  it("reports a non-zero exit with stderr, and a program that does not exist", async () => {
    const failed = await ok("guest_exec", { vmid: 100, argv: ["ls", "/nonexistent"] });
    expect(failed.data).toMatchObject({
      exitcode: 2,
      stderr: "ls: cannot access '/nonexistent': No such file or directory\n",
    });
    expect(failed.text).toContain("exit code 2.\nstderr:\n");
    const missing = await fails("guest_exec", { vmid: 100, argv: ["no-such-program"] });
    expect(missing).toContain("The guest agent in VM 100 reported: Guest agent command failed");
    expect(missing).toContain("The program is not installed or not on the agent's PATH");
  });

  it("a slow command returns a job; its result is kept and can be read again, also after an eviction", async () => {
    const started = await ok("guest_exec", { vmid: 100, argv: ["sleep", "15"], wait_seconds: 0 });
    expect(started.data.status).toBe("running");
    expect(started.text).toMatch(
      /^Still running after .*: sleep 15 \(VM 100, pid \d+\)\. Job \S+ stays tracked; read it with guest_exec_status\.$/,
    );
    const job = started.data.job as string;
    await sleep(1700);
    const first = await ok("guest_exec_status", { job });
    expect(first.data).toMatchObject({ status: "exited", exitcode: 0 });
    const again = await ok("guest_exec_status", { job });
    expect(again.data).toEqual(first.data);
    await evictDurableObject(sessionStub());
    const afterEviction = await ok("guest_exec_status", { vmid: 100, pid: started.data.pid });
    expect(afterEviction.data).toEqual(first.data);
  });

  it("sends progress notifications while a command runs, when the client asks", async () => {
    const seen: { progress: number; message?: string }[] = [];
    const result = await client.callWithProgress("guest_exec", { vmid: 100, argv: ["sleep", "12"] }, (p) =>
      seen.push(p),
    );
    expect(result.isError ?? false).toBe(false);
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen[0]?.message).toMatch(/^sleep 12: running for /);
  });

  it("follows the job on the Session's alarm when nobody asks", async () => {
    const started = await ok("guest_exec", { vmid: 100, argv: ["sleep", "5"], wait_seconds: 0 });
    // The Session checks a young job every two seconds.
    await sleep(2200);
    await evictDurableObject(sessionStub());
    // Whether the alarm already fired on its own or runs now, no tool asked for the result.
    await runDurableObjectAlarm(sessionStub());
    const stored = await session().findExecJob(100, started.data.pid);
    expect(stored).toMatchObject({ status: "exited", exitcode: 0, command: "sleep 5" });
  });

  it("pages long output and says when the agent truncated it", async () => {
    await sim.agentSettings({ execOutputLimitBytes: 40_000 });
    const big = await ok("guest_exec", { vmid: 100, argv: ["sh", "-c", "yes | head -c 100000"] });
    expect(big.data.stdout.length).toBe(16 * 1024);
    expect(big.data.stdoutNext).toBe(16 * 1024);
    expect(big.text).toContain(
      `more characters of stdout: guest_exec_status job=${big.data.job} offset=16384.`,
    );
    expect(big.text).toContain("(the guest agent cut stdout at its 16 MiB limit)");
    const next = await ok("guest_exec_status", { job: big.data.job, offset: 16_384, max_bytes: 100_000 });
    expect(next.data.stdout.length).toBe(40_000 - 16_384);
    expect(next.data.stdoutNext).toBeUndefined();
  });

  it("a pid this session did not start is not read: its result belongs to whoever started it", async () => {
    await sim.clearRequests();
    const message = await fails("guest_exec_status", { vmid: 100, pid: 424242 });
    expect(message).toBe(
      "pid 424242 on VM 100 was not started by guest_exec in this session, so its result is not read here: the guest agent hands a result out once, and it belongs to whoever started the command. Nothing was sent.",
    );
    expect(await sim.requests()).toEqual([]);
  }, 10_000);

  it("refuses input over the agent's limit before anything is sent", async () => {
    await sim.clearRequests();
    expect(await fails("guest_exec", { vmid: 100, argv: ["cat"], input: "x".repeat(65_537) })).toContain(
      "input may be at most 65536 characters",
    );
    expect(await sim.requests()).toEqual([]);
  });

  it("audits the command line, never the input", async () => {
    await ok("guest_exec", { vmid: 100, argv: ["cat"], input: "top secret input" });
    const audit = await session().listAudit(3);
    const entry = audit.find((a) => a.tool === "guest_exec");
    expect(entry).toMatchObject({ target: "VM 100", outcome: "exit 0" });
    expect(entry?.args.command).toBe("cat");
    expect(JSON.stringify(audit)).not.toContain("top secret input");
  });
});

describe("agent errors a user can act on", () => {
  it.each([
    [104, "has no guest agent configured. Enable it with update_vm (extra: agent=1)"],
    [103, "VM 103 is not running, so its guest agent cannot answer. Start it with start_vm."],
  ])("VM %i", async (vmid, message) => {
    expect(await fails("guest_ping", { vmid })).toContain(message);
  });

  it("an agent that does not answer", async () => {
    await sim.setGuest(100, { agentRunning: false });
    const message = await fails("guest_get", { vmid: 100, what: "osinfo" });
    expect(message).toContain("The guest agent in VM 100 is not answering. Is it installed and started?");
    expect(message).toContain("apt install qemu-guest-agent");
  });

  it("a missing PVE 9 privilege", async () => {
    await sim.agentSettings({ deniedPrivileges: ["VM.GuestAgent.FileRead", "VM.GuestAgent.Unrestricted"] });
    expect(await fails("guest_file_read", { vmid: 100, path: "/etc/hostname" })).toContain(
      "VM.GuestAgent.FileRead",
    );
  });

  it("files the guest cannot open", async () => {
    expect(await fails("guest_file_read", { vmid: 100, path: "/nope" })).toContain(
      "No such file or directory. The path does not exist inside the guest.",
    );
    expect(await fails("guest_file_read", { vmid: 100, path: "/etc/shadow" })).toContain("Permission denied");
  });
});

describe("files", () => {
  it("write, then read back; overwriting needs confirm", async () => {
    const written = await ok("guest_file_write", {
      vmid: 101,
      path: "/tmp/hello.txt",
      content: "hello from MCP\n",
    });
    expect(written.text).toBe("Wrote /tmp/hello.txt in VM 101 (15 characters).");
    const read = await ok("guest_file_read", { vmid: 101, path: "/tmp/hello.txt" });
    expect(read.data).toMatchObject({ content: "hello from MCP\n", binary: false, bytes: 15 });
    const preview = await ok("guest_file_write", { vmid: 101, path: "/tmp/hello.txt", content: "again" });
    expect(preview.text).toMatch(
      /^Not done: \/tmp\/hello\.txt already exists in VM 101; writing replaces it\./,
    );
    // Existence is tested with a one-byte read, not by reading the file.
    const reads = (await sim.requests()).filter((r) => r.path.endsWith("/agent/file-read"));
    expect(reads.at(-1)?.query).toMatchObject({ count: "1" });
    await ok("guest_file_write", { vmid: 101, path: "/tmp/hello.txt", content: "again", confirm: true });
    expect((await ok("guest_file_read", { vmid: 101, path: "/tmp/hello.txt" })).data.content).toBe("again");
    const audit = await session().listAudit(1);
    expect(audit[0]).toMatchObject({
      tool: "guest_file_write",
      args: { path: "/tmp/hello.txt", bytes: 5, encoding: "text" },
    });
  });

  it("without confirm, an agent that cannot answer is explained, never taken for an existing file", async () => {
    await sim.setGuest(101, { agentRunning: false });
    const message = await fails("guest_file_write", { vmid: 101, path: "/tmp/new.txt", content: "x" });
    expect(message).not.toContain("already exists");
    expect(message).toMatch(/agent/i);
    await sim.setGuest(101, { agentRunning: true });
  }, 15_000);

  it("binary content goes in and out as base64", async () => {
    const bytes = btoa(String.fromCharCode(0, 1, 2, 255, 254, 10));
    await ok("guest_file_write", { vmid: 100, path: "/tmp/blob.bin", content: bytes, encoding: "base64" });
    const read = await ok("guest_file_read", { vmid: 100, path: "/tmp/blob.bin" });
    expect(read.data).toMatchObject({ binary: true, content: bytes, bytes: 6 });
    expect(read.text).toContain("(binary, base64 below)");
  });

  it("refuses more than 60 KiB in one call", async () => {
    expect(
      await fails("guest_file_write", { vmid: 100, path: "/tmp/x", content: "x".repeat(61_441) }),
    ).toContain("the guest agent takes at most 61440 (60 KiB) per call");
  });

  it("pages a large file with offset and max_bytes, on new hosts and on hosts before 9.1.5", async () => {
    const first = await ok("guest_file_read", { vmid: 100, path: "/etc/os-release", max_bytes: 20 });
    expect(first.data).toMatchObject({ offset: 0, bytes: 20, next: 20 });
    expect(first.text).toContain("… more: guest_file_read offset=20.");
    const rest = await ok("guest_file_read", {
      vmid: 100,
      path: "/etc/os-release",
      offset: 20,
      max_bytes: 100_000,
    });
    expect(rest.data.next).toBeUndefined();
    await sim.agentSettings({ agentFileReadParams: false });
    const old = await ok("guest_file_read", {
      vmid: 100,
      path: "/etc/os-release",
      offset: 20,
      max_bytes: 100_000,
    });
    expect(old.data.content).toBe(rest.data.content);
    const oldFirst = await ok("guest_file_read", { vmid: 100, path: "/etc/os-release", max_bytes: 20 });
    expect(oldFirst.data).toMatchObject({ content: first.data.content, next: 20 });
  });
});

describe("guest_get and the other agent commands", () => {
  it("renders each kind compactly", async () => {
    expect((await ok("guest_get", { vmid: 100, what: "osinfo" })).text).toMatch(
      /^VM 100 osinfo:\nDebian GNU\/Linux 13 \(trixie\), kernel \S+ \(x86_64\)$/,
    );
    expect((await ok("guest_get", { vmid: 100, what: "host-name" })).text).toBe("VM 100 host-name:\npihole");
    expect((await ok("guest_get", { vmid: 100, what: "network-interfaces" })).text).toMatch(
      /^ens18 [0-9a-f:]+: 192\.168\.1\.200\/24, fe80::\S+\/64$/m,
    );
    expect((await ok("guest_get", { vmid: 100, what: "fsinfo" })).text).toMatch(
      /^\/ ext4 on \S+: [\d.]+\/[\d.]+ GiB \(\d+%\)$/m,
    );
    expect((await ok("guest_get", { vmid: 100, what: "users" })).text).toMatch(
      /^debian logged in since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/m,
    );
    expect((await ok("guest_get", { vmid: 102, what: "vcpus" })).text).toBe(
      "VM 102 vcpus:\n4 of 4 vCPUs online",
    );
    expect((await ok("guest_get", { vmid: 100, what: "timezone" })).text).toBe(
      "VM 100 timezone:\nCET (UTC+1)",
    );
    expect((await ok("guest_get", { vmid: 100, what: "commands" })).text).toContain("exec-status");
    expect((await ok("guest_get", { vmid: 100, what: "fsfreeze-status" })).text).toBe(
      "VM 100 fsfreeze-status:\nfilesystems thawed",
    );
    const info = await ok("guest_get", { vmid: 100, what: "info" });
    expect(info.text).toMatch(/^VM 100 info:\nQEMU guest agent 10\.0\.2, \d+ commands enabled$/);
  });

  it("guest_ping, set_user_password, fstrim", async () => {
    expect((await ok("guest_ping", { vmid: 100 })).text).toBe("The guest agent in VM 100 answers.");
    const preview = await ok("guest_set_user_password", {
      vmid: 100,
      username: "debian",
      password: "n3w-passw0rd",
    });
    expect(preview.text).toContain("Not done: This replaces the password of 'debian' inside VM 100.");
    const done = await ok("guest_set_user_password", {
      vmid: 100,
      username: "debian",
      password: "n3w-passw0rd",
      confirm: true,
    });
    expect(done.text).toBe("Set the password of 'debian' in VM 100.");
    expect(JSON.stringify(await session().listAudit(5))).not.toContain("n3w-passw0rd");
    expect((await ok("guest_fstrim", { vmid: 100 })).text).toMatch(
      /^Trimmed the filesystems of VM 100\.\n\/: /,
    );
  });

  it("freeze blocks writes until thawed", async () => {
    await ok("guest_fsfreeze", { vmid: 100, action: "freeze", confirm: true });
    expect((await ok("guest_get", { vmid: 100, what: "fsfreeze-status" })).text).toContain("frozen");
    expect(
      await fails("guest_file_write", { vmid: 100, path: "/tmp/x", content: "x", confirm: true }),
    ).toContain("thaw them with guest_fsfreeze action=thaw");
    await ok("guest_fsfreeze", { vmid: 100, action: "thaw", confirm: true });
    await ok("guest_file_write", { vmid: 100, path: "/tmp/x", content: "x", confirm: true });
  });

  it("guest_power shuts the VM down from inside, with confirm", async () => {
    await sim.settings({ taskDurationMs: 200 });
    expect((await ok("guest_power", { vmid: 108, action: "shutdown" })).text).toContain("Not done:");
    // The answer comes once the guest has done it, so the next call sees it stopped.
    expect((await ok("guest_power", { vmid: 108, action: "shutdown", confirm: true })).text).toBe(
      "Ask the guest OS of VM 108 to shutdown: done, VM 108 is stopped now.",
    );
    expect((await ok("get_vm", { vmid: 108 })).data.status).toBe("stopped");
  });
});
