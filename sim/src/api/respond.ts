// Proxmox's wire format: envelopes, status lines and error bodies (PVE/HTTPServer.pm, AnyEvent.pm).

/** A handler error, like PVE::Exception: a status code, a message and optional per-parameter errors. */
export class PveError extends Error {
  constructor(
    message: string,
    readonly status = 500,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

/** raise_param_exc: 400 "Parameter verification failed." with per-parameter messages. */
export function paramError(errors: Record<string, string>): PveError {
  return new PveError("Parameter verification failed.", 400, errors);
}

const JSON_TYPE = "application/json;charset=UTF-8";

function baseHeaders(contentType?: string): Headers {
  const h = new Headers({
    Server: "pve-api-daemon/3.0",
    "Cache-Control": "max-age=0",
    Pragma: "no-cache",
    Expires: new Date().toUTCString(),
  });
  if (contentType) h.set("Content-Type", contentType);
  return h;
}

export function okResponse(data: unknown, extra?: Record<string, unknown>): Response {
  const body = JSON.stringify({ data: data === undefined ? null : data, ...extra });
  return new Response(body, { status: 200, statusText: "OK", headers: baseHeaders(JSON_TYPE) });
}

/** The status line keeps only the first line of the message; the body keeps all of it. */
export function errorResponse(err: PveError): Response {
  const message = err.message.endsWith("\n") ? err.message : `${err.message}\n`;
  const body: Record<string, unknown> = { data: null, message };
  if (err.errors) body.errors = err.errors;
  return new Response(JSON.stringify(body), {
    status: err.status,
    statusText: statusText(message),
    headers: baseHeaders(JSON_TYPE),
  });
}

/** A response with an empty body (401s, 501s from the HTTP layer). */
export function bareResponse(status: number, text: string): Response {
  return new Response(null, { status, statusText: statusText(text), headers: baseHeaders() });
}

function statusText(message: string): string {
  return message.split("\n")[0]?.replace(/[^\t\x20-\x7e]/g, "?") ?? "";
}
