// /bin/sh (dash) and bash for `sh -c "..."`: words, quotes, $VAR/$?/$$/$(...), globs, pipes,
// ; && ||, redirections (> >> < 2> 2>&1 >&2 &>), if/for/while, a few builtins, and the shells'
// own error messages ("sh: 1: foo: not found", exit 127).

import { Bytes } from "./bytes";
import { echoEscapes, killCommand, printfFormat } from "./coreutils";
import { Killed, Proc, resolveProgram } from "./exec";
import { type Entry, FsError } from "./fs";

type Flavor = "dash" | "bash";

type Part =
  | { k: "arith"; expr: string; q: boolean }
  | { k: "lit"; s: string; q: boolean }
  | { k: "var"; name: string; q: boolean }
  | { k: "sub"; script: string; q: boolean };
type Word = Part[];

type Tok =
  | { t: "word"; word: Word; line: number }
  | { t: "op"; op: string; line: number }
  | { t: "redir"; op: string; fd?: number; line: number }
  | { t: "nl"; line: number }
  | { t: "eof"; line: number };

interface Redir {
  fd: number;
  op: string;
  target: Word;
}

type Command =
  | { kind: "simple"; assigns: [string, Word][]; words: Word[]; redirs: Redir[]; line: number }
  | { kind: "subshell"; list: List; redirs: Redir[] }
  | { kind: "if"; branches: { cond: List; body: List }[]; otherwise?: List; redirs: Redir[] }
  | { kind: "for"; name: string; items: Word[] | null; body: List; redirs: Redir[] }
  | { kind: "while"; until: boolean; cond: List; body: List; redirs: Redir[] };

interface Pipeline {
  bang: boolean;
  cmds: Command[];
}
interface AndOr {
  first: Pipeline;
  rest: [string, Pipeline][];
}
type List = AndOr[];

class ShellSyntaxError extends Error {
  constructor(
    readonly token: string | null,
    readonly line: number,
    readonly expecting?: string,
  ) {
    super("syntax");
  }
}

// ---- lexer ------------------------------------------------------------------------------------

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let line = 1;
  let word: Word = [];
  let raw = "";
  const lit = (s: string, q: boolean) => {
    const last = word[word.length - 1];
    if (last && last.k === "lit" && last.q === q) last.s += s;
    else word.push({ k: "lit", s, q });
  };
  const flush = () => {
    if (word.length) toks.push({ t: "word", word, line });
    word = [];
    raw = "";
  };
  /** Reads an expansion after `$` at i; returns the next index. */
  const dollar = (i: number, q: boolean): number => {
    const c = src[i];
    if (c === "{") {
      const end = src.indexOf("}", i);
      if (end < 0) throw new ShellSyntaxError(null, line, undefined);
      word.push({ k: "var", name: src.slice(i + 1, end), q });
      return end + 1;
    }
    if (c === "(" && src[i + 1] === "(") {
      const end = src.indexOf("))", i + 2);
      if (end < 0) throw new ShellSyntaxError(null, line);
      word.push({ k: "arith", expr: src.slice(i + 2, end), q });
      return end + 2;
    }
    if (c === "(") {
      let depth = 1;
      let j = i + 1;
      let quote: string | null = null;
      for (; j < src.length && depth > 0; j++) {
        const d = src[j];
        if (quote) {
          if (d === quote) quote = null;
          else if (d === "\\" && quote === '"') j++;
        } else if (d === "'" || d === '"') quote = d;
        else if (d === "\\") j++;
        else if (d === "(") depth++;
        else if (d === ")") depth--;
      }
      if (depth > 0) throw new ShellSyntaxError(null, line);
      word.push({ k: "sub", script: src.slice(i + 1, j - 1), q });
      return j;
    }
    const m = /^(?:[A-Za-z_][A-Za-z0-9_]*|[?$#!@*0-9-])/.exec(src.slice(i));
    if (!m) {
      lit("$", q);
      return i;
    }
    word.push({ k: "var", name: m[0], q });
    return i + m[0].length;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === " " || c === "\t") {
      flush();
      i++;
    } else if (c === "\n") {
      flush();
      toks.push({ t: "nl", line });
      line++;
      i++;
    } else if (c === "#" && word.length === 0) {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "\\") {
      if (src[i + 1] === "\n") line++;
      else if (i + 1 < src.length) lit(src[i + 1] as string, true);
      raw += "\\";
      i += 2;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("quote", line);
      lit(src.slice(i + 1, end), true);
      if (end === i + 1) word.push({ k: "lit", s: "", q: true });
      raw += "'";
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let any = false;
      for (;;) {
        if (j >= src.length) throw new ShellSyntaxError("quote", line);
        const d = src[j] as string;
        if (d === '"') break;
        if (d === "\\" && '$`"\\\n'.includes(src[j + 1] ?? "")) {
          if (src[j + 1] !== "\n") lit(src[j + 1] as string, true);
          j += 2;
        } else if (d === "$") j = dollar(j + 1, true);
        else if (d === "`") {
          const end = src.indexOf("`", j + 1);
          if (end < 0) throw new ShellSyntaxError("quote", line);
          word.push({ k: "sub", script: src.slice(j + 1, end), q: true });
          j = end + 1;
        } else {
          if (d === "\n") line++;
          lit(d, true);
          j++;
        }
        any = true;
      }
      if (!any) word.push({ k: "lit", s: "", q: true });
      raw += '"';
      i = j + 1;
    } else if (c === "$") {
      i = dollar(i + 1, false);
      raw += "$";
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new ShellSyntaxError("quote", line);
      word.push({ k: "sub", script: src.slice(i + 1, end), q: false });
      i = end + 1;
    } else {
      const two = src.slice(i, i + 2);
      const redirOps = [">>", ">&", "<&", "&>", ">|", ">", "<"];
      const ops = ["&&", "||", ";;", "|", ";", "&", "(", ")"];
      const r = redirOps.find((o) => src.startsWith(o, i));
      if (r && !(r === "&>" && src[i + 2] === "&")) {
        let fd: number | undefined;
        if (word.length === 1 && word[0]?.k === "lit" && !word[0].q && /^\d$/.test(word[0].s) && raw === "") {
          fd = Number(word[0].s);
          word = [];
        }
        flush();
        toks.push({ t: "redir", op: r, ...(fd !== undefined ? { fd } : {}), line });
        i += r.length;
        continue;
      }
      const o = ops.find((x) => two.startsWith(x));
      if (o) {
        flush();
        toks.push({ t: "op", op: o, line });
        i += o.length;
        continue;
      }
      lit(c, false);
      i++;
    }
  }
  flush();
  toks.push({ t: "eof", line });
  return toks;
}

// ---- parser -----------------------------------------------------------------------------------

const plainWord = (w: Word): string | null =>
  w.length === 1 && w[0]?.k === "lit" && !w[0].q ? w[0].s : null;

const tokText = (t: Tok): string =>
  t.t === "word"
    ? t.word.map((p) => (p.k === "lit" ? p.s : "$")).join("")
    : t.t === "op" || t.t === "redir"
      ? t.op
      : t.t === "nl"
        ? "newline"
        : "end of file";

class Parser {
  i = 0;
  constructor(readonly toks: Tok[]) {}

  get tok(): Tok {
    return this.toks[this.i] as Tok;
  }
  next(): Tok {
    return this.toks[this.i++] as Tok;
  }
  isWord(w: string): boolean {
    return this.tok.t === "word" && plainWord(this.tok.word) === w;
  }
  isOp(op: string): boolean {
    return this.tok.t === "op" && this.tok.op === op;
  }
  skipNl(): void {
    while (this.tok.t === "nl") this.i++;
  }
  unexpected(expecting?: string): never {
    const t = this.tok;
    throw new ShellSyntaxError(t.t === "eof" ? null : tokText(t), t.line, expecting);
  }
  expectWord(w: string): void {
    this.skipNl();
    if (!this.isWord(w)) this.unexpected(`"${w}"`);
    this.i++;
  }

  program(): List {
    const list = this.list([]);
    this.skipNl();
    if (this.tok.t !== "eof") this.unexpected();
    return list;
  }

  list(terminators: string[]): List {
    const items: List = [];
    for (;;) {
      this.skipNl();
      const t = this.tok;
      if (
        t.t === "eof" ||
        this.isOp(")") ||
        (t.t === "word" && terminators.includes(plainWord(t.word) ?? ""))
      )
        break;
      items.push(this.andOr());
      if (this.isOp(";") || this.isOp("&")) {
        this.i++;
        continue;
      }
      if (this.tok.t === "nl") continue;
      break;
    }
    return items;
  }

  andOr(): AndOr {
    const first = this.pipeline();
    const rest: [string, Pipeline][] = [];
    while (this.isOp("&&") || this.isOp("||")) {
      const op = (this.next() as { op: string }).op;
      this.skipNl();
      rest.push([op, this.pipeline()]);
    }
    return { first, rest };
  }

  pipeline(): Pipeline {
    let bang = false;
    if (this.isWord("!")) {
      bang = true;
      this.i++;
    }
    const cmds = [this.command()];
    while (this.isOp("|")) {
      this.i++;
      this.skipNl();
      cmds.push(this.command());
    }
    return { bang, cmds };
  }

  redirs(): Redir[] {
    const out: Redir[] = [];
    while (this.tok.t === "redir") {
      const r = this.next() as { op: string; fd?: number };
      const target = this.toks[this.i] as Tok;
      if (target.t !== "word") this.unexpected();
      this.i++;
      out.push({ fd: r.fd ?? (r.op.startsWith("<") ? 0 : 1), op: r.op, target: target.word });
    }
    return out;
  }

  command(): Command {
    const t = this.tok;
    const w = t.t === "word" ? plainWord(t.word) : null;
    if (w === "if") return this.ifCommand();
    if (w === "for") return this.forCommand();
    if (w === "while" || w === "until") return this.whileCommand(w === "until");
    if (w !== null && ["then", "else", "elif", "fi", "do", "done", "}", "in"].includes(w)) this.unexpected();
    if (this.isOp("(")) {
      this.i++;
      const list = this.list([]);
      if (!this.isOp(")")) this.unexpected('")"');
      this.i++;
      return { kind: "subshell", list, redirs: this.redirs() };
    }
    const assigns: [string, Word][] = [];
    const words: Word[] = [];
    const redirs: Redir[] = [];
    const line = t.line;
    for (;;) {
      const cur = this.tok;
      if (cur.t === "redir") redirs.push(...this.redirs());
      else if (cur.t === "word") {
        const first = cur.word[0];
        const m = first?.k === "lit" && !first.q ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.s) : null;
        if (m && words.length === 0) {
          const value: Word = [
            {
              ...(first as { k: "lit"; s: string; q: boolean }),
              s: (first as { s: string }).s.slice(m[0].length),
            },
            ...cur.word.slice(1),
          ];
          assigns.push([m[1] as string, value]);
        } else words.push(cur.word);
        this.i++;
      } else break;
    }
    if (!assigns.length && !words.length && !redirs.length) this.unexpected();
    return { kind: "simple", assigns, words, redirs, line };
  }

  ifCommand(): Command {
    this.i++;
    const branches: { cond: List; body: List }[] = [];
    let otherwise: List | undefined;
    for (;;) {
      const cond = this.list(["then"]);
      this.expectWord("then");
      const body = this.list(["elif", "else", "fi"]);
      branches.push({ cond, body });
      this.skipNl();
      if (this.isWord("elif")) {
        this.i++;
        continue;
      }
      if (this.isWord("else")) {
        this.i++;
        otherwise = this.list(["fi"]);
      }
      this.expectWord("fi");
      break;
    }
    return { kind: "if", branches, ...(otherwise ? { otherwise } : {}), redirs: this.redirs() };
  }

  forCommand(): Command {
    this.i++;
    const nameTok = this.tok;
    const name = nameTok.t === "word" ? plainWord(nameTok.word) : null;
    if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.unexpected();
    this.i++;
    let items: Word[] | null = null;
    this.skipNl();
    if (this.isWord("in")) {
      this.i++;
      items = [];
      while (this.tok.t === "word") items.push((this.next() as { word: Word }).word);
    }
    if (this.isOp(";")) this.i++;
    this.expectWord("do");
    const body = this.list(["done"]);
    this.expectWord("done");
    return { kind: "for", name, items, body, redirs: this.redirs() };
  }

  whileCommand(until: boolean): Command {
    this.i++;
    const cond = this.list(["do"]);
    this.expectWord("do");
    const body = this.list(["done"]);
    this.expectWord("done");
    return { kind: "while", until, cond, body, redirs: this.redirs() };
  }
}

// ---- interpreter ------------------------------------------------------------------------------

interface Sink {
  write(b: Bytes | string): void;
}

interface IO {
  stdin: Bytes;
  out: Sink;
  err: Sink;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super("exit");
  }
}

/** Output captured into Bytes (pipes, $(...), redirections). */
class Capture implements Sink {
  readonly parts: Bytes[] = [];
  write(b: Bytes | string): void {
    this.parts.push(typeof b === "string" ? Bytes.of(b) : b);
  }
  get bytes(): Bytes {
    return Bytes.concat(...this.parts);
  }
}

/** Loop guard: a script cannot spin forever in zero time. */
const MAX_STEPS = 100_000;

class Shell {
  readonly vars: Map<string, string>;
  readonly exported: Set<string>;
  status = 0;
  steps = 0;
  /** Line of the command running, for messages. */
  line = 1;

  constructor(
    readonly p: Proc,
    readonly flavor: Flavor,
    readonly argv0: string,
    readonly positional: string[],
  ) {
    this.vars = new Map(p.env);
    this.exported = new Set(p.env.keys());
  }

  prefix(): string {
    return this.flavor === "dash" ? `${this.argv0}: ${this.line}: ` : `${this.argv0}: line ${this.line}: `;
  }

  get fs() {
    return this.p.fs;
  }

  /** Time spent so far in this shell. */
  get elapsed(): number {
    return this.p.elapsedMs;
  }

  runList(list: List, io: IO): number {
    for (const ao of list) {
      this.status = this.runAndOr(ao, io);
      if (!Number.isFinite(this.p.elapsedMs)) break;
    }
    return this.status;
  }

  runAndOr(ao: AndOr, io: IO): number {
    let status = this.runPipeline(ao.first, io);
    for (const [op, pl] of ao.rest) {
      if (!Number.isFinite(this.p.elapsedMs)) break;
      if ((op === "&&" && status === 0) || (op === "||" && status !== 0)) status = this.runPipeline(pl, io);
    }
    return status;
  }

  runPipeline(pl: Pipeline, io: IO): number {
    if (pl.cmds.length === 1) {
      const s = this.runCommand(pl.cmds[0] as Command, io);
      this.status = pl.bang ? (s === 0 ? 1 : 0) : s;
      return this.status;
    }
    // Stages run one after another here but concurrently in the guest: the pipeline takes as
    // long as its slowest stage, except a producer that only waits for its reader to quit.
    const start = this.p.elapsedMs;
    let input = io.stdin;
    let longest = 0;
    let status = 0;
    pl.cmds.forEach((cmd, idx) => {
      const last = idx === pl.cmds.length - 1;
      const sink = last ? io.out : new Capture();
      this.p.elapsedMs = start;
      this.producing = false;
      status = this.runCommand(cmd, { stdin: input, out: sink, err: io.err });
      const took = this.p.elapsedMs - start;
      if (!(this.producing && !last && !Number.isFinite(took))) longest = Math.max(longest, took);
      if (!last) input = (sink as Capture).bytes;
    });
    this.p.elapsedMs = start + longest;
    this.status = pl.bang ? (status === 0 ? 1 : 0) : status;
    return this.status;
  }

  /** Set when the command that just ran hangs only because its output is endless. */
  producing = false;

  expandWord(w: Word, split = true): string[] {
    const fields: { s: string; glob: boolean; quoted: boolean }[] = [];
    let cur = { s: "", glob: false, quoted: false };
    let started = false;
    for (const part of w) {
      let value: string;
      if (part.k === "lit") {
        cur.s += part.s;
        if (part.q) cur.quoted = true;
        else if (/[*?[]/.test(part.s)) cur.glob = true;
        started = true;
        continue;
      }
      value =
        part.k === "var"
          ? this.variable(part.name)
          : part.k === "arith"
            ? this.arithmetic(part.expr)
            : this.substitute(part.script);
      if (part.q || !split) {
        cur.s += value;
        cur.quoted = true;
        started = true;
        continue;
      }
      const pieces = value.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0) {
          if (started && (cur.s || cur.quoted)) fields.push(cur);
          cur = { s: "", glob: false, quoted: false };
        }
        if (piece) {
          cur.s += piece;
          started = true;
        }
      });
    }
    if (cur.s || cur.quoted) fields.push(cur);
    return fields.flatMap((f) => (f.glob && split ? this.glob(f.s) : [f.s]));
  }

  variable(name: string): string {
    if (name === "?") return String(this.status);
    if (name === "$") return String(this.p.sys.pid);
    if (name === "#") return String(this.positional.length);
    if (name === "0") return this.argv0;
    if (name === "@" || name === "*") return this.positional.join(" ");
    if (/^\d$/.test(name)) return this.positional[Number(name) - 1] ?? "";
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(:?-)(.*)$/.exec(name);
    if (m) {
      const v = this.vars.get(m[1] as string);
      return v === undefined || (m[2] === ":-" && v === "") ? (m[3] as string) : v;
    }
    if (name.startsWith("#")) return String((this.vars.get(name.slice(1)) ?? "").length);
    return this.vars.get(name) ?? "";
  }

  /** $((expr)): integers, + - * / %, parentheses, variables. */
  arithmetic(expr: string): string {
    const toks = expr.match(/\d+|[A-Za-z_][A-Za-z0-9_]*|\$?[A-Za-z_][A-Za-z0-9_]*|[-+*/%()]/g) ?? [];
    let i = 0;
    const atom = (): number => {
      const t = toks[i++] ?? "0";
      if (t === "(") {
        const v = sum();
        i++;
        return v;
      }
      if (t === "-") return -atom();
      if (/^\d+$/.test(t)) return Number(t);
      return Number.parseInt(this.vars.get(t.replace(/^\$/, "")) ?? "0", 10) || 0;
    };
    const product = (): number => {
      let v = atom();
      while (toks[i] === "*" || toks[i] === "/" || toks[i] === "%") {
        const op = toks[i++];
        const r = atom();
        v = op === "*" ? v * r : r === 0 ? 0 : op === "/" ? Math.trunc(v / r) : v % r;
      }
      return v;
    };
    const sum = (): number => {
      let v = product();
      while (toks[i] === "+" || toks[i] === "-") v = toks[i++] === "+" ? v + product() : v - product();
      return v;
    };
    return String(sum());
  }

  substitute(script: string): string {
    const cap = new Capture();
    const sub = new Shell(this.p, this.flavor, this.argv0, this.positional);
    for (const [k, v] of this.vars) sub.vars.set(k, v);
    sub.status = this.status;
    sub.line = this.line;
    try {
      sub.runList(parse(script), {
        stdin: Bytes.empty,
        out: cap,
        err: { write: (b) => this.p.err(asText(b)) },
      });
    } catch (e) {
      if (e instanceof ShellSyntaxError) this.p.err(syntaxMessage(e, this.flavor, this.argv0));
      else if (!(e instanceof Exit)) throw e;
    }
    this.status = sub.status;
    const out = cap.bytes;
    if (out.endless) this.p.elapsedMs = Number.POSITIVE_INFINITY;
    return out.text(1 << 20).replace(/\n+$/, "");
  }

  glob(pattern: string): string[] {
    const absolute = pattern.startsWith("/");
    const parts = pattern.split("/").filter((x, i) => x !== "" || i === 0);
    let paths = [absolute ? "/" : ""];
    for (const part of parts.slice(absolute ? 1 : 0)) {
      const next: string[] = [];
      for (const base of paths) {
        if (!/[*?[]/.test(part)) {
          next.push(base === "" ? part : base === "/" ? `/${part}` : `${base}/${part}`);
          continue;
        }
        const re = globRegex(part);
        let entries: Entry[] = [];
        try {
          entries = this.fs.list(this.fs.abs(base || ".", this.p.cwd));
        } catch {
          entries = [];
        }
        for (const e of entries) {
          if (e.name.startsWith(".") && !part.startsWith(".")) continue;
          if (re.test(e.name))
            next.push(base === "" ? e.name : base === "/" ? `/${e.name}` : `${base}/${e.name}`);
        }
      }
      paths = next;
    }
    const found = paths.filter((x) => {
      try {
        return this.fs.lookup(this.fs.abs(x, this.p.cwd), false) !== null;
      } catch {
        return false;
      }
    });
    return found.length ? found.sort() : [pattern];
  }

  /** Applies redirections; returns the IO for the command and the files to write afterwards. */
  redirect(redirs: Redir[], io: IO): { io: IO; files: { path: string; cap: Capture }[] } | null {
    const fds: Record<number, Sink | Bytes> = { 0: io.stdin, 1: io.out, 2: io.err };
    const files: { path: string; cap: Capture }[] = [];
    for (const r of redirs) {
      const target = this.expandWord(r.target, false)[0] ?? "";
      if (r.op === ">&" || r.op === "<&") {
        if (/^\d$/.test(target)) fds[r.fd] = fds[Number(target)] as Sink;
        else if (target === "-") delete fds[r.fd];
        continue;
      }
      const path = this.fs.abs(target, this.p.cwd);
      if (r.op === "<") {
        try {
          const data = this.fs.read(path);
          fds[r.fd] = data;
        } catch (e) {
          if (!(e instanceof FsError)) throw e;
          const reason =
            e.errno === "ENOENT" && this.flavor === "dash" ? "No such file" : this.fs.text(e.errno);
          this.p.err(
            this.flavor === "dash"
              ? `${this.prefix()}cannot open ${target}: ${reason}\n`
              : `${this.prefix()}${target}: ${reason}\n`,
          );
          return null;
        }
        continue;
      }
      try {
        this.fs.checkWritable(path);
        const isDev = this.fs.lookup(path)?.kind === "dev";
        if (r.op !== ">>" && !isDev) this.fs.write(path, "");
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        const reason =
          e.errno === "ENOENT" && this.flavor === "dash" ? "Directory nonexistent" : this.fs.text(e.errno);
        this.p.err(
          this.flavor === "dash"
            ? `${this.prefix()}cannot create ${target}: ${reason}\n`
            : `${this.prefix()}${target}: ${reason}\n`,
        );
        return null;
      }
      const cap = new Capture();
      files.push({ path, cap });
      if (r.op === "&>") {
        fds[1] = cap;
        fds[2] = cap;
      } else fds[r.fd] = cap;
    }
    const stdin = fds[0] instanceof Bytes ? fds[0] : Bytes.empty;
    const sinkOf = (x: Sink | Bytes | undefined): Sink =>
      x && !(x instanceof Bytes) ? x : { write: () => {} };
    return { io: { stdin, out: sinkOf(fds[1]), err: sinkOf(fds[2]) }, files };
  }

  flush(files: { path: string; cap: Capture }[], name: string): boolean {
    for (const f of files) {
      const data = f.cap.bytes;
      try {
        if (data.endless || data.length > 2 * 1024 * 1024) throw new FsError("ENOSPC");
        if (data.length) this.fs.write(f.path, data.text(), true);
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        this.p.err(`${name}: write error: ${this.fs.text(e.errno)}\n`);
        return false;
      }
    }
    return true;
  }

  runCommand(cmd: Command, io: IO): number {
    if (++this.steps > MAX_STEPS) {
      this.p.hang();
      return 0;
    }
    if (cmd.kind !== "simple") {
      const r = this.redirect(cmd.redirs, io);
      if (!r) return 1;
      let status = 0;
      switch (cmd.kind) {
        case "subshell": {
          const saved = new Map(this.vars);
          const cwd = this.p.cwd;
          try {
            status = this.runList(cmd.list, r.io);
          } catch (e) {
            if (!(e instanceof Exit)) throw e;
            status = e.code;
          }
          this.vars.clear();
          for (const [k, v] of saved) this.vars.set(k, v);
          this.p.cwd = cwd;
          break;
        }
        case "if": {
          const branch = cmd.branches.find((b) => this.runList(b.cond, r.io) === 0);
          status = branch
            ? this.runList(branch.body, r.io)
            : cmd.otherwise
              ? this.runList(cmd.otherwise, r.io)
              : 0;
          break;
        }
        case "for": {
          const items = cmd.items ? cmd.items.flatMap((w) => this.expandWord(w)) : this.positional;
          for (const item of items) {
            this.vars.set(cmd.name, item);
            status = this.runList(cmd.body, r.io);
            if (!Number.isFinite(this.p.elapsedMs)) break;
          }
          break;
        }
        case "while": {
          for (;;) {
            const c = this.runList(cmd.cond, r.io);
            if ((c === 0) === cmd.until || !Number.isFinite(this.p.elapsedMs)) break;
            status = this.runList(cmd.body, r.io);
            if (++this.steps > MAX_STEPS) {
              this.p.hang();
              break;
            }
          }
          break;
        }
      }
      this.flush(r.files, this.argv0);
      return status;
    }

    this.line = cmd.line;
    const argv = cmd.words.flatMap((w) => this.expandWord(w));
    const assigns = cmd.assigns.map(([k, w]) => [k, this.expandWord(w, false).join("")] as const);
    if (!argv.length) {
      for (const [k, v] of assigns) this.vars.set(k, v);
      const r = this.redirect(cmd.redirs, io);
      if (!r) return 1;
      this.flush(r.files, this.argv0);
      return this.status;
    }
    const r = this.redirect(cmd.redirs, io);
    if (!r) return 1;
    const status = this.invoke(argv, assigns, r.io);
    const ok = this.flush(r.files, argv[0] as string);
    return ok ? status : 1;
  }

  /** Runs a builtin or a program. */
  invoke(argv: string[], assigns: readonly (readonly [string, string])[], io: IO): number {
    const name = argv[0] as string;
    const builtin = this.builtin(name, argv.slice(1), io);
    if (builtin !== null) return builtin;
    const env = new Map<string, string>();
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined) env.set(k, v);
    }
    for (const [k, v] of assigns) env.set(k, v);
    const resolved = resolveProgram(this.p.sys, name, env, this.p.cwd);
    if ("error" in resolved) {
      if (resolved.error === "EACCES") {
        io.err.write(`${this.prefix()}${name}: Permission denied\n`);
        return 126;
      }
      io.err.write(
        this.flavor === "dash"
          ? `${this.prefix()}${name}: not found\n`
          : `${this.prefix()}${name}: command not found\n`,
      );
      return 127;
    }
    const child = new Proc(
      this.p.sys,
      argv,
      io.stdin,
      env,
      this.p.cwd,
      this.p.startedAfterMs + this.p.elapsedMs,
    );
    const code = resolved.program(child);
    const out = child.stdout;
    io.out.write(out);
    if (child.errParts.length) io.err.write(child.errParts.join(""));
    this.producing = out.endless;
    this.p.elapsedMs += child.elapsedMs;
    return code;
  }

  builtin(name: string, args: string[], io: IO): number | null {
    const err = (msg: string) => io.err.write(`${this.prefix()}${msg}\n`);
    switch (name) {
      case ":":
      case "true":
        return 0;
      case "false":
        return 1;
      case "echo": {
        let a = args;
        let newline = true;
        let escapes = this.flavor === "dash";
        if (this.flavor === "dash") {
          if (a[0] === "-n") {
            newline = false;
            a = a.slice(1);
          }
        } else {
          while (a[0] && /^-[neE]+$/.test(a[0])) {
            for (const c of a[0].slice(1)) {
              if (c === "n") newline = false;
              else escapes = c === "e";
            }
            a = a.slice(1);
          }
        }
        let text = a.join(" ");
        if (escapes) {
          const r = echoEscapes(text);
          text = r.text;
          if (r.stop) newline = false;
        }
        io.out.write(newline ? `${text}\n` : text);
        return 0;
      }
      case "printf":
        if (!args.length) {
          err(
            this.flavor === "dash"
              ? "printf: usage: printf format [arg ...]"
              : "printf: usage: printf [-v var] format [arguments]",
          );
          return 2;
        }
        io.out.write(printfFormat(args[0] as string, args.slice(1)));
        return 0;
      case "pwd":
        io.out.write(`${this.p.cwd}\n`);
        return 0;
      case "cd": {
        const target = args[0] ?? this.vars.get("HOME") ?? "/";
        const path = this.fs.abs(target, this.p.cwd);
        let ok = false;
        try {
          ok = this.fs.lookup(path)?.kind === "dir";
        } catch {
          ok = false;
        }
        if (!ok) {
          err(
            this.flavor === "dash" ? `cd: can't cd to ${target}` : `cd: ${target}: No such file or directory`,
          );
          return this.flavor === "dash" ? 2 : 1;
        }
        this.p.cwd = this.fs.resolve(path);
        return 0;
      }
      case "exit":
        throw new Exit(args[0] === undefined ? this.status : Number(args[0]) & 0xff);
      case "export":
      case "readonly":
        for (const a of args) {
          const eq = a.indexOf("=");
          const k = eq < 0 ? a : a.slice(0, eq);
          if (eq >= 0) this.vars.set(k, a.slice(eq + 1));
          this.exported.add(k);
        }
        return 0;
      case "unset":
        for (const a of args) {
          this.vars.delete(a);
          this.exported.delete(a);
        }
        return 0;
      case "kill": {
        const tmp = new Proc(this.p.sys, ["kill", ...args], Bytes.empty, new Map(), this.p.cwd);
        const code = killCommand(tmp, args, `${this.prefix()}kill: `);
        if (tmp.errParts.length) io.err.write(tmp.errParts.join(""));
        return code;
      }
      case "read": {
        const names = args.filter((a) => !a.startsWith("-"));
        const text = io.stdin.text(1 << 20);
        const lineEnd = text.indexOf("\n");
        if (text === "") return 1;
        const line = lineEnd < 0 ? text : text.slice(0, lineEnd);
        const words = line.trim().split(/\s+/);
        names.forEach((n, i) => {
          this.vars.set(n, i === names.length - 1 ? words.slice(i).join(" ") : (words[i] ?? ""));
        });
        return lineEnd < 0 ? 1 : 0;
      }
      case "wait":
        return 0;
      case "sleep":
        return null;
      case "exec":
        if (!args.length) return 0;
        throw new Exit(this.invoke(args, [], io));
      case "command": {
        if (args[0] === "-v") {
          const n = args[1] ?? "";
          if (BUILTINS.has(n)) {
            io.out.write(`${n}\n`);
            return 0;
          }
          const r = resolveProgram(this.p.sys, n, this.vars, this.p.cwd);
          if ("error" in r) return 1;
          io.out.write(`${n.includes("/") ? n : `/usr/bin/${n}`}\n`);
          return 0;
        }
        return args.length ? this.invoke(args, [], io) : 0;
      }
      case "test":
      case "[": {
        let a = args;
        if (name === "[") {
          if (a[a.length - 1] !== "]") {
            err("[: missing ]");
            return 2;
          }
          a = a.slice(0, -1);
        }
        const r = this.test(a);
        if (r === null) {
          err(`${name}: ${a[0] ?? ""}: unexpected operator`);
          return 2;
        }
        return r ? 0 : 1;
      }
      default:
        return null;
    }
  }

  test(a: string[]): boolean | null {
    if (a[0] === "!") {
      const r = this.test(a.slice(1));
      return r === null ? null : !r;
    }
    if (a.length === 0) return false;
    if (a.length === 1) return (a[0] as string) !== "";
    if (a.length === 2) {
      const [op, v] = a as [string, string];
      const stat = () => {
        try {
          return this.fs.lookup(this.fs.abs(v, this.p.cwd));
        } catch {
          return null;
        }
      };
      switch (op) {
        case "-z":
          return v === "";
        case "-n":
          return v !== "";
        case "-e":
          return stat() !== null;
        case "-f":
          return stat()?.kind === "file";
        case "-d":
          return stat()?.kind === "dir";
        case "-s":
          return (stat()?.size ?? 0) > 0;
        case "-r":
        case "-w":
        case "-x":
          return stat() !== null;
        default:
          return null;
      }
    }
    if (a.length === 3) {
      const [x, op, y] = a as [string, string, string];
      const nx = Number(x);
      const ny = Number(y);
      switch (op) {
        case "=":
        case "==":
          return x === y;
        case "!=":
          return x !== y;
        case "-eq":
          return nx === ny;
        case "-ne":
          return nx !== ny;
        case "-lt":
          return nx < ny;
        case "-le":
          return nx <= ny;
        case "-gt":
          return nx > ny;
        case "-ge":
          return nx >= ny;
        default:
          return null;
      }
    }
    return null;
  }
}

const BUILTINS = new Set([
  ":",
  "true",
  "false",
  "echo",
  "printf",
  "pwd",
  "cd",
  "exit",
  "export",
  "readonly",
  "unset",
  "kill",
  "read",
  "wait",
  "exec",
  "command",
  "test",
  "[",
]);

/** A glob component as a RegExp: * ? and [...] classes; an unclosed [ is literal. */
function globRegex(glob: string): RegExp {
  let src = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    const close = c === "[" ? glob.indexOf("]", i + 2) : -1;
    if (c === "*") src += ".*";
    else if (c === "?") src += ".";
    else if (close > 0) {
      src += `[${glob
        .slice(i + 1, close)
        .replace(/^!/, "^")
        .replace(/\\/g, "\\\\")}]`;
      i = close;
    } else src += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${src}$`);
}

const asText = (b: Bytes | string) => (typeof b === "string" ? b : b.text(1 << 20));

function parse(src: string): List {
  return new Parser(lex(src)).program();
}

function syntaxMessage(e: ShellSyntaxError, flavor: Flavor, argv0: string): string {
  if (flavor === "bash") {
    if (e.token === "quote")
      return `${argv0}: -c: line ${e.line}: unexpected EOF while looking for matching quote\n`;
    if (e.token === null) return `${argv0}: -c: line ${e.line}: syntax error: unexpected end of file\n`;
    return `${argv0}: -c: line ${e.line}: syntax error near unexpected token \`${e.token}'\n`;
  }
  if (e.token === "quote") return `${argv0}: ${e.line}: Syntax error: Unterminated quoted string\n`;
  const what =
    e.token === null
      ? "end of file unexpected"
      : `"${e.token === "newline" ? "newline" : e.token}" unexpected`;
  return `${argv0}: ${e.line}: Syntax error: ${what}${e.expecting ? ` (expecting ${e.expecting})` : ""}\n`;
}

/** sh/dash/bash as a program: `-c SCRIPT [ARG0 [ARG...]]`, a script file, or a script on stdin. */
export function runShell(p: Proc, flavor: Flavor): number {
  const args = p.argv.slice(1);
  let argv0 = p.argv[0] ?? "sh";
  let script: string;
  let positional: string[] = [];
  while (args[0] && /^-[eux]+$/.test(args[0])) args.shift();
  if (args[0] === "-c") {
    if (args.length < 2) {
      p.err(
        flavor === "dash"
          ? `${argv0}: 0: -c requires an argument\n`
          : `${argv0}: -c: option requires an argument\n`,
      );
      return 2;
    }
    script = args[1] as string;
    if (args.length > 2) {
      argv0 = args[2] as string;
      positional = args.slice(3);
    }
  } else if (args[0] !== undefined) {
    const file = args[0];
    try {
      script = p.fs.read(p.fs.abs(file, p.cwd)).text(1 << 20);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      p.err(
        flavor === "dash"
          ? `${argv0}: 0: cannot open ${file}: No such file\n`
          : `${argv0}: ${file}: ${p.fs.text(e.errno)}\n`,
      );
      return 127;
    }
    argv0 = file;
    positional = args.slice(1);
  } else {
    script = p.stdin.text(1 << 20);
  }
  const shell = new Shell(p, flavor, argv0, positional);
  let list: List;
  try {
    list = parse(script);
  } catch (e) {
    if (!(e instanceof ShellSyntaxError)) throw e;
    p.err(syntaxMessage(e, flavor, argv0));
    return 2;
  }
  const io: IO = {
    stdin: args[0] === undefined ? Bytes.empty : p.stdin,
    out: { write: (b) => p.out(b) },
    err: { write: (b) => p.err(asText(b)) },
  };
  try {
    return shell.runList(list, io);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof ShellSyntaxError) {
      p.err(syntaxMessage(e, flavor, argv0));
      return 2;
    }
    if (e instanceof Killed) throw e;
    throw e;
  }
}
