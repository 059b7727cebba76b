/**
 * Secrets set with `wrangler secret put` (never in wrangler.toml), so `wrangler types` cannot see
 * them. All optional: the dev environment gets the simulator's token as plain vars, and the
 * Access service token is only needed when Cloudflare Access protects PROXMOX_URL.
 */
interface Env {
  PROXMOX_TOKEN_ID?: string;
  PROXMOX_TOKEN_SECRET?: string;
  CF_ACCESS_CLIENT_ID?: string;
  CF_ACCESS_CLIENT_SECRET?: string;
}
