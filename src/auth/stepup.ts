import { OAuthError } from "@cloudflare/workers-oauth-provider";

/**
 * Step-up after a 403 `insufficient_scope`, for clients that refresh before they ask the person.
 *
 * The official SDK client (1.x) answers such a 403 by running its auth flow again, and that flow
 * refreshes first when it holds a refresh token. A refresh request carries no scope, so the
 * grant's scopes come back, the call is refused again, and the client gives up ("Server returned
 * 403 after trying upscoping"). So the 403 leaves a note on its grant, and the next refresh of
 * that grant, if the grant still lacks what was asked, is answered `invalid_grant`: the client
 * drops its tokens and starts authorization with the scopes the 403 named, which brings the
 * person to the consent page with those boxes ticked. workers-oauth-provider revokes a grant
 * whose refresh is answered `invalid_grant` from the token callback; the new consent replaces it
 * anyway. Clients that go straight to authorization for a wider scope (the 2.x SDK, mcp-remote
 * 0.15) never refresh on the way and never meet the note.
 */

/** Long enough for a client to react to the 403; a later plain refresh is not held up. */
const NOTE_TTL_SECONDS = 600;

const noteKey = (grantId: string) => `stepup:${grantId}`;

/** Tokens are "userId:grantId:secret" (workers-oauth-provider's format). */
export function grantIdOf(token: string): string | undefined {
  return token.split(":")[1] || undefined;
}

/** Notes the scopes a 403 asked this token's grant for. */
export async function rememberStepUp(
  kv: KVNamespace | undefined,
  token: string,
  scopes: readonly string[],
): Promise<void> {
  const grantId = grantIdOf(token);
  if (!kv || !grantId) return;
  // KV takes one write a second per key: a client calling again at once keeps the first note, and
  // the 403 answers all the same.
  await kv
    .put(noteKey(grantId), JSON.stringify(scopes), { expirationTtl: NOTE_TTL_SECONDS })
    .catch(() => undefined);
}

/** Throws invalid_grant when a 403 asked this grant for a scope it does not hold. */
export async function refuseRefreshBelowStepUp(
  kv: KVNamespace | undefined,
  grantId: string,
  grantScopes: readonly string[],
): Promise<void> {
  if (!kv) return;
  const note = await kv.get<string[]>(noteKey(grantId), "json");
  if (!note) return;
  await kv.delete(noteKey(grantId));
  const missing = note.filter((scope) => !grantScopes.includes(scope));
  if (missing.length === 0) return;
  throw new OAuthError("invalid_grant", {
    description: `This sign-in does not allow ${missing.join(" and ")}. Authorize again to ask for it.`,
  });
}
