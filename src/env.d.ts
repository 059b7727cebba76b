/**
 * Secrets set with `wrangler secret put` (never in wrangler.toml), so `wrangler types` cannot see
 * them. All optional: the dev environment gets the simulator's token as plain vars, the Access
 * service token is only needed when Cloudflare Access protects PROXMOX_URL, and the GitHub OAuth
 * app only when AUTH_PROVIDER=github.
 */
interface Env {
  PROXMOX_TOKEN_ID?: string;
  PROXMOX_TOKEN_SECRET?: string;
  CF_ACCESS_CLIENT_ID?: string;
  CF_ACCESS_CLIENT_SECRET?: string;
  GITHUB_CLIENT_ID?: string;
  GITHUB_CLIENT_SECRET?: string;
  /** Set by the OAuth provider on the env it passes to its handlers. */
  OAUTH_PROVIDER?: import("@cloudflare/workers-oauth-provider").OAuthHelpers;
}
