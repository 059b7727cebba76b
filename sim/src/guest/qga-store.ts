// qemu-ga's state, kept in the simulator's SQLite so it outlives a restart of the Durable Object:
// qemu-ga itself keeps a finished process's result until exec-status has read it, whatever happens
// to pvedaemon, so a simulator restart must not lose it either. One JSON document per VM, split
// into pieces that stay under the SQLite row limit (2 MB).

import type { Db } from "../state/db";
import { Bytes, type SavedChunk } from "./bytes";
import type { FsOp } from "./fs";
import type { ExecJob, QgaRuntime } from "./qga";

const KIND = "qga";
const PIECE = 256 * 1024;

interface SavedJob {
  pid: number;
  startMs: number;
  /** null: never ends. */
  endMs: number | null;
  limit: number;
  committed: boolean;
  exitcode?: number;
  signal?: number;
  durationMs: number | null;
  out: SavedChunk[];
  err: SavedChunk[];
  journal: FsOp[];
}

interface SavedRuntime {
  vmid: number;
  boot: string;
  nextPid: number;
  jobs: SavedJob[];
  power?: QgaRuntime["power"];
}

const finite = (n: number) => (Number.isFinite(n) ? n : null);
const orInfinity = (n: number | null) => (n === null ? Number.POSITIVE_INFINITY : n);

function encode(vmid: number, rt: QgaRuntime): string {
  const saved: SavedRuntime = {
    vmid,
    boot: rt.boot,
    nextPid: rt.nextPid,
    jobs: [...rt.jobs.values()].map((j) => ({
      pid: j.pid,
      startMs: j.startMs,
      endMs: finite(j.endMs),
      limit: j.limit,
      committed: j.committed,
      ...(j.result.exitcode !== undefined ? { exitcode: j.result.exitcode } : {}),
      ...(j.result.signal !== undefined ? { signal: j.result.signal } : {}),
      durationMs: finite(j.result.durationMs),
      // Only the part exec-status can return is kept exactly (plus one byte to know it was cut).
      out: j.result.out.toData(j.limit + 1),
      err: j.result.err.toData(j.limit + 1),
      journal: j.result.journal,
    })),
    ...(rt.power ? { power: rt.power } : {}),
  };
  return JSON.stringify(saved);
}

function decode(text: string): [number, QgaRuntime] {
  const saved = JSON.parse(text) as SavedRuntime;
  const jobs = new Map<number, ExecJob>();
  for (const j of saved.jobs) {
    jobs.set(j.pid, {
      pid: j.pid,
      startMs: j.startMs,
      endMs: orInfinity(j.endMs),
      limit: j.limit,
      committed: j.committed,
      result: {
        ...(j.exitcode !== undefined ? { exitcode: j.exitcode } : {}),
        ...(j.signal !== undefined ? { signal: j.signal } : {}),
        durationMs: orInfinity(j.durationMs),
        out: Bytes.fromData(j.out),
        err: Bytes.fromData(j.err),
        journal: j.journal,
      },
    });
  }
  const rt: QgaRuntime = { boot: saved.boot, nextPid: saved.nextPid, jobs };
  if (saved.power) rt.power = saved.power;
  return [saved.vmid, rt];
}

/** Writes (or, without a runtime, forgets) one VM's qemu-ga state. */
export function saveQga(db: Db, vmid: number, rt: QgaRuntime | undefined): void {
  db.transaction(() => {
    for (const id of db.ids(KIND)) if (id.startsWith(`${vmid}#`)) db.delete(KIND, id);
    if (!rt) return;
    const text = encode(vmid, rt);
    for (let i = 0; i * PIECE < text.length; i++) {
      db.put(KIND, `${vmid}#${String(i).padStart(4, "0")}`, text.slice(i * PIECE, (i + 1) * PIECE));
    }
  });
}

/** Every VM's qemu-ga state as it was saved. */
export function loadQga(db: Db): Map<number, QgaRuntime> {
  const pieces = new Map<string, string[]>();
  for (const [id, piece] of db.entries(KIND)) {
    const vmid = id.split("#")[0] as string;
    const list = pieces.get(vmid) ?? [];
    list.push(`${id}\u0000${piece as string}`);
    pieces.set(vmid, list);
  }
  const out = new Map<number, QgaRuntime>();
  for (const list of pieces.values()) {
    const text = list
      .sort()
      .map((p) => p.slice(p.indexOf("\u0000") + 1))
      .join("");
    const [vmid, rt] = decode(text);
    out.set(vmid, rt);
  }
  return out;
}
