// Emitters of two files generated from the official Proxmox VE API schema, called by
// scripts/gen-pve.mjs (which loads the schema, writes the files and runs --check):
//   sim/src/generated/api-schema.ts   the request/response schema of every operation, which the
//                                     simulator validates against (operations it does not model
//                                     answer 501 after validation)
//   src/proxmox/generated/pve-api.ts  TypeScript types for the endpoints the MCP server calls

// ---------------------------------------------------------------------------------------------
// Endpoints. Every entry must exist in the schema (the script fails loudly otherwise).
// A trailing "/**" includes every endpoint below that path (all methods).

const GUEST_COMMON = [
  "GET {g}",
  "POST {g}",
  "DELETE {g}/{vmid}",
  "GET {g}/{vmid}/status/current",
  "POST {g}/{vmid}/status/start",
  "POST {g}/{vmid}/status/stop",
  "POST {g}/{vmid}/status/shutdown",
  "POST {g}/{vmid}/status/reboot",
  "POST {g}/{vmid}/status/suspend",
  "POST {g}/{vmid}/status/resume",
  "GET {g}/{vmid}/config",
  "PUT {g}/{vmid}/config",
  "GET {g}/{vmid}/pending",
  "GET {g}/{vmid}/snapshot",
  "POST {g}/{vmid}/snapshot",
  "GET {g}/{vmid}/snapshot/{snapname}",
  "DELETE {g}/{vmid}/snapshot/{snapname}",
  "POST {g}/{vmid}/snapshot/{snapname}/rollback",
  "GET {g}/{vmid}/snapshot/{snapname}/config",
  "PUT {g}/{vmid}/snapshot/{snapname}/config",
  "POST {g}/{vmid}/clone",
  "GET {g}/{vmid}/migrate",
  "POST {g}/{vmid}/migrate",
  "PUT {g}/{vmid}/resize",
  "POST {g}/{vmid}/template",
];

const ENDPOINTS = [
  "GET /version",
  "GET /cluster/status",
  "GET /cluster/resources",
  "GET /cluster/nextid",
  "GET /cluster/tasks",
  "GET /nodes",
  "GET /nodes/{node}/status",
  ...GUEST_COMMON.map((e) => e.replace("{g}", "/nodes/{node}/qemu")),
  "POST /nodes/{node}/qemu/{vmid}/config",
  "PUT /nodes/{node}/qemu/{vmid}/cloudinit",
  "POST /nodes/{node}/qemu/{vmid}/status/reset",
  "* /nodes/{node}/qemu/{vmid}/agent/**",
  ...GUEST_COMMON.map((e) => e.replace("{g}", "/nodes/{node}/lxc")),
  "GET /nodes/{node}/storage",
  "GET /nodes/{node}/storage/{storage}/status",
  "GET /nodes/{node}/storage/{storage}/content",
  "GET /nodes/{node}/storage/{storage}/content/{volume}",
  "DELETE /nodes/{node}/storage/{storage}/content/{volume}",
  "POST /nodes/{node}/vzdump",
  "GET /nodes/{node}/tasks",
  "DELETE /nodes/{node}/tasks/{upid}",
  "GET /nodes/{node}/tasks/{upid}/status",
  "GET /nodes/{node}/tasks/{upid}/log",
  "GET /pools",
  "POST /pools",
  "PUT /pools",
  "DELETE /pools",
  "GET /access/permissions",
  "GET /nodes/{node}/rrddata",
  "GET /nodes/{node}/qemu/{vmid}/rrddata",
  "GET /nodes/{node}/lxc/{vmid}/rrddata",
  "GET /nodes/{node}/storage/{storage}/rrddata",
  "GET /cluster/backup-info/not-backed-up",
];

// ---------------------------------------------------------------------------------------------
// Return-schema overrides: what the official schema misses or gets wrong about real responses.
// Applied to both outputs. `extra` adds properties (to an object, or to the items of an array);
// `ts` replaces the TypeScript result type; `returns` replaces the return schema.

const TASK_ITEM = {
  type: "object",
  properties: {
    upid: { type: "string" },
    node: { type: "string" },
    pid: { type: "integer" },
    pstart: { type: "integer" },
    starttime: { type: "integer" },
    endtime: { type: "integer", optional: 1 },
    type: { type: "string" },
    // Perl emits the id as a string ("100"), even for guests. SEMANTICS §2.5 [R].
    id: { type: "string" },
    user: { type: "string" },
    tokenid: { type: "string", optional: 1 },
    status: { type: "string", optional: 1 },
    saved: { type: "string", optional: 1 },
  },
};

/** `x-ts` gives the TypeScript type; it is not emitted into the simulator schema. */
const CONFIG_VALUE = { type: "any", optional: 1, "x-ts": "string | number" };
const PENDING_VALUES = { value: CONFIG_VALUE, pending: CONFIG_VALUE };

const OVERRIDES = {
  // Tasks started by an API token report user "root@pam" plus this extra field. SEMANTICS §2.5 [V].
  "GET /nodes/{node}/tasks/{upid}/status": { extra: { tokenid: { type: "string", optional: 1 } } },
  // The schema only lists `upid`; real items are the same rows as the node task list. SEMANTICS §2.5.
  "GET /cluster/tasks": { returns: { type: "array", items: TASK_ITEM } },
  // `bytes-read` is returned but not declared (qemu-server Agent.pm). SEMANTICS §2.6 [V].
  "GET /nodes/{node}/qemu/{vmid}/agent/file-read": { extra: { "bytes-read": { type: "integer" } } },
  // Perl may serialise the id as a string ("100"). SEMANTICS §3.2 [U].
  "GET /cluster/nextid": { ts: "number | string" },
  // Backup volumes carry `subtype` ("qemu" | "lxc"), not in the schema (pve-storage Plugin.pm list_volumes).
  "GET /nodes/{node}/storage/{storage}/content": { extra: { subtype: { type: "string", optional: 1 } } },
  // A map of ACL path to privilege map, e.g. {"/": {"VM.Audit": 1}} (pve-access-control).
  "GET /access/permissions": { ts: "Record<string, Record<string, number>>" },
  // A directory index of the sub-commands, e.g. [{"cmd":"rollback"},{"cmd":"config"}].
  "GET /nodes/{node}/qemu/{vmid}/snapshot/{snapname}": { ts: "{ cmd: string }[]" },
  "GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}": { ts: "{ cmd: string }[]" },
  // Pending values are config values: integers come back as JSON numbers, property strings as
  // strings (qemu-server parse_vm_config check_type), although the schema says string.
  "GET /nodes/{node}/qemu/{vmid}/pending": { extra: PENDING_VALUES },
  "GET /nodes/{node}/lxc/{vmid}/pending": { extra: PENDING_VALUES },
  // pve-container keys its guest list by config file name, so `vmid` comes out as a JSON string
  // ("106") in this list only (recorded from real hosts, ../shared/proxmox/recorded).
  "GET /nodes/{node}/lxc": { extra: { vmid: { type: "any", "x-ts": "number | string" } } },
  // The agent index: one row per sub-command.
  "GET /nodes/{node}/qemu/{vmid}/agent": { ts: "{ name: string }[]" },
  // One row per step: `time` plus every column of the RRD that has a value (PVE::RRD).
  "GET /nodes/{node}/rrddata": { ts: "Record<string, number>[]" },
  "GET /nodes/{node}/qemu/{vmid}/rrddata": { ts: "Record<string, number>[]" },
  "GET /nodes/{node}/lxc/{vmid}/rrddata": { ts: "Record<string, number>[]" },
  "GET /nodes/{node}/storage/{storage}/rrddata": { ts: "Record<string, number>[]" },
  // Note: qemu config `memory` is already `type: string` in the 9.x schema (a property string since
  // qemu-server 8.0.8; SEMANTICS §3.1), so it needs no override; `cores` stays an integer.
};

// Sub-commands of the agent that answer {result: <QGA value>} (SEMANTICS §2.6); the schema only
// says {type: "object"}.
const AGENT_RESULT_TS = "{ result: unknown }";

// ---------------------------------------------------------------------------------------------

const KEEP = new Set([
  "type",
  "optional",
  "enum",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "format",
  "default",
  "default_key",
  "requires",
  "alias",
  "keyAlias",
  "items",
  "properties",
  "additionalProperties",
  "typetext",
  "instance-types",
  "type-property",
  "oneOf",
]);

function fail(msg) {
  throw new Error(`gen-pve-schema: ${msg}`);
}

/** Copies a schema keeping only validation-relevant keys, sorted, recursively. */
function trim(schema, { typetext = true } = {}) {
  if (Array.isArray(schema)) return schema.map((s) => trim(s, { typetext }));
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const key of Object.keys(schema).sort()) {
    if (!KEEP.has(key)) continue;
    if (key === "typetext" && !typetext) continue;
    const v = schema[key];
    if (key === "properties" || (key === "format" && typeof v === "object")) {
      const props = {};
      for (const name of Object.keys(v).sort()) props[name] = trim(v[name], { typetext: false });
      out[key] = props;
    } else if (key === "items" || key === "oneOf") {
      out[key] = trim(v, { typetext });
    } else {
      out[key] = v;
    }
  }
  return out;
}

/** Every operation of the schema, as "METHOD /path" keys. */
function allEndpoints(byPath) {
  const out = [];
  for (const p of [...byPath.keys()].sort()) {
    for (const m of Object.keys(byPath.get(p).info ?? {}).sort()) out.push(`${m} ${p}`);
  }
  return out;
}

function expandEndpoints(byPath) {
  const out = [];
  for (const spec of ENDPOINTS) {
    const [method, path] = spec.split(" ");
    if (path.endsWith("/**")) {
      const base = path.slice(0, -3);
      const found = [...byPath.keys()].filter((p) => p === base || p.startsWith(`${base}/`));
      if (found.length === 0) fail(`no endpoints under ${base}`);
      for (const p of found.sort()) {
        for (const m of Object.keys(byPath.get(p).info ?? {}).sort()) out.push(`${m} ${p}`);
      }
      continue;
    }
    const node = byPath.get(path);
    if (!node) fail(`path not in schema: ${path}`);
    if (!node.info?.[method]) fail(`method not in schema: ${method} ${path}`);
    out.push(spec);
  }
  const seen = new Set();
  for (const e of out) {
    if (seen.has(e)) fail(`endpoint listed twice: ${e}`);
    seen.add(e);
  }
  return out;
}

function returnsFor(key, info) {
  const o = OVERRIDES[key];
  let returns = o?.returns ?? info.returns ?? {};
  if (o?.extra) {
    returns = structuredClone(returns);
    const target = returns.type === "array" ? returns.items : returns;
    target.properties = { ...(target.properties ?? {}), ...o.extra };
  }
  return returns;
}

// ---------------------------------------------------------------------------------------------
// sim/src/generated/api-schema.ts

/** The permission test pvedaemon runs before validation (`check` or `user`, no description). */
function permissionsOf(info) {
  const p = info.permissions;
  if (!p) return {};
  const out = {};
  if (p.check) out.check = p.check;
  if (p.user) out.user = p.user;
  return Object.keys(out).length ? { permissions: out } : {};
}

function genSimSchema(byPath, endpoints) {
  const entries = {};
  for (const key of [...endpoints].sort()) {
    const [method, path] = key.split(" ");
    const info = byPath.get(path).info[method];
    entries[key] = {
      method,
      path,
      parameters: trim(info.parameters ?? { additionalProperties: 0 }),
      returns: trim(returnsFor(key, info), { typetext: false }),
      ...(info.allowtoken ? { allowtoken: 1 } : {}),
      ...permissionsOf(info),
    };
  }
  return `// Generated by scripts/gen-pve-schema.mjs from the official Proxmox VE API schema. Do not edit.
/* eslint-disable */

// One JSON schema node as pve-common's JSONSchema.pm understands it: one definition, shared with
// the MCP server's validator (the simulator's copy of the schema carries no descriptions).
import type { PveSchema } from "../../../src/api/schema";
export type { PveSchema };

export interface PveEndpointSchema {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path template, e.g. "/nodes/{node}/qemu/{vmid}/status/current". */
  path: string;
  parameters: PveSchema;
  returns: PveSchema;
  allowtoken?: 1;
  /**
   * RPCEnvironment check_api2_permissions input: \`user\` ("all", "world") or a \`check\` test such as
   * ["perm", "/vms/{vmid}", ["VM.Audit"], "any", 1], possibly nested in "and"/"or".
   */
  permissions?: { check?: readonly unknown[]; user?: string };
}

/** Keyed by "METHOD /path/template". */
export const API_SCHEMA: Readonly<Record<string, PveEndpointSchema>> = {
${Object.entries(entries)
  .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`)
  .join("\n")}
} as unknown as Readonly<Record<string, PveEndpointSchema>>;
`;
}

// ---------------------------------------------------------------------------------------------
// src/proxmox/generated/pve-api.ts

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const propKey = (k) => (IDENT.test(k) ? k : JSON.stringify(k));
const lit = (v) => JSON.stringify(String(v));

function tsType(schema, mode, indent) {
  if (!schema || typeof schema !== "object") return "unknown";
  if (schema["x-ts"]) return schema["x-ts"];
  switch (schema.type) {
    case "string":
      return schema.enum ? schema.enum.map(lit).join(" | ") : "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      // Requests: the client encodes booleans as 0/1. Responses: Perl emits 0/1 mostly, true/false rarely.
      return mode === "params" ? "boolean" : "PveBoolean";
    case "null":
      return "null";
    case "array": {
      const item = tsType(schema.items, mode, indent);
      return /^[A-Za-z0-9_<>, ]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case "object":
      return objectType(schema, mode, indent);
    default:
      if (schema.properties) return objectType(schema, mode, indent);
      return "unknown";
  }
}

function objectBody(schema, mode, indent) {
  const pad = "  ".repeat(indent + 1);
  const lines = [];
  const props = schema.properties ?? {};
  for (const name of Object.keys(props).sort()) {
    const p = props[name];
    const t = tsType(p, mode, indent + 1);
    const fam = /^(.*)\[n\]$/.exec(name);
    if (fam) {
      lines.push(`${pad}[key: \`${fam[1]}\${number}\`]: ${t};`);
    } else {
      const opt = p.optional ? "?" : "";
      lines.push(`${pad}${propKey(name)}${opt}: ${t};`);
    }
  }
  const ap = schema.additionalProperties;
  const open = ap === undefined ? mode === "returns" : ap !== 0 && ap !== false;
  if (open && (lines.length > 0 || mode === "returns")) lines.push(`${pad}[key: string]: unknown;`);
  return lines;
}

function objectType(schema, mode, indent) {
  const lines = objectBody(schema, mode, indent);
  if (lines.length === 0) return mode === "returns" ? "Record<string, unknown>" : "Record<string, never>";
  if (lines.length === 1 && lines[0].trim() === "[key: string]: unknown;") return "Record<string, unknown>";
  return `{\n${lines.join("\n")}\n${"  ".repeat(indent)}}`;
}

function typeBaseName(key) {
  const [method, path] = key.split(" ");
  const segs = path.split("/").filter(Boolean);
  const words = [];
  segs.forEach((s, i) => {
    const param = /^\{(.+)\}$/.exec(s);
    // Path parameters only name the type when they are the last segment (/pools/{poolid}).
    if (param && i !== segs.length - 1) return;
    const w = param ? param[1] : s;
    for (const part of w.split(/[^A-Za-z0-9]+/).filter(Boolean))
      words.push(part[0].toUpperCase() + part.slice(1));
  });
  return words.join("") + method[0] + method.slice(1).toLowerCase();
}

function genTypes(byPath, endpoints) {
  const out = [];
  const endpointLines = [];
  const names = new Set();
  out.push(`// Generated by scripts/gen-pve-schema.mjs from the official Proxmox VE API schema. Do not edit.
/* eslint-disable */

/** A boolean as Proxmox returns it: Perl emits 0/1 for most flags, JSON true/false for a few. */
export type PveBoolean = 0 | 1 | boolean;
`);
  for (const key of endpoints) {
    const [method, path] = key.split(" ");
    const info = byPath.get(path).info[method];
    const base = typeBaseName(key);
    if (names.has(base)) fail(`type name collision: ${base} (${key})`);
    names.add(base);

    // Params: path parameters are part of `parameters.properties` already.
    const params = info.parameters ?? { additionalProperties: 0 };
    const pLines = objectBody(params, "params", 0);
    out.push(
      pLines.length
        ? `export interface ${base}Params {\n${pLines.join("\n")}\n}\n`
        : `export type ${base}Params = Record<string, never>;\n`,
    );

    const o = OVERRIDES[key];
    const returns = returnsFor(key, info);
    let result;
    if (o?.ts) {
      result = o.ts;
    } else if (path.includes("/agent/") && returns.type === "object" && !returns.properties) {
      result = AGENT_RESULT_TS;
    } else if (returns.type === "array" && (returns.items?.type === "object" || returns.items?.properties)) {
      const itemT = tsType(returns.items, "returns", 0);
      if (itemT.startsWith("{")) {
        out.push(`export interface ${base}Item ${itemT}\n`);
        result = `${base}Item[]`;
      } else {
        result = `${itemT}[]`;
      }
    } else {
      result = tsType(returns, "returns", 0);
    }
    if (result.startsWith("{\n")) {
      out.push(`export interface ${base}Result ${result}\n`);
    } else {
      out.push(`export type ${base}Result = ${result};\n`);
    }
    // Every non-GET endpoint here that returns a plain string forks a worker and returns its UPID.
    const upid = returns.type === "string" && method !== "GET";
    let summary = (info.description ?? "").split("\n")[0].trim().replace(/\*\//g, "*\\/");
    if (upid)
      summary = `${summary}${/[.!?]$/.test(summary) || !summary ? "" : "."} Returns a task UPID.`.trim();
    const doc = summary ? `  /** ${summary} */\n` : "";
    endpointLines.push(`${doc}  ${JSON.stringify(key)}: { params: ${base}Params; result: ${base}Result };`);
  }
  out.push(`/** The Proxmox VE endpoints this project uses, keyed by "METHOD /path/template". */
export interface PveEndpoints {
${endpointLines.join("\n")}
}

export type PveEndpointKey = keyof PveEndpoints;
`);
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------

/** sim/src/generated/api-schema.ts: every operation of the schema. */
export function simSchemaFile(byPath) {
  return genSimSchema(byPath, allEndpoints(byPath));
}

/** src/proxmox/generated/pve-api.ts: the endpoints of ENDPOINTS. */
export function typesFile(byPath) {
  return genTypes(byPath, expandEndpoints(byPath));
}
