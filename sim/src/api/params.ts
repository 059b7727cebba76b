// Request parameter extraction as pve-http-server does it (AnyEvent.pm extract_params).

export type RawValue = string | number | boolean | null | RawValue[] | { [key: string]: RawValue };
export type RawParams = Record<string, RawValue>;

export interface ExtractedParams {
  query: RawParams;
  body: RawParams;
  /** Body first, then query-string values merged over it; `_dc` dropped. */
  merged: RawParams;
}

/** Repeated keys become arrays (since pve-http-server 2023-06, PVE 8.0). */
export function searchParamsToObject(sp: URLSearchParams): RawParams {
  const out: RawParams = {};
  for (const [k, v] of sp) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

export class BodyError extends Error {}

export async function extractParams(request: Request, url: URL): Promise<ExtractedParams> {
  const query = searchParamsToObject(url.searchParams);
  let body: RawParams = {};
  const method = request.method;
  const text = request.body ? new TextDecoder().decode(await request.arrayBuffer()) : "";
  if (method === "GET" || method === "DELETE") {
    if (text.length > 0) throw new BodyError(`Unexpected content for method '${method}'`);
  } else if (text.length > 0) {
    if (text.length > 512 * 1024) throw new BodyError("for data too large");
    const ct = (request.headers.get("Content-Type") ?? "").toLowerCase();
    if (ct.startsWith("application/json")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new BodyError("malformed JSON string");
      }
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
        throw new BodyError("malformed JSON string");
      body = parsed as RawParams;
    } else {
      body = searchParamsToObject(new URLSearchParams(text));
    }
  }
  const merged: RawParams = { ...body, ...query };
  delete merged._dc;
  return { query, body, merged };
}
