/**
 * How this deployment signs people in, read from its configuration. Sign-in is off only for a
 * request addressed to localhost when AUTH_MODE=none (wrangler dev, the tests); anywhere else
 * /mcp needs a token from the OAuth provider, and when sign-in is not fully configured the
 * Worker refuses /mcp rather than serve it open (fail closed).
 */

export type AuthProviderName = "access" | "github";

export interface AuthConfig {
  provider: AuthProviderName;
  /** MCP_RESOURCE: the exact URL clients connect to; every token is bound to it. */
  resource: string;
  /** The authorization server: the resource's origin. */
  issuer: string;
  /** Lowercased emails or GitHub logins; empty refuses everyone. */
  allowedUsers: ReadonlySet<string>;
  access?: { teamDomain: string; audience: string };
  github?: { clientId: string; clientSecret: string };
}

export type AuthMode =
  | { kind: "local" }
  | { kind: "oauth"; config: AuthConfig }
  | { kind: "refused"; problems: string[] };

export interface AuthEnv {
  AUTH_MODE?: string;
  AUTH_PROVIDER?: string;
  MCP_RESOURCE?: string;
  ALLOWED_USERS?: string;
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  GITHUB_CLIENT_ID?: string;
  GITHUB_CLIENT_SECRET?: string;
  OAUTH_KV?: unknown;
}

const LOCAL_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLocalRequest(request: Request): boolean {
  return LOCAL_HOSTNAMES.has(new URL(request.url).hostname);
}

export function authMode(env: AuthEnv, request: Request): AuthMode {
  if ((env.AUTH_MODE ?? "").trim().toLowerCase() === "none" && isLocalRequest(request)) {
    return { kind: "local" };
  }
  const { config, problems } = oauthConfig(env);
  return config ? { kind: "oauth", config } : { kind: "refused", problems };
}

export function allowedUsersOf(env: AuthEnv): Set<string> {
  return new Set(
    (env.ALLOWED_USERS ?? "")
      .split(/[\s,]+/)
      .map((user) => user.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** A canonical https URL (http only on a loopback host), or undefined. */
function httpsUrl(value: string | undefined): URL | undefined {
  try {
    const url = new URL((value ?? "").trim());
    if (url.protocol === "https:" || (url.protocol === "http:" && LOCAL_HOSTNAMES.has(url.hostname))) {
      return url;
    }
  } catch {
    // not a URL
  }
  return undefined;
}

/** The sign-in configuration, or what is missing from it. */
export function oauthConfig(env: AuthEnv): { config?: AuthConfig; problems: string[] } {
  const problems: string[] = [];
  const provider = (env.AUTH_PROVIDER ?? "").trim().toLowerCase();
  if (provider !== "access" && provider !== "github") {
    problems.push(
      provider
        ? `AUTH_PROVIDER is '${provider}'; it must be access or github.`
        : "AUTH_PROVIDER is not set (access or github).",
    );
  }
  const resource = httpsUrl(env.MCP_RESOURCE);
  if (!(resource?.pathname === "/mcp" && !resource.search && !resource.hash)) {
    problems.push("MCP_RESOURCE must be the https URL clients connect to, ending in /mcp.");
  }
  if (!env.OAUTH_KV) problems.push("The OAUTH_KV namespace is not bound.");
  let access: AuthConfig["access"];
  let github: AuthConfig["github"];
  if (provider === "access") {
    const team = httpsUrl(env.ACCESS_TEAM_DOMAIN);
    if (!team) problems.push("ACCESS_TEAM_DOMAIN must be your https://<team>.cloudflareaccess.com URL.");
    const audience = (env.ACCESS_AUD ?? "").trim();
    if (!audience) problems.push("ACCESS_AUD (the Access application's audience tag) is not set.");
    if (team && audience) access = { teamDomain: team.origin, audience };
  }
  if (provider === "github") {
    const clientId = (env.GITHUB_CLIENT_ID ?? "").trim();
    const clientSecret = (env.GITHUB_CLIENT_SECRET ?? "").trim();
    if (!clientId || !clientSecret) {
      problems.push("The GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET secrets are not both set.");
    }
    if (clientId && clientSecret) github = { clientId, clientSecret };
  }
  if (problems.length > 0 || !resource) return { problems };
  return {
    config: {
      provider: provider as AuthProviderName,
      resource: `${resource.origin}${resource.pathname}`,
      issuer: resource.origin,
      allowedUsers: allowedUsersOf(env),
      access,
      github,
    },
    problems,
  };
}
