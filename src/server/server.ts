import { McpServer } from "@modelcontextprotocol/server";
import { policyFromEnv } from "../mcp/policy";
import { SCOPES, type Surface, surfaceFor } from "../mcp/surface";
import type { ToolDeps } from "../mcp/tool";
import { clientFromEnv } from "../proxmox/client";
import { hostOptionsAllowed } from "../proxmox/host-options";
import { GuestLocator } from "../proxmox/locate";
import type { SessionApi } from "../session/session";
import { registerAllTools } from "../tools/index";
import { PRODUCT } from "../version";

const INSTRUCTIONS =
  "Tools for one Proxmox VE cluster. Guests are identified by vmid; node is optional wherever a vmid is given " +
  "(the server finds it). Tools that change things wait for their task (wait_seconds) and refuse destructive " +
  "actions without confirm: true, answering with what would happen. " +
  "Start with get_cluster_status or get_cluster_resources for an overview.";

const API_HINT =
  " For anything the other tools do not cover (firewall, HA, networks, users and tokens, storage configuration, " +
  "updates, ...) find the operation with search_api, then call read_api or write_api.";

/** Tells the model up front what this connection cannot do, so it can say why instead of guessing. */
function instructionsFor(surface: Surface): string {
  const base = !surface.toolsets || surface.toolsets.has("api") ? INSTRUCTIONS + API_HINT : INSTRUCTIONS;
  const missing = (["write", "exec"] as const).filter((scope) => !surface.scopes.has(scope));
  if (missing.length === 0) return base;
  const why = surface.readOnly
    ? "this server is read-only"
    : `this connection was not granted the ${missing.join(" or ")} scope; the user can sign in again and allow it`;
  const what = missing
    .map((scope) => (scope === "write" ? "change the cluster" : "act inside guests"))
    .join(" or ");
  return `${base} This connection cannot ${what}: ${why}.`;
}

/** With sign-in off (localhost in development) every request belongs to the one local session. */
export const LOCAL_SESSION = "local";

/** Who a request acts for: one signed-in user on one client, with the scopes of that grant. */
export interface Grant {
  user: string;
  clientId: string;
  scopes: readonly string[];
  /** The user's other clients (other grants), whose Sessions get_audit_log may read. */
  otherClients?: () => Promise<string[]>;
}

export const LOCAL_GRANT: Grant = { user: LOCAL_SESSION, clientId: LOCAL_SESSION, scopes: SCOPES };

/** One Session Durable Object per grant: the user on one client ("local" while sign-in is off). */
export function sessionNameOf(grant: { user: string; clientId: string }): string {
  return grant.user === LOCAL_SESSION && grant.clientId === LOCAL_SESSION
    ? LOCAL_SESSION
    : `${grant.user}:${grant.clientId}`;
}

function sessionStub(env: Env, name: string): SessionApi {
  // The stub's RPC methods are the SessionApi; its generated stub type cannot express `unknown` args.
  return env.SESSION.get(env.SESSION.idFromName(name)) as unknown as SessionApi;
}

export function toolDeps(env: Env, grant: Grant = LOCAL_GRANT): ToolDeps {
  const client = clientFromEnv(env);
  let session: SessionApi | undefined;
  return {
    client,
    upstream: env,
    locator: new GuestLocator(client, client.upstreamLabel + (env.PROXMOX_URL ?? "")),
    secrets: [env.PROXMOX_TOKEN_SECRET, env.CF_ACCESS_CLIENT_SECRET, env.GITHUB_CLIENT_SECRET],
    // Most read tools never touch the Session; its stub is made on first use.
    get session() {
      session ??= sessionStub(env, sessionNameOf(grant));
      return session;
    },
    actor: grant.user,
    policy: policyFromEnv(env),
    allowHostOptions: hostOptionsAllowed(env),
    surface: surfaceFor(env, grant.scopes),
    otherSessions: async () => {
      const clients = (await grant.otherClients?.()) ?? [];
      return clients
        .filter((clientId) => clientId !== grant.clientId)
        .map((clientId) => {
          const name = sessionNameOf({ user: grant.user, clientId });
          return { name, session: sessionStub(env, name) };
        });
    },
  };
}

/**
 * One McpServer per request (the transport is stateless). Tool definitions are built once per
 * isolate, so registering them binds handlers only; a request that only calls tools registers
 * just those (deps.surface.only).
 */
export function createServer(deps: ToolDeps): McpServer {
  const server = new McpServer(
    { name: PRODUCT.name, title: PRODUCT.title, version: PRODUCT.version },
    { instructions: instructionsFor(deps.surface) },
  );
  registerAllTools(server, deps);
  return server;
}
