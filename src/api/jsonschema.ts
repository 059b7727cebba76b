// Parameter validation ported from pve-common PVE/JSONSchema.pm (check_object, check_prop,
// check_type, parse_property_string), with its exact error texts. Pure: the simulator validates
// every request with it, and the MCP server checks read_api/write_api requests with it before
// sending them, so both apply the same rules.

import { verifyFormat } from "./formats";
import type { PveSchema, RawParams, RawValue } from "./schema";

export type Errors = Record<string, string>;

/**
 * The real maxima of `[n]` property families. The apidoc collapses e.g. net0..net31 into
 * `net[n]`; qemu-server (PVE::QemuServer::Drive, MAX_NETS...) and pve-container define the ranges.
 */
export const FAMILY_MAX: Readonly<Record<string, number>> = {
  net: 32,
  scsi: 31,
  virtio: 16,
  sata: 6,
  ide: 4,
  unused: 256,
  hostpci: 16,
  usb: 14,
  serial: 4,
  parallel: 3,
  ipconfig: 32,
  numa: 8,
  virtiofs: 10,
  mp: 256,
  dev: 256,
};

function addError(errors: Errors, path: string, msg: string): void {
  errors[path] = errors[path] === undefined ? msg : `${errors[path]}\n${msg}`;
}

/** Finds the schema of a key, resolving `net5` to the `net[n]` family entry. */
export function propertySchema(
  props: Readonly<Record<string, PveSchema>> | undefined,
  key: string,
): PveSchema | undefined {
  if (!props) return undefined;
  if (Object.hasOwn(props, key)) return props[key];
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (!m) return undefined;
  const fam = props[`${m[1]}[n]`];
  if (!fam) return undefined;
  const idx = Number(m[2]);
  const max = FAMILY_MAX[m[1] as string] ?? 256;
  return String(idx) === m[2] && idx < max ? fam : undefined;
}

const isInteger = (v: string) => /^[+-]?\d+$/.test(v);
const isNumber = (v: string) => /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(v);

/** How Perl would name the reference type of a JSON-decoded value. */
function refType(v: RawValue): string | null {
  if (Array.isArray(v)) return "ARRAY";
  if (v !== null && typeof v === "object") return "HASH";
  if (typeof v === "boolean") return "JSON::PP::Boolean";
  return null;
}

function checkType(path: string, type: string | undefined, value: RawValue, errors: Errors): boolean {
  if (!type) return true;
  const ref = refType(value);
  if (ref) {
    if (type === "array" && ref === "ARRAY") return true;
    if (type === "object" && ref === "HASH") return true;
    if (type === "boolean" && ref === "JSON::PP::Boolean") return true;
    if (type === "any") return true;
    addError(errors, path, `type check ('${type}') failed - got ${ref}`);
    return false;
  }
  const s = String(value);
  switch (type) {
    case "string":
    case "any":
      return true;
    case "integer":
      if (isInteger(s)) return true;
      break;
    case "number":
      if (isNumber(s)) return true;
      break;
    case "boolean":
      if (s === "0" || s === "1") return true;
      break;
  }
  addError(errors, path, `type check ('${type}') failed - got '${s}'`);
  return false;
}

/** check_prop for one value (undefined = absent). */
export function checkProp(
  value: RawValue | undefined,
  schema: PveSchema,
  path: string,
  errors: Errors,
): void {
  if (value === undefined || value === null) {
    if (schema.type === "null") return;
    if (!schema.optional && !schema.alias)
      addError(errors, path, "property is missing and it is not optional");
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items) value.forEach((el, i) => void checkProp(el, items, `${path}[${i}]`, errors));
    return;
  }
  if (typeof value === "object" && value !== null) {
    if (schema.properties)
      checkObject(path, schema.properties, value as RawParams, schema.additionalProperties, errors);
    return;
  }
  const s = String(value);
  if (schema.format) {
    const err =
      typeof schema.format === "string"
        ? verifyFormat(schema.format, s)
        : propertyStringError(schema.format, s, path);
    if (err) {
      addError(errors, path, `invalid format - ${err}`);
      return;
    }
  }
  if (schema.pattern && !perlRegex(schema.pattern).test(s)) {
    addError(errors, path, "value does not match the regex pattern");
    return;
  }
  if (schema.maxLength !== undefined && s.length > schema.maxLength) {
    addError(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && s.length < schema.minLength) {
    addError(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (isNumber(s)) {
    if (schema.maximum !== undefined && Number(s) > Number(schema.maximum)) {
      addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(s) < Number(schema.minimum)) {
      addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(s)) {
    addError(
      errors,
      path,
      `value '${s}' does not have a value in the enumeration '${schema.enum.join(", ")}'`,
    );
  }
}

/** check_object: every schema property, then the keys the schema does not know. */
export function checkObject(
  path: string,
  props: Readonly<Record<string, PveSchema>>,
  value: RawParams,
  additional: PveSchema["additionalProperties"],
  errors: Errors,
): void {
  const sub = (k: string) => (path ? `${path}.${k}` : k);
  for (const [name, schema] of Object.entries(props)) {
    if (name.endsWith("[n]")) continue;
    checkProp(value[name], schema, sub(name), errors);
  }
  for (const [key, v] of Object.entries(value)) {
    const schema = propertySchema(props, key);
    if (schema) {
      if (/\d$/.test(key) && !Object.hasOwn(props, key)) checkProp(v, schema, sub(key), errors);
      if (schema.requires && (value[schema.requires] === undefined || value[schema.requires] === null)) {
        addError(errors, schema.requires, `missing property - '${key}' requires this property`);
      }
      continue;
    }
    if (!additional) {
      addError(
        errors,
        sub(key),
        "property is not defined in schema and the schema does not allow additional properties",
      );
    } else if (typeof additional === "object") {
      checkProp(v, additional, sub(key), errors);
    }
  }
}

const PARSE_BOOL: Record<string, string> = {
  "1": "1",
  true: "1",
  yes: "1",
  on: "1",
  "0": "0",
  false: "0",
  no: "0",
  off: "0",
};

/** parse_property_string: returns the "invalid format - ..." tail, or null when valid. */
function propertyStringError(
  format: Readonly<Record<string, PveSchema>>,
  data: string,
  path: string,
): string | null {
  const res: RawParams = {};
  let defaultKey: string | undefined;
  for (const part of data.split(",")) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/.exec(part);
    if (kv) {
      let k = kv[1] as string;
      let v = kv[2] as string;
      if (res[k] !== undefined) return `duplicate key in comma-separated list property: ${k}\n`;
      let schema = format[k];
      if (schema?.alias) {
        if (schema.keyAlias) {
          if (res[schema.keyAlias] !== undefined)
            return `key alias '${schema.keyAlias}' is already defined\n`;
          res[schema.keyAlias] = k;
        }
        k = schema.alias;
        schema = format[k];
      }
      if (!schema) return `invalid key in comma-separated list property: ${k}\n`;
      if (schema.type === "boolean") v = PARSE_BOOL[v.toLowerCase()] ?? v;
      res[k] = v;
    } else if (!part.includes("=")) {
      if (defaultKey) return `duplicate key in comma-separated list property: ${defaultKey}\n`;
      defaultKey = Object.keys(format).find((key) => format[key]?.default_key);
      if (!defaultKey) return "value without key, but schema does not define a default key\n";
      if (res[defaultKey] !== undefined)
        return `duplicate key in comma-separated list property: ${defaultKey}\n`;
      res[defaultKey] = part;
    } else {
      return "missing key in comma-separated list property\n";
    }
  }
  const errors: Errors = {};
  checkObject(path, format, res, 0, errors);
  const keys = Object.keys(errors);
  if (keys.length === 0) return null;
  // PVE::Exception stringifies as the message, then "\n<path>: <error>" per error, then "\n".
  return `format error${keys.map((k) => `\n${k}: ${errors[k]}`).join("")}\n`;
}

const regexCache = new Map<string, RegExp>();

/** A schema pattern as Perl applies it (`m/^$pattern$/`), with Perl-only syntax translated. */
function perlRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    const js = pattern
      .replace(/\(\?\^[a-z]*:/g, "(?:")
      .replace(/\\A/g, "^")
      .replace(/\\[zZ]/g, "$");
    try {
      re = new RegExp(`^(?:${js})$`);
    } catch {
      re = /^[\s\S]*$/;
    }
    regexCache.set(pattern, re);
  }
  return re;
}

/** Validates request parameters against an endpoint's parameter schema. */
export function validateParams(params: RawParams, schema: PveSchema): Errors | null {
  const errors: Errors = {};
  checkObject("", schema.properties ?? {}, params, schema.additionalProperties ?? 0, errors);
  return Object.keys(errors).length ? errors : null;
}

/**
 * $normalize_legacy_param_formats (RESTHandler.pm, top level only): an array sent for a string
 * whose format ends in "-list" is joined with ","; a scalar for an array parameter is wrapped.
 */
export function normalizeLegacy(params: RawParams, schema: PveSchema): void {
  for (const [key, v] of Object.entries(params)) {
    const s = propertySchema(schema.properties, key);
    if (!s) continue;
    if (
      Array.isArray(v) &&
      s.type === "string" &&
      typeof s.format === "string" &&
      s.format.endsWith("-list")
    ) {
      params[key] = v.map(String).join(",");
    } else if (!Array.isArray(v) && v !== null && typeof v !== "object" && s.type === "array") {
      params[key] = [v];
    }
  }
}

/** Converts validated values to JS types: integers and numbers to number, booleans to boolean. */
export function coerceParams(params: RawParams, schema: PveSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(params)) {
    if (v === null) continue;
    const s = propertySchema(schema.properties, key);
    if (!s || Array.isArray(v) || typeof v === "object") {
      out[key] = v;
      continue;
    }
    switch (s.type) {
      case "integer":
      case "number":
        out[key] = Number(v);
        break;
      case "boolean":
        out[key] = v === true || v === "1" || v === 1;
        break;
      default:
        out[key] = typeof v === "string" ? v : String(v);
    }
  }
  return out;
}
