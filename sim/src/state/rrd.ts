// RRD history, computed rather than stored: every point is a pure function of the seed, the
// entity, the time and the step, so a day of one-minute points for hundreds of guests costs no
// storage and the same seed always draws the same curves. What the guests did (started, stopped,
// migrated, created) is read back from the finished tasks, so a stopped guest is flat from the
// moment its stop task ended and a migrated guest's load leaves one node for the other.

import type { GuestState, SeedOptions, TaskState } from "./model";

/** pve-cluster PVE::RRD (9.x format): [resolution in seconds, number of points] per timeframe. */
export const RRD_SETUP = {
  hour: [60, 60],
  day: [60, 1440],
  week: [1800, 336],
  month: [1800, 1440],
  year: [21600, 1440],
  decade: [604800, 570],
} as const satisfies Record<string, readonly [number, number]>;

export type Timeframe = keyof typeof RRD_SETUP;
export type Cf = "AVERAGE" | "MAX";

/** The point times of a timeframe: aligned to the resolution, ending at the last full step. */
export function pointTimes(timeframe: Timeframe, nowSec: number): { step: number; times: number[] } {
  const [step, count] = RRD_SETUP[timeframe];
  const end = step * Math.floor(nowSec / step);
  const times: number[] = [];
  for (let i = count - 1; i >= 0; i--) times.push(end - i * step);
  return { step, times };
}

/** 32-bit hash of a string and integers (FNV-1a then a final mix). */
export function hash(text: string, ...ints: number[]): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  for (const n of ints) {
    h = Math.imul(h ^ (n | 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(n / 4294967296), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const unit = (h: number) => h / 4294967296;

const DAY = 86400;
const BURST_SLOT = 3 * 3600;

/**
 * The activity of one entity (a guest, a node's own services) as a level in about [0, 1.5]:
 * a daily rhythm peaking in its busy hour, short bursts (backups, builds, cron jobs) and noise.
 * `at` gives the value over the step ending at `t`: its average (AVERAGE) or its peak (MAX).
 */
export class Activity {
  private readonly peakHour: number;
  private readonly rhythm: number;
  private readonly burstChance: number;

  constructor(readonly key: string) {
    this.peakHour = 9 + unit(hash(key, 1)) * 12;
    this.rhythm = 0.25 + unit(hash(key, 2)) * 0.5;
    this.burstChance = 0.15 + unit(hash(key, 3)) * 0.25;
  }

  /** Daily wave in [0, 1]: average over [a, b] (analytic), or its maximum. */
  private daily(a: number, b: number, cf: Cf): number {
    const w = (2 * Math.PI) / DAY;
    const phase = this.peakHour * 3600;
    const wave = (t: number) => 0.5 + 0.5 * Math.cos(w * (t - phase));
    if (b - a < 1) return wave(b);
    if (cf === "MAX") {
      if (b - a >= DAY) return 1;
      // The peak lies inside the interval when some multiple of a day plus the phase does.
      const k = Math.ceil((a - phase) / DAY);
      if (phase + k * DAY <= b) return 1;
      return Math.max(wave(a), wave(b));
    }
    const integral = (t: number) => 0.5 * t + (0.5 / w) * Math.sin(w * (t - phase));
    return (integral(b) - integral(a)) / (b - a);
  }

  /** Bursts overlapping [a, b]: their time-weighted sum (AVERAGE) or the largest (MAX). */
  private bursts(a: number, b: number, cf: Cf): number {
    let total = 0;
    let peak = 0;
    for (let slot = Math.floor((a - 1800) / BURST_SLOT); slot * BURST_SLOT < b; slot++) {
      const h = hash(this.key, 7, slot);
      if (unit(h) >= this.burstChance) continue;
      const start = slot * BURST_SLOT + unit(hash(this.key, 8, slot)) * (BURST_SLOT - 1800);
      const len = 300 + unit(hash(this.key, 9, slot)) * 1500;
      const amp = 0.3 + unit(hash(this.key, 10, slot)) * 0.7;
      const overlap = Math.min(b, start + len) - Math.max(a, start);
      if (b - a < 1) {
        if (start <= b && b < start + len) peak = Math.max(peak, amp);
        continue;
      }
      if (overlap <= 0) continue;
      total += (amp * overlap) / (b - a);
      peak = Math.max(peak, amp);
    }
    return b - a < 1 || cf === "MAX" ? peak : total;
  }

  /** Minute-scale jitter, smaller when a point averages many minutes. */
  private noise(t: number, step: number, cf: Cf, salt: number): number {
    const n = unit(hash(this.key, 11 + salt, Math.floor(t / 60))) - 0.5;
    const minutes = Math.max(1, step / 60);
    return cf === "MAX" ? Math.abs(n) * 0.3 : (n * 0.3) / Math.sqrt(minutes);
  }

  /** The level over the step ending at t. */
  at(t: number, step: number, cf: Cf, salt = 0): number {
    const a = t - step;
    const base = 1 - this.rhythm + this.rhythm * 2 * this.daily(a, t, cf);
    return Math.max(0, base * 0.6 + this.bursts(a, t, cf) + this.noise(t, step, cf, salt));
  }
}

/** Where a guest was and whether it ran, from a time on (until the next segment). */
export interface Segment {
  from: number;
  node: string;
  running: boolean;
  exists: boolean;
}

/** Effects applied only when a task ended well and was not stopped. */
function effectsApplied(t: TaskState): boolean {
  return t.finished && t.outcome.kind !== "error" && t.killedAtMs === undefined;
}

/**
 * A guest's history, newest segment last: the current state, walked back through the finished
 * tasks that changed it. Before the oldest such task the guest was as the seed made it.
 */
export function guestHistory(guest: GuestState, tasks: Iterable<TaskState>): Segment[] {
  const changes: { at: number; task: TaskState }[] = [];
  for (const t of tasks) {
    if (!effectsApplied(t)) continue;
    if (
      t.effects.some(
        (e) =>
          ("vmid" in e && e.vmid === guest.vmid) || (e.kind === "guest-put" && e.guest.vmid === guest.vmid),
      )
    ) {
      changes.push({ at: Math.floor((t.startMs + t.durationMs) / 1000), task: t });
    }
  }
  changes.sort((x, y) => y.at - x.at);
  let state = { node: guest.node, running: guest.status === "running", exists: true };
  const segments: Segment[] = [];
  for (const { at, task } of changes) {
    segments.push({ from: at, ...state });
    const before = { ...state };
    for (const e of task.effects) {
      if (e.kind === "guest-running") before.running = false;
      else if (e.kind === "guest-stopped") before.running = true;
      else if (e.kind === "guest-move") before.node = task.node;
      else if (e.kind === "guest-put" && e.guest.vmid === guest.vmid) before.exists = false;
      else if (e.kind === "guest-remove") before.exists = true;
    }
    state = before;
  }
  segments.push({ from: -Infinity, ...state });
  segments.reverse();
  // A running guest without recorded start tasks was (re)started at startedAt: a short gap before.
  const last = segments[segments.length - 1] as Segment;
  if (guest.status === "running" && guest.startedAt && last.from < guest.startedAt - 120) {
    segments.push({ ...last, from: guest.startedAt - 120, running: false });
    segments.push({ ...last, from: guest.startedAt });
  }
  return segments;
}

/** The segment in force at time t. */
export function segmentAt(segments: Segment[], t: number): Segment {
  let found = segments[0] as Segment;
  for (const s of segments) {
    if (s.from <= t) found = s;
    else break;
  }
  return found;
}

/** The key a seed gives every entity's curves, so another seed draws other curves. */
export function seedKey(seed: SeedOptions): string {
  return `${seed.nodes}/${seed.guests ?? "homelab"}`;
}
