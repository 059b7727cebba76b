import { env } from "cloudflare:workers";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SessionApi } from "../src/session/session";
import {
  AUD,
  accessEnv,
  accessJwt,
  Browser,
  bearerClientV2,
  codeFrom,
  MCP_URL,
  mcpClient,
  mcpClientV2,
  ORIGIN,
  postMcp,
  rpc,
  type SignedInClient,
  send,
  stubOutboundFetch,
  TestOAuthClient,
  tickedScopes,
} from "./helpers/oauth";
import { sim } from "./helpers/sim";

/**
 * Sign-in with Cloudflare Access in front of /authorize, driven by the MCP SDK's own OAuth
 * support: discovery from the 401, dynamic registration, PKCE, consent with chosen scopes, tokens,
 * tools matching the scopes, calls, refresh.
 */

const e = accessEnv();

beforeAll(() => {
  stubOutboundFetch();
});
afterAll(() => {
  vi.restoreAllMocks();
});

const WRITE_TOOLS = ["start_vm", "create_snapshot", "delete_pool", "stop_task", "update_vm"];
const EXEC_TOOLS = [
  "guest_exec",
  "guest_file_write",
  "guest_set_user_password",
  "guest_fsfreeze",
  "guest_fstrim",
  "guest_power",
];

/** Runs the browser part of sign-in for an SDK client that was just sent to /authorize. */
async function signIn(
  provider: TestOAuthClient,
  options: { user?: string; scopes?: string[]; e?: Env } = {},
): Promise<string> {
  const url = provider.authorizationUrl;
  if (!url) throw new Error("the client was not sent to /authorize");
  provider.authorizationUrl = undefined;
  const browser = new Browser(options.e ?? e);
  const jwt = await accessJwt(options.user ?? "alice@example.com");
  const page = await browser.open(url, { accessJwt: jwt });
  const html = await page.text();
  expect(page.status, html).toBe(200);
  const approved = await browser.consent(html, { scopes: options.scopes, accessJwt: jwt });
  return codeFrom(approved, provider.redirectUri).code;
}

/** A connected client holding a grant with these scopes. */
async function connected(scopes: string[], provider = new TestOAuthClient()) {
  const first = mcpClient(e, provider);
  await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
  await first.transport.finishAuth(await signIn(provider, { scopes }));
  const signedIn = mcpClient(e, provider);
  await signedIn.client.connect(signedIn.transport);
  return { ...signedIn, provider };
}

async function toolNames(client: { listTools(): Promise<{ tools: { name: string }[] }> }) {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

describe("discovery", () => {
  it("/mcp without a token: 401 pointing at the protected-resource metadata", async () => {
    const response = await postMcp(e, rpc("tools/list"));
    expect(response.status).toBe(401);
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`);
    // Every scope, so a client asks for them all and the person unticks what it should not have.
    expect(challenge).toContain('scope="read write exec admin"');
  });

  it("publishes the protected-resource and authorization-server metadata", async () => {
    const resource = await send(e, new Request(`${ORIGIN}/.well-known/oauth-protected-resource/mcp`));
    expect(resource.status).toBe(200);
    expect(await resource.json()).toMatchObject({
      resource: MCP_URL,
      authorization_servers: [ORIGIN],
      scopes_supported: ["read", "write", "exec", "admin"],
    });
    const server = await send(e, new Request(`${ORIGIN}/.well-known/oauth-authorization-server`));
    const metadata = (await server.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/authorize`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      registration_endpoint: `${ORIGIN}/oauth/register`,
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["read", "write", "exec", "admin"],
      client_id_metadata_document_supported: true,
    });
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "refresh_token"]),
    );
  });

  it("/healthz names the provider and the resource", async () => {
    const health = (await (await send(e, new Request(`${ORIGIN}/healthz`))).json()) as Record<
      string,
      unknown
    >;
    expect(health).toMatchObject({
      auth: "oauth (access)",
      resource: MCP_URL,
      allowedUsers: 2,
      readOnly: false,
    });
  });
});

describe("signing in with Cloudflare Access", () => {
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 100 });
  });

  it("read only: the tools that look, and nothing else", async () => {
    const { client, provider, close } = await connected(["read"]);
    const names = await toolNames(client);
    expect(names).toContain("get_vms");
    expect(names).toContain("get_audit_log");
    // What a guest's commands printed and its files hold is exec, not read.
    for (const tool of [...WRITE_TOOLS, ...EXEC_TOOLS, "guest_exec_status", "guest_file_read"])
      expect(names).not.toContain(tool);
    expect(client.getInstructions()).toContain(
      "This connection cannot change the cluster or act inside guests: this connection was not granted the write or exec scope",
    );
    expect(provider.tokens()).toMatchObject({ token_type: "bearer", scope: "read" });
    const vms = await client.callTool({ name: "get_vms", arguments: {} });
    expect(vms.isError ?? false).toBe(false);
    await close();
  });

  it("read and write: changes are made, audited under the user, in the grant's own session", async () => {
    const { client, provider, close } = await connected(["read", "write"]);
    const names = await toolNames(client);
    for (const tool of WRITE_TOOLS) expect(names).toContain(tool);
    for (const tool of EXEC_TOOLS) expect(names).not.toContain(tool);
    const started = await client.callTool({ name: "start_vm", arguments: { vmid: 103 } });
    expect(JSON.stringify(started.content)).toContain("Start VM 103 'win11' on pve1: done");

    const clientId = String(provider.clientInformation()?.client_id);
    const session = env.SESSION.get(
      env.SESSION.idFromName(`alice@example.com:${clientId}`),
    ) as unknown as SessionApi;
    expect((await session.listAudit(1))[0]).toMatchObject({
      tool: "start_vm",
      actor: "alice@example.com",
      outcome: "OK",
    });
    const log = await client.callTool({ name: "get_audit_log", arguments: {} });
    expect(JSON.stringify(log.content)).toMatch(/start_vm VM 103 'win11': OK \(vmid=103 node=pve1\)/);
    await close();
  });

  it("signed in with write, write_api still judges each operation by its effect", async () => {
    const { client, close } = await connected(["read", "write"]);
    await sim.clearRequests();
    const away = await client.callTool({
      name: "write_api",
      arguments: {
        method: "POST",
        path: "/nodes/pve1/qemu/101/remote_migrate",
        params: {
          "target-endpoint": "host=203.0.113.9,apitoken=PVEAPIToken=x@pve!t=s",
          "target-storage": "local",
        },
        confirm: true,
      },
    });
    expect(away.isError).toBe(true);
    expect(JSON.stringify(away.content)).toContain("needs the admin scope");
    const metadata = await client.callTool({
      name: "read_api",
      arguments: { path: "/nodes/pve1/query-url-metadata", params: { url: "http://169.254.169.254/" } },
    });
    expect(metadata.isError).toBe(true);
    expect(JSON.stringify(metadata.content)).toContain("needs the admin scope");
    expect(await sim.requests()).toEqual([]);
    await close();
  });

  it("all three scopes, then a 2026-07-28 client with the same token", async () => {
    const { client, provider, close } = await connected(["read", "write", "exec"]);
    const names = await toolNames(client);
    for (const tool of [...WRITE_TOOLS, ...EXEC_TOOLS]) expect(names).toContain(tool);
    expect(client.getInstructions()).not.toContain("This connection cannot");
    await close();
    const modern = await bearerClientV2(e, String(provider.tokens()?.access_token));
    expect((await modern.listTools()).tools.map((t) => t.name)).toContain("guest_exec");
    await modern.close();
  });

  it("admin alone: write_api is listed (for host and access operations), the guest change tools are not", async () => {
    const { client, provider, close } = await connected(["read", "admin"]);
    expect(provider.tokens()?.scope).toBe("read admin");
    const names = await toolNames(client);
    expect(names).toContain("write_api");
    expect(names).toContain("read_api");
    expect(names).not.toContain("start_vm");
    expect(names).not.toContain("guest_exec");
    await close();
  });

  it("refresh: an expired access token is refused, and the client refreshes it", async () => {
    const { client, provider, close } = await connected(["read"]);
    const before = provider.tokens();
    expect(before?.refresh_token).toBeTruthy();
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 2 * 3600_000 });
    try {
      const expired = await postMcp(e, rpc("tools/list"), {
        authorization: `Bearer ${before?.access_token}`,
      });
      expect(expired.status).toBe(401);
      expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');
      // The SDK sees the 401, refreshes with its refresh token and retries.
      expect(await toolNames(client)).toContain("get_vms");
      const after = provider.tokens();
      expect(after?.access_token).not.toBe(before?.access_token);
      expect(after?.refresh_token).not.toBe(before?.refresh_token);
      expect(after?.scope).toBe("read");
    } finally {
      vi.useRealTimers();
      await close();
    }
  });

  it("a call outside the grant: 403 insufficient_scope naming the scope it needs and those held", async () => {
    const { provider, close } = await connected(["read"]);
    const token = String(provider.tokens()?.access_token);
    const raw = await postMcp(e, rpc("tools/call", { name: "start_vm", arguments: { vmid: 103 } }), {
      authorization: `Bearer ${token}`,
    });
    expect(raw.status).toBe(403);
    const challenge = raw.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="read write"');
    expect(challenge).toContain("start_vm needs the write scope");
    expect(challenge).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`);
    const exec = await postMcp(e, rpc("tools/call", { name: "guest_exec", arguments: {} }), {
      authorization: `Bearer ${token}`,
    });
    expect(exec.headers.get("www-authenticate")).toContain('scope="read exec"');
    expect(await sim.requests()).toEqual([]);
    await close();
  });

  it("step-up with the SDK client: write after one consent, exec later the same way, no sign-out", async () => {
    const provider = new TestOAuthClient();
    // First sign-in: the client asks for every scope; the person leaves only read ticked.
    const first = await connected(["read"], provider);
    expect(provider.tokens()?.scope).toBe("read");
    const firstRefresh = String(provider.tokens()?.refresh_token);

    /** The model calls `tool`; the client is sent to consent, the person presses Allow as the page stands. */
    const stepUp = async (
      current: Pick<SignedInClient, "client" | "transport">,
      tool: string,
      args: Record<string, unknown>,
      asked: string,
    ) => {
      // 403 → the SDK refreshes → the refresh is refused → it starts authorization for the 403's scopes.
      await expect(current.client.callTool({ name: tool, arguments: args })).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
      const url = provider.authorizationUrl;
      expect(url?.searchParams.get("scope")).toBe(asked);
      provider.authorizationUrl = undefined;
      const browser = new Browser(e);
      const jwt = await accessJwt("alice@example.com");
      const html = await (await browser.open(String(url), { accessJwt: jwt })).text();
      const ticked = tickedScopes(html);
      const approved = await browser.consent(html, { scopes: ticked, accessJwt: jwt });
      await current.transport.finishAuth(codeFrom(approved, provider.redirectUri).code);
      const next = mcpClient(e, provider);
      await next.client.connect(next.transport);
      return { ...next, ticked, result: await next.client.callTool({ name: tool, arguments: args }) };
    };

    const withWrite = await stepUp(first, "start_vm", { vmid: 103 }, "read write");
    expect(withWrite.ticked).toEqual(["read", "write"]);
    expect(withWrite.result.isError ?? false).toBe(false);
    expect(JSON.stringify(withWrite.result.content)).toContain("Start VM 103 'win11' on pve1: done");
    expect(provider.tokens()?.scope).toBe("read write");
    await first.close();
    // The refused grant is gone with its refresh token.
    const refused = await send(
      e,
      new Request(`${ORIGIN}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: firstRefresh,
          client_id: String(provider.clientInformation()?.client_id),
        }).toString(),
      }),
    );
    expect(refused.status).toBe(400);

    const withExec = await stepUp(withWrite, "guest_exec", { vmid: 101, command: "id" }, "read write exec");
    // write stays ticked, exec is ticked because it was asked for, admin never in advance.
    expect(withExec.ticked).toEqual(["read", "write", "exec"]);
    expect(withExec.result.isError ?? false).toBe(false);
    expect(provider.tokens()?.scope).toBe("read write exec");
    await withWrite.close();
    await withExec.close();
  });

  it("step-up with the 2.x client (mcp-remote's auth code): write after one consent, no sign-out", async () => {
    const provider = new TestOAuthClient();
    const first = mcpClientV2(e, provider);
    await expect(first.client.connect(first.transport)).rejects.toThrow(/Unauthorized/);
    // The 2.x client checks the issuer the redirect names (RFC 9207).
    await first.transport.finishAuth(await signIn(provider, { scopes: ["read"] }), ORIGIN);
    const reader = mcpClientV2(e, provider);
    await reader.client.connect(reader.transport);
    expect(provider.tokens()?.scope).toBe("read");

    await expect(reader.client.callTool({ name: "start_vm", arguments: { vmid: 103 } })).rejects.toThrow(
      /Unauthorized/,
    );
    const url = provider.authorizationUrl;
    expect(url?.searchParams.get("scope")).toBe("read write");
    provider.authorizationUrl = undefined;
    const browser = new Browser(e);
    const jwt = await accessJwt("alice@example.com");
    const html = await (await browser.open(String(url), { accessJwt: jwt })).text();
    expect(tickedScopes(html)).toEqual(["read", "write"]);
    const approved = await browser.consent(html, { scopes: tickedScopes(html), accessJwt: jwt });
    await reader.transport.finishAuth(codeFrom(approved, provider.redirectUri).code, ORIGIN);
    const writer = mcpClientV2(e, provider);
    await writer.client.connect(writer.transport);
    const started = await writer.client.callTool({ name: "start_vm", arguments: { vmid: 103 } });
    expect(started.isError ?? false).toBe(false);
    expect(provider.tokens()?.scope).toBe("read write");
    await reader.close();
    await writer.close();
  });

  it("the consent page: client name escaped, redirect host, loopback warning, scopes to tick", async () => {
    const provider = new TestOAuthClient("http://127.0.0.1:5555/cb", "Evil <script>alert(1)</script>");
    const first = mcpClient(e, provider);
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const browser = new Browser(e);
    const page = await browser.open(provider.authorizationUrl!, {
      accessJwt: await accessJwt("bob@example.com"),
    });
    const html = await page.text();
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.getSetCookie().join()).toMatch(/__Host-oauth-consent-[^=]+=.*HttpOnly/i);
    expect(html).not.toContain("<script>");
    expect(html).toContain("Evil &#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).toContain("<strong>127.0.0.1</strong>");
    expect(html).toContain("an app on your computer");
    expect(html).toContain("Signed in as <strong>bob@example.com</strong>");
    // The client asked for every scope (the 401 names them all): write and exec come ticked,
    // admin is offered and never ticked in advance.
    expect(provider.authorizationUrl?.searchParams.get("scope")).toBe("read write exec admin");
    expect(html).toMatch(/name="scope" value="write" checked>/);
    expect(html).toMatch(/name="scope" value="exec" checked>/);
    expect(html).toMatch(/name="scope" value="admin">/);
    expect(tickedScopes(html)).toEqual(["read", "write", "exec"]);
    // Deny goes back to the client with access_denied.
    const denied = await browser.consent(html, { decision: "deny" });
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get("location") ?? "");
    expect(location.origin).toBe("http://127.0.0.1:5555");
    expect(location.searchParams.get("error")).toBe("access_denied");
  });

  it("a client ID metadata document instead of registration", async () => {
    const { metadataDocuments } = await import("./helpers/oauth");
    const clientId = "https://client.example.com/oauth/mcp-client.json";
    const redirect = "https://client.example.com/callback";
    metadataDocuments.set(clientId, {
      client_id: clientId,
      client_name: "Example Connector",
      redirect_uris: [redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    });
    const provider = new TestOAuthClient(redirect, "Example Connector", clientId);
    Object.defineProperty(provider, "clientMetadataUrl", { value: clientId });
    const first = mcpClient(e, provider);
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.authorizationUrl?.searchParams.get("client_id")).toBe(clientId);
    const browser = new Browser(e);
    const jwt = await accessJwt("alice@example.com");
    const html = await (await browser.open(provider.authorizationUrl!, { accessJwt: jwt })).text();
    expect(html).toContain("Published by <strong>client.example.com</strong>");
    const { code } = codeFrom(await browser.consent(html, { accessJwt: jwt }), redirect);
    await first.transport.finishAuth(code);
    const signedIn = mcpClient(e, provider);
    await signedIn.client.connect(signedIn.transport);
    expect(await toolNames(signedIn.client)).toContain("get_vms");
    await signedIn.close();
  });
});

describe("refusals", () => {
  async function authorizePage(jwt?: string, environment = e): Promise<Response> {
    const provider = new TestOAuthClient();
    const first = mcpClient(environment, provider);
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    return new Browser(environment).open(provider.authorizationUrl!, jwt ? { accessJwt: jwt } : {});
  }

  it("identities outside ALLOWED_USERS, and everyone when it is empty", async () => {
    const mallory = await authorizePage(await accessJwt("mallory@example.com"));
    expect(mallory.status).toBe(403);
    expect(await mallory.text()).toContain("mallory@example.com may not use this server");
    const nobody = accessEnv({ ALLOWED_USERS: "" });
    const alice = await authorizePage(await accessJwt("alice@example.com"), nobody);
    expect(alice.status).toBe(403);
  });

  it("Access tokens that are missing, forged, expired, for another application, or for a service", async () => {
    expect((await authorizePage()).status).toBe(401);
    const forged = await authorizePage(await accessJwt("alice@example.com", { foreignKey: true }));
    expect(forged.status).toBe(401);
    expect(await forged.text()).toContain("not valid for this application");
    const expired = await authorizePage(await accessJwt("alice@example.com", { expiresIn: "-1m" }));
    expect(await expired.text()).toContain("expired");
    expect((await authorizePage(await accessJwt("alice@example.com", { aud: `${AUD}x` }))).status).toBe(401);
    expect(
      (await authorizePage(await accessJwt("alice@example.com", { iss: "https://evil.example" }))).status,
    ).toBe(401);
    expect((await authorizePage(await accessJwt(undefined))).status).toBe(403);
  });

  it("the approval needs the Access identity too, not just the page", async () => {
    const page = await authorizePage(await accessJwt("alice@example.com"));
    const html = await page.text();
    // No JWT on the POST: refused before the handle is used.
    const response = await new Browser(e).consent(html, { scopes: ["read"] });
    expect(response.status).toBe(401);
  });

  it("forged and replayed consent handles", async () => {
    const provider = new TestOAuthClient();
    const first = mcpClient(e, provider);
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const jwt = await accessJwt("alice@example.com");
    const browser = new Browser(e);
    const html = await (await browser.open(provider.authorizationUrl!, { accessJwt: jwt })).text();

    const forged = await browser.consent(html, { handle: "forged-handle", accessJwt: jwt });
    expect(forged.status).toBe(400);
    // The real handle from another browser (no binding cookie).
    const elsewhere = await new Browser(e).consent(html, { accessJwt: jwt });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain("not started in this browser");

    // Keep the binding cookie, as an attacker replaying a captured request would.
    const replayer = new Browser(e);
    for (const [name, value] of browser.cookies) replayer.cookies.set(name, value);
    const approved = await browser.consent(html, { accessJwt: jwt });
    expect(approved.status).toBe(302);
    const replayed = await replayer.consent(html, { accessJwt: jwt });
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain("expired or was already used");
  });

  it("tokens that are missing, invalid, or issued for another resource", async () => {
    expect((await postMcp(e, rpc("tools/list"), { authorization: "Bearer nonsense" })).status).toBe(401);
    const { provider, close } = await connected(["read"]);
    await close();
    const token = String(provider.tokens()?.access_token);
    const other = accessEnv({ MCP_RESOURCE: "https://other.example.com/mcp" });
    const response = await send(
      other,
      new Request("https://other.example.com/mcp", {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: rpc("tools/list"),
      }),
    );
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("a browser Origin this deployment does not serve: 403, with or without a token", async () => {
    const anonymous = await postMcp(e, rpc("tools/list"), { origin: "https://evil.example" });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toMatch(/origin/i);
    const { provider, close } = await connected(["read"]);
    await close();
    const withToken = await postMcp(e, rpc("tools/list"), {
      origin: "https://evil.example",
      authorization: `Bearer ${provider.tokens()?.access_token}`,
    });
    expect(withToken.status).toBe(403);
    const sameSite = await postMcp(e, rpc("tools/list"), {
      origin: ORIGIN,
      authorization: `Bearer ${provider.tokens()?.access_token}`,
    });
    expect(sameSite.status).toBe(200);
  });

  it("a user removed from ALLOWED_USERS loses access with the token they hold", async () => {
    const { provider, close } = await connected(["read"]);
    await close();
    const shrunk = accessEnv({ ALLOWED_USERS: "bob@example.com" });
    const response = await postMcp(shrunk, rpc("tools/list"), {
      authorization: `Bearer ${provider.tokens()?.access_token}`,
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("alice@example.com is no longer allowed");
    // No new tokens either: the refresh fails and revokes the grant.
    const refresh = () =>
      new Request(`${ORIGIN}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: String(provider.tokens()?.refresh_token),
          client_id: String(provider.clientInformation()?.client_id),
        }).toString(),
      });
    const refused = await send(shrunk, refresh());
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_grant" });
    expect((await send(e, refresh())).status).toBe(400);
  });
});

afterEach(() => {
  vi.useRealTimers();
});
