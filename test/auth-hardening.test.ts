import { exports } from "cloudflare:workers";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  accessEnv,
  accessJwt,
  Browser,
  codeFrom,
  mcpClient,
  ORIGIN,
  postMcp,
  rpc,
  send,
  stubOutboundFetch,
  TestOAuthClient,
} from "./helpers/oauth";

/**
 * Smaller sign-in defences: the consent page caps the name a client gives itself, a browser
 * Origin on localhost is accepted only by a server that is itself on localhost, and a refresh
 * token presented again by its own client after it was replaced revokes the whole grant; a wrong
 * secret or another client's attempt does not.
 */

const e = accessEnv();

beforeAll(() => {
  stubOutboundFetch();
});
afterAll(() => {
  vi.restoreAllMocks();
});

/** Sends the SDK client to /authorize and returns the consent page it gets. */
async function consentPageFor(
  provider: TestOAuthClient,
): Promise<{ browser: Browser; html: string; jwt: string }> {
  const first = mcpClient(e, provider);
  await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
  const url = provider.authorizationUrl;
  if (!url) throw new Error("the client was not sent to /authorize");
  provider.authorizationUrl = undefined;
  const browser = new Browser(e);
  const jwt = await accessJwt("alice@example.com");
  const page = await browser.open(url, { accessJwt: jwt });
  const html = await page.text();
  expect(page.status, html.slice(0, 300)).toBe(200);
  return { browser, html, jwt };
}

async function signedIn(provider = new TestOAuthClient()) {
  const { browser, html, jwt } = await consentPageFor(provider);
  const approved = await browser.consent(html, { scopes: ["read"], accessJwt: jwt });
  const client = mcpClient(e, provider);
  await client.transport.finishAuth(codeFrom(approved, provider.redirectUri).code);
  await client.client.connect(client.transport);
  await client.close();
  return provider;
}

function refresh(provider: TestOAuthClient, refreshToken: string): Promise<Response> {
  return send(
    e,
    new Request(`${ORIGIN}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken,
        client_id: String(provider.clientInformation()?.client_id),
      }).toString(),
    }),
  );
}

async function tokensFrom(response: Response): Promise<{ access_token: string; refresh_token: string }> {
  const body = await response.text();
  expect(response.status, body).toBe(200);
  return JSON.parse(body);
}

describe("the consent page", () => {
  it("shows at most 80 characters of the name a client registered", async () => {
    const { html } = await consentPageFor(new TestOAuthClient(undefined, "Claude".padEnd(100_000, "x")));
    expect(html.length).toBeLessThan(10_000);
    expect(html).toContain(`<h1>Allow ${"Claude".padEnd(79, "x")}… to use`);
  });
});

describe("browser Origin on localhost", () => {
  it("is refused by a server on a public hostname, even with a valid token", async () => {
    const provider = await signedIn();
    const token = String(provider.tokens()?.access_token);
    const local = await postMcp(e, rpc("tools/list"), {
      origin: "http://localhost:5173",
      authorization: `Bearer ${token}`,
    });
    expect(local.status).toBe(403);
    expect(await local.text()).toMatch(/origin/i);
    const own = await postMcp(e, rpc("tools/list"), { origin: ORIGIN, authorization: `Bearer ${token}` });
    expect(own.status).toBe(200);
  });

  it("is accepted by a server on localhost (a local inspector talking to npm run dev)", async () => {
    const response = await exports.default.fetch(
      new Request("http://localhost:8787/mcp", {
        method: "POST",
        headers: {
          Host: "localhost:8787",
          Origin: "http://localhost:6274",
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "MCP-Protocol-Version": "2025-11-25",
        },
        body: rpc("tools/list"),
      }),
    );
    expect(response.status).toBe(200);
  });
});

describe("refresh tokens", () => {
  it("the previous token stays good until its successor is used; presented after that, the grant is revoked", async () => {
    const provider = await signedIn();
    const first = String(provider.tokens()?.refresh_token);
    const second = await tokensFrom(await refresh(provider, first));
    // A client that lost the answer may retry with the token it sent.
    const retried = await tokensFrom(await refresh(provider, first));
    const third = await tokensFrom(await refresh(provider, retried.refresh_token));
    expect(third.refresh_token).not.toBe(retried.refresh_token);
    // `first` has now been replaced twice: only a copy can present it.
    const replay = await refresh(provider, first);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
    // Every token of the grant stopped working, the thief's and the owner's.
    expect((await refresh(provider, third.refresh_token)).status).toBe(400);
    expect((await refresh(provider, second.refresh_token)).status).toBe(400);
    const call = await postMcp(e, rpc("tools/list"), { authorization: `Bearer ${third.access_token}` });
    expect(call.status).toBe(401);
  });

  it("a wrong secret, or a replaced token from another client, signs nobody out: the grant id is no secret", async () => {
    const provider = await signedIn();
    const first = String(provider.tokens()?.refresh_token);
    const [user, grant] = first.split(":");
    expect((await refresh(provider, `${user}:${grant}:not-a-token`)).status).toBe(400);
    const second = await tokensFrom(await refresh(provider, first));
    const third = await tokensFrom(await refresh(provider, second.refresh_token));
    // `first` was a token of this grant once, but another registered client presents it.
    const stranger = await signedIn();
    expect((await refresh(stranger, first)).status).toBe(400);
    const fourth = await tokensFrom(await refresh(provider, third.refresh_token));
    const call = await postMcp(e, rpc("tools/list"), { authorization: `Bearer ${fourth.access_token}` });
    expect(call.status).toBe(200);
  });

  it("a refresh token of another grant, or a malformed one, leaves this grant alone", async () => {
    const provider = await signedIn();
    const current = String(provider.tokens()?.refresh_token);
    expect((await refresh(provider, "nobody:nogrant:nothing")).status).toBe(400);
    expect((await refresh(provider, "garbage")).status).toBe(400);
    const fresh = await tokensFrom(await refresh(provider, current));
    const call = await postMcp(e, rpc("tools/list"), { authorization: `Bearer ${fresh.access_token}` });
    expect(call.status).toBe(200);
  });
});
