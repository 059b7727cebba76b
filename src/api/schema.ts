/**
 * Types of the API index: one JSON schema node as pve-common's JSONSchema.pm understands it, and
 * one operation of the index. Pure types, shared with the simulator's validator.
 */

export interface PveSchema {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object" | "null" | "any";
  optional?: 0 | 1;
  enum?: readonly string[];
  pattern?: string;
  minimum?: number | string;
  maximum?: number | string;
  minLength?: number;
  maxLength?: number;
  /** A named format ("pve-node"), or the property-string sub-schema of a property string. */
  format?: string | Readonly<Record<string, PveSchema>>;
  default?: unknown;
  default_key?: 0 | 1;
  requires?: string;
  alias?: string;
  keyAlias?: string;
  typetext?: string;
  items?: PveSchema;
  properties?: Readonly<Record<string, PveSchema>>;
  additionalProperties?: 0 | 1 | boolean | PveSchema;
  "instance-types"?: readonly string[];
  "type-property"?: string;
  oneOf?: readonly PveSchema[];
  /** Index only: the parameter's description, first sentence. */
  description?: string;
}

/** A request value as Proxmox decodes it (query string, form body or JSON body). */
export type RawValue = string | number | boolean | null | RawValue[] | { [key: string]: RawValue };
export type RawParams = Record<string, RawValue>;

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** [method, path template, summary, {parameter: schema number}, privileges in words, flags]. */
export type IndexedOperation = readonly [
  method: HttpMethod,
  path: string,
  summary: string,
  params: Readonly<Record<string, number>>,
  privileges: string,
  flags: number,
];

/** Bits of IndexedOperation's flags (scripts/gen-api-index.mjs FLAG). */
export const OP_FLAG = { upid: 1, additional: 2, download: 4 } as const;
