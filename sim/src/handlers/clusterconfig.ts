// /cluster/log and /cluster/options (pve-manager PVE/API2/Cluster.pm, PVE::DataCenterConfig).

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { API_SCHEMA, type PveSchema } from "../generated/api-schema";
import type { DatacenterConfig } from "../state/clusterconfig";
import { digestOf } from "../state/random";
import type { Store } from "../state/store";
import { exitStatus, isRunning, taskEndMs } from "../state/tasks";

const lacks = (ctx: Ctx, priv: string) => ctx.store.settings.deniedPrivileges.includes(priv);

// ---------------------------------------------------------------------------------------------
// The cluster log (pmxcfs clusterlog): pvedaemon logs "starting task" and "end task" for every
// worker it forks, so the simulator derives the log from the task table.

interface LogEntry {
  uid: number;
  time: number;
  pri: number;
  tag: string;
  pid: number;
  node: string;
  user: string;
  msg: string;
}

export function clusterLogEntries(store: Store, nowMs: number): LogEntry[] {
  // Ordered by the moment pmxcfs received them: a task's start always precedes its end.
  const timed: { at: number; entry: LogEntry }[] = [];
  for (const t of store.tasks.values()) {
    const pid = 1000 + (Number.parseInt(digestOf(t.node).slice(0, 4), 16) % 3000);
    const base = { uid: 0, pri: 6, tag: "pvedaemon", pid, node: t.node, user: t.user };
    if (t.startMs <= nowMs)
      timed.push({
        at: t.startMs * 2,
        entry: { ...base, time: t.starttime, msg: `starting task ${t.upid}` },
      });
    if (!isRunning(t, nowMs)) {
      const status = exitStatus(t);
      const end = taskEndMs(t);
      timed.push({
        at: end * 2 + 1,
        entry: {
          ...base,
          time: Math.floor(end / 1000),
          // An error end is logged at priority err, like log_task_result does.
          pri: status === "OK" || status.startsWith("WARNINGS") ? 6 : 3,
          msg: `end task ${t.upid} ${status}`,
        },
      });
    }
  }
  timed.sort((a, b) => a.at - b.at || (a.entry.msg < b.entry.msg ? -1 : 1));
  return timed.map(({ entry }, i) => ({ ...entry, uid: i + 1 })).reverse();
}

function clusterLog(ctx: Ctx): LogEntry[] {
  const max = ctx.optInt("max") ?? 50;
  // Without Sys.Syslog on / a user sees only its own entries (get_cluster_log($user, $max)).
  const all = clusterLogEntries(ctx.store, ctx.now);
  const visible = lacks(ctx, "Sys.Syslog") ? all.filter((e) => e.user === ctx.user) : all;
  return visible.slice(0, max);
}

// ---------------------------------------------------------------------------------------------
// datacenter.cfg

const DC_FILE = "datacenter.cfg";
const DC_PROPS = API_SCHEMA["PUT /cluster/options"]?.parameters.properties ?? {};

function datacenter(store: Store): DatacenterConfig {
  return store.datacenter.get(DC_FILE) ?? { file: DC_FILE, options: {} };
}

/** parse_property_string for the options the parser expands into objects. */
function parseProperty(format: Readonly<Record<string, PveSchema>>, value: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const defaultKey = Object.keys(format).find((k) => format[k]?.default_key);
  for (const part of value.split(",")) {
    if (!part.trim()) continue;
    const kv = /^([^=]+)=(.*)$/.exec(part);
    const key = kv ? (kv[1] as string) : defaultKey;
    if (!key) continue;
    const raw = kv ? (kv[2] as string) : part;
    const type = format[key]?.type;
    out[key] =
      type === "integer" || type === "number"
        ? Number(raw)
        : type === "boolean"
          ? /^(1|true|yes|on)$/i.test(raw)
            ? 1
            : 0
          : raw;
  }
  return out;
}

/** parse_datacenter_config: property strings come back as objects, `applet` as html5. */
function optionsView(options: DatacenterConfig["options"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    const format = DC_PROPS[k]?.format;
    out[k] = typeof format === "object" && typeof v === "string" ? parseProperty(format, v) : v;
  }
  if (out.console === "applet") out.console = "html5";
  return out;
}

/** get_allowed_tags for a caller who may use any tag: tags in use, registered and allowed. */
function allowedTags(store: Store, options: DatacenterConfig["options"]): string[] {
  const tags = new Set<string>();
  for (const g of store.guests.values()) {
    for (const t of String(g.config.tags ?? "").split(/[;, ]+/)) if (t) tags.add(t);
  }
  for (const t of String(options["registered-tags"] ?? "").split(";")) if (t) tags.add(t);
  const access = /user-allow-list=([^,]+)/.exec(String(options["user-tag-access"] ?? ""));
  for (const t of (access?.[1] ?? "").split(";")) if (t) tags.add(t);
  return [...tags].sort();
}

function getOptions(ctx: Ctx): Record<string, unknown> {
  const { options } = datacenter(ctx.store);
  const full = optionsView(options);
  let res: Record<string, unknown> = full;
  if (lacks(ctx, "Sys.Audit")) {
    res = {};
    for (const k of ["console", "tag-style"]) if (k in full) res[k] = full[k];
  }
  res["allowed-tags"] = allowedTags(ctx.store, options);
  return res;
}

/** set_options: every given option is written, then the `delete` list is removed (unknown keys too). */
function setOptions(ctx: Ctx): null {
  const dc = structuredClone(datacenter(ctx.store));
  for (const [k, v] of Object.entries(ctx.params)) {
    if (k === "delete" || v === undefined || v === null) continue;
    dc.options[k] = typeof v === "boolean" ? (v ? 1 : 0) : (v as string | number);
  }
  for (const k of splitList(ctx.optStr("delete") ?? "")) delete dc.options[k];
  ctx.store.datacenter.put(dc);
  return null;
}

/** The VMID range /cluster/nextid hands out from (datacenter.cfg `next-id`). */
export function nextIdRange(store: Store): { lower: number; upper: number } {
  const v = datacenter(store).options["next-id"];
  const parsed =
    typeof v === "string" ? parseProperty({ lower: { type: "integer" }, upper: { type: "integer" } }, v) : {};
  return { lower: Number(parsed.lower ?? 100), upper: Number(parsed.upper ?? 1_000_000) };
}

export const clusterConfigRoutes: Route[] = [
  { method: "GET", path: "/cluster/log", handler: clusterLog },
  { method: "GET", path: "/cluster/options", handler: getOptions },
  { method: "PUT", path: "/cluster/options", handler: setOptions },
];
