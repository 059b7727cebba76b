import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from "@modelcontextprotocol/client";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { expect, vi } from "vitest";
import worker from "../../src/index";

/**
 * A deployment with sign-in on, driven in-process: requests go straight into the Worker's
 * default export with an env the test chooses, and the Worker's outbound fetches (Access's
 * signing keys, GitHub, client metadata documents) are answered by `stubOutboundFetch`.
 */

export const ORIGIN = "https://mcp.example.com";
export const MCP_URL = `${ORIGIN}/mcp`;
/** Each test file gets its own Access team, so jose's key cache in one never sees another's key. */
export const TEAM = `https://team-${crypto.randomUUID().slice(0, 8)}.cloudflareaccess.com`;
export const AUD = "a1b2c3d4e5f6proxmoxmcp";
export const GITHUB = { clientId: "Iv1.testclient", clientSecret: "gh-secret-never-shown" };

export function accessEnv(overrides: Partial<Env> = {}): Env {
  return {
    ...env,
    AUTH_MODE: "",
    AUTH_PROVIDER: "access",
    MCP_RESOURCE: MCP_URL,
    ALLOWED_USERS: "alice@example.com, Bob@Example.com",
    ACCESS_TEAM_DOMAIN: TEAM,
    ACCESS_AUD: AUD,
    ...overrides,
  } as Env;
}

export function githubEnv(overrides: Partial<Env> = {}): Env {
  return accessEnv({
    AUTH_PROVIDER: "github",
    ALLOWED_USERS: "octocat",
    GITHUB_CLIENT_ID: GITHUB.clientId,
    GITHUB_CLIENT_SECRET: GITHUB.clientSecret,
    ...overrides,
  });
}

/** The Worker's fetch handler, for requests built in the test. */
export const handle = worker.fetch as (request: Request, e: Env, ctx: ExecutionContext) => Promise<Response>;

/** Sends one request into the Worker with this env, as the network would (Host set). */
export async function send(e: Env, request: Request): Promise<Response> {
  if (!request.headers.has("host")) {
    const headers = new Headers(request.headers);
    headers.set("host", new URL(request.url).host);
    request = new Request(request, { headers });
  }
  const ctx = createExecutionContext();
  const response = await handle(request, e, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function fetchVia(e: Env): typeof fetch {
  return async (input, init) => send(e, new Request(input as RequestInfo, init));
}

// ---- Cloudflare Access: a signing key the test owns, and the JWKS it serves ----

const keys = await generateKeyPair("RS256", { extractable: true });
const jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
const strangerKeys = await generateKeyPair("RS256");

export async function accessJwt(
  email: string | undefined,
  options: { aud?: string; iss?: string; expiresIn?: string; foreignKey?: boolean } = {},
): Promise<string> {
  return new SignJWT(email === undefined ? { common_name: "service" } : { email })
    .setProtectedHeader({ alg: "RS256", kid: "test-key" })
    .setIssuer(options.iss ?? TEAM)
    .setAudience(options.aud ?? AUD)
    .setSubject(crypto.randomUUID())
    .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
    .setExpirationTime(options.expiresIn ?? "10m")
    .sign(options.foreignKey ? strangerKeys.privateKey : keys.privateKey);
}

// ---- GitHub and client metadata documents ----

export const githubLog: { token: URLSearchParams[]; user: string[] } = { token: [], user: [] };
/** What GitHub says each code belongs to. */
export const githubCodes = new Map<string, string>();
export const metadataDocuments = new Map<string, Record<string, unknown>>();

/** Answers the Worker's outbound fetches; anything unexpected fails the test loudly. */
export function stubOutboundFetch(): void {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    if (url.href === `${TEAM}/cdn-cgi/access/certs`) return Response.json({ keys: [jwk] });
    if (url.href === "https://github.com/login/oauth/access_token") {
      // Read as bytes: workerd warns when .text() reads a form-encoded body.
      const form = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()));
      githubLog.token.push(form);
      const login = githubCodes.get(form.get("code") ?? "");
      const valid =
        login &&
        form.get("client_id") === GITHUB.clientId &&
        form.get("client_secret") === GITHUB.clientSecret &&
        (form.get("code_verifier") ?? "").length >= 43;
      return valid
        ? Response.json({ access_token: `gho_${login}`, token_type: "bearer", scope: "" })
        : Response.json({
            error: "bad_verification_code",
            error_description: "The code passed is incorrect or expired.",
          });
    }
    if (url.href === "https://api.github.com/user") {
      const auth = request.headers.get("authorization") ?? "";
      githubLog.user.push(auth);
      const login = auth.startsWith("Bearer gho_") ? auth.slice("Bearer gho_".length) : "";
      return login
        ? Response.json({ login: login === "octocat" ? "OctoCat" : login, id: 583231 })
        : Response.json({ message: "Bad credentials" }, { status: 401 });
    }
    const document = metadataDocuments.get(url.href);
    if (document) return Response.json(document, { headers: { "Cache-Control": "no-store" } });
    throw new Error(`unexpected outbound fetch in a test: ${request.method} ${url.href}`);
  });
}

// ---- A browser: cookies, the consent form ----

export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly e: Env) {}

  async open(url: string | URL, init: RequestInit & { accessJwt?: string } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    if (init.accessJwt) headers.set("cf-access-jwt-assertion", init.accessJwt);
    const response = await send(this.e, new Request(url, { ...init, headers, redirect: "manual" }));
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const [name = "", value = ""] = pair.trim().split("=");
      if (attributes.some((a) => /max-age=0\b/i.test(a.trim()))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Submits the consent form shown by `page` (already read) with these scopes. */
  async consent(
    page: string,
    options: { scopes?: string[]; decision?: "approve" | "deny"; accessJwt?: string; handle?: string } = {},
  ): Promise<Response> {
    const handle = options.handle ?? consentHandle(page);
    const form = new URLSearchParams({ handle, decision: options.decision ?? "approve" });
    for (const scope of options.scopes ?? ["read"]) form.append("scope", scope);
    return this.open(`${ORIGIN}/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      accessJwt: options.accessJwt,
    });
  }
}

export function consentHandle(page: string): string {
  const match = /name="handle" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error(`no consent form in: ${page.slice(0, 300)}`);
  return match[1];
}

/** The code a redirect back to the client carries, after checking it went where it should. */
export function codeFrom(response: Response, redirectUri: string): { code: string; state: string | null } {
  expect(response.status, response.headers.get("location") ?? "").toBe(302);
  const location = new URL(response.headers.get("location") ?? "");
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  expect(location.searchParams.get("iss")).toBe(ORIGIN);
  const code = location.searchParams.get("code");
  if (!code) throw new Error(`no code in ${location}`);
  return { code, state: location.searchParams.get("state") };
}

// ---- An MCP client with OAuth support (SDK v1, as most hosts embed) ----

export class TestOAuthClient implements OAuthClientProvider {
  authorizationUrl?: URL;
  #client?: OAuthClientInformationMixed;
  #tokens?: OAuthTokens;
  #verifier = "";

  constructor(
    readonly redirectUri = "http://localhost:33418/callback",
    readonly name = "Claude <Test>",
    readonly clientMetadataUrl?: string,
  ) {}

  get redirectUrl(): string {
    return this.redirectUri;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.#client = info;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  forgetTokens() {
    this.#tokens = undefined;
  }
  /** What standard clients do when the server refuses their refresh (invalid_grant): drop and ask again. */
  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery") {
    if (scope === "all" || scope === "tokens") this.#tokens = undefined;
    if (scope === "all" || scope === "client") this.#client = undefined;
    if (scope === "all" || scope === "verifier") this.#verifier = "";
  }
}

/** The scopes a consent page has ticked, as a person who only presses Allow would send them. */
export function tickedScopes(page: string): string[] {
  const ticked = [...page.matchAll(/<input type="checkbox" name="scope" value="(\w+)" checked>/g)].map(
    (m) => m[1] ?? "",
  );
  return page.includes('<input type="hidden" name="scope" value="read">') ? ["read", ...ticked] : ticked;
}

export interface SignedInClient {
  client: ClientV1;
  transport: TransportV1;
  close(): Promise<void>;
}

/** An MCP client for this deployment that signs in through `provider` when the server asks. */
export function mcpClient(e: Env, provider: TestOAuthClient): SignedInClient {
  const client = new ClientV1({ name: "test-oauth", version: "1.0.0" });
  const transport = new TransportV1(new URL(MCP_URL), { authProvider: provider, fetch: fetchVia(e) });
  return { client, transport, close: () => client.close() };
}

/**
 * The same with the 2.x client (whose auth code mcp-remote 0.15 bundles): it goes straight back to
 * authorization when a 403 asks for more than its token holds.
 */
export function mcpClientV2(e: Env, provider: TestOAuthClient) {
  const client = new ClientV2({ name: "test-oauth-v2", version: "1.0.0" });
  const transport = new TransportV2(new URL(MCP_URL), {
    // The 2.x provider interface is the 1.x one plus optional members; its types are its own.
    authProvider: provider as never,
    fetch: fetchVia(e),
  });
  return { client, transport, close: () => client.close() };
}

/** A 2026-07-28 client that presents a bearer token it already has. */
export async function bearerClientV2(e: Env, token: string): Promise<ClientV2> {
  const client = new ClientV2(
    { name: "test-v2", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  await client.connect(
    new TransportV2(new URL(MCP_URL), {
      fetch: fetchVia(e),
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** The JSON-RPC body of an MCP request, for raw HTTP checks. */
export function rpc(method: string, params: Record<string, unknown> = {}, id = 1): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method, params });
}

export function postMcp(e: Env, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return send(
    e,
    new Request(MCP_URL, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        ...headers,
      },
      body,
    }),
  );
}
