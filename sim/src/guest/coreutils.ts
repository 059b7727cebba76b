// The Linux programs a simulated guest can run, with GNU coreutils / procps behaviour and
// messages (C locale, as qemu-ga's children run without LANG).

import { Bytes, base64, unbase64Strict } from "./bytes";
import { dateLine, localTime, strftime } from "./clock";
import { Killed, Proc, type Program, resolveProgram } from "./exec";
import { type Entry, FsError } from "./fs";
import { accountNames, loadavg } from "./image";
import { runShell } from "./shell";
import { filesystems, interfaces, memoryBytes, sessions, uptimeSec } from "./system";

/** Input read in full from an endless stream: what a program sees before it waits forever. */
const ENDLESS_READ = 1 << 20;

/** Reads stdin or a file; an endless stream yields a bounded prefix and makes the process hang. */
function readAll(p: Proc, b: Bytes): string {
  if (b.endless) {
    p.hang();
    return b.text(ENDLESS_READ);
  }
  return b.text();
}

function errText(p: Proc, e: unknown): string {
  if (e instanceof FsError) return p.fs.text(e.errno);
  throw e;
}

/** Splits "-la" style flags; returns the flags set and the remaining operands. */
function flags(
  p: Proc,
  args: string[],
  allowed: string,
  usage = true,
): { set: Set<string>; rest: string[] } | null {
  const set = new Set<string>();
  const rest: string[] = [];
  let done = false;
  for (const a of args) {
    if (done || a === "-" || !a.startsWith("-")) {
      rest.push(a);
      continue;
    }
    if (a === "--") {
      done = true;
      continue;
    }
    if (a.startsWith("--")) {
      p.err(
        `${p.name}: unrecognized option '${a}'\n${usage ? `Try '${p.name} --help' for more information.\n` : ""}`,
      );
      return null;
    }
    for (const c of a.slice(1)) {
      if (!allowed.includes(c)) {
        p.err(
          `${p.name}: invalid option -- '${c}'\n${usage ? `Try '${p.name} --help' for more information.\n` : ""}`,
        );
        return null;
      }
      set.add(c);
    }
  }
  return { set, rest };
}

/** Reads the named files (or stdin for none / "-"); reports failures like `cat: x: reason`. */
function eachInput(
  p: Proc,
  files: string[],
  onData: (data: Bytes, name: string) => void,
  onError: (name: string, reason: string) => void,
): boolean {
  let ok = true;
  for (const f of files.length ? files : ["-"]) {
    if (f === "-") {
      onData(p.stdin, "-");
      continue;
    }
    try {
      onData(p.fs.read(p.fs.abs(f, p.cwd)), f);
    } catch (e) {
      onError(f, errText(p, e));
      ok = false;
    }
  }
  return ok;
}

// ---- output formatting ------------------------------------------------------------------------

/** GNU human-readable size (ls -h, df -h): 1024-based, one decimal below 10. */
export function human(n: number): string {
  const units = ["", "K", "M", "G", "T", "P"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return String(n);
  if (v < 10) {
    const r = Math.ceil(v * 10) / 10;
    return r >= 10 ? `${Math.ceil(r)}${units[i]}` : `${r.toFixed(1)}${units[i]}`;
  }
  return `${Math.ceil(v)}${units[i]}`;
}

function permString(e: Entry): string {
  const type = e.kind === "dir" ? "d" : e.kind === "link" ? "l" : e.kind === "dev" ? "c" : "-";
  const bits = "rwxrwxrwx";
  let s = "";
  for (let i = 0; i < 9; i++) s += e.mode & (1 << (8 - i)) ? bits[i] : "-";
  if (e.mode & 0o1000) s = `${s.slice(0, 8)}${s[8] === "x" ? "t" : "T"}`;
  return type + s;
}

function lsTime(p: Proc, mtime: number): string {
  const zone = p.sys.os.timezone;
  const recent = Math.abs(p.nowMs / 1000 - mtime) < 182 * 86_400;
  return strftime(recent ? "%b %e %H:%M" : "%b %e  %Y", zone, mtime * 1000);
}

function table(rows: string[][], right: boolean[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) =>
        right[i] ? c.padStart(widths[i] ?? 0) : i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0),
      )
      .join(" "),
  );
}

// ---- the programs ---------------------------------------------------------------------------

function ls(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "laAh1dF");
  if (!opts) return 2;
  const { set, rest } = opts;
  const long = set.has("l");
  const all = set.has("a");
  const almost = set.has("A");
  const showDirItself = set.has("d");
  const fmtSize = (n: number) => (set.has("h") ? human(n) : String(n));
  let status = 0;
  const files: Entry[] = [];
  const dirs: { label: string; entries: Entry[] }[] = [];
  for (const arg of rest.length ? rest : ["."]) {
    const path = p.fs.abs(arg, p.cwd);
    let e: Entry | null;
    try {
      e = p.fs.lookup(path, !long || showDirItself ? !long : false);
      if (e?.kind === "link" && !long) e = p.fs.lookup(path, true);
    } catch (err) {
      p.err(`ls: cannot access '${arg}': ${errText(p, err)}\n`);
      status = 2;
      continue;
    }
    if (!e) {
      p.err(`ls: cannot access '${arg}': No such file or directory\n`);
      status = 2;
      continue;
    }
    if (e.kind === "dir" && !showDirItself) {
      let entries = p.fs.list(path);
      if (!all && !almost) entries = entries.filter((x) => !x.name.startsWith("."));
      if (all) {
        const self = { ...e, name: "." };
        entries = [self, { ...self, name: ".." }, ...entries];
      }
      dirs.push({ label: arg, entries });
    } else files.push({ ...e, name: arg });
  }
  const render = (entries: Entry[], total: boolean) => {
    if (!long) return entries.map((e) => `${e.name}\n`).join("");
    const rows = entries.map((e) => [
      permString(e),
      e.kind === "dir" ? "2" : "1",
      e.owner,
      e.group,
      e.kind === "dev" ? "1, 3" : fmtSize(e.size),
      lsTime(p, e.mtime),
      e.kind === "link" ? `${e.name} -> ${e.target}` : e.name,
    ]);
    const blocks = entries.reduce(
      (n, e) => n + (e.kind === "file" || e.kind === "dir" ? Math.ceil(e.size / 4096) * 4 : 0),
      0,
    );
    const lines = table(rows, [false, true, false, false, true, false, false]);
    return `${total ? `total ${set.has("h") ? human(blocks * 1024) : blocks}\n` : ""}${lines.map((l) => `${l}\n`).join("")}`;
  };
  let text = render(files, false);
  const headers = files.length + dirs.length > 1;
  dirs.forEach((d, i) => {
    if (headers) text += `${text || i > 0 ? "\n" : ""}${d.label}:\n`;
    text += render(d.entries, true);
  });
  p.out(text);
  return status;
}

function cat(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "nA");
  if (!opts) return 1;
  const ok = eachInput(
    p,
    opts.rest,
    (data) => {
      if (opts.set.has("n")) {
        const text = readAll(p, data);
        const lines = text.split("\n");
        if (lines[lines.length - 1] === "") lines.pop();
        p.out(lines.map((l, i) => `${String(i + 1).padStart(6)}\t${l}\n`).join(""));
      } else {
        if (data.endless) p.hang();
        p.out(data);
      }
    },
    (name, reason) => p.err(`cat: ${name}: ${reason}\n`),
  );
  return ok ? 0 : 1;
}

/** Backslash escapes of echo -e / dash's echo; \c ends the output. */
export function echoEscapes(s: string): { text: string; stop: boolean } {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== "\\" || i === s.length - 1) {
      out += c;
      continue;
    }
    const n = s[++i] as string;
    const map: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      a: "\x07",
      b: "\b",
      f: "\f",
      v: "\v",
      "\\": "\\",
      e: "\x1b",
    };
    if (n === "c") return { text: out, stop: true };
    if (map[n] !== undefined) out += map[n];
    else if (n === "0") {
      const m = /^[0-7]{0,3}/.exec(s.slice(i + 1))?.[0] ?? "";
      out += String.fromCharCode(Number.parseInt(m || "0", 8) & 0xff);
      i += m.length;
    } else out += `\\${n}`;
  }
  return { text: out, stop: false };
}

function echo(p: Proc): number {
  let args = p.argv.slice(1);
  let newline = true;
  let escapes = false;
  while (args[0] && /^-[neE]+$/.test(args[0])) {
    for (const c of args[0].slice(1)) {
      if (c === "n") newline = false;
      else if (c === "e") escapes = true;
      else escapes = false;
    }
    args = args.slice(1);
  }
  let text = args.join(" ");
  if (escapes) {
    const r = echoEscapes(text);
    text = r.text;
    if (r.stop) newline = false;
  }
  p.out(newline ? `${text}\n` : text);
  return 0;
}

function uname(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "asnrvmopi");
  if (!opts) return 1;
  const os = p.sys.os;
  const f = opts.set;
  const all = f.has("a");
  const parts: string[] = [];
  if (all || f.has("s") || f.size === 0) parts.push("Linux");
  if (all || f.has("n")) parts.push(os.hostname);
  if (all || f.has("r")) parts.push(os.kernelRelease);
  if (all || f.has("v")) parts.push(os.kernelVersion);
  if (all || f.has("m")) parts.push(os.machine);
  if (!all && f.has("p")) parts.push("unknown");
  if (!all && f.has("i")) parts.push("unknown");
  if (all || f.has("o")) parts.push("GNU/Linux");
  p.out(`${parts.join(" ")}\n`);
  return 0;
}

function hostname(p: Proc): number {
  const arg = p.argv[1];
  if (arg === "-I" || arg === "--all-ip-addresses") {
    const ips = interfaces(p.sys.g, p.sys.os, p.nowMs)
      .filter((i) => i.name !== "lo")
      .flatMap((i) => i.ipv4.map((a) => a.addr));
    p.out(`${ips.join(" ")} \n`);
    return 0;
  }
  if (arg && !["-f", "-s", "--fqdn", "--short", "-A"].includes(arg)) {
    if (arg.startsWith("-")) {
      p.err(
        `hostname: invalid option -- '${arg.slice(1, 2)}'\nTry 'hostname --help' or 'hostname --usage' for more information.\n`,
      );
      return 1;
    }
    p.err("hostname: you must be root to change the host name\n");
    return 1;
  }
  p.out(`${p.sys.os.hostname}\n`);
  return 0;
}

function df(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "hTk");
  if (!opts) return 1;
  const h = opts.set.has("h");
  const mem = memoryBytes(p.sys.g);
  const fsRows = filesystems(p.sys.g, p.sys.os);
  const tmp = (name: string, mount: string, size: number, used: number, type = "tmpfs") => ({
    dev: name,
    mountpoint: mount,
    type,
    size,
    used,
    avail: size - used,
  });
  const all = [
    tmp("udev", "/dev", Math.floor(mem / 2) - 4 * 1024 * 1024, 0, "devtmpfs"),
    tmp("tmpfs", "/run", Math.floor(mem / 10), 1_089_536),
    fsRows[0] && { ...fsRows[0] },
    tmp("tmpfs", "/dev/shm", Math.floor(mem / 2), 0),
    tmp("tmpfs", "/run/lock", 5 * 1024 * 1024, 0),
    ...fsRows.slice(1),
    tmp("tmpfs", "/run/user/1000", Math.floor(mem / 10), 12_288),
  ].filter((r): r is NonNullable<typeof r> => Boolean(r));
  let rows = all;
  let status = 0;
  if (opts.rest.length) {
    rows = [];
    for (const arg of opts.rest) {
      const path = p.fs.abs(arg, p.cwd);
      if (!p.fs.lookup(path)) {
        p.err(`df: ${arg}: No such file or directory\n`);
        status = 1;
        continue;
      }
      const best = all
        .filter(
          (r) => path === r.mountpoint || path.startsWith(r.mountpoint === "/" ? "/" : `${r.mountpoint}/`),
        )
        .sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
      if (best) rows.push(best);
    }
    if (!rows.length) return status;
  }
  const k = (n: number) => (h ? human(n) : String(Math.ceil(n / 1024)));
  const pct = (r: (typeof all)[number]) =>
    r.used + r.avail === 0 ? "-" : `${Math.ceil((r.used * 100) / (r.used + r.avail))}%`;
  const header = [
    "Filesystem",
    ...(opts.set.has("T") ? ["Type"] : []),
    h ? "Size" : "1K-blocks",
    "Used",
    h ? "Avail" : "Available",
    "Use%",
    "Mounted on",
  ];
  const body = rows.map((r) => [
    r.dev,
    ...(opts.set.has("T") ? [r.type] : []),
    k(r.size),
    k(r.used),
    k(r.avail),
    pct(r),
    r.mountpoint,
  ]);
  const right = header.map((_, i) => i > (opts.set.has("T") ? 1 : 0) && i < header.length - 1);
  p.out(
    table([header, ...body], right)
      .map((l) => `${l}\n`)
      .join(""),
  );
  return status;
}

function id(p: Proc): number {
  const name = p.argv[1] && !p.argv[1].startsWith("-") ? p.argv[1] : "root";
  const flag = p.argv.find((a, i) => i > 0 && a.startsWith("-"));
  const user = p.sys.os.users.find((u) => u.name === name);
  if (!user) {
    if (accountNames(p.sys.os).includes(name)) {
      p.out(`uid=1(${name}) gid=1(${name}) groups=1(${name})\n`);
      return 0;
    }
    p.err(`id: '${name}': no such user\n`);
    return 1;
  }
  if (flag === "-u") p.out(`${user.uid}\n`);
  else if (flag === "-un" || flag === "-nu") p.out(`${user.name}\n`);
  else if (flag === "-g") p.out(`${user.uid}\n`);
  else {
    const extra = user.uid >= 1000 ? ",27(sudo),100(users)" : "";
    p.out(
      `uid=${user.uid}(${user.name}) gid=${user.uid}(${user.name}) groups=${user.uid}(${user.name})${extra}\n`,
    );
  }
  return 0;
}

function uptime(p: Proc): number {
  const g = p.sys.g;
  const up = uptimeSec(g, p.nowMs);
  const days = Math.floor(up / 86_400);
  const hours = Math.floor((up % 86_400) / 3600);
  const mins = Math.floor((up % 3600) / 60);
  const arg = p.argv[1];
  if (arg === "-s" || arg === "--since") {
    p.out(`${strftime("%F %T", p.sys.os.timezone, (g.startedAt ?? 0) * 1000)}\n`);
    return 0;
  }
  if (arg === "-p" || arg === "--pretty") {
    const weeks = Math.floor(days / 7);
    const parts: string[] = [];
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
    if (weeks) parts.push(plural(weeks, "week"));
    if (days % 7) parts.push(plural(days % 7, "day"));
    if (hours) parts.push(plural(hours, "hour"));
    if (mins || !parts.length) parts.push(plural(mins, "minute"));
    p.out(`up ${parts.join(", ")}\n`);
    return 0;
  }
  const t = localTime(p.sys.os.timezone, p.nowMs);
  const clock = `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}:${String(t.second).padStart(2, "0")}`;
  let since = days ? `${days} day${days === 1 ? "" : "s"}, ` : "";
  since += hours ? `${String(hours).padStart(2)}:${String(mins).padStart(2, "0")}` : `${mins} min`;
  const users = sessions(g, p.sys.os, p.nowMs).length;
  const [l1, l5, l15] = loadavg(g.vmid, p.nowMs);
  p.out(
    ` ${clock} up ${since},  ${users} user${users === 1 ? "" : "s"},  load average: ${l1}, ${l5}, ${l15}\n`,
  );
  return 0;
}

function date(p: Proc): number {
  let utc = false;
  let format: string | undefined;
  for (const a of p.argv.slice(1)) {
    if (a === "-u" || a === "--utc") utc = true;
    else if (a.startsWith("+")) format = a.slice(1);
    else if (a === "-R") format = "%a, %d %b %Y %T %z";
    else if (a === "-I" || a === "--iso-8601") format = "%F";
    else {
      p.err(
        a.startsWith("-")
          ? `date: invalid option -- '${a.slice(1, 2)}'\nTry 'date --help' for more information.\n`
          : `date: invalid date '${a}'\n`,
      );
      return 1;
    }
  }
  const zone = p.sys.os.timezone;
  p.out(`${format === undefined ? dateLine(zone, p.nowMs, utc) : strftime(format, zone, p.nowMs, utc)}\n`);
  return 0;
}

/** sleep NUMBER[SUFFIX]...: the sum, in seconds; "infinity" never ends. */
function sleep(p: Proc): number {
  const args = p.argv.slice(1);
  if (!args.length) {
    p.err("sleep: missing operand\nTry 'sleep --help' for more information.\n");
    return 1;
  }
  let total = 0;
  for (const a of args) {
    if (a === "infinity" || a === "inf") {
      total = Number.POSITIVE_INFINITY;
      continue;
    }
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) {
      p.err(`sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.\n`);
      return 1;
    }
    total +=
      Number(m[1]) * ({ "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "" | "s" | "m" | "h" | "d"] ?? 1);
  }
  p.sleep(total);
  return 0;
}

function env(p: Proc): number {
  const args = p.argv.slice(1);
  const vars = new Map(p.env);
  while (args[0]?.includes("=")) {
    const a = args.shift() as string;
    vars.set(a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1));
  }
  if (!args.length) {
    p.out([...vars].map(([k, v]) => `${k}=${v}\n`).join(""));
    return 0;
  }
  return runProgram(p, args, vars, "env");
}

/** Runs another program from within one (env, sh): output and time go to the caller. */
export function runProgram(p: Proc, argv: string[], vars: Map<string, string>, via: string): number {
  const r = resolveProgram(p.sys, argv[0] as string, vars, p.cwd);
  if ("error" in r) {
    p.err(
      `${via}: '${argv[0]}': ${r.error === "EACCES" ? "Permission denied" : "No such file or directory"}\n`,
    );
    return r.error === "EACCES" ? 126 : 127;
  }
  const child = new Proc(p.sys, argv, p.stdin, vars, p.cwd, p.startedAfterMs + p.elapsedMs);
  const code = r.program(child);
  for (const o of child.outParts) p.out(o);
  for (const e of child.errParts) p.err(e);
  p.elapsedMs += child.elapsedMs;
  return code;
}

function parseCount(p: Proc, v: string | undefined, what: string): number | null {
  if (v === undefined || !/^\+?\d+$/.test(v)) {
    p.err(`${p.name}: invalid number of ${what}: '${v ?? ""}'\n`);
    return null;
  }
  return Number(v.replace("+", ""));
}

function headTail(p: Proc, tail: boolean): number {
  const args = p.argv.slice(1);
  let lines = 10;
  let bytes: number | null = null;
  let fromStart = false;
  let follow = false;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const attached = /^-([nc])(\+?\d+)$/.exec(a);
    const legacy = /^-(\d+)$/.exec(a);
    if (a === "-n" || a === "-c") {
      const v = args[++i];
      const n = parseCount(p, v, a === "-n" ? "lines" : "bytes");
      if (n === null) return 1;
      if (a === "-n") lines = n;
      else bytes = n;
      if (v?.startsWith("+")) fromStart = true;
    } else if (attached) {
      const n = Number((attached[2] as string).replace("+", ""));
      if (attached[1] === "n") lines = n;
      else bytes = n;
      if (attached[2]?.startsWith("+")) fromStart = true;
    } else if (legacy) lines = Number(legacy[1]);
    else if (a === "-f" || a === "-F") follow = true;
    else if (a.startsWith("-") && a !== "-") {
      p.err(
        `${p.name}: invalid option -- '${a.slice(1, 2)}'\nTry '${p.name} --help' for more information.\n`,
      );
      return 1;
    } else files.push(a);
  }
  const many = files.length > 1;
  let first = true;
  const ok = eachInput(
    p,
    files,
    (data, name) => {
      if (many) p.out(`${first ? "" : "\n"}==> ${name === "-" ? "standard input" : name} <==\n`);
      first = false;
      if (!tail) {
        if (bytes !== null) p.out(data.slice(0, bytes));
        else {
          const end = data.afterLines(lines);
          if (end < 0 && data.endless) p.hang();
          p.out(end < 0 ? data : data.slice(0, end));
        }
        return;
      }
      const text = readAll(p, data);
      if (bytes !== null)
        p.out(fromStart ? text.slice(Math.max(0, bytes - 1)) : text.slice(Math.max(0, text.length - bytes)));
      else {
        const parts = text.split("\n");
        const trailing = parts[parts.length - 1] === "";
        if (trailing) parts.pop();
        const kept = fromStart
          ? parts.slice(Math.max(0, lines - 1))
          : parts.slice(Math.max(0, parts.length - lines));
        p.out(kept.length ? `${kept.join("\n")}${trailing ? "\n" : ""}` : "");
      }
    },
    (name, reason) => p.err(`${p.name}: cannot open '${name}' for reading: ${reason}\n`),
  );
  if (tail && follow) p.hang();
  return ok ? 0 : 1;
}

function wc(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "lwcm");
  if (!opts) return 1;
  const f = opts.set.size ? opts.set : new Set(["l", "w", "c"]);
  const rows: { counts: number[]; name?: string }[] = [];
  const totals = [0, 0, 0];
  const ok = eachInput(
    p,
    opts.rest,
    (data, name) => {
      let counts: number[];
      if (!f.has("w") && !data.endless) counts = [data.lineCount(), 0, data.length];
      else {
        const text = readAll(p, data);
        counts = [text.split("\n").length - 1, text.split(/\s+/).filter(Boolean).length, text.length];
      }
      if (data.endless) return;
      counts.forEach((c, i) => {
        totals[i] = (totals[i] as number) + c;
      });
      rows.push({ counts, ...(name !== "-" || opts.rest.length ? { name } : {}) });
    },
    (name, reason) => p.err(`wc: ${name}: ${reason}\n`),
  );
  if (p.elapsedMs === Number.POSITIVE_INFINITY) return 0;
  if (rows.length > 1) rows.push({ counts: totals, name: "total" });
  const pick = (c: number[]) =>
    [f.has("l") ? c[0] : null, f.has("w") ? c[1] : null, f.has("c") || f.has("m") ? c[2] : null].filter(
      (x): x is number => x !== null,
    );
  const single = f.size === 1 && rows.length === 1;
  const fromStdin = !opts.rest.length || opts.rest.includes("-");
  const width = single
    ? 1
    : Math.max(fromStdin ? 7 : 1, ...rows.flatMap((r) => pick(r.counts).map((n) => String(n).length)));
  p.out(
    rows
      .map(
        (r) =>
          `${pick(r.counts)
            .map((n) => String(n).padStart(width))
            .join(" ")}${r.name ? ` ${r.name}` : ""}\n`,
      )
      .join(""),
  );
  return ok ? 0 : 1;
}

/** A grep pattern (basic regular expression, or -F fixed string, or -E extended) as a JS RegExp. */
function grepRegex(pattern: string, fixed: boolean, extended: boolean, icase: boolean): RegExp {
  let src: string;
  if (fixed) src = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  else if (extended) src = pattern;
  else
    src = pattern.replace(/\\([(){}|+?])|([(){}|+?])/g, (_m, esc: string, lit: string) =>
      esc ? esc : `\\${lit}`,
    );
  try {
    return new RegExp(src, icase ? "i" : "");
  } catch {
    return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), icase ? "i" : "");
  }
}

function grep(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "ivcnqFEhlw", false);
  if (!opts) {
    p.err("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
    return 2;
  }
  const [pattern, ...files] = opts.rest;
  if (pattern === undefined) {
    p.err("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
    return 2;
  }
  const f = opts.set;
  let re = grepRegex(pattern, f.has("F"), f.has("E"), f.has("i"));
  if (f.has("w")) re = new RegExp(`(?<![\\w])(?:${re.source})(?![\\w])`, re.flags);
  const many = files.length > 1 && !f.has("h");
  let matched = false;
  let error = false;
  for (const file of files.length ? files : ["-"]) {
    let data: Bytes;
    if (file === "-") data = p.stdin;
    else {
      try {
        const path = p.fs.abs(file, p.cwd);
        if (p.fs.lookup(path)?.kind === "dir") {
          p.err(`grep: ${file}: Is a directory\n`);
          error = true;
          continue;
        }
        data = p.fs.read(path);
      } catch (e) {
        if (!f.has("q") || !(e instanceof FsError)) p.err(`grep: ${file}: ${errText(p, e)}\n`);
        error = true;
        continue;
      }
    }
    const text = readAll(p, data);
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    let count = 0;
    const out: string[] = [];
    lines.forEach((line, i) => {
      if (re.test(line) === f.has("v")) return;
      count++;
      out.push(
        `${many ? `${file === "-" ? "(standard input)" : file}:` : ""}${f.has("n") ? `${i + 1}:` : ""}${line}\n`,
      );
    });
    if (count) matched = true;
    if (f.has("q")) {
      if (matched) return 0;
      continue;
    }
    if (f.has("l")) {
      if (count) p.out(`${file === "-" ? "(standard input)" : file}\n`);
    } else if (f.has("c")) p.out(`${many ? `${file}:` : ""}${count}\n`);
    else p.out(out.join(""));
  }
  return error && !(f.has("q") && matched) ? 2 : matched ? 0 : 1;
}

function yes(p: Proc): number {
  const word = p.argv.length > 1 ? p.argv.slice(1).join(" ") : "y";
  p.out(Bytes.repeat(`${word}\n`));
  p.hang();
  return 0;
}

function seq(p: Proc): number {
  const nums = p.argv.slice(1).map(Number);
  if (!nums.length || nums.some((n) => !Number.isFinite(n))) {
    const bad = p.argv.slice(1).find((a) => !Number.isFinite(Number(a)));
    p.err(
      bad === undefined
        ? "seq: missing operand\nTry 'seq --help' for more information.\n"
        : `seq: invalid floating point argument: '${bad}'\nTry 'seq --help' for more information.\n`,
    );
    return 1;
  }
  const [first, inc, last] =
    nums.length === 1 ? [1, 1, nums[0]] : nums.length === 2 ? [nums[0], 1, nums[1]] : nums;
  const out: string[] = [];
  for (
    let v = first as number;
    (inc as number) > 0 ? v <= (last as number) : v >= (last as number);
    v += inc as number
  ) {
    out.push(`${v}\n`);
    if (out.length > 2_000_000) break;
  }
  p.out(out.join(""));
  return 0;
}

/** printf FORMAT [ARG]...: %s %d %i %x %o %c %%, reused while arguments remain. */
export function printfFormat(format: string, args: string[]): string {
  let out = "";
  let i = 0;
  do {
    let used = false;
    out += echoEscapes(format).text.replace(/%([-0 ]?\d*)([sdixoc%])/g, (_m, width: string, conv: string) => {
      if (conv === "%") return "%";
      used = true;
      const a = args[i++] ?? "";
      let v: string;
      if (conv === "s") v = a;
      else if (conv === "c") v = a.slice(0, 1);
      else {
        const n = Number.parseInt(a || "0", 10) || 0;
        v = conv === "x" ? n.toString(16) : conv === "o" ? n.toString(8) : String(n);
      }
      const w = Number.parseInt(width.replace(/^[-0 ]/, "") || "0", 10);
      if (width.startsWith("-")) return v.padEnd(w);
      return v.padStart(w, width.startsWith("0") ? "0" : " ");
    });
    if (!used) break;
  } while (i < args.length);
  return out;
}

function printf(p: Proc): number {
  const [format, ...args] = p.argv.slice(1);
  if (format === undefined) {
    p.err("printf: missing operand\nTry 'printf --help' for more information.\n");
    return 1;
  }
  p.out(printfFormat(format, args));
  return 0;
}

function base64cmd(p: Proc): number {
  const args = p.argv.slice(1);
  const decode = args.includes("-d") || args.includes("--decode");
  const files = args.filter((a) => !a.startsWith("-") || a === "-");
  let text = "";
  const ok = eachInput(
    p,
    files,
    (d) => (text += readAll(p, d)),
    (n, r) => p.err(`base64: ${n}: ${r}\n`),
  );
  if (!ok) return 1;
  if (decode) {
    const dec = unbase64Strict(text.replace(/\s/g, "").replace(/\n/g, ""));
    if (dec === null) {
      p.err("base64: invalid input\n");
      return 1;
    }
    p.out(dec);
    return 0;
  }
  const enc = base64(text);
  p.out(enc ? `${enc.replace(/.{76}/g, "$&\n").replace(/\n$/, "")}\n` : "");
  return 0;
}

function mkdir(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "pv");
  if (!opts) return 1;
  if (!opts.rest.length) {
    p.err("mkdir: missing operand\nTry 'mkdir --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const d of opts.rest) {
    try {
      p.fs.mkdir(p.fs.abs(d, p.cwd), opts.set.has("p"));
    } catch (e) {
      p.err(`mkdir: cannot create directory '${d}': ${errText(p, e)}\n`);
      status = 1;
    }
  }
  return status;
}

function rm(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "rRfvd");
  if (!opts) return 1;
  const force = opts.set.has("f");
  const recursive = opts.set.has("r") || opts.set.has("R");
  if (!opts.rest.length && !force) {
    p.err("rm: missing operand\nTry 'rm --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const f of opts.rest) {
    const path = p.fs.abs(f, p.cwd);
    try {
      const e = p.fs.lookup(path, false);
      if (!e) throw new FsError("ENOENT");
      if (e.kind === "dir" && !recursive) {
        p.err(`rm: cannot remove '${f}': Is a directory\n`);
        status = 1;
        continue;
      }
      p.fs.remove(path, recursive);
    } catch (err) {
      if (force && err instanceof FsError && err.errno === "ENOENT") continue;
      p.err(`rm: cannot remove '${f}': ${errText(p, err)}\n`);
      status = 1;
    }
  }
  return status;
}

function touch(p: Proc): number {
  const files = p.argv.slice(1).filter((a) => !a.startsWith("-"));
  if (!files.length) {
    p.err("touch: missing file operand\nTry 'touch --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const f of files) {
    const path = p.fs.abs(f, p.cwd);
    try {
      const e = p.fs.lookup(path);
      if (!e) p.fs.write(path, "");
      else if (e.kind === "file") p.fs.checkWritable(path);
    } catch (err) {
      p.err(`touch: cannot touch '${f}': ${errText(p, err)}\n`);
      status = 1;
    }
  }
  return status;
}

function cp(p: Proc): number {
  const opts = flags(p, p.argv.slice(1), "rRfpav");
  if (!opts) return 1;
  const ops = opts.rest;
  if (ops.length < 2) {
    p.err(
      ops.length
        ? `cp: missing destination file operand after '${ops[0]}'\nTry 'cp --help' for more information.\n`
        : "cp: missing file operand\nTry 'cp --help' for more information.\n",
    );
    return 1;
  }
  const dest = ops.pop() as string;
  const destPath = p.fs.abs(dest, p.cwd);
  const destIsDir = (() => {
    try {
      return p.fs.lookup(destPath)?.kind === "dir";
    } catch {
      return false;
    }
  })();
  let status = 0;
  for (const src of ops) {
    try {
      const sp = p.fs.abs(src, p.cwd);
      const e = p.fs.lookup(sp);
      if (!e) {
        p.err(`cp: cannot stat '${src}': No such file or directory\n`);
        status = 1;
        continue;
      }
      if (e.kind === "dir") {
        p.err(`cp: -r not specified; omitting directory '${src}'\n`);
        status = 1;
        continue;
      }
      const target = destIsDir ? p.fs.abs(e.name, destPath) : destPath;
      const data = p.fs.read(sp);
      if (data.endless) {
        p.hang();
        return 0;
      }
      p.fs.write(target, data.text());
    } catch (err) {
      p.err(`cp: cannot create regular file '${dest}': ${errText(p, err)}\n`);
      status = 1;
    }
  }
  return status;
}

function free(p: Proc): number {
  const arg = p.argv[1] ?? "-k";
  const unit = { "-b": 1, "-k": 1024, "-m": 1024 * 1024, "-g": 1024 ** 3, "-h": 0 }[arg];
  if (unit === undefined) {
    p.err(`free: invalid option -- '${arg.replace(/^-+/, "").slice(0, 1)}'\n`);
    return 1;
  }
  const total = memoryBytes(p.sys.g) - 180 * 1024 * 1024;
  const used = Math.floor(total * p.sys.g.usage.memFraction * 0.6);
  const cache = Math.floor(total * 0.25);
  const freeB = Math.max(0, total - used - cache);
  const f = (n: number) =>
    unit === 0 ? `${human(n)}`.replace(/([KMGT])$/, "$1i") : String(Math.floor(n / unit));
  const rows = [
    ["", "total", "used", "free", "shared", "buff/cache", "available"],
    ["Mem:", f(total), f(used), f(freeB), f(1_060_864), f(cache), f(total - used)],
    ["Swap:", f(0), f(0), f(0)],
  ];
  p.out(
    rows
      .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(5) : c.padStart(i === 1 ? 14 : 11))).join(" "))
      .map((l) => `${l.trimEnd()}\n`)
      .join(""),
  );
  return 0;
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ABRT: 6,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  TERM: 15,
};

/** kill [-SIGNAL] PID...: only the job's own process group can be signalled. */
export function killCommand(p: Proc, args: string[], prefix: string): number {
  let signal = 15;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "-s" || a === "-n") {
      const v = args[++i] ?? "";
      signal = SIGNALS[v.toUpperCase().replace(/^SIG/, "")] ?? Number(v);
    } else if (/^-\d+$/.test(a)) signal = Number(a.slice(1));
    else if (/^-[A-Za-z]+$/.test(a))
      signal = SIGNALS[a.slice(1).toUpperCase().replace(/^SIG/, "")] ?? Number.NaN;
    else rest.push(a);
  }
  if (!Number.isFinite(signal)) {
    p.err(`${prefix}invalid signal number or name\n`);
    return 1;
  }
  if (!rest.length) {
    p.err(`${prefix}Usage: kill [-s sigspec | -signum | -sigspec] [pid | job]... or\nkill -l [exitstatus]\n`);
    return 1;
  }
  for (const pid of rest) {
    if (Number(pid) === p.sys.pid) {
      if (signal === 0) continue;
      throw new Killed(signal);
    }
    p.err(`${prefix}(${pid}) - No such process\n`);
    return 1;
  }
  return 0;
}

export const coreutils: Record<string, Program> = {
  base64: base64cmd,
  bash: (p) => runShell(p, "bash"),
  cat,
  cp,
  dash: (p) => runShell(p, "dash"),
  date,
  df,
  echo,
  env,
  false: () => 1,
  free,
  grep,
  head: (p) => headTail(p, false),
  hostname,
  id,
  kill: (p) => killCommand(p, p.argv.slice(1), "kill: "),
  ls,
  mkdir,
  printf,
  rm,
  seq,
  sleep,
  tail: (p) => headTail(p, true),
  touch,
  true: () => 0,
  uname,
  uptime,
  wc,
  whoami: (p) => {
    p.out("root\n");
    return 0;
  },
  yes,
};
