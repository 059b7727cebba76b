import { type Classification, classify } from "./classify";
import { OPERATIONS, SCHEMAS } from "./generated/api-index";
import { type HttpMethod, OP_FLAG, type PveSchema } from "./schema";

/**
 * The operations of the Proxmox VE API schema this server targets, looked up by template
 * ("/nodes/{node}/qemu/{vmid}/config") or by a concrete path ("/nodes/pve1/qemu/101/config").
 * Built once per isolate from the generated index.
 */

export interface Operation {
  method: HttpMethod;
  /** Path template, e.g. "/nodes/{node}/qemu/{vmid}/firewall/rules". */
  path: string;
  /** "GET /nodes/{node}/qemu/{vmid}/firewall/rules" */
  key: string;
  summary: string;
  params: Readonly<Record<string, PveSchema>>;
  /** Names of the `{...}` segments, in order. */
  pathParams: readonly string[];
  privileges: string;
  /** Returns a task UPID (a write that answers with a string). */
  upid: boolean;
  additional: boolean;
  class: Classification;
}

let operations: Operation[] | undefined;
let byKey: Map<string, Operation> | undefined;

export function allOperations(): readonly Operation[] {
  if (!operations) {
    operations = OPERATIONS.map(([method, path, summary, refs, privileges, flags]) => {
      const params: Record<string, PveSchema> = {};
      for (const [name, ref] of Object.entries(refs)) params[name] = SCHEMAS[ref] as PveSchema;
      return {
        method,
        path,
        key: `${method} ${path}`,
        summary,
        params,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string),
        privileges,
        upid: (flags & OP_FLAG.upid) !== 0,
        additional: (flags & OP_FLAG.additional) !== 0,
        class: classify(method, path),
      };
    });
    byKey = new Map(operations.map((op) => [op.key, op]));
  }
  return operations;
}

export function operationByKey(key: string): Operation | undefined {
  allOperations();
  return byKey?.get(key);
}

export interface ResolvedPath {
  op: Operation;
  /** Values of the path parameters as given (decoded), e.g. {node: "pve1", vmid: "101"}. */
  values: Record<string, string>;
  /** The path was the template itself (no values filled in). */
  template: boolean;
}

function segmentsOf(path: string): string[] {
  return path
    .replace(/^\/?(api2\/json\/?)?/, "")
    .split("/")
    .filter((s) => s.length > 0);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Trailing path parameters whose values may hold slashes: volume IDs, nested pools, networks. */
const MAY_SPAN = new Set(["{volume}", "{poolid}", "{cidr}"]);

/**
 * Matches a concrete path against the templates of one method. Literal segments beat
 * parameters (".../firewall/rules" is not ".../firewall/{something}"); a trailing volume, pool or
 * network may span slashes ("local:iso/debian.iso", "prod/web", "10.0.0.0/24").
 */
export function resolvePath(method: HttpMethod, path: string): ResolvedPath | undefined {
  const given = segmentsOf(path);
  let best: { op: Operation; values: Record<string, string>; literal: number; template: boolean } | undefined;
  for (const op of allOperations()) {
    if (op.method !== method) continue;
    const tpl = segmentsOf(op.path);
    const last = tpl[tpl.length - 1] ?? "";
    const greedy = MAY_SPAN.has(last) && given.length > tpl.length;
    if (tpl.length !== given.length && !greedy) continue;
    const values: Record<string, string> = {};
    let literal = 0;
    let template = true;
    let ok = true;
    for (let i = 0; i < tpl.length; i++) {
      const t = tpl[i] as string;
      const g = given[i] as string;
      const param = /^\{(.+)\}$/.exec(t);
      if (param) {
        const value = i === tpl.length - 1 && greedy ? given.slice(i).map(decode).join("/") : decode(g);
        if (g !== t) template = false;
        values[param[1] as string] = value;
      } else if (t === g) {
        literal++;
      } else {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    // An exact-length match beats a greedy one; then more literal segments win.
    const score = literal * 2 + (greedy ? 0 : 1);
    if (!best || score > best.literal) best = { op, values, literal: score, template };
  }
  return best && { op: best.op, values: best.template ? {} : best.values, template: best.template };
}
