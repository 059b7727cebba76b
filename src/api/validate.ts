import type { Operation } from "./index";
import { checkObject, type Errors, propertySchema } from "./jsonschema";
import type { PveSchema, RawParams } from "./schema";

/**
 * Checks a read_api/write_api request against its operation before anything is sent, with the
 * rules the simulator (and Proxmox) apply: first each value's JSON type strictly (a number or a
 * string of digits for an integer, true/false or 0/1 for a boolean; never `[100]`, `null` or
 * "1e2"), then the schema itself (formats incl. property strings, enums, limits, patterns,
 * required and unknown keys) through the shared JSONSchema port.
 */

/** What the client sends: every value as Proxmox receives it (booleans as 0/1, arrays repeated). */
export type WireParams = Record<string, string | string[]>;

export interface Prepared {
  /** Path parameters and parameters together, ready for the client. */
  wire: WireParams;
  errors: string[];
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return String(value);
}

/** One scalar, checked against its declared type; returns the wire string or an error. */
function scalar(value: unknown, schema: PveSchema): { ok: string } | { error: string } {
  switch (schema.type) {
    case "integer":
      if (typeof value === "number" && Number.isSafeInteger(value)) return { ok: String(value) };
      if (typeof value === "string" && INTEGER.test(value)) return { ok: value };
      return { error: `must be a whole number, got ${describeValue(value)}` };
    case "number":
      if (typeof value === "number" && Number.isFinite(value)) return { ok: String(value) };
      if (typeof value === "string" && NUMBER.test(value)) return { ok: value };
      return { error: `must be a number, got ${describeValue(value)}` };
    case "boolean":
      if (value === true || value === 1 || value === "1") return { ok: "1" };
      if (value === false || value === 0 || value === "0") return { ok: "0" };
      return { error: `must be true or false (or 1/0), got ${describeValue(value)}` };
    default:
      if (typeof value === "string") return { ok: value };
      return { error: `must be a string, got ${describeValue(value)}` };
  }
}

function wireValue(value: unknown, schema: PveSchema): { ok: string | string[] } | { error: string } {
  if (Array.isArray(value)) {
    // Proxmox joins a list sent for a "-list" string (RESTHandler normalize_legacy_param_formats).
    if (schema.type === "string" && typeof schema.format === "string" && schema.format.endsWith("-list")) {
      if (!value.every((item) => typeof item === "string")) return { error: "must be a list of strings" };
      return { ok: value.join(",") };
    }
    if (schema.type !== "array") return { error: `must be a single value, got ${describeValue(value)}` };
    const out: string[] = [];
    for (const item of value) {
      const r = scalar(item, schema.items ?? { type: "string" });
      if ("error" in r) return { error: `item ${out.length}: ${r.error}` };
      out.push(r.ok);
    }
    return { ok: out };
  }
  if (schema.type === "array") {
    const r = scalar(value, schema.items ?? { type: "string" });
    return "error" in r ? r : { ok: [r.ok] };
  }
  if (value === null || typeof value === "object") {
    return {
      error: `must be ${schema.type === "object" ? "sent as separate parameters" : "a single value"}, got ${describeValue(value)}`,
    };
  }
  return scalar(value, schema);
}

export function prepare(
  op: Operation,
  pathValues: Record<string, string>,
  params: Record<string, unknown>,
): Prepared {
  const errors: string[] = [];
  const wire: WireParams = {};
  for (const name of op.pathParams) {
    const value = pathValues[name];
    if (value === undefined || value === `{${name}}` || value === "") {
      errors.push(
        `${name}: fill in the path parameter {${name}} (e.g. ${op.path.replace(`{${name}}`, `<${name}>`)})`,
      );
      continue;
    }
    if (Object.hasOwn(params, name) && String(params[name]) !== value) {
      errors.push(
        `${name}: given both in the path (${value}) and in params (${describeValue(params[name])})`,
      );
    }
    wire[name] = value;
  }
  for (const [name, value] of Object.entries(params)) {
    if (op.pathParams.includes(name)) continue;
    if (value === undefined) continue;
    const schema = propertySchema(op.params, name);
    if (!schema) {
      if (op.additional) {
        const r = wireValue(value, { type: "string" });
        if ("error" in r) errors.push(`${name}: ${r.error}`);
        else wire[name] = r.ok;
        continue;
      }
      const known = Object.keys(op.params).filter((p) => !op.pathParams.includes(p));
      errors.push(
        `${name}: not a parameter of ${op.key}${known.length ? ` (it takes: ${known.slice(0, 40).join(", ")}${known.length > 40 ? ", …" : ""})` : " (it takes none)"}`,
      );
      continue;
    }
    const r = wireValue(value, schema);
    if ("error" in r) errors.push(`${name}: ${r.error}`);
    else wire[name] = r.ok;
  }
  if (errors.length > 0) return { wire, errors };
  const schemaErrors: Errors = {};
  checkObject("", op.params, wire as RawParams, op.additional ? 1 : 0, schemaErrors);
  for (const [name, message] of Object.entries(schemaErrors)) {
    errors.push(`${name}: ${message.replace(/\n+$/, "").replace(/\n/g, "; ")}`);
  }
  return { wire, errors };
}
