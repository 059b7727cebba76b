/**
 * Every way a Proxmox call can fail, turned into one error type with a message a person can act
 * on. Messages never contain credentials: they are built from the method, path, status and the
 * Proxmox message only, and `scrub` removes any configured secret that might still slip in.
 */

export type ProxmoxErrorKind =
  /** The Worker itself is not configured to reach Proxmox. */
  | "config"
  /** 400 Parameter verification failed. */
  | "invalid_params"
  /** 401: no token, or a token Proxmox does not accept. */
  | "auth"
  /** 403 Permission check failed. */
  | "permission"
  /** 500 about something that does not exist (guest config, snapshot, node, task). */
  | "not_found"
  /** Any other error Proxmox reported (precondition, lock, internal). */
  | "failed"
  /** 595/596/597/599: pveproxy could not reach the daemon or another node. */
  | "node_unreachable"
  /** 501: the API has no such path or method. */
  | "not_implemented"
  | "timeout"
  /** Cloudflare Access answered with its sign-in page instead of the API. */
  | "access_login"
  /** Cloudflare Tunnel error pages (530/1033, 502, 503, 504). */
  | "tunnel"
  /** 525/526: TLS between Cloudflare and the origin failed. */
  | "tls"
  /** The connection itself failed. */
  | "network"
  /** A response that is neither a Proxmox envelope nor a known error page. */
  | "bad_response";

export interface ProxmoxErrorDetails {
  kind: ProxmoxErrorKind;
  message: string;
  status?: number;
  /** Proxmox's own message (first line, without the trailing newline). */
  pveMessage?: string;
  /** Per-parameter messages from a 400. */
  errors?: Record<string, string>;
  method?: string;
  path?: string;
}

export class ProxmoxError extends Error {
  readonly kind: ProxmoxErrorKind;
  readonly status?: number;
  readonly pveMessage?: string;
  readonly errors?: Record<string, string>;
  readonly method?: string;
  readonly path?: string;

  constructor(details: ProxmoxErrorDetails) {
    super(details.message);
    this.name = "ProxmoxError";
    this.kind = details.kind;
    this.status = details.status;
    this.pveMessage = details.pveMessage;
    this.errors = details.errors;
    this.method = details.method;
    this.path = details.path;
  }
}

/**
 * Failures that may pass by themselves: the host, the tunnel or Cloudflare Access hiccuped, a
 * connection dropped or timed out, pveproxy answered 5xx. Asking again later can succeed. Wrong
 * input, missing things, permissions and configuration stay wrong however often one asks.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ProxmoxError)) return false;
  switch (error.kind) {
    case "timeout":
    case "network":
    case "tunnel":
    case "access_login":
    case "node_unreachable":
    case "bad_response":
      return true;
    case "failed":
      return error.status === undefined || error.status >= 500;
    default:
      return false;
  }
}

/** Proxmox messages end in "\n" and may span lines; the first line is what a person needs. */
export function cleanPveMessage(message: string | undefined | null): string {
  if (!message) return "";
  return message.trim().replace(/\s*\n\s*/g, "; ");
}

const NOT_FOUND_PATTERNS = [
  /does not exist/i,
  /^no such /i,
  /not found/i,
  /unable to find/i,
  /hostname lookup '.*' failed/i,
];

const PERMISSION_PATTERN = /Permission check failed \(([^,)]+),\s*([^)]+)\)/;

interface HttpFailure {
  method: string;
  path: string;
  status: number;
  statusText: string;
  body: string;
  contentType: string;
  location?: string | null;
  host: string;
}

/**
 * Classifies a non-2xx (or non-JSON) answer. Order matters: Cloudflare pages are recognised
 * before Proxmox statuses because Access and the tunnel can answer with any status.
 */
export function errorFromResponse(failure: HttpFailure): ProxmoxError {
  const { method, path, status, statusText, body, contentType } = failure;
  const where = `${method} ${path}`;
  const isHtml = contentType.includes("text/html") || /^\s*</.test(body);

  if (
    (failure.location && /cloudflareaccess\.com|\/cdn-cgi\/access\//i.test(failure.location)) ||
    (isHtml && /cloudflareaccess\.com|Cloudflare Access|\/cdn-cgi\/access\//i.test(body))
  ) {
    return new ProxmoxError({
      kind: "access_login",
      status,
      method,
      path,
      message:
        "Cloudflare Access answered with its sign-in page instead of the Proxmox API, so the Worker's " +
        "service token is missing or not accepted. Set CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET " +
        "(wrangler secret put) and make sure the Access application has a Service Auth policy that includes that token.",
    });
  }

  const cfCode = /error code:?\s*(\d{3,4})/i.exec(body)?.[1];
  if (status === 525 || status === 526) {
    return new ProxmoxError({
      kind: "tls",
      status,
      method,
      path,
      message:
        `TLS between Cloudflare and Proxmox failed (HTTP ${status}${status === 526 ? ", invalid origin certificate" : ", handshake failed"}). ` +
        "Proxmox's default certificate is self-signed: route through a Cloudflare Tunnel whose ingress sets originServerName and caPool " +
        "(or noTLSVerify as a last resort), or give Proxmox a certificate from a public CA.",
    });
  }
  if (status === 530 || cfCode === "1033" || cfCode === "1016") {
    return new ProxmoxError({
      kind: "tunnel",
      status,
      method,
      path,
      message:
        `The Cloudflare Tunnel to Proxmox is not connected (HTTP ${status}${cfCode ? `, error ${cfCode}` : ""}). ` +
        "Check that cloudflared is running on the Proxmox side and that the tunnel's public hostname matches PROXMOX_URL.",
    });
  }
  if (isHtml && (status === 502 || status === 503 || status === 504)) {
    return new ProxmoxError({
      kind: "tunnel",
      status,
      method,
      path,
      message:
        `Cloudflare reached the tunnel but not Proxmox (HTTP ${status} ${statusText || "Bad Gateway"}). ` +
        "Check the tunnel's ingress service (for example https://localhost:8006) and its TLS settings (originServerName, noTLSVerify), and that pveproxy is running.",
    });
  }

  let json: { data?: unknown; message?: string; errors?: Record<string, string> } | undefined;
  if (!isHtml && body.trim().startsWith("{")) {
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
  }
  // PVE 8.3+ puts the message in the body; older versions only in the status line.
  const pveMessage = cleanPveMessage(json?.message ?? statusText);

  if (status === 401) {
    const reason = statusText || pveMessage;
    const detail = /no ticket/i.test(reason)
      ? "no API token reached Proxmox. Set PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET with wrangler secret put."
      : "Proxmox does not accept the API token. PROXMOX_TOKEN_ID must look like user@realm!tokenname (the PBS form with ':' does not work on PVE), " +
        "and PROXMOX_TOKEN_SECRET must be that token's secret, the UUID shown once when the token was created.";
    return new ProxmoxError({
      kind: "auth",
      status,
      method,
      path,
      pveMessage: reason,
      message: `Proxmox answered 401 ${reason ? `(${reason}) ` : ""}to ${where}: ${detail}`,
    });
  }
  if (status === 403) {
    const perm = PERMISSION_PATTERN.exec(pveMessage);
    const hint = perm
      ? ` The API token needs the privilege ${perm[2]?.trim()} on ${perm[1]?.trim()}. With privilege separation on, grant it to the token itself (pveum acl modify ${perm[1]?.trim()} --tokens 'user@realm!name' --roles ...).`
      : " Check the roles granted to the API token.";
    return new ProxmoxError({
      kind: "permission",
      status,
      method,
      path,
      pveMessage,
      message: `Proxmox denied ${where}: ${pveMessage || "permission denied"}.${hint}`,
    });
  }
  const taskNode = /^\/nodes\/([^/]+)\/tasks\/UPID:/.exec(path)?.[1];
  if (status === 400 && taskNode && /no such task/i.test(String(json?.errors?.upid ?? ""))) {
    // Proxmox answers an unknown (well-formed) UPID with a parameter error; say what it means.
    return new ProxmoxError({
      kind: "not_found",
      status,
      method,
      path,
      pveMessage: "no such task",
      errors: { upid: "no such task" },
      message: `There is no such task on ${taskNode}: Proxmox does not know this UPID (it may be from another cluster, or its log was removed). get_tasks node=${taskNode} lists the node's tasks.`,
    });
  }
  if (status === 400 && json?.errors && typeof json.errors === "object") {
    const errors: Record<string, string> = {};
    for (const [key, value] of Object.entries(json.errors)) errors[key] = cleanPveMessage(String(value));
    const list = Object.entries(errors)
      .map(([key, value]) => `${key}: ${value}`)
      .join("; ");
    return new ProxmoxError({
      kind: "invalid_params",
      status,
      method,
      path,
      pveMessage,
      errors,
      message: `Proxmox rejected the request (${list}).`,
    });
  }
  if (status >= 595 && status <= 599) {
    return new ProxmoxError({
      kind: "node_unreachable",
      status,
      method,
      path,
      pveMessage,
      message:
        `Proxmox could not reach the node that serves ${path} (${status}${pveMessage ? ` ${pveMessage}` : ""}). ` +
        "The node may be offline or its pvedaemon stopped; get_cluster_status shows which nodes are online.",
    });
  }
  if (status === 501) {
    return new ProxmoxError({
      kind: "not_implemented",
      status,
      method,
      path,
      pveMessage,
      message: `This Proxmox version does not implement ${where} (501 ${pveMessage}).`,
    });
  }
  if (json && pveMessage) {
    const kind: ProxmoxErrorKind = NOT_FOUND_PATTERNS.some((p) => p.test(pveMessage))
      ? "not_found"
      : "failed";
    return new ProxmoxError({ kind, status, method, path, pveMessage, message: `Proxmox: ${pveMessage}` });
  }
  if (!isHtml && status >= 400 && pveMessage && !body.trim()) {
    return new ProxmoxError({
      kind: "failed",
      status,
      method,
      path,
      pveMessage,
      message: `Proxmox: ${pveMessage}`,
    });
  }
  return new ProxmoxError({
    kind: "bad_response",
    status,
    method,
    path,
    message:
      `Expected the Proxmox API at ${failure.host} but got HTTP ${status} ${isHtml ? "with an HTML page" : `(${contentType || "no content type"})`}` +
      ` for ${where}. Check that PROXMOX_URL points at the Proxmox API (port 8006 behind your tunnel), not at another site.`,
  });
}

/** Removes any configured secret from a message, whatever produced it. */
export function scrub(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}
