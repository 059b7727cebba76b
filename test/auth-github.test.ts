import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { s256 } from "../src/auth/github";
import {
  Browser,
  codeFrom,
  GITHUB,
  githubCodes,
  githubEnv,
  githubLog,
  mcpClient,
  ORIGIN,
  stubOutboundFetch,
  TestOAuthClient,
} from "./helpers/oauth";

/**
 * Sign-in with a GitHub OAuth app. GitHub's authorize page is the test itself: it reads where the
 * Worker sent the browser and comes back to /callback with a code; the Worker's calls to GitHub's
 * token and user endpoints are answered by the outbound-fetch stub.
 */

const e = githubEnv();
const answers: string[] = [];

beforeAll(() => {
  stubOutboundFetch();
});
afterAll(() => {
  vi.restoreAllMocks();
});

async function keep(response: Response): Promise<Response> {
  answers.push(`${[...response.headers].join()} ${await response.clone().text()}`);
  return response;
}

/** Up to GitHub: the consent page, then the redirect the Worker sends the browser on. */
async function toGitHub(scopes: string[]) {
  const provider = new TestOAuthClient("https://claude.example/api/mcp/auth_callback", "Claude");
  const first = mcpClient(e, provider);
  await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
  const browser = new Browser(e);
  const page = await keep(await browser.open(provider.authorizationUrl!));
  const html = await page.text();
  expect(page.status).toBe(200);
  const toGitHub = await keep(await browser.consent(html, { scopes }));
  return { provider, first, browser, html, toGitHub };
}

describe("signing in with GitHub", () => {
  it("consent first, then GitHub with PKCE, then back to the client with a grant of the chosen scopes", async () => {
    const { provider, first, browser, html, toGitHub: redirect } = await toGitHub(["read", "exec"]);
    // Consent was asked before anyone was sent to GitHub.
    expect(html).toContain("You sign in with GitHub next");
    expect(redirect.status).toBe(302);
    const github = new URL(redirect.headers.get("location") ?? "");
    expect(`${github.origin}${github.pathname}`).toBe("https://github.com/login/oauth/authorize");
    expect(github.searchParams.get("client_id")).toBe(GITHUB.clientId);
    expect(github.searchParams.get("redirect_uri")).toBe(`${ORIGIN}/callback`);
    expect(github.searchParams.get("code_challenge_method")).toBe("S256");
    const state = github.searchParams.get("state") ?? "";
    expect(browser.cookies.size).toBeGreaterThan(0);

    githubCodes.set("gh-code-1", "octocat");
    const back = await keep(await browser.open(`${ORIGIN}/callback?code=gh-code-1&state=${state}`));
    const { code } = codeFrom(back, provider.redirectUri);
    const exchange = githubLog.token.at(-1);
    expect(await s256(exchange?.get("code_verifier") ?? "")).toBe(github.searchParams.get("code_challenge"));
    expect(exchange?.get("redirect_uri")).toBe(`${ORIGIN}/callback`);

    await first.transport.finishAuth(code);
    const signedIn = mcpClient(e, provider);
    await signedIn.client.connect(signedIn.transport);
    const names = (await signedIn.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("guest_exec");
    expect(names).toContain("get_vms");
    expect(names).not.toContain("start_vm");
    expect(provider.tokens()?.scope).toBe("read exec");
    await signedIn.close();

    // The state works once, and only in the browser that started.
    const replay = await keep(await browser.open(`${ORIGIN}/callback?code=gh-code-1&state=${state}`));
    expect(replay.status).toBe(400);
  });

  it("a GitHub callback in another browser is refused", async () => {
    const { toGitHub: redirect } = await toGitHub(["read"]);
    const state = new URL(redirect.headers.get("location") ?? "").searchParams.get("state");
    githubCodes.set("gh-code-2", "octocat");
    const stranger = await keep(
      await new Browser(e).open(`${ORIGIN}/callback?code=gh-code-2&state=${state}`),
    );
    expect(stranger.status).toBe(400);
    expect(await stranger.text()).toContain("not started in this browser");
  });

  it("a GitHub login outside ALLOWED_USERS is refused", async () => {
    const { browser, toGitHub: redirect } = await toGitHub(["read"]);
    const state = new URL(redirect.headers.get("location") ?? "").searchParams.get("state");
    githubCodes.set("gh-code-3", "mallory");
    const refused = await keep(await browser.open(`${ORIGIN}/callback?code=gh-code-3&state=${state}`));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("mallory may not use this server");
  });

  it("declined at GitHub: the client hears access_denied", async () => {
    const { provider, browser, toGitHub: redirect } = await toGitHub(["read"]);
    const state = new URL(redirect.headers.get("location") ?? "").searchParams.get("state");
    const declined = await keep(await browser.open(`${ORIGIN}/callback?error=access_denied&state=${state}`));
    expect(declined.status).toBe(302);
    const location = new URL(declined.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(provider.redirectUri);
    expect(location.searchParams.get("error")).toBe("access_denied");
  });

  it("a code GitHub does not accept", async () => {
    const { browser, toGitHub: redirect } = await toGitHub(["read"]);
    const state = new URL(redirect.headers.get("location") ?? "").searchParams.get("state");
    const failed = await keep(await browser.open(`${ORIGIN}/callback?code=unknown&state=${state}`));
    expect(failed.status).toBe(502);
    expect(await failed.text()).toContain("The code passed is incorrect or expired");
  });

  it("a forged consent never reaches GitHub", async () => {
    const { html } = await toGitHub(["read"]);
    const before = githubLog.token.length;
    const forged = await keep(await new Browser(e).consent(html, { scopes: ["read", "write", "exec"] }));
    expect(forged.status).toBe(400);
    expect(forged.headers.get("location")).toBeNull();
    expect(githubLog.token.length).toBe(before);
  });

  it("never shows the GitHub client secret or the GitHub token", () => {
    expect(answers.length).toBeGreaterThan(10);
    for (const answer of answers) {
      expect(answer).not.toContain(GITHUB.clientSecret);
      expect(answer).not.toContain("gho_");
    }
  });
});
