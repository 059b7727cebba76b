import { AsyncLocalStorage } from "node:async_hooks";
import {
  GrantType,
  getOAuthApi,
  insufficientScope,
  OAuthError,
  OAuthProvider,
  type OAuthProviderOptions,
  type OAuthResourceContext,
} from "@cloudflare/workers-oauth-provider";
import { SCOPES } from "../mcp/surface";
import { serveMcp } from "../server/endpoint";
import { PRODUCT } from "../version";
import type { AuthProps } from "./authorize";
import { type AuthConfig, oauthConfig } from "./config";
import { refuseRefreshBelowStepUp, rememberStepUp } from "./stepup";

/**
 * The OAuth 2.1 provider around /mcp (workers-oauth-provider): dynamic client registration and
 * client ID metadata documents, PKCE S256, refresh tokens, the authorization-server and
 * protected-resource metadata, and bearer tokens bound to MCP_RESOURCE. Everything that is not
 * /mcp or an OAuth endpoint goes to the Worker's own routes (`defaultHandler`), /authorize included.
 */

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

function jsonRpcError(status: number, message: string, headers?: Record<string, string>): Response {
  return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32001, message } }, { status, headers });
}

/** /mcp with a valid token: the user is still allowed, within the rate limit, and gets the grant's tools. */
const mcpApi = {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { props, auth } = ctx as OAuthResourceContext<AuthProps>;
    const { config } = oauthConfig(env);
    const user = typeof props?.user === "string" ? props.user : "";
    if (!config || !user || !auth.clientId) return jsonRpcError(403, "This token carries no user.");
    // ALLOWED_USERS may have shrunk since the token was issued.
    if (!config.allowedUsers.has(user)) {
      return jsonRpcError(403, `${user} is no longer allowed to use this server (ALLOWED_USERS).`);
    }
    const limiter = request.method === "POST" ? env.RATE_LIMITER : undefined;
    // Each JSON-RPC message counts against the limit, so a batch cannot multiply it.
    const admit = async (messages: number): Promise<Response | undefined> => {
      if (!limiter) return undefined;
      for (let i = 0; i < messages; i++) {
        const { success } = await limiter.limit({ key: `user:${user}` });
        if (!success) {
          return jsonRpcError(
            429,
            `Rate limit: too many requests from ${user} in the last minute. Wait a minute, then try again.`,
            { "Retry-After": "60" },
          );
        }
      }
      return undefined;
    };
    const oauth = env.OAUTH_PROVIDER;
    const clientId = auth.clientId;
    return serveMcp(
      request,
      env,
      {
        user,
        clientId,
        scopes: auth.scope,
        otherClients: async () =>
          oauth ? (await oauth.listUserGrants(user)).items.map((grant) => grant.clientId) : [],
      },
      {
        admit,
        // The client may ask the person again: name every scope it needs, those it has included,
        // so the new grant does not lose what the old one allowed.
        scopeChallenge: async (unavailable, granted) => {
          const scopes = SCOPES.filter(
            (scope) => scope === "read" || scope === unavailable.scope || granted.includes(scope),
          );
          await rememberStepUp(env.OAUTH_KV, auth.token, scopes);
          return insufficientScope(auth, scopes, `${unavailable.tool} needs the ${unavailable.scope} scope`);
        },
      },
    );
  },
};

const providers = new Map<string, { provider: OAuthProvider<Env>; options: OAuthProviderOptions<Env> }>();

/** Set while a refresh request is served: whether it presented a refresh token already replaced. */
const refreshInFlight = new AsyncLocalStorage<{ replayed: boolean }>();

/** One provider per configuration (the resource is fixed when it is built). */
export function oauthProvider(
  config: AuthConfig,
  site: { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> },
): OAuthProvider<Env> {
  const key = `${config.resource}\n${config.issuer}`;
  let entry = providers.get(key);
  if (!entry) {
    const options: OAuthProviderOptions<Env> = {
      apiRoute: "/mcp",
      apiHandler: mcpApi,
      defaultHandler: site as ExportedHandler<Env>,
      authorizeEndpoint: "/authorize",
      tokenEndpoint: "/oauth/token",
      clientRegistrationEndpoint: "/oauth/register",
      scopesSupported: [...SCOPES],
      // Published in the protected-resource metadata and the 401 challenge, so clients ask for
      // every scope and the consent page ticks what they asked for (admin only by the person).
      requiredScopes: [...SCOPES],
      resourceMetadata: {
        resource: config.resource,
        authorization_servers: [config.issuer],
        bearer_methods_supported: ["header"],
        resource_name: PRODUCT.title,
      },
      clientIdMetadataDocumentEnabled: true,
      accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTTL: REFRESH_TOKEN_TTL_SECONDS,
      // Someone taken off ALLOWED_USERS gets no new tokens; invalid_grant also revokes the grant.
      // A refresh after a 403 asked for a scope the grant lacks goes back to consent (stepup.ts).
      tokenExchangeCallback: async ({ props, env, grantType, grantId, scope }) => {
        const user = typeof props?.user === "string" ? props.user : "";
        if (!oauthConfig(env).config?.allowedUsers.has(user)) {
          throw new OAuthError("invalid_grant", {
            description: "This user is no longer allowed (ALLOWED_USERS).",
          });
        }
        if (grantType === GrantType.REFRESH_TOKEN)
          await refuseRefreshBelowStepUp(env.OAUTH_KV, grantId, scope);
      },
      onError: ({ internal }) => {
        // The provider's words for "this is neither the grant's current nor its previous refresh
        // token": a replaced token, or a wrong secret. serveOAuth tells the two apart.
        if (internal.category === "refresh-token-grant" && internal.reason === "refresh_token_mismatch") {
          const state = refreshInFlight.getStore();
          if (state) state.replayed = true;
        }
      },
    };
    entry = { provider: new OAuthProvider<Env>(options), options };
    providers.set(key, entry);
  }
  return entry.provider;
}

/** SHA-256 of a token in hex: how workers-oauth-provider names its tokens, and how we remember them. */
async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The refresh tokens a grant was ever given, by hash, newest last (a bounded list). */
const ISSUED_KEY = (userId: string, grantId: string) => `refresh-issued:${userId}:${grantId}`;
const ISSUED_KEPT = 64;

async function rememberIssued(env: Env, response: Response): Promise<void> {
  if (response.status !== 200) return;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { refresh_token?: unknown } | undefined;
  const token = typeof body?.refresh_token === "string" ? body.refresh_token : undefined;
  const [userId, grantId] = token?.split(":") ?? [];
  if (!token || !userId || !grantId) return;
  const key = ISSUED_KEY(userId, grantId);
  const issued = ((await env.OAUTH_KV.get(key, { type: "json" })) as string[] | null) ?? [];
  issued.push(await tokenHash(token));
  await env.OAUTH_KV.put(key, JSON.stringify(issued.slice(-ISSUED_KEPT)), {
    expirationTtl: REFRESH_TOKEN_TTL_SECONDS,
  });
}

/** The client a token request authenticates as: client_id in the form, or HTTP Basic. */
function requestingClient(request: Request, form: FormData | undefined): string | undefined {
  const basic = /^Basic\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (basic) {
    try {
      return decodeURIComponent(atob(basic).split(":")[0] ?? "");
    } catch {
      return undefined;
    }
  }
  const id = form?.get("client_id");
  return typeof id === "string" ? id : undefined;
}

/**
 * A true replay: the token was once a valid refresh token of this grant (we remember every one it
 * was given), and the grant's own client presents it. A wrong secret proves nothing (the grant id
 * is no secret: it is inside every authorization code), and neither does another client.
 */
async function isReplay(
  env: Env,
  request: Request,
  form: FormData | undefined,
  token: string,
): Promise<boolean> {
  const [userId, grantId] = token.split(":") as [string, string];
  const issued =
    ((await env.OAUTH_KV.get(ISSUED_KEY(userId, grantId), { type: "json" })) as string[] | null) ?? [];
  if (!issued.includes(await tokenHash(token))) return false;
  const grant = (await env.OAUTH_KV.get(`grant:${userId}:${grantId}`, { type: "json" })) as {
    clientId?: string;
  } | null;
  return grant?.clientId !== undefined && grant.clientId === requestingClient(request, form);
}

/**
 * Serves a request through the provider, with refresh-token reuse detection (OAuth 2.0 Security
 * BCP, RFC 9700 4.14.2). A refresh rotates the token; the previous one stays valid until the new
 * one is first used, so a client that lost a refresh response can retry. A refresh token that was
 * replaced and whose successor was already used can only come from a copy: when the grant's own
 * client presents it, the whole grant is revoked, so the thief's tokens and the owner's stop
 * working together and the person signs in again.
 */
export async function serveOAuth(
  config: AuthConfig,
  site: { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> },
  request: Request,
  env: Env,
  ctx: ExecutionContext,
): Promise<Response> {
  const provider = oauthProvider(config, site);
  const url = new URL(request.url);
  if (request.method !== "POST" || url.pathname !== "/oauth/token") return provider.fetch(request, env, ctx);
  const form = await request
    .clone()
    .formData()
    .catch(() => undefined);
  const grantType = form?.get("grant_type");
  const token = grantType === "refresh_token" ? form?.get("refresh_token") : null;
  // Tokens are "userId:grantId:secret" (workers-oauth-provider's format).
  const [userId, grantId] = typeof token === "string" ? token.split(":") : [];
  if (typeof token !== "string" || !userId || !grantId) {
    const response = await provider.fetch(request, env, ctx);
    if (grantType === "authorization_code") await rememberIssued(env, response);
    return response;
  }
  const state = { replayed: false };
  const response = await refreshInFlight.run(state, () => provider.fetch(request, env, ctx));
  await rememberIssued(env, response);
  const options = providers.get(`${config.resource}\n${config.issuer}`)?.options;
  if (state.replayed && options && (await isReplay(env, request, form, token))) {
    await getOAuthApi(options, env).revokeGrant(grantId, userId);
    console.warn("a replaced refresh token was presented again by its client; its grant was revoked");
  }
  return response;
}
