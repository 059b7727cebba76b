/**
 * Identity from GitHub: a GitHub OAuth app whose callback is this Worker's /callback. The Worker
 * exchanges the code (with PKCE) for a GitHub token, asks GitHub who it belongs to, and keeps only
 * the login: the GitHub token is not stored and never used for anything else.
 */

export const GITHUB_AUTHORIZE_URL = "https://github.com/login/oauth/authorize";
export const GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token";
export const GITHUB_USER_URL = "https://api.github.com/user";

export function githubAuthorizeUrl(options: {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
}): string {
  const url = new URL(GITHUB_AUTHORIZE_URL);
  url.searchParams.set("client_id", options.clientId);
  url.searchParams.set("redirect_uri", options.redirectUri);
  url.searchParams.set("state", options.state);
  // No scope: the public profile (the login) is all this server needs.
  url.searchParams.set("code_challenge", options.codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("allow_signup", "false");
  return url.toString();
}

export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export class GitHubError extends Error {
  override name = "GitHubError";
}

/** The GitHub login behind an authorization code, lowercased. */
export async function githubLogin(options: {
  code: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  verifier: string;
}): Promise<string> {
  const tokenResponse = await fetch(GITHUB_TOKEN_URL, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: options.clientId,
      client_secret: options.clientSecret,
      code: options.code,
      redirect_uri: options.redirectUri,
      code_verifier: options.verifier,
    }),
  });
  const token = (await tokenResponse.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!tokenResponse.ok || !token.access_token) {
    throw new GitHubError(
      `GitHub did not accept the sign-in (${token.error_description ?? token.error ?? `HTTP ${tokenResponse.status}`}).`,
    );
  }
  const userResponse = await fetch(GITHUB_USER_URL, {
    headers: {
      Accept: "application/vnd.github+json",
      Authorization: `Bearer ${token.access_token}`,
      "User-Agent": "proxmox-mcp",
    },
  });
  const user = (await userResponse.json().catch(() => ({}))) as { login?: unknown };
  if (!userResponse.ok || typeof user.login !== "string" || !user.login) {
    throw new GitHubError(`GitHub did not say who signed in (HTTP ${userResponse.status}).`);
  }
  return user.login.toLowerCase();
}
