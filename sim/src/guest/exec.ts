// Processes inside a guest, as qemu-ga's guest-exec starts them: argv resolution like
// g_spawn_async_with_pipes (PATH search, "Failed to execute child process"), stdin from
// input-data, stdout/stderr captured, an exit code or a signal, and the time the program takes.

import type { GuestOs, GuestState } from "../state/model";
import { Bytes, fromUtf8 } from "./bytes";
import { coreutils } from "./coreutils";
import { FsError, type FsOp, GuestFs } from "./fs";
import { isWindows, WINDOWS_PROGRAMS } from "./image";
import { windowsPrograms } from "./windows";

/** The machine a process runs on. */
export interface Sys {
  g: GuestState;
  os: GuestOs;
  fs: GuestFs;
  /** Epoch ms when the job started. */
  startMs: number;
  /** settings.execTimeScale. */
  timeScale: number;
  /** The pid qemu-ga reports for the job (the shell's $$). */
  pid: number;
}

/** Ends the whole job with a signal (kill -9 $$). */
export class Killed extends Error {
  constructor(readonly signal: number) {
    super(`signal ${signal}`);
  }
}

/** One running program: argv, stdin, output, environment and the time it has taken so far. */
export class Proc {
  readonly outParts: Bytes[] = [];
  readonly errParts: string[] = [];
  /** Time taken, in ms of simulated time; Infinity when it never ends. */
  elapsedMs = 0;

  constructor(
    readonly sys: Sys,
    readonly argv: string[],
    readonly stdin: Bytes,
    readonly env: Map<string, string>,
    public cwd: string,
    /** Time already spent by the job before this process started. */
    readonly startedAfterMs = 0,
  ) {}

  get fs(): GuestFs {
    return this.sys.fs;
  }

  /** The name programs use in their messages (basename of argv[0]). */
  get name(): string {
    const a = this.argv[0] ?? "";
    return a.slice(Math.max(a.lastIndexOf("/"), a.lastIndexOf("\\")) + 1);
  }

  get nowMs(): number {
    return this.sys.startMs + this.startedAfterMs + (Number.isFinite(this.elapsedMs) ? this.elapsedMs : 0);
  }

  out(s: string | Bytes): void {
    this.outParts.push(typeof s === "string" ? Bytes.of(s) : s);
  }

  err(s: string): void {
    this.errParts.push(s);
  }

  /** Sleeps `seconds` of guest time (scaled by the settings). */
  sleep(seconds: number): void {
    this.elapsedMs += seconds === Number.POSITIVE_INFINITY ? seconds : seconds * 1000 * this.sys.timeScale;
  }

  /** Never finishes (reads endless input, tail -f, cat /dev/zero). */
  hang(): void {
    this.elapsedMs = Number.POSITIVE_INFINITY;
  }

  get stdout(): Bytes {
    return Bytes.concat(...this.outParts);
  }
}

export type Program = (p: Proc) => number;

/** What a finished (or endless) job produced. */
export interface ExecResult {
  exitcode?: number;
  signal?: number;
  out: Bytes;
  err: Bytes;
  /** Simulated run time; Infinity = never exits. */
  durationMs: number;
  /** File system changes, applied when the job ends. */
  journal: FsOp[];
}

/** g_spawn failed: QGA answers "Guest agent command failed, error was '<message>'". */
export class SpawnError extends Error {}

const LINUX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The environment qemu-ga's children inherit from systemd. */
export function serviceEnv(sys: Sys): Map<string, string> {
  if (isWindows(sys.os)) {
    return new Map([
      ["ComSpec", "C:\\Windows\\system32\\cmd.exe"],
      ["COMPUTERNAME", sys.os.hostname.toUpperCase()],
      ["OS", "Windows_NT"],
      [
        "Path",
        "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\Wbem;C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\",
      ],
      ["PROCESSOR_ARCHITECTURE", "AMD64"],
      ["SystemRoot", "C:\\Windows"],
      ["TEMP", "C:\\Windows\\TEMP"],
      ["USERNAME", `${sys.os.hostname.toUpperCase()}$`],
      ["windir", "C:\\Windows"],
    ]);
  }
  return new Map([
    ["PATH", LINUX_PATH],
    ["INVOCATION_ID", (sys.g.vmid * 2654435761).toString(16).padStart(32, "0").slice(-32)],
    ["JOURNAL_STREAM", `8:${20000 + (sys.g.vmid % 9000)}`],
    ["SYSTEMD_EXEC_PID", String(400 + (sys.g.vmid % 300))],
  ]);
}

export type Resolved = { program: Program; path: string } | { error: "ENOENT" | "EACCES" };

/** Finds argv[0] like execvp: a path as given, else the first PATH entry that has it. */
export function resolveProgram(sys: Sys, name: string, env: Map<string, string>, cwd = "/"): Resolved {
  if (isWindows(sys.os)) return resolveWindows(sys, name);
  const candidates = name.includes("/")
    ? [sys.fs.abs(name, cwd)]
    : (env.get("PATH") ?? LINUX_PATH).split(":").map((d) => `${d || "."}/${name}`);
  let denied = false;
  for (const path of candidates) {
    let entry: ReturnType<GuestFs["lookup"]>;
    try {
      entry = sys.fs.lookup(path);
    } catch (e) {
      if (e instanceof FsError) continue;
      throw e;
    }
    if (!entry) continue;
    if (entry.kind !== "file" || (entry.mode & 0o111) === 0) {
      denied = true;
      continue;
    }
    const real = sys.fs.resolve(path);
    const program = coreutils[real.slice(real.lastIndexOf("/") + 1)];
    if (program) return { program, path: real };
    // A binary the simulator does not implement: it runs and fails the way a broken install does.
    const broken: Program = (p) => {
      p.err(`${p.name}: error while loading shared libraries\n`);
      return 127;
    };
    return { program: broken, path: real };
  }
  return { error: denied ? "EACCES" : "ENOENT" };
}

function resolveWindows(sys: Sys, name: string): Resolved {
  const base = name.slice(Math.max(name.lastIndexOf("\\"), name.lastIndexOf("/")) + 1).toLowerCase();
  const exe = base.endsWith(".exe") ? base : `${base}.exe`;
  const known = WINDOWS_PROGRAMS[exe];
  const program = windowsPrograms[exe];
  if (!known || !program) return { error: "ENOENT" };
  if (
    /[\\/]/.test(name) &&
    sys.fs.abs(name).toLowerCase() !== known.toLowerCase() &&
    `${sys.fs.abs(name)}.exe`.toLowerCase() !== known.toLowerCase()
  )
    return { error: "ENOENT" };
  return { program, path: known };
}

/**
 * guest-exec: runs argv to completion in simulated time. Throws SpawnError when the program
 * cannot be started (nothing runs then, and there is no pid).
 */
export function spawn(sys: Sys, argv: string[], input: string | undefined): ExecResult {
  const name = argv[0] ?? "";
  const env = serviceEnv(sys);
  const resolved = resolveProgram(sys, name, env);
  if ("error" in resolved) {
    const reason = resolved.error === "EACCES" ? "Permission denied" : "No such file or directory";
    throw new SpawnError(
      isWindows(sys.os)
        ? `Failed to execute child process (${reason})`
        : `Failed to execute child process “${fromUtf8(name)}” (${reason})`,
    );
  }
  const cwd = isWindows(sys.os) ? "C:\\Windows\\System32" : "/";
  const proc = new Proc(sys, argv, input === undefined ? Bytes.empty : Bytes.of(input), env, cwd);
  let exitcode: number | undefined;
  let signal: number | undefined;
  try {
    const code = resolved.program(proc);
    // Linux exit statuses are 8 bits; Windows keeps the whole DWORD (cmd's 9009).
    exitcode = isWindows(sys.os) ? code : code & 0xff;
  } catch (e) {
    if (!(e instanceof Killed)) throw e;
    signal = e.signal;
  }
  return {
    ...(signal === undefined ? { exitcode } : { signal }),
    out: proc.stdout,
    err: Bytes.of(proc.errParts.join("")),
    durationMs: proc.elapsedMs,
    journal: sys.fs.journal,
  };
}

/** A fresh view of the guest's files for one job. */
export function jobFs(g: GuestState, os: GuestOs, nowMs: number): GuestFs {
  return new GuestFs(g, os, nowMs);
}
