import type { Operation } from "./index";
import type { PveSchema } from "./schema";

/** How search_api presents operations: one line each in a list, every parameter in the detail. */

export interface ParamInfo {
  name: string;
  type: string;
  required?: boolean;
  enum?: readonly string[];
  default?: unknown;
  format?: string;
  min?: number | string;
  max?: number | string;
  description?: string;
}

export interface OperationInfo {
  method: string;
  path: string;
  summary: string;
  /** read, write, exec or admin; absent when the operation is never sent. */
  scope?: string;
  denied?: string;
  /** Starts a Proxmox task and answers with its UPID. */
  task?: boolean;
  privileges?: string;
  params?: ParamInfo[];
  /** In a search answer: the required parameters (path parameters are in the path)... */
  required?: string[];
  /** ...and how many optional ones search_api with the path lists. */
  optional?: number;
  /** A call to send as it is: read_api or write_api with these arguments. */
  example?: { tool: "read_api" | "write_api"; args: Record<string, unknown> };
  /** Share of the query's words the operation matches, 0..1. */
  match?: number;
}

function isRequired(schema: PveSchema): boolean {
  return !schema.optional && schema.type !== "null";
}

/** "key=<type>" parts of a property string, required keys first. */
function propertyString(format: Readonly<Record<string, PveSchema>>): string {
  const parts = Object.entries(format)
    .filter(([, s]) => !s.alias)
    .sort(([, a], [, b]) => Number(isRequired(b)) - Number(isRequired(a)))
    .map(([key, s]) => {
      const type = s.enum ? s.enum.join("|") : (s.type ?? "string");
      return s.default_key ? `[${key}=]<${type}>` : `${key}=<${type}>`;
    });
  const text = parts.join(",");
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

export function paramInfo(name: string, schema: PveSchema): ParamInfo {
  const info: ParamInfo = { name, type: schema.type ?? "string" };
  if (isRequired(schema)) info.required = true;
  if (schema.enum) info.enum = schema.enum;
  if (schema.default !== undefined) info.default = schema.default;
  if (typeof schema.format === "string") info.format = schema.format;
  else if (schema.format) info.format = `property string: ${propertyString(schema.format)}`;
  if (schema.minimum !== undefined) info.min = schema.minimum;
  if (schema.maximum !== undefined) info.max = schema.maximum;
  if (schema.minLength !== undefined && schema.type === "string") info.min = schema.minLength;
  if (schema.maxLength !== undefined && schema.type === "string") info.max = schema.maxLength;
  if (schema.description) info.description = schema.description;
  return info;
}

function paramLine(p: ParamInfo): string {
  const bits: string[] = [p.enum ? p.enum.join("|") : p.type];
  if (p.format) bits.push(p.format);
  if (p.min !== undefined || p.max !== undefined) bits.push(`${p.min ?? ""}..${p.max ?? ""}`);
  if (p.default !== undefined) bits.push(`default ${JSON.stringify(p.default)}`);
  return `  ${p.name}${p.required ? "*" : ""} (${bits.join(", ")})${p.description ? ` ${p.description}` : ""}`;
}

/** Parameter names, path parameters left out (they are in the path), required ones marked *. */
function paramNames(op: Operation): string[] {
  return Object.entries(op.params)
    .filter(([name]) => !op.pathParams.includes(name))
    .sort(([a, sa], [b, sb]) => Number(isRequired(sb)) - Number(isRequired(sa)) || a.localeCompare(b))
    .map(([name, s]) => `${name}${isRequired(s) ? "*" : ""}`);
}

function scopeText(op: Operation): string {
  return op.class.denied ? "never sent" : `${op.class.scope} scope`;
}

/** "<type>" for a value the caller must choose; a short enum lists its choices. */
function placeholder(name: string, schema: PveSchema): string {
  return schema.enum && schema.enum.length <= 5 ? `<${schema.enum.join("|")}>` : `<${name}>`;
}

/**
 * A call the model can send as it is: the path with the values the query named filled in (the
 * rest stay {placeholders}), and for a change its required parameters. write_api without confirm
 * only previews, so the example is safe to send.
 */
export function exampleCall(
  op: Operation,
  values: Readonly<Record<string, string>>,
): { tool: "read_api" | "write_api"; args: Record<string, unknown> } {
  const path = op.path.replace(/\{([^}]+)\}/g, (whole, name: string) => values[name] ?? whole);
  if (op.method === "GET") return { tool: "read_api", args: { path } };
  const params: Record<string, string> = {};
  for (const [name, schema] of Object.entries(op.params)) {
    if (isRequired(schema) && !op.pathParams.includes(name)) params[name] = placeholder(name, schema);
  }
  return {
    tool: "write_api",
    args: { method: op.method, path, ...(Object.keys(params).length ? { params } : {}) },
  };
}

/**
 * One operation in a search answer: what it is, its scope (from the classification), what it
 * needs, and how to call it. `match` is the share of the query's words it matches.
 */
export function searchEntry(
  op: Operation,
  values: Readonly<Record<string, string>> = {},
  match?: { share: number; words: readonly string[]; of: number },
): { line: string; info: OperationInfo } {
  const names = paramNames(op);
  const required = names.filter((n) => n.endsWith("*")).map((n) => n.slice(0, -1));
  const optional = names.length - required.length;
  const needs = required.length
    ? ` Required: ${required.join(", ")}${optional ? ` (+${optional} optional)` : ""}.`
    : optional
      ? ` ${optional} optional params.`
      : "";
  const task = op.upid ? " Starts a task." : "";
  const partial =
    match && match.words.length > 0 && match.words.length < match.of
      ? ` [matches ${match.words.join(", ")}: ${match.words.length} of ${match.of} words]`
      : "";
  const example = op.class.denied ? undefined : exampleCall(op, values);
  const call = example ? `\n  ${example.tool} ${JSON.stringify(example.args)}` : "";
  return {
    line: `${op.key} (${scopeText(op)}) ${op.summary}${task}${needs}${partial}${call}`,
    info: {
      method: op.method,
      path: op.path,
      summary: op.summary,
      ...(op.class.denied ? { denied: op.class.denied } : { scope: op.class.scope }),
      ...(op.upid ? { task: true } : {}),
      required,
      ...(optional ? { optional } : {}),
      ...(example ? { example } : {}),
      ...(match ? { match: Math.round(match.share * 100) / 100 } : {}),
    },
  };
}

export function detail(op: Operation): { text: string; info: OperationInfo } {
  const params = Object.entries(op.params)
    .sort(([a, sa], [b, sb]) => Number(isRequired(sb)) - Number(isRequired(sa)) || a.localeCompare(b))
    .map(([name, schema]) => paramInfo(name, schema));
  const lines = [
    `${op.key}: ${op.summary}`,
    op.class.denied
      ? `Never sent by this server: ${op.class.denied}.`
      : `Scope: ${op.class.scope} (${op.method === "GET" ? "read_api" : "write_api"}). Proxmox checks: ${op.privileges}.${op.upid ? " Starts a task (answers with a UPID)." : ""}`,
    params.length ? "Parameters (* required):" : "No parameters.",
    ...params.map(paramLine),
  ];
  if (op.additional) lines.push("  (also accepts further keys)");
  return {
    text: lines.join("\n"),
    info: {
      method: op.method,
      path: op.path,
      summary: op.summary,
      ...(op.class.denied ? { denied: op.class.denied } : { scope: op.class.scope }),
      ...(op.upid ? { task: true } : {}),
      privileges: op.privileges,
      params,
    },
  };
}
