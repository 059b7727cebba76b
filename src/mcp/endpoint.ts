import { AsyncLocalStorage } from "node:async_hooks";
import {
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  type McpServer,
  originValidationResponse,
} from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { createServer, type Grant, toolDeps } from "./server";
import { explainUnavailable, type Unavailable } from "./surface";

/**
 * /mcp for one request: an McpServer built for the request's grant (only the tools its surface
 * allows), served by the stateless handler from `agents` (2025-era and 2026-07-28 clients).
 * A call to a tool left out of the surface is answered here, before the SDK would say only
 * "Tool X not found".
 */

/**
 * Host and Origin validation: localhost, *.workers.dev (the handler's defaults), the host of
 * MCP_RESOURCE and the hostnames in MCP_HOSTNAMES (comma-separated, e.g. a second custom domain).
 */
function configuredHostnames(env: Env): string[] {
  const hostnames = (env.MCP_HOSTNAMES ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  try {
    if (env.MCP_RESOURCE) hostnames.push(new URL(env.MCP_RESOURCE).hostname.toLowerCase());
  } catch {
    // an invalid MCP_RESOURCE is reported by /healthz; it adds no hostname
  }
  return [...new Set(hostnames)];
}

/** A 403 for a request whose Host or browser Origin this deployment does not serve (DNS rebinding, CSRF). */
export function rejectHostOrOrigin(request: Request, env: Env): Response | undefined {
  const url = new URL(request.url);
  const configured = configuredHostnames(env);
  const local = localhostAllowedHostnames().includes(url.hostname);
  const workersDev = url.hostname.endsWith(".workers.dev");
  const hostnames =
    configured.length > 0
      ? [...localhostAllowedHostnames(), ...configured]
      : local
        ? localhostAllowedHostnames()
        : workersDev
          ? [url.hostname]
          : undefined;
  const host = hostnames ? hostHeaderValidationResponse(request, hostnames) : undefined;
  if (host) return host;
  const origins = [...localhostAllowedOrigins(), ...configured, ...(workersDev ? [url.hostname] : [])];
  return originValidationResponse(request, origins);
}

/** The server built for the request being served; the handler's factory hands it over. */
const currentServer = new AsyncLocalStorage<McpServer>();

// Host and Origin are checked by rejectHostOrOrigin before anything else runs.
const handler = createMcpHandler(
  () => {
    const server = currentServer.getStore();
    if (!server) throw new Error("no MCP server was built for this request");
    return server;
  },
  { route: "/mcp", allowedOriginHostnames: "*" },
);

export interface ServeOptions {
  /**
   * The answer to a call that needs a scope the grant lacks, when the client can ask for it (an
   * OAuth scope challenge). Without it, such a call gets a JSON-RPC error naming the scope.
   */
  scopeChallenge?: (unavailable: Unavailable, granted: readonly string[]) => Response;
}

export async function serveMcp(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  grant: Grant,
  options: ServeOptions = {},
): Promise<Response> {
  // The Worker entry checks this before sign-in; checked here too so no caller can skip it.
  const rejected = rejectHostOrOrigin(request, env);
  if (rejected) return rejected;
  const deps = toolDeps(env, grant);
  const server = createServer(deps, env);
  const refused = await callOutsideSurface(request, deps.surface.left);
  if (refused) {
    await server.close().catch(() => undefined);
    const { id, unavailable } = refused;
    if (unavailable.reason === "grant" && options.scopeChallenge) {
      return options.scopeChallenge(unavailable, [...deps.surface.granted]);
    }
    return Response.json({
      jsonrpc: "2.0",
      id,
      error: { code: -32602, message: explainUnavailable(unavailable), data: { scope: unavailable.scope } },
    });
  }
  return currentServer.run(server, () => handler(request, env, ctx));
}

/** The first tools/call in the request body that names a tool this request's surface left out. */
async function callOutsideSurface(
  request: Request,
  left: ReadonlyMap<string, Unavailable>,
): Promise<{ id: string | number | null; unavailable: Unavailable } | undefined> {
  if (request.method !== "POST" || left.size === 0) return undefined;
  let body: unknown;
  try {
    body = await request.clone().json();
  } catch {
    return undefined; // the SDK answers malformed bodies
  }
  for (const message of Array.isArray(body) ? body : [body]) {
    if (!message || typeof message !== "object") continue;
    const { method, params, id } = message as { method?: unknown; params?: { name?: unknown }; id?: unknown };
    if (method !== "tools/call" || typeof params?.name !== "string") continue;
    const unavailable = left.get(params.name);
    if (unavailable) {
      return { id: typeof id === "string" || typeof id === "number" ? id : null, unavailable };
    }
  }
  return undefined;
}
