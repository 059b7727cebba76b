// /cluster/ha: resources, rules (PVE 9), groups (PVE 8; PVE 9 has migrated them to rules) and the
// manager status (pve-ha-manager PVE/API2/HA/*.pm). All calls are synchronous; the CRM acts on the
// guests through tasks of its own (state/ha.ts).

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError } from "../api/respond";
import type { PveSchema } from "../generated/api-schema";
import {
  crmAct,
  fileDigest,
  HA_RESOURCES,
  HA_RULES,
  type HaResource,
  haGroups,
  haResources,
  haRules,
  serviceStatus,
  vmidOfSid,
} from "../state/ha";
import type { GuestState, Settings } from "../state/model";
import { startTask } from "../state/tasks";
import { assertDigest, is84, lockedHa, migrateGroups, parseSid } from "./ha-common";
import { groupRoutes } from "./ha-groups";
import { ruleRoutes } from "./ha-rules";
import { haStatusRoutes } from "./ha-status";

/** The resource plugins' verify_name and exists (PVE::HA::Resources::PVEVM / PVECT). */
function checkGuest(ctx: Ctx, type: string, name: string): void {
  if (type !== "vm" && type !== "ct") throw new PveError(`unknown section type '${type}'`);
  if (!/^[1-9][0-9]{2,8}$/.test(name)) throw new PveError(`invalid VMID '${name}'`);
  const g = ctx.store.guests.get(Number(name));
  if (!g || g.type !== (type === "vm" ? "qemu" : "lxc")) {
    throw new PveError(`${type === "vm" ? "VM" : "CT"} ${name} does not exist`);
  }
}

function resourceView(sid: string, r: HaResource, digest: string): Record<string, unknown> {
  const out: Record<string, unknown> = { sid, type: r.type, digest };
  for (const k of ["state", "comment", "max_restart", "max_relocate", "group"] as const) {
    if (r[k] !== undefined) out[k] = r[k];
  }
  for (const k of ["failback", "auto-rebalance"] as const) if (r[k] !== undefined) out[k] = r[k] ? 1 : 0;
  return out;
}

function getResource(ctx: Ctx, raw: string): { sid: string; r: HaResource } {
  const { sid } = parseSid(ctx, raw);
  const r = haResources(ctx.store)[sid];
  if (!r) throw new PveError(`no such resource '${sid}'`);
  return { sid, r };
}

function checkGroupParam(ctx: Ctx): void {
  const group = ctx.optStr("group");
  if (group === undefined) return;
  if (!is84(ctx)) throw new PveError("invalid parameter 'group': ha groups have been migrated to rules");
  if (!haGroups(ctx.store)[group]) throw new PveError(`HA group '${group}' does not exist`);
}

function setOptions(ctx: Ctx, r: HaResource): void {
  const state = ctx.optStr("state");
  if (state !== undefined) r.state = state as HaResource["state"];
  const comment = ctx.optStr("comment");
  if (comment !== undefined) r.comment = comment;
  for (const k of ["max_restart", "max_relocate"] as const) if (ctx.has(k)) r[k] = ctx.int(k);
  for (const k of ["failback", "auto-rebalance"] as const) if (ctx.has(k)) r[k] = ctx.bool(k);
  const group = ctx.optStr("group");
  if (group !== undefined) r.group = group;
}

function listResources(ctx: Ctx): Record<string, unknown>[] {
  migrateGroups(ctx);
  const all = haResources(ctx.store);
  const digest = fileDigest(all);
  const type = ctx.optStr("type");
  return Object.keys(all)
    .sort()
    .filter((sid) => !type || all[sid]?.type === type)
    .map((sid) => resourceView(sid, all[sid] as HaResource, digest));
}

function createResource(ctx: Ctx): null {
  migrateGroups(ctx);
  const { sid, type, name } = parseSid(ctx, ctx.str("sid"));
  if (ctx.has("type") && ctx.str("type") !== type) throw new PveError("types does not match");
  checkGroupParam(ctx);
  checkGuest(ctx, type, name);
  lockedHa("create resource failed", () => {
    const all = haResources(ctx.store);
    if (all[sid]) throw new PveError(`resource ID '${sid}' already defined`);
    const r: HaResource = { type: type as HaResource["type"] };
    setOptions(ctx, r);
    all[sid] = r;
    ctx.store.putConfig(HA_RESOURCES, all);
  });
  crmAct(ctx.store, sid, ctx.now);
  return null;
}

/** Manager.pm: a resource in the error state only accepts `disabled`. */
function checkServiceState(ctx: Ctx, sid: string, r: HaResource, requested?: string): void {
  const ss = serviceStatus(ctx.store, sid, r, ctx.now);
  if (ss?.state === "error" && requested !== "disabled") {
    throw new PveError(`service '${sid}' in error state, must be disabled and fixed first`);
  }
}

function updateResource(ctx: Ctx): null {
  migrateGroups(ctx);
  const { sid, r } = getResource(ctx, ctx.str("sid"));
  checkGroupParam(ctx);
  checkServiceState(ctx, sid, r, ctx.optStr("state"));
  const all = haResources(ctx.store);
  assertDigest(ctx, all);
  for (const k of ctx.has("delete") ? splitList(ctx.str("delete")) : []) {
    if (k === "type" || k === "sid") throw new PveError(`unable to delete fixed option '${k}'`);
    delete (r as unknown as Record<string, unknown>)[k];
  }
  setOptions(ctx, r);
  ctx.store.putConfig(HA_RESOURCES, all);
  crmAct(ctx.store, sid, ctx.now);
  return null;
}

function deleteResource(ctx: Ctx): null {
  migrateGroups(ctx);
  const { sid } = parseSid(ctx, ctx.str("sid"));
  const all = haResources(ctx.store);
  if (!all[sid]) throw new PveError(`cannot delete service '${sid}', not HA managed!`);
  delete all[sid];
  ctx.store.putConfig(HA_RESOURCES, all);
  // purge (default): drop it from rules, and rules left without resources.
  if (!ctx.has("purge") || ctx.bool("purge")) {
    const rules = haRules(ctx.store);
    for (const [id, rule] of Object.entries(rules)) {
      if (!rule.resources.includes(sid)) continue;
      rule.resources = rule.resources.filter((x) => x !== sid);
      if (rule.resources.length === 0) delete rules[id];
    }
    ctx.store.putConfig(HA_RULES, rules);
  }
  return null;
}

/** Resources a positive (together) or negative (separate) resource-affinity rule ties to `sid`. */
function affinePartners(ctx: Ctx, sid: string): { together: string[]; separate: string[] } {
  const together = new Set<string>();
  const separate = new Set<string>();
  if (!is84(ctx)) {
    for (const rule of Object.values(haRules(ctx.store))) {
      if (rule.type !== "resource-affinity" || rule.disable || !rule.resources.includes(sid)) continue;
      for (const other of rule.resources) {
        if (other !== sid) (rule.affinity === "negative" ? separate : together).add(other);
      }
    }
  }
  return { together: [...together].sort(), separate: [...separate].sort() };
}

/**
 * migrate/relocate queue a CRM command; the CRM then moves the resource (online for a running VM
 * on migrate; relocate stops it, moves it and starts it again). Commands the CRM would ignore (the
 * resource already there, the target offline or unknown) start nothing.
 */
function move(ctx: Ctx, relocate: boolean): Record<string, unknown> {
  migrateGroups(ctx);
  const { sid, r } = getResource(ctx, ctx.str("sid"));
  if ((r.state ?? "started") === "ignored") throw new PveError(`resource '${sid}' is not HA managed`);
  checkServiceState(ctx, sid, r);
  const target = ctx.str("node");
  const result: Record<string, unknown> = { sid, "requested-node": target };
  const { together, separate } = affinePartners(ctx, sid);
  const all = haResources(ctx.store);
  const comigrated = together.filter((s) => all[s] && all[s]?.state !== "ignored");
  if (comigrated.length) result["comigrated-resources"] = comigrated;
  const blocking = separate
    .filter((s) => {
      const g = ctx.store.guests.get(vmidOfSid(s));
      return all[s] && g?.node === target;
    })
    .map((s) => ({ sid: s, cause: "resource-affinity" }));
  if (blocking.length) {
    result["blocking-resources"] = blocking;
    return result;
  }
  for (const s of [sid, ...comigrated]) startMove(ctx, s, target, relocate);
  return result;
}

function startMove(ctx: Ctx, sid: string, target: string, relocate: boolean): void {
  const g = ctx.store.guests.get(vmidOfSid(sid));
  const node = ctx.store.nodes.get(target);
  if (!g || !node?.online || g.node === target || !ctx.store.nodes.get(g.node)?.online) return;
  const running = g.status === "running";
  const qemu = g.type === "qemu";
  const lines = [
    `${relocate ? "relocate" : "migrate"} ${sid} to node '${target}' (${node.ip})`,
    ...(running && relocate ? [`stopping ${sid} on ${g.node}`] : []),
    `starting migration of ${qemu ? "VM" : "CT"} ${g.vmid} to node '${target}' (${node.ip})`,
    `migration finished successfully`,
  ];
  startTask(
    ctx.store,
    {
      node: g.node,
      type: qemu ? "qmigrate" : "vzmigrate",
      id: String(g.vmid),
      user: "root@pam",
      durationMs: running && !relocate && qemu ? 8000 : 5000,
      lines,
      startEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: "migrate" }],
      effects: [
        ...(relocate && running ? [{ kind: "guest-stopped" as const, vmid: g.vmid }] : []),
        { kind: "guest-move", vmid: g.vmid, node: target },
        ...(relocate && running ? [{ kind: "guest-running" as const, vmid: g.vmid }] : []),
        { kind: "guest-lock", vmid: g.vmid, lock: null },
      ],
      abortEffects: [{ kind: "guest-lock", vmid: g.vmid, lock: null }],
    },
    ctx.now,
  );
}

/**
 * Migrating an HA-managed guest through its own migrate endpoint (qemu-server, pve-container):
 * an `hamigrate` worker asks the HA stack (`ha-manager migrate`), and the CRM moves the guest.
 */
export function haMigrate(ctx: Ctx, g: GuestState, target: string): string {
  const what = `${g.type === "qemu" ? "VM" : "CT"} ${g.vmid}`;
  const upid = startTask(
    ctx.store,
    {
      node: g.node,
      type: "hamigrate",
      id: String(g.vmid),
      user: ctx.user,
      durationMs: 300,
      lines: [`Requesting HA migration for ${what} to node ${target}`],
    },
    ctx.now,
  ).upid;
  startMove(ctx, `${g.type === "qemu" ? "vm" : "ct"}:${g.vmid}`, target, false);
  return upid;
}

/** Resource parameters PVE 8.4 lacks (failback and auto-rebalance arrived with 9's rules). */
function resourceParams(schema: PveSchema, settings: Settings): PveSchema {
  if (settings.version !== "8.4") return schema;
  const { failback: _f, "auto-rebalance": _a, ...rest } = schema.properties ?? {};
  return { ...schema, properties: rest };
}

export const haRoutes: Route[] = [
  {
    method: "GET",
    path: "/cluster/ha",
    handler: (ctx) => [
      { id: "status" },
      { id: "resources" },
      { id: "groups" },
      ...(is84(ctx) ? [] : [{ id: "rules" }]),
    ],
  },
  { method: "GET", path: "/cluster/ha/resources", handler: listResources },
  { method: "POST", path: "/cluster/ha/resources", handler: createResource, params: resourceParams },
  {
    method: "GET",
    path: "/cluster/ha/resources/{sid}",
    handler: (ctx) => {
      migrateGroups(ctx);
      const { sid, r } = getResource(ctx, ctx.str("sid"));
      return resourceView(sid, r, fileDigest(haResources(ctx.store)));
    },
  },
  { method: "PUT", path: "/cluster/ha/resources/{sid}", handler: updateResource, params: resourceParams },
  { method: "DELETE", path: "/cluster/ha/resources/{sid}", handler: deleteResource },
  { method: "POST", path: "/cluster/ha/resources/{sid}/migrate", handler: (ctx) => move(ctx, false) },
  { method: "POST", path: "/cluster/ha/resources/{sid}/relocate", handler: (ctx) => move(ctx, true) },
  ...groupRoutes,
  ...ruleRoutes,
  ...haStatusRoutes,
];
