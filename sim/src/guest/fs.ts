// A guest's file system as its programs and qemu-ga see it: the image the OS implies, overlaid
// with what the guest wrote. Errors are errnos, rendered in the guest's own words (strerror on
// Linux, FormatMessage on Windows).

import type { GuestOs, GuestState } from "../state/model";
import { Bytes } from "./bytes";
import { buildImage, type Image, type ImageNode } from "./image";

export type Errno =
  | "ENOENT"
  /** Windows: a directory on the way is missing (ERROR_PATH_NOT_FOUND); ENOENT on Linux. */
  | "ENOPATH"
  | "EISDIR"
  | "ENOTDIR"
  | "EACCES"
  | "EROFS"
  | "ENOSPC"
  | "EEXIST"
  | "ENOTEMPTY"
  /** Windows: another process holds the file (ERROR_SHARING_VIOLATION). */
  | "EBUSY";

const LINUX_TEXT: Record<Errno, string> = {
  ENOENT: "No such file or directory",
  ENOPATH: "No such file or directory",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EACCES: "Permission denied",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  EEXIST: "File exists",
  ENOTEMPTY: "Directory not empty",
  EBUSY: "Device or resource busy",
};

const WINDOWS_TEXT: Record<Errno, string> = {
  ENOENT: "The system cannot find the file specified.",
  ENOPATH: "The system cannot find the path specified.",
  EISDIR: "Access is denied.",
  ENOTDIR: "The directory name is invalid.",
  EACCES: "Access is denied.",
  EROFS: "The media is write protected.",
  ENOSPC: "There is not enough space on the disk.",
  EEXIST: "Cannot create a file when that file already exists.",
  ENOTEMPTY: "The directory is not empty.",
  EBUSY: "The process cannot access the file because it is being used by another process.",
};

export class FsError extends Error {
  constructor(readonly errno: Errno) {
    super(errno);
  }
}

/** strerror / FormatMessage text of an errno. */
export const errnoText = (errno: Errno, windows: boolean) => (windows ? WINDOWS_TEXT : LINUX_TEXT)[errno];

/** What the guest may store of its own: the disk space behind its writes (keeps guest rows small). */
export const GUEST_WRITE_QUOTA = 1024 * 1024;

export interface Entry {
  /** Full path as the guest spells it. */
  path: string;
  name: string;
  kind: "file" | "dir" | "dev" | "link";
  mode: number;
  owner: string;
  group: string;
  size: number;
  mtime: number;
  target?: string;
}

export type FsOp =
  | { op: "put"; path: string; data: string }
  | { op: "mkdir"; path: string }
  | { op: "rm"; path: string };

const WIN_CWD = "C:\\Windows\\System32";

export class GuestFs {
  readonly windows: boolean;
  readonly image: Image;
  /** Overlay, keyed by lookup key. */
  private readonly files = new Map<string, { path: string; data: string; mtime: number }>();
  private readonly dirs = new Map<string, string>();
  private readonly deleted = new Set<string>();
  /** What this instance changed, in order (replayed when an exec job ends). */
  readonly journal: FsOp[] = [];

  constructor(
    readonly guest: GuestState,
    readonly os: GuestOs,
    readonly nowMs: number,
  ) {
    this.image = buildImage(guest, os);
    this.windows = this.image.windows;
    for (const [path, data] of Object.entries(os.files))
      this.files.set(this.key(path), { path, data, mtime: os.mtimes?.[path] ?? this.image.installedAt });
    for (const path of os.dirs ?? []) this.dirs.set(this.key(path), path);
    for (const path of os.deleted ?? []) this.deleted.add(this.key(path));
  }

  get nowSec(): number {
    return Math.floor(this.nowMs / 1000);
  }

  key(path: string): string {
    return this.windows ? path.toLowerCase() : path;
  }

  text(errno: Errno): string {
    return errnoText(errno, this.windows);
  }

  /** Absolute, normalised path (no symlinks resolved). */
  abs(path: string, cwd?: string): string {
    if (this.windows) {
      let p = path.replace(/\//g, "\\");
      if (/^[A-Za-z]:(?!\\)/.test(p)) p = `${p.slice(0, 2)}\\${p.slice(2)}`;
      else if (p.startsWith("\\")) p = `C:${p}`;
      else if (!/^[A-Za-z]:\\/.test(p)) p = `${cwd ?? WIN_CWD}\\${p}`;
      const [drive, ...rest] = p.split("\\");
      const out: string[] = [];
      for (const part of rest) {
        if (part === "" || part === ".") continue;
        if (part === "..") out.pop();
        else out.push(part);
      }
      return `${(drive as string).toUpperCase()}\\${out.join("\\")}`;
    }
    const p = path.startsWith("/") ? path : `${cwd ?? "/"}/${path}`;
    const out: string[] = [];
    for (const part of p.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") out.pop();
      else out.push(part);
    }
    return `/${out.join("/")}`;
  }

  private parentOf(path: string): string | null {
    const sep = this.windows ? "\\" : "/";
    const root = this.windows ? path.slice(0, 3) : "/";
    if (path === root || path.length <= root.length) return null;
    const i = path.lastIndexOf(sep);
    return i < root.length ? root : path.slice(0, i);
  }

  private join(dir: string, name: string): string {
    const sep = this.windows ? "\\" : "/";
    return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
  }

  private baseName(path: string): string {
    const sep = this.windows ? "\\" : "/";
    return path.slice(path.lastIndexOf(sep) + 1) || path;
  }

  /** The entry at exactly this path (no link following), or null. */
  private raw(
    path: string,
  ): { path: string; node: ImageNode | { kind: "overlay"; data: string; mtime: number } } | null {
    const key = this.key(path);
    const f = this.files.get(key);
    if (f) return { path: f.path, node: { kind: "overlay", data: f.data, mtime: f.mtime } };
    const d = this.dirs.get(key);
    if (d) return { path: d, node: { kind: "dir", mode: 0o755 } };
    if (this.deleted.has(key)) return null;
    return this.image.nodes.get(key) ?? null;
  }

  /** Resolves links in every component; the last one too when `follow`. Throws ENOTDIR/ENOENT on the way. */
  resolve(path: string, follow = true): string {
    let current = this.abs(path);
    for (let hops = 0; hops < 16; hops++) {
      const sep = this.windows ? "\\" : "/";
      const root = this.windows ? current.slice(0, 3) : "/";
      const parts = current.slice(root.length).split(sep).filter(Boolean);
      let prefix = root;
      let restarted = false;
      for (let i = 0; i < parts.length; i++) {
        const next = this.join(prefix, parts[i] as string);
        const last = i === parts.length - 1;
        const entry = this.raw(next);
        if (!entry) {
          if (last) return next;
          throw new FsError(this.windows ? "ENOPATH" : "ENOENT");
        }
        if (entry.node.kind === "link" && (!last || follow)) {
          const target = entry.node.target.startsWith("/")
            ? entry.node.target
            : this.join(prefix, entry.node.target);
          current = this.abs([target, ...parts.slice(i + 1)].join(sep));
          restarted = true;
          break;
        }
        if (!last && entry.node.kind !== "dir") throw new FsError(this.windows ? "ENOPATH" : "ENOTDIR");
        prefix = next;
      }
      if (!restarted) return prefix;
    }
    throw new FsError("ENOENT");
  }

  private entryOf(path: string, node: NonNullable<ReturnType<GuestFs["raw"]>>["node"]): Entry {
    const base = { path, name: this.baseName(path), owner: "root", group: "root" };
    switch (node.kind) {
      case "overlay":
        return { ...base, kind: "file", mode: 0o644, size: node.data.length, mtime: node.mtime };
      case "dir":
        return { ...base, kind: "dir", mode: node.mode, size: 4096, mtime: this.image.installedAt };
      case "link":
        return {
          ...base,
          kind: "link",
          mode: 0o777,
          size: node.target.length,
          mtime: this.image.installedAt,
          target: node.target,
        };
      case "dev":
        return { ...base, kind: "dev", mode: 0o666, size: 0, mtime: this.image.installedAt };
      case "file": {
        const content = typeof node.content === "function" ? node.content(this.nowMs) : node.content;
        return {
          ...base,
          kind: "file",
          mode: node.mode,
          owner: node.owner ?? "root",
          group: node.group ?? "root",
          size: content.length,
          mtime: node.live ? this.nowSec : this.image.installedAt,
        };
      }
    }
  }

  /** stat (follow) or lstat; null when missing. */
  lookup(path: string, follow = true): Entry | null {
    const real = this.resolve(path, follow);
    const raw = this.raw(real);
    return raw ? this.entryOf(raw.path, raw.node) : null;
  }

  stat(path: string, follow = true): Entry {
    const e = this.lookup(path, follow);
    if (!e) throw new FsError("ENOENT");
    return e;
  }

  /** The content of a file or device (open + read). */
  read(path: string): Bytes {
    const real = this.resolve(path);
    const raw = this.raw(real);
    if (!raw) throw new FsError("ENOENT");
    const node = raw.node;
    switch (node.kind) {
      case "overlay":
        return Bytes.of(node.data);
      case "dev":
        return node.content;
      case "dir":
        throw new FsError(this.windows ? "EACCES" : "EISDIR");
      case "link":
        throw new FsError("ENOENT");
      case "file":
        if (node.denied) throw new FsError(this.windows ? "EBUSY" : "EACCES");
        return typeof node.content === "function" ? node.content(this.nowMs) : node.content;
    }
  }

  /** Opening for reading: what fails before any byte is read (a directory opens fine on Linux). */
  checkReadable(path: string): void {
    const real = this.resolve(path);
    const raw = this.raw(real);
    if (!raw) throw new FsError(this.windows ? "ENOENT" : "ENOENT");
    if (raw.node.kind === "dir" && this.windows) throw new FsError("EACCES");
    if (raw.node.kind === "file" && raw.node.denied) throw new FsError(this.windows ? "EBUSY" : "EACCES");
  }

  list(path: string): Entry[] {
    const real = this.resolve(path);
    const raw = this.raw(real);
    if (!raw) throw new FsError("ENOENT");
    if (raw.node.kind !== "dir") throw new FsError("ENOTDIR");
    const dirKey = this.key(raw.path);
    const names = new Map<string, Entry>();
    const consider = (p: string) => {
      const parent = this.parentOf(p);
      if (parent === null || this.key(parent) !== dirKey) return;
      const e = this.lookup(p, false);
      if (e) names.set(this.key(e.name), e);
    };
    for (const { path: p } of this.image.nodes.values()) consider(p);
    for (const d of this.dirs.values()) consider(d);
    for (const f of this.files.values()) consider(f.path);
    return [...names.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private overlayBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.data.length;
    return n;
  }

  /** Why writing `real` fails before anything is written, or null. */
  private writeError(real: string): FsError | null {
    const parent = this.parentOf(real);
    const p = parent === null ? null : this.raw(parent);
    if (parent !== null && !p) return new FsError(this.windows ? "ENOPATH" : "ENOENT");
    if (p && p.node.kind !== "dir") return new FsError(this.windows ? "ENOPATH" : "ENOTDIR");
    const ro = this.image.readOnly(this.key(real));
    const existing = this.raw(real);
    if (existing?.node.kind === "dir") return new FsError(this.windows ? "EACCES" : "EISDIR");
    if (existing?.node.kind === "file" && existing.node.denied)
      return new FsError(this.windows ? "EBUSY" : "EACCES");
    if (existing?.node.kind === "dev") return null;
    if (ro) return new FsError(this.windows && ro === "EROFS" ? "EACCES" : ro);
    return null;
  }

  /** Opening for writing (truncate or append). Throws like open(2). */
  checkWritable(path: string): void {
    const err = this.writeError(this.resolve(path));
    if (err) throw err;
  }

  /** Writes (or appends) a whole file. */
  write(path: string, data: string, append = false): void {
    const real = this.resolve(path);
    const err = this.writeError(real);
    if (err) throw err;
    const existing = this.raw(real);
    if (existing?.node.kind === "dev") return;
    const before = append && existing ? this.read(real).text(GUEST_WRITE_QUOTA + 1) : "";
    const next = before + data;
    const key = this.key(real);
    const old = this.files.get(key)?.data.length ?? 0;
    if (this.overlayBytes() - old + next.length > GUEST_WRITE_QUOTA) throw new FsError("ENOSPC");
    const display = existing?.path ?? real;
    this.files.set(key, { path: display, data: next, mtime: this.nowSec });
    this.deleted.delete(key);
    this.journal.push({ op: "put", path: display, data: next });
  }

  mkdir(path: string, parents = false): void {
    const real = this.resolve(path);
    if (this.raw(real)) {
      if (parents && this.raw(real)?.node.kind === "dir") return;
      throw new FsError("EEXIST");
    }
    const parent = this.parentOf(real);
    if (parent !== null && !this.raw(parent)) {
      if (!parents) throw new FsError(this.windows ? "ENOPATH" : "ENOENT");
      this.mkdir(parent, true);
    }
    const err = this.writeError(real);
    if (err) throw err;
    this.dirs.set(this.key(real), real);
    this.deleted.delete(this.key(real));
    this.journal.push({ op: "mkdir", path: real });
  }

  remove(path: string, recursive = false): void {
    const real = this.resolve(path, false);
    const raw = this.raw(real);
    if (!raw) throw new FsError("ENOENT");
    const ro = this.image.readOnly(this.key(real));
    if (ro) throw new FsError(ro);
    if (raw.node.kind === "dir") {
      const children = this.list(real);
      if (children.length && !recursive) throw new FsError("ENOTEMPTY");
      for (const c of children) this.remove(c.path, true);
    }
    const key = this.key(real);
    this.files.delete(key);
    this.dirs.delete(key);
    if (this.image.nodes.has(key)) this.deleted.add(key);
    this.journal.push({ op: "rm", path: real });
  }

  /** Re-applies another instance's changes (an exec job ending), skipping what no longer fits. */
  replay(ops: readonly FsOp[]): void {
    for (const op of ops) {
      try {
        if (op.op === "put") this.write(op.path, op.data);
        else if (op.op === "mkdir") this.mkdir(op.path, true);
        else this.remove(op.path, true);
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
      }
    }
  }

  /** Stores the overlay back into the guest's OS state (the caller persists the guest). */
  commit(): void {
    const files: Record<string, string> = {};
    const mtimes: Record<string, number> = {};
    for (const f of this.files.values()) {
      files[f.path] = f.data;
      mtimes[f.path] = f.mtime;
    }
    this.os.files = files;
    this.os.mtimes = mtimes;
    this.os.dirs = [...this.dirs.values()];
    this.os.deleted = [...this.deleted].map((k) => this.image.nodes.get(k)?.path ?? k);
    if (!this.os.dirs.length) delete this.os.dirs;
    if (!this.os.deleted.length) delete this.os.deleted;
  }
}
