// Guest wall clock: the zones the seeded guests use (EU daylight saving rules), and the date
// formats their programs print.

const EU_ZONES: Record<string, { std: string; dst: string; offset: number }> = {
  "Europe/Berlin": { std: "CET", dst: "CEST", offset: 3600 },
  "W. Europe Standard Time": { std: "W. Europe Standard Time", dst: "W. Europe Daylight Time", offset: 3600 },
};

/** Last Sunday of a month (0-based), 01:00 UTC, in epoch ms: the EU switch instant. */
function lastSunday(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month + 1, 0, 1));
  return lastDay.getTime() - lastDay.getUTCDay() * 86_400_000;
}

/** Offset from UTC in seconds and the abbreviation GLib reports (g_time_zone_get_abbreviation). */
export function zoneAt(zone: string, epochMs: number): { offset: number; abbrev: string } {
  const eu = EU_ZONES[zone];
  if (!eu) return { offset: 0, abbrev: "UTC" };
  const year = new Date(epochMs).getUTCFullYear();
  const summer = epochMs >= lastSunday(year, 2) && epochMs < lastSunday(year, 9);
  return summer ? { offset: eu.offset + 3600, abbrev: eu.dst } : { offset: eu.offset, abbrev: eu.std };
}

const p2 = (n: number) => String(n).padStart(2, "0");
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Broken-down local time. */
export function localTime(zone: string, epochMs: number) {
  const { offset, abbrev } = zoneAt(zone, epochMs);
  const d = new Date(epochMs + offset * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    micro: (epochMs % 1000) * 1000,
    offset,
    abbrev,
  };
}

/** strftime for the conversions `date +FORMAT` scripts use. */
export function strftime(format: string, zone: string, epochMs: number, utc = false): string {
  const t = localTime(utc ? "UTC" : zone, epochMs);
  const off = t.offset;
  const sign = off < 0 ? "-" : "+";
  const hhmm = `${sign}${p2(Math.floor(Math.abs(off) / 3600))}${p2(Math.floor((Math.abs(off) % 3600) / 60))}`;
  return format.replace(/%([a-zA-Z%:]|:z)/g, (_, c: string) => {
    switch (c) {
      case "Y":
        return String(t.year);
      case "m":
        return p2(t.month + 1);
      case "d":
        return p2(t.day);
      case "e":
        return String(t.day).padStart(2, " ");
      case "H":
        return p2(t.hour);
      case "M":
        return p2(t.minute);
      case "S":
        return p2(t.second);
      case "s":
        return String(Math.floor(epochMs / 1000));
      case "N":
        return String(t.micro * 1000).padStart(9, "0");
      case "F":
        return `${t.year}-${p2(t.month + 1)}-${p2(t.day)}`;
      case "T":
        return `${p2(t.hour)}:${p2(t.minute)}:${p2(t.second)}`;
      case "Z":
        return utc ? "UTC" : t.abbrev;
      case "z":
        return hhmm;
      case ":z":
        return `${hhmm.slice(0, 3)}:${hhmm.slice(3)}`;
      case "a":
        return DAYS[t.weekday] as string;
      case "b":
        return MONTHS[t.month] as string;
      case "%":
        return "%";
      default:
        return `%${c}`;
    }
  });
}

/** `date` without arguments in the C locale: "Tue Nov 18 14:03:21 CET 2025". */
export function dateLine(zone: string, epochMs: number, utc = false): string {
  return strftime("%a %b %e %T %Z %Y", zone, epochMs, utc);
}

/** RFC 3339 with microseconds, as rsyslog writes it: "2025-11-18T14:03:21.123456+01:00". */
export function rfc3339(zone: string, epochMs: number): string {
  const t = localTime(zone, epochMs);
  return `${strftime("%FT%T", zone, epochMs)}.${String(t.micro).padStart(6, "0")}${strftime("%:z", zone, epochMs)}`;
}
