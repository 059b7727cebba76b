/**
 * Request encoding the way Proxmox expects it (pve-http-server `extract_params`):
 * - path parameters substituted into the template and percent-encoded exactly once;
 * - GET/DELETE parameters in the query string (a body on those methods is refused with 501);
 * - POST/PUT parameters as an application/x-www-form-urlencoded body, the encoding every
 *   Proxmox version accepts;
 * - booleans as 1/0 (the string "true" fails Proxmox's type check);
 * - arrays as repeated keys (PVE 8.0+ turns them back into arrays; exec's `command` needs it).
 */

export type ParamValue =
  | string
  | number
  | boolean
  | readonly (string | number | boolean)[]
  | null
  | undefined;
export type Params = Record<string, ParamValue>;

function scalar(value: string | number | boolean): string {
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/** Fills `{name}` placeholders from params; returns the path and the params left over. */
export function fillPath(template: string, params: Params): { path: string; rest: Params } {
  const rest: Params = { ...params };
  const path = template.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = rest[name];
    if (value === undefined || value === null || Array.isArray(value)) {
      throw new TypeError(`Missing path parameter '${name}' for ${template}`);
    }
    delete rest[name];
    return encodeURIComponent(scalar(value as string | number | boolean));
  });
  return { path, rest };
}

/** Form/query encoding: undefined and null are left out, arrays repeat their key. */
export function encodeParams(params: Params): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) search.append(key, scalar(item));
    } else {
      search.append(key, scalar(value as string | number | boolean));
    }
  }
  return search;
}
