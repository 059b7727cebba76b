import {
  AuthorizationError,
  type AuthRequest,
  authorizationErrorRedirect,
  CimdFetchError,
  type OAuthHelpers,
} from "@cloudflare/workers-oauth-provider";
import { Hono } from "hono";
import { isReadOnly, isScope, SCOPES } from "../mcp/surface";
import { accessIdentity } from "./access";
import { type AuthConfig, oauthConfig } from "./config";
import { GitHubError, githubAuthorizeUrl, githubLogin, s256 } from "./github";
import { consentPage, messagePage, pageHeaders } from "./pages";

/**
 * The authorization endpoint. The OAuth provider validates the client's request (client,
 * redirect URI, PKCE, resource); these routes find out who the person is and ask them what this
 * client may do:
 *
 *   access: GET /authorize   Access JWT → allowlist → consent page
 *           POST /authorize  Access JWT again → allowlist → approve the chosen scopes → back to the client
 *   github: GET /authorize   consent page (before anyone is sent to GitHub, so a client that
 *                            registered itself cannot ride an earlier GitHub approval)
 *           POST /authorize  approve → GitHub, with state bound to this browser
 *           GET /callback    GitHub login → allowlist → back to the client
 */

/** What a token carries to /mcp (encrypted in KV; only the token's holder can unwrap it). */
export interface AuthProps extends Record<string, unknown> {
  user: string;
  provider: AuthConfig["provider"];
}

export const authorizeRoutes = new Hono<{ Bindings: Env }>();

function setup(env: Env): { config: AuthConfig; oauth: OAuthHelpers } | Response {
  const { config, problems } = oauthConfig(env);
  if (!config || !env.OAUTH_PROVIDER) {
    return messagePage(503, "Sign-in is not configured", problems.join(" ") || "Sign-in is not configured.");
  }
  return { config, oauth: env.OAUTH_PROVIDER };
}

function notAllowed(user: string, headers?: Headers): Response {
  return messagePage(
    403,
    "Not allowed",
    `${user} may not use this server. The owner can add it to ALLOWED_USERS.`,
    headers,
  );
}

/** The errors a person can act on become a page; a validated request's error goes back to its client. */
function authorizeFailure(error: unknown): Response {
  if (error instanceof AuthorizationError && error.redirectTo) {
    return new Response(null, {
      status: 302,
      headers: { Location: error.redirectTo, "Cache-Control": "no-store" },
    });
  }
  if (error instanceof AuthorizationError) {
    return messagePage(400, "Sign-in could not continue", error.description ?? "The request is not valid.");
  }
  if (error instanceof CimdFetchError) {
    return messagePage(
      400,
      "Sign-in could not continue",
      "This app could not be verified: its metadata document could not be read.",
    );
  }
  if (error instanceof GitHubError) return messagePage(502, "GitHub sign-in failed", error.message);
  throw error;
}

async function complete(
  oauth: OAuthHelpers,
  request: AuthRequest,
  config: AuthConfig,
  user: string,
  headers: Headers,
) {
  const props: AuthProps = { user, provider: config.provider };
  const { redirectTo } = await oauth.completeAuthorization({
    request,
    userId: user,
    metadata: { provider: config.provider },
    scope: request.scope,
    props,
  });
  headers.set("Location", redirectTo);
  return new Response(null, { status: 302, headers });
}

authorizeRoutes.get("/authorize", async (c) => {
  const ready = setup(c.env);
  if (ready instanceof Response) return ready;
  const { config, oauth } = ready;
  try {
    const request = await oauth.parseAuthRequest(c.req.raw);
    let user: string | undefined;
    if (config.access) {
      const identity = await accessIdentity(c.req.raw, config.access);
      if (!identity.ok) return messagePage(identity.status, "Sign-in failed", identity.message);
      if (!config.allowedUsers.has(identity.user)) return notAllowed(identity.user);
      user = identity.user;
    }
    const details = await oauth.describeConsent(request);
    const consent = await oauth.beginConsent(request);
    const page = consentPage({
      details,
      handle: consent.handle,
      user,
      provider: config.provider,
      readOnly: isReadOnly(c.env),
    });
    return new Response(page, { headers: pageHeaders(consent.headers) });
  } catch (error) {
    return authorizeFailure(error);
  }
});

authorizeRoutes.post("/authorize", async (c) => {
  const ready = setup(c.env);
  if (ready instanceof Response) return ready;
  const { config, oauth } = ready;
  try {
    const form = await c.req.formData();
    const handle = String(form.get("handle") ?? "");
    if (form.get("decision") !== "approve") {
      const denied = await oauth.denyConsent(c.req.raw, handle);
      return new Response(null, { status: 302, headers: denied.headers });
    }
    // Access forwards every request with its JWT: who approves is checked again, not remembered.
    let user: string | undefined;
    if (config.access) {
      const identity = await accessIdentity(c.req.raw, config.access);
      if (!identity.ok) return messagePage(identity.status, "Sign-in failed", identity.message);
      if (!config.allowedUsers.has(identity.user)) return notAllowed(identity.user);
      user = identity.user;
    }
    const chosen = new Set(form.getAll("scope").map(String).filter(isScope));
    const readOnly = isReadOnly(c.env);
    const scope = SCOPES.filter((s) => s === "read" || (chosen.has(s) && !readOnly));
    const approved = await oauth.approveConsent(c.req.raw, handle, { scope });
    if (user) return complete(oauth, approved.request, config, user, approved.headers);
    const github = config.github;
    if (!github) throw new Error("no identity provider configured");
    const verifier = `${crypto.randomUUID()}${crypto.randomUUID()}`;
    const { state, headers } = await oauth.beginUpstream(approved.request, {
      data: { verifier },
      headers: approved.headers,
    });
    headers.set(
      "Location",
      githubAuthorizeUrl({
        clientId: github.clientId,
        redirectUri: `${config.issuer}/callback`,
        state,
        codeChallenge: await s256(verifier),
      }),
    );
    return new Response(null, { status: 302, headers });
  } catch (error) {
    return authorizeFailure(error);
  }
});

authorizeRoutes.get("/callback", async (c) => {
  const ready = setup(c.env);
  if (ready instanceof Response) return ready;
  const { config, oauth } = ready;
  const github = config.github;
  if (!github) return messagePage(404, "Not found", "This server does not sign in with GitHub.");
  try {
    const upstream = await oauth.finishUpstream<{ verifier: string }>(c.req.raw);
    const params = new URL(c.req.url).searchParams;
    const code = params.get("code");
    if (params.get("error") || !code) {
      upstream.headers.set("Location", authorizationErrorRedirect(upstream.request, "access_denied"));
      return new Response(null, { status: 302, headers: upstream.headers });
    }
    const user = await githubLogin({
      code,
      clientId: github.clientId,
      clientSecret: github.clientSecret,
      redirectUri: `${config.issuer}/callback`,
      verifier: upstream.data.verifier,
    });
    if (!config.allowedUsers.has(user)) return notAllowed(user, upstream.headers);
    return complete(oauth, upstream.request, config, user, upstream.headers);
  } catch (error) {
    return authorizeFailure(error);
  }
});
