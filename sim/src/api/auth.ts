// API token authentication as pve-http-server and pve-access-control do it.

export const DEFAULT_TOKEN_ID = "root@pam!mcp";
export const DEFAULT_TOKEN_SECRET = "00000000-0000-4000-8000-000000000000";

export type AuthResult =
  | { ok: true; user: string }
  | { ok: false; reason: "No ticket" | "Authentication failed!" };

function uriUnescape(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/**
 * Formatter.pm extract_auth_value takes `PVEAPIToken=` or `PVEAPIToken ` up to a `;`;
 * verify_token splits on the LAST `=`. So the PBS form `user@realm!tok:SECRET` has no secret and
 * fails like a wrong token. The client only ever sees 401 "Authentication failed!".
 */
export function authenticate(
  header: string | null,
  tokenId: string,
  secret: string,
  /** Tokens created through /access: their secret, or undefined when the id is not valid now. */
  lookup: (id: string) => string | undefined = () => undefined,
): AuthResult {
  const m = header ? /(?:^|\s)PVEAPIToken(?:=| )([^;]*)/.exec(header) : null;
  if (!m) return { ok: false, reason: "No ticket" };
  const value = uriUnescape((m[1] as string).trim());
  const split = /^(.*)=(.*)$/.exec(value);
  if (!split) return { ok: false, reason: "Authentication failed!" };
  const [, id, given] = split as unknown as [string, string, string];
  if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/.test(id)) {
    return { ok: false, reason: "Authentication failed!" };
  }
  if (id === tokenId) {
    if (given !== secret) return { ok: false, reason: "Authentication failed!" };
    return { ok: true, user: id };
  }
  const stored = lookup(id);
  if (stored === undefined || !timingSafeEqualText(stored, given)) {
    return { ok: false, reason: "Authentication failed!" };
  }
  return { ok: true, user: id };
}

function timingSafeEqualText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
