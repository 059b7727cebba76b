// systemd-style calendar events as Proxmox schedules use them (proxmox-time's CalendarEvent):
// `[weekdays] [date] [time]`, e.g. "21:00", "mon..fri 02:30", "sat,sun 4:00", "*/15",
// "*-*-01 03:00", and the shortcuts hourly, daily, weekly, monthly, yearly. Nodes run in UTC here.

export interface CalendarEvent {
  days: Set<number> | null;
  months: Set<number> | null;
  dates: Set<number> | null;
  hours: Set<number>;
  minutes: Set<number>;
}

const DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const SHORTCUTS: Record<string, string> = {
  minutely: "*-*-* *:*:00",
  hourly: "*-*-* *:00:00",
  daily: "*-*-* 00:00:00",
  weekly: "mon *-*-* 00:00:00",
  monthly: "*-*-01 00:00:00",
  yearly: "*-01-01 00:00:00",
  annually: "*-01-01 00:00:00",
  quarterly: "*-01,04,07,10-01 00:00:00",
  semiannually: "*-01,07-01 00:00:00",
};

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/** One time or date component: `*`, `5`, `1,5`, `8..17`, `0/20` (a repetition, also from `*`). */
function component(text: string, min: number, max: number): Set<number> | null {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const rep = /^(\*|\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!rep) return null;
    const start = rep[1] === "*" ? min : Number(rep[1]);
    const end = rep[2] !== undefined ? Number(rep[2]) : rep[1] === "*" || rep[3] !== undefined ? max : start;
    const step = rep[3] !== undefined ? Number(rep[3]) : 1;
    if (start < min || end > max || start > end || step < 1) return null;
    for (let v = start; v <= end; v += step) out.add(v);
  }
  return out;
}

function weekdays(text: string): Set<number> | null {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^([a-z]{3})[a-z]*(?:\.\.([a-z]{3})[a-z]*)?$/i.exec(part);
    if (!m) return null;
    const a = DOW.indexOf((m[1] as string).toLowerCase());
    const b = m[2] ? DOW.indexOf(m[2].toLowerCase()) : a;
    if (a < 0 || b < 0) return null;
    // mon..sun wraps around the week end.
    for (let d = a; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === b) break;
    }
  }
  return out;
}

/** Parses an event; null when it is not one. */
export function parseCalendarEvent(input: string): CalendarEvent | null {
  let text = input.trim().toLowerCase();
  if (!text) return null;
  text = SHORTCUTS[text] ?? text;
  const words = text.split(/\s+/);
  let days: Set<number> | null = null;
  let months: Set<number> | null = null;
  let dates: Set<number> | null = null;
  if (words.length && /^[a-z]/.test(words[0] as string)) {
    days = weekdays(words.shift() as string);
    if (!days) return null;
  }
  if (words.length && (words[0] as string).includes("-")) {
    const [y, mo, d, ...rest] = (words.shift() as string).split("-");
    if (rest.length || y === undefined || mo === undefined || d === undefined) return null;
    if (y !== "*" && !component(y, 1970, 9999)) return null;
    months = mo === "*" ? null : component(mo, 1, 12);
    dates = d === "*" ? null : component(d, 1, 31);
    if ((mo !== "*" && !months) || (d !== "*" && !dates)) return null;
  }
  let hours = new Set(range(0, 23));
  let minutes = new Set([0]);
  if (words.length) {
    const parts = (words.shift() as string).split(":");
    if (parts.length === 1) {
      // A bare component is the minute ("*/15": every quarter hour).
      const m = component(parts[0] as string, 0, 59);
      if (!m) return null;
      minutes = m;
    } else if (parts.length <= 3) {
      const h = component(parts[0] as string, 0, 23);
      const m = component(parts[1] as string, 0, 59);
      if (!h || !m || (parts[2] !== undefined && !component(parts[2], 0, 59))) return null;
      hours = h;
      minutes = m;
    } else return null;
  } else if (!days && !dates && !months) return null;
  else hours = new Set([0]);
  if (words.length) return null;
  return { days, months, dates, hours, minutes };
}

/** The next time (epoch seconds) after `afterSec` the event fires, within about a year. */
export function nextEvent(ev: CalendarEvent, afterSec: number): number | undefined {
  const start = new Date((Math.floor(afterSec / 60) + 1) * 60 * 1000);
  const hours = [...ev.hours].sort((a, b) => a - b);
  const minutes = [...ev.minutes].sort((a, b) => a - b);
  for (let day = 0; day < 400; day++) {
    const d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + day));
    if (ev.days && !ev.days.has(d.getUTCDay())) continue;
    if (ev.months && !ev.months.has(d.getUTCMonth() + 1)) continue;
    if (ev.dates && !ev.dates.has(d.getUTCDate())) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const t = d.getTime() + (h * 60 + m) * 60 * 1000;
        if (t >= start.getTime()) return t / 1000;
      }
    }
  }
  return undefined;
}
