// Windows programs qemu-ga can start: cmd.exe /c, powershell -Command, ipconfig, hostname,
// whoami. qemu-ga runs as LocalSystem, so whoami is "nt authority\system". Output uses CRLF.

import { Bytes, fromUtf8 } from "./bytes";
import { strftime } from "./clock";
import { Proc, type Program } from "./exec";
import { type Entry, FsError } from "./fs";
import { filesystems, interfaces } from "./system";

const VERSION = "Microsoft Windows [Version 10.0.26100.4946]";

function ipconfig(p: Proc, all = false): string {
  const nic = interfaces(p.sys.g, p.sys.os, p.nowMs).find((i) => i.name === "Ethernet");
  const lines = ["", "Windows IP Configuration", ""];
  if (all) {
    lines.push(
      `   Host Name . . . . . . . . . . . . : ${p.sys.os.hostname}`,
      "   Primary Dns Suffix  . . . . . . . : ",
      "   Node Type . . . . . . . . . . . . : Hybrid",
      "   IP Routing Enabled. . . . . . . . : No",
      "   WINS Proxy Enabled. . . . . . . . : No",
      "   DNS Suffix Search List. . . . . . : lan",
    );
  }
  lines.push("", "Ethernet adapter Ethernet:", "", "   Connection-specific DNS Suffix  . : lan");
  if (all && nic?.mac) {
    lines.push(
      "   Description . . . . . . . . . . . : Red Hat VirtIO Ethernet Adapter",
      `   Physical Address. . . . . . . . . : ${nic.mac.toUpperCase().replace(/:/g, "-")}`,
      "   DHCP Enabled. . . . . . . . . . . : Yes",
    );
  }
  for (const a of nic?.ipv6 ?? []) lines.push(`   Link-local IPv6 Address . . . . . : ${a.addr}%4`);
  for (const a of nic?.ipv4 ?? []) {
    lines.push(
      `   IPv4 Address. . . . . . . . . . . : ${a.addr}`,
      "   Subnet Mask . . . . . . . . . . . : 255.255.255.0",
    );
    lines.push(`   Default Gateway . . . . . . . . . : ${a.addr.replace(/\.\d+$/, ".1")}`);
  }
  return `${lines.join("\r\n")}\r\n`;
}

const usDate = (p: Proc, sec: number) => {
  const zone = p.sys.os.timezone;
  const ms = sec * 1000;
  const h = Number(strftime("%H", zone, ms));
  const h12 = h % 12 || 12;
  return {
    date: strftime("%m/%d/%Y", zone, ms),
    time: `${String(h12).padStart(2, "0")}:${strftime("%M", zone, ms)} ${h < 12 ? "AM" : "PM"}`,
    h12,
    minute: strftime("%M", zone, ms),
    ampm: h < 12 ? "AM" : "PM",
  };
};

const groupDigits = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

function dirListing(p: Proc, arg: string | undefined, bare: boolean): { out: string; ok: boolean } {
  const path = p.fs.abs(arg ?? p.cwd, p.cwd);
  let entries: Entry[];
  let single: Entry | null = null;
  try {
    const e = p.fs.lookup(path);
    if (!e) return { out: "", ok: false };
    if (e.kind === "dir") entries = p.fs.list(path);
    else {
      single = e;
      entries = [e];
    }
  } catch {
    return { out: "", ok: false };
  }
  if (bare) return { out: entries.map((e) => `${e.name}\r\n`).join(""), ok: true };
  const dir = single ? path.slice(0, path.lastIndexOf("\\")) || path : path;
  const lines = [
    " Volume in drive C has no label.",
    " Volume Serial Number is 7A3C-1F2E",
    "",
    ` Directory of ${dir}`,
    "",
  ];
  const rows = single
    ? entries
    : [
        { ...(p.fs.stat(path) as Entry), name: "." },
        { ...(p.fs.stat(path) as Entry), name: ".." },
        ...entries,
      ];
  let files = 0;
  let bytes = 0;
  let dirs = 0;
  for (const e of rows) {
    const t = usDate(p, e.mtime);
    if (e.kind === "dir") {
      dirs++;
      lines.push(`${t.date}  ${t.time}    <DIR>          ${e.name}`);
    } else {
      files++;
      bytes += e.size;
      lines.push(`${t.date}  ${t.time}    ${groupDigits(e.size).padStart(14)} ${e.name}`);
    }
  }
  const free = filesystems(p.sys.g, p.sys.os)[0]?.avail ?? 0;
  lines.push(`${String(files).padStart(16)} File(s) ${groupDigits(bytes).padStart(14)} bytes`);
  lines.push(`${String(dirs).padStart(16)} Dir(s)  ${groupDigits(free).padStart(14)} bytes free`);
  return { out: `${lines.join("\r\n")}\r\n`, ok: true };
}

/** Splits a cmd.exe line on & && || | outside double quotes. */
function splitCmd(line: string): { text: string; op: string }[] {
  const out: { text: string; op: string }[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === "&" || c === "|")) {
      const two = line.slice(i, i + 2);
      const op = two === "&&" || two === "||" ? two : c;
      if (line[i - 1] === ">" && c === "&") {
        cur += c;
        continue;
      }
      out.push({ text: cur, op });
      cur = "";
      i += op.length - 1;
      continue;
    }
    cur += c;
  }
  out.push({ text: cur, op: "" });
  return out;
}

const expandEnv = (p: Proc, s: string) =>
  s.replace(/%([^%]+)%/g, (m, k: string) => {
    for (const [name, v] of p.env) if (name.toLowerCase() === k.toLowerCase()) return v;
    return m;
  });

function cmdOne(
  p: Proc,
  text: string,
  stdin: Bytes,
  out: (s: string) => void,
  err: (s: string) => void,
  state: { cwd: string },
): number {
  // cmd keeps the spaces before `&`: `echo hi & ver` prints "hi ".
  let line = expandEnv(p, text.trimStart());
  // Redirections: > file, >> file, 2> file, 2>&1, >nul.
  const redirs: { fd: number; append: boolean; target: string }[] = [];
  line = line.replace(
    /\s*(\d?)(>>?)\s*(&\d|"[^"]*"|[^\s>]+)/g,
    (_m, fd: string, op: string, target: string) => {
      redirs.push({ fd: Number(fd || "1"), append: op === ">>", target: target.replace(/"/g, "") });
      return "";
    },
  );
  const outParts: string[] = [];
  const errParts: string[] = [];
  const o = (s: string) => outParts.push(s);
  const e = (s: string) => errParts.push(s);
  const m = /^(\S+?)(?=[\s./\\]|$)(.*)$/s.exec(line) ?? ["", line, ""];
  const name = (m[1] as string).toLowerCase();
  const rest = (m[2] as string).replace(/^\s/, "");
  let code = 0;
  switch (name) {
    case "":
      break;
    case "echo":
      if (rest === "" && !(m[2] as string).startsWith(".")) o("ECHO is on.\r\n");
      else o(`${(m[2] as string).startsWith(".") ? (m[2] as string).slice(1) : rest}\r\n`);
      break;
    case "ver":
      o(`\r\n${VERSION}\r\n`);
      break;
    case "hostname":
    case "hostname.exe":
      o(`${p.sys.os.hostname}\r\n`);
      break;
    case "whoami":
    case "whoami.exe":
      o("nt authority\\system\r\n");
      break;
    case "ipconfig":
    case "ipconfig.exe":
      o(ipconfig(p, /\/all/i.test(rest)));
      break;
    case "cd":
    case "chdir":
      if (!rest) o(`${state.cwd}\r\n`);
      else {
        const target = p.fs.abs(rest.replace(/"/g, ""), state.cwd);
        if (p.fs.lookup(target)?.kind === "dir") state.cwd = target;
        else {
          e("The system cannot find the path specified.\r\n");
          code = 1;
        }
      }
      break;
    case "dir": {
      const bare = /\/b/i.test(rest);
      const arg = rest.replace(/\/\w+/g, "").trim().replace(/"/g, "") || undefined;
      const r = dirListing(p, arg ? p.fs.abs(arg, state.cwd) : state.cwd, bare);
      if (r.ok) o(r.out);
      else {
        if (!bare) o(" Volume in drive C has no label.\r\n Volume Serial Number is 7A3C-1F2E\r\n\r\n");
        e("File Not Found\r\n");
        code = 1;
      }
      break;
    }
    case "type": {
      const file = rest.replace(/"/g, "").trim();
      try {
        o(p.fs.read(p.fs.abs(file, state.cwd)).text(16 << 20));
      } catch (x) {
        if (!(x instanceof FsError)) throw x;
        e(
          `${x.errno === "EACCES" || x.errno === "EBUSY" ? p.fs.text(x.errno) : "The system cannot find the file specified."}\r\n`,
        );
        code = 1;
      }
      break;
    }
    case "set":
      if (rest.includes("=")) p.env.set(rest.slice(0, rest.indexOf("=")), rest.slice(rest.indexOf("=") + 1));
      else
        for (const [k, v] of [...p.env].sort(([a], [b]) => a.toLowerCase().localeCompare(b.toLowerCase())))
          if (!rest || k.toLowerCase().startsWith(rest.toLowerCase())) o(`${k}=${v}\r\n`);
      break;
    case "exit": {
      const n = /(-?\d+)/.exec(rest);
      throw new CmdExit(n ? Number(n[1]) : 0);
    }
    case "powershell":
    case "powershell.exe": {
      const argv = [
        "powershell.exe",
        ...(rest.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, "")),
      ];
      const child = new Proc(p.sys, argv, stdin, p.env, state.cwd);
      code = powershell(child);
      o(child.stdout.text());
      e(child.errParts.join(""));
      break;
    }
    default:
      e(
        `'${m[1]}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`,
      );
      code = 9009;
  }
  let ok = true;
  for (const r of redirs) {
    if (r.target === "&1" && r.fd === 2) {
      outParts.push(...errParts.splice(0));
      continue;
    }
    if (/^nul$/i.test(r.target)) {
      (r.fd === 2 ? errParts : outParts).length = 0;
      continue;
    }
    try {
      const data = (r.fd === 2 ? errParts : outParts).splice(0).join("");
      p.fs.write(p.fs.abs(r.target, state.cwd), data, r.append);
    } catch (x) {
      if (!(x instanceof FsError)) throw x;
      err(`${p.fs.text(x.errno)}\r\n`);
      ok = false;
    }
  }
  out(outParts.join(""));
  err(errParts.join(""));
  return ok ? code : 1;
}

class CmdExit extends Error {
  constructor(readonly code: number) {
    super("exit");
  }
}

/** cmd.exe /c LINE (or lines on stdin). */
function cmd(p: Proc): number {
  const args = p.argv.slice(1);
  const ci = args.findIndex((a) => /^\/[ck]$/i.test(a));
  const state = { cwd: p.cwd };
  const run = (line: string, stdin: Bytes): number => {
    let code = 0;
    let input = stdin;
    let skip = false;
    for (const seg of splitCmd(line)) {
      if (!skip) {
        if (seg.op === "|") {
          const cap: string[] = [];
          code = cmdOne(
            p,
            seg.text,
            input,
            (s) => cap.push(s),
            (s) => p.err(s),
            state,
          );
          input = Bytes.of(cap.join(""));
          continue;
        }
        code = cmdOne(
          p,
          seg.text,
          input,
          (s) => p.out(s),
          (s) => p.err(s),
          state,
        );
        input = Bytes.empty;
      }
      skip = (seg.op === "&&" && code !== 0) || (seg.op === "||" && code === 0);
    }
    return code;
  };
  try {
    if (ci >= 0) return run(args.slice(ci + 1).join(" "), p.stdin);
    p.out(`${VERSION}\r\n(c) Microsoft Corporation. All rights reserved.\r\n\r\n`);
    let code = 0;
    for (const line of p.stdin.text(1 << 20).split(/\r?\n/)) {
      p.out(`${state.cwd}>${line}\r\n`);
      if (line.trim()) code = run(line, Bytes.empty);
      p.out("\r\n");
    }
    p.out(`${state.cwd}>`);
    return code;
  } catch (e) {
    if (e instanceof CmdExit) return e.code;
    throw e;
  }
}

function psDir(p: Proc, arg: string | undefined): { out: string; error?: string } {
  const path = p.fs.abs(arg ?? p.cwd, p.cwd);
  let e: Entry | null;
  try {
    e = p.fs.lookup(path);
  } catch {
    e = null;
  }
  if (!e) return { out: "", error: `Cannot find path '${path}' because it does not exist.` };
  const entries = e.kind === "dir" ? p.fs.list(path) : [e];
  const rows = entries.map((x) => {
    const t = usDate(p, x.mtime);
    const mode = x.kind === "dir" ? "d-----" : "-a----";
    return `${mode}${`${t.date}`.padStart(18)}${`${t.h12}:${t.minute} ${t.ampm}`.padStart(11)}${(x.kind === "dir" ? "" : String(x.size)).padStart(15)} ${x.name}`;
  });
  const dir = e.kind === "dir" ? path : path.slice(0, path.lastIndexOf("\\"));
  return {
    out: [
      "",
      "",
      `    Directory: ${dir}`,
      "",
      "",
      "Mode                 LastWriteTime         Length Name",
      "----                 -------------         ------ ----",
      ...rows,
      "",
      "",
    ].join("\r\n"),
  };
}

function psNotFound(name: string): string {
  const tilde = "~".repeat(name.length);
  return [
    `${name} : The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
    "At line:1 char:1",
    `+ ${name}`,
    `+ ${tilde}`,
    `    + CategoryInfo          : ObjectNotFound: (${name}:String) [], CommandNotFoundException`,
    "    + FullyQualifiedErrorId : CommandNotFoundException",
    " ",
    "",
  ].join("\r\n");
}

/** powershell.exe -Command "..." with a few cmdlets and aliases. */
function powershell(p: Proc): number {
  const args = p.argv.slice(1);
  let script: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = (args[i] as string).toLowerCase();
    if (a === "-command" || a === "-c") {
      script = args.slice(i + 1).join(" ");
      break;
    }
    if (a === "-encodedcommand" || a === "-enc" || a === "-e") {
      const raw = atob(args[i + 1] ?? "");
      let s = "";
      for (let j = 0; j + 1 < raw.length; j += 2)
        s += String.fromCharCode(raw.charCodeAt(j) | (raw.charCodeAt(j + 1) << 8));
      script = s;
      break;
    }
    if (!a.startsWith("-")) {
      script = args.slice(i).join(" ");
      break;
    }
  }
  if (script === null) script = fromUtf8(p.stdin.text(1 << 20));
  let failed = false;
  const str = (s: string) => {
    const t = s.trim();
    const m = /^(['"])(.*)\1$/s.exec(t);
    const body = m ? (m[2] as string) : t;
    return m?.[1] === "'"
      ? body
      : body.replace(/\$env:([A-Za-z_][A-Za-z0-9_]*)/g, (_x, k: string) => {
          for (const [name, v] of p.env) if (name.toLowerCase() === k.toLowerCase()) return v;
          return "";
        });
  };
  for (const stmt of script.split(/;|\r?\n/)) {
    const s = stmt.trim().replace(/\s*\|\s*(Out-String|Out-Host|Format-Table|Format-List|ft|fl)\b.*$/i, "");
    if (!s) continue;
    const m = /^([^\s]+)\s*(.*)$/s.exec(s) as RegExpExecArray;
    const name = (m[1] as string).toLowerCase();
    const arg = (m[2] as string).trim();
    failed = false;
    if (/^\$env:/i.test(s) || /^["']/.test(s)) {
      p.out(`${str(s)}\r\n`);
      continue;
    }
    switch (name) {
      case "write-output":
      case "write-host":
      case "echo":
        p.out(`${str(arg)}\r\n`);
        break;
      case "hostname":
      case "hostname.exe":
        p.out(`${p.sys.os.hostname}\r\n`);
        break;
      case "whoami":
      case "whoami.exe":
        p.out("nt authority\\system\r\n");
        break;
      case "ipconfig":
      case "ipconfig.exe":
        p.out(ipconfig(p, /\/all/i.test(arg)));
        break;
      case "get-childitem":
      case "gci":
      case "dir":
      case "ls": {
        const target = str(arg.replace(/^-Path\s+/i, "")) || undefined;
        const r = psDir(p, target);
        if (r.error) {
          p.err(`Get-ChildItem : ${r.error}\r\n`);
          failed = true;
        } else p.out(r.out);
        break;
      }
      case "get-content":
      case "gc":
      case "cat":
      case "type": {
        const target = str(arg.replace(/^-Path\s+/i, ""));
        const path = p.fs.abs(target, p.cwd);
        try {
          const text = p.fs.read(path).text(16 << 20);
          p.out(
            text.endsWith("\n") ? text.replace(/\r?\n/g, "\r\n") : `${text.replace(/\r?\n/g, "\r\n")}\r\n`,
          );
        } catch (e) {
          if (!(e instanceof FsError)) throw e;
          p.err(`Get-Content : Cannot find path '${path}' because it does not exist.\r\n`);
          failed = true;
        }
        break;
      }
      case "get-date":
        p.out(
          `\r\n${strftime("%A, %B %e, %Y", p.sys.os.timezone, p.nowMs).replace(/ {2}/, " ")} ${usDate(p, p.nowMs / 1000).h12}:${strftime("%M:%S", p.sys.os.timezone, p.nowMs)} ${usDate(p, p.nowMs / 1000).ampm}\r\n\r\n\r\n`,
        );
        break;
      case "start-sleep": {
        const n = Number(/(\d+(?:\.\d+)?)/.exec(arg)?.[1] ?? "0");
        p.sleep(/-m(illiseconds)?\b/i.test(arg) ? n / 1000 : n);
        break;
      }
      case "exit":
        return Number(arg || "0");
      default:
        p.err(psNotFound(m[1] as string));
        failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** A program that prints one text. */
const printing =
  (text: (p: Proc) => string): Program =>
  (p) => {
    p.out(text(p));
    return 0;
  };

export const windowsPrograms: Record<string, Program> = {
  "cmd.exe": cmd,
  "powershell.exe": powershell,
  "ipconfig.exe": printing((p) =>
    ipconfig(
      p,
      p.argv.slice(1).some((a) => /^[/-]all$/i.test(a)),
    ),
  ),
  "hostname.exe": printing((p) => `${p.sys.os.hostname}\r\n`),
  "whoami.exe": printing(() => "nt authority\\system\r\n"),
};
