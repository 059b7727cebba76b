// A node's systemd journal, as journalctl and mini-journalreader print it. Entries come from three
// places: what the simulator recorded (boots, service changes, shutdowns), the node's tasks
// (pvedaemon logs each task's start and end), and what runs on a schedule (cron every hour).

import type { NodeState, TaskState } from "../state/model";
import { digestOf } from "../state/random";
import type { Store } from "../state/store";
import { exitStatus, isRunning, taskEndMs } from "../state/tasks";
import type { HostState, JournalEvent } from "./model";

/** Recorded entries kept per node; older ones rotate out like journald's vacuum. */
export const MAX_EVENTS = 3000;

export interface JournalEntry extends JournalEvent {
  /** Boot time (epoch seconds) of the boot it belongs to. */
  boot: number;
}

interface Boot {
  bootTime: number;
  /** Epoch seconds the node went down; undefined for the current boot. */
  downAt?: number;
}

export function recordEvents(host: HostState, events: JournalEvent[]): void {
  if (events.length === 0) return;
  host.events.push(...events);
  host.events.sort((a, b) => a.at - b.at);
  if (host.events.length > MAX_EVENTS) host.events.splice(0, host.events.length - MAX_EVENTS);
}

/** The workers pvedaemon forks requests to: stable per node, so lines look like one daemon. */
function daemonWorkers(host: HostState): number[] {
  const main = host.services.pvedaemon?.pid ?? 1500;
  return [main + 1, main + 2, main + 3];
}

const SRV_VERB: Record<string, string> = {
  srvstart: "starting service",
  srvstop: "stopping service",
  srvrestart: "re-starting service",
  srvreload: "reloading service",
};

function taskEntries(t: TaskState, workers: number[], nowMs: number): JournalEvent[] {
  const worker = workers[t.pid % workers.length] as number;
  const who = `<${t.user}>`;
  const out: JournalEvent[] = [
    {
      at: t.startMs,
      ident: "pvedaemon",
      pid: worker,
      unit: "pvedaemon",
      message: `${who} starting task ${t.upid}`,
    },
  ];
  const verb = SRV_VERB[t.type];
  if (verb) {
    out.push({
      at: t.startMs,
      ident: "pvedaemon",
      pid: t.pid,
      unit: "pvedaemon",
      message: `${verb} ${t.id}: ${t.upid}`,
    });
  }
  if (!isRunning(t, nowMs)) {
    const end = taskEndMs(t);
    if (t.type === "aptupdate" && exitStatus(t) === "OK") {
      out.push({
        at: end,
        ident: "pvedaemon",
        pid: t.pid,
        unit: "pvedaemon",
        message: "update new package list: /var/lib/pve-manager/pkgupdates",
      });
    }
    out.push({
      at: end,
      ident: "pvedaemon",
      pid: worker,
      unit: "pvedaemon",
      message: `${who} end task ${t.upid} ${exitStatus(t)}`,
    });
  }
  return out;
}

/** cron.hourly at minute 17, as Debian's /etc/crontab runs it. */
function cronEntries(boot: Boot, untilMs: number, seed: number): JournalEvent[] {
  const out: JournalEvent[] = [];
  const first = Math.ceil((boot.bootTime - 17 * 60) / 3600) * 3600 + 17 * 60;
  let pid = 10_000 + (seed % 50_000);
  for (let t = first; t * 1000 <= untilMs; t += 3600) {
    if (t <= boot.bootTime) continue;
    pid += 211;
    const at = t * 1000 + 1;
    const line = (message: string, ms = 0): JournalEvent => ({
      at: at + ms,
      ident: "CRON",
      pid,
      unit: "cron",
      message,
    });
    out.push(
      line("pam_unix(cron:session): session opened for user root(uid=0) by root(uid=0)"),
      line("(root) CMD (cd / && run-parts --report /etc/cron.hourly)", 2),
      line("pam_unix(cron:session): session closed for user root", 9),
    );
  }
  return out;
}

/** Every entry up to `nowMs`, oldest first, each tagged with its boot. */
export function journalEntries(
  store: Store,
  node: NodeState,
  host: HostState,
  nowMs: number,
): JournalEntry[] {
  const boots: Boot[] = [...host.pastBoots, ...(node.online ? [{ bootTime: node.bootTime }] : [])];
  const seed = Number.parseInt(digestOf(node.name).slice(0, 6), 16);
  const events: JournalEvent[] = [...host.events];
  for (const b of boots) events.push(...cronEntries(b, Math.min(nowMs, (b.downAt ?? Infinity) * 1000), seed));
  const workers = daemonWorkers(host);
  for (const t of store.tasks.values())
    if (t.node === node.name) events.push(...taskEntries(t, workers, nowMs));
  const visible = events.filter((e) => e.at <= nowMs);
  // Stable: entries with the same time keep the order they were produced in.
  visible.sort((a, b) => a.at - b.at);
  const firstBoot = boots[0]?.bootTime ?? 0;
  const out: JournalEntry[] = [];
  for (const e of visible) {
    if (e.at < firstBoot * 1000) continue;
    let boot = firstBoot;
    for (let i = boots.length - 1; i >= 0; i--) {
      if (e.at >= (boots[i] as Boot).bootTime * 1000) {
        boot = (boots[i] as Boot).bootTime;
        break;
      }
    }
    out.push({ ...e, boot });
  }
  return out;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** strftime "%b %d %T" (the node runs on UTC). */
export function shortStamp(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** One line as `journalctl -o short` and mini-journalreader print it. */
export function formatEntry(node: string, e: JournalEvent): string {
  return `${shortStamp(e.at)} ${node} ${e.ident}${e.pid !== undefined ? `[${e.pid}]` : ""}: ${e.message}`;
}

/** The 128-bit boot id journald shows in "-- Boot ... --" lines. */
export function bootId(node: string, bootTime: number): string {
  return digestOf(`${node}:${bootTime}`).slice(0, 32);
}

/** A journal cursor (sd_journal_get_cursor's shape); `i` is the entry's position. */
export function cursorOf(node: string, entries: JournalEntry[], index: number): string {
  const e = entries[index];
  const seqnum = digestOf(`seqnum:${node}`).slice(0, 32);
  if (!e) return `s=${seqnum};i=0;b=${bootId(node, 0)};m=0;t=0;x=0`;
  const usec = e.at * 1000;
  return `s=${seqnum};i=${(index + 1).toString(16)};b=${bootId(node, e.boot)};m=${(usec % 1e12).toString(16)};t=${usec.toString(16)};x=${digestOf(`${index}:${e.message}`).slice(0, 16)}`;
}

/** The position a cursor names, or null when it does not parse. */
export function cursorIndex(entries: JournalEntry[], cursor: string): number | null {
  const i = /(?:^|;)i=([0-9a-f]+)(?:;|$)/.exec(cursor);
  const t = /(?:^|;)t=([0-9a-f]+)(?:;|$)/.exec(cursor);
  if (!i || !t) return null;
  const index = Number.parseInt(i[1] as string, 16) - 1;
  const usec = Number.parseInt(t[1] as string, 16);
  if (entries[index] && entries[index].at * 1000 === usec) return index;
  // Rotated or shifted: the first entry after that time.
  const after = entries.findIndex((e) => e.at * 1000 > usec);
  return after < 0 ? entries.length - 1 : after - 1;
}
