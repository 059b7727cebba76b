import { AsyncLocalStorage } from "node:async_hooks";
import {
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  type McpServer,
  originValidationResponse,
} from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { explainUnavailable, TOOL_NAMES, type Unavailable } from "../mcp/surface";
import { createServer, type Grant, toolDeps } from "./server";

/**
 * /mcp for one request: an McpServer built for the request's grant (only the tools its surface
 * allows), served by the stateless handler from `agents` (2025-era and 2026-07-28 clients).
 * A call to a tool left out of the surface is answered here, before the SDK would say only
 * "Tool X not found".
 */

let hostnamesCache: { key: string; hostnames: string[] } | undefined;

/**
 * Host and Origin validation: localhost, *.workers.dev (the handler's defaults), the host of
 * MCP_RESOURCE and the hostnames in MCP_HOSTNAMES (comma-separated, e.g. a second custom domain).
 */
function configuredHostnames(env: Env): string[] {
  // Read on every /mcp request; the settings only change with a deploy.
  const key = `${env.MCP_HOSTNAMES ?? ""}\n${env.MCP_RESOURCE ?? ""}`;
  if (hostnamesCache?.key === key) return hostnamesCache.hostnames;
  const hostnames = parseHostnames(env);
  hostnamesCache = { key, hostnames };
  return hostnames;
}

function parseHostnames(env: Env): string[] {
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
  // A browser page on localhost may only talk to a server that is itself on localhost: on a
  // public hostname, "http://localhost:*" is any local program acting through the user's browser.
  const hostHeader = (request.headers.get("host") ?? url.host).toLowerCase();
  const hostIsLocal = localhostAllowedHostnames().includes(hostHeader.replace(/:\d+$/, ""));
  const origins = [
    ...(hostIsLocal ? localhostAllowedOrigins() : []),
    ...configured,
    ...(workersDev ? [url.hostname] : []),
  ];
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

/** Protocol versions from which JSON-RPC batches are no longer part of MCP (dropped in 2025-06-18). */
const FIRST_VERSION_WITHOUT_BATCHES = "2025-06-18";
/** The most messages one POST may carry, for the older protocol versions that still batch. */
export const MAX_BATCH_MESSAGES = 20;

export interface ServeOptions {
  /**
   * Admits the request's messages before anything runs: the per-user rate limit counts each
   * JSON-RPC message, so a batch of 100 calls costs 100, not 1. A Response refuses the request.
   */
  admit?: (messages: number) => Promise<Response | undefined>;
  /**
   * The answer to a call that needs a scope the grant lacks, when the client can ask for it (an
   * OAuth scope challenge). Without it, such a call gets a JSON-RPC error naming the scope.
   */
  scopeChallenge?: (unavailable: Unavailable, granted: readonly string[]) => Response | Promise<Response>;
}

export async function serveMcp(
  request: Request,
  env: Env,
  grant: Grant,
  options: ServeOptions = {},
): Promise<Response> {
  // The Worker entry checks this before sign-in; checked here too so no caller can skip it.
  const rejected = rejectHostOrOrigin(request, env);
  if (rejected) return rejected;
  const body = await readBody(request);
  if (body.tooLarge) {
    return Response.json(
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32000, message: `Request body over ${MAX_BODY_BYTES} bytes.` },
      },
      { status: 413 },
    );
  }
  const messages = body.parsed === undefined ? undefined : messagesOf(body.parsed);
  if (Array.isArray(body.parsed)) {
    const refusedBatch = refuseBatch(request, body.parsed.length);
    if (refusedBatch) return refusedBatch;
  }
  const admitted = options.admit && (await options.admit(Math.max(1, messages?.length ?? 1)));
  if (admitted) return admitted;
  const deps = toolDeps(env, grant);
  const calls = messages?.filter((m) => m.method === "tools/call" && m.tool !== undefined);
  if (
    calls?.length &&
    calls.length === messages?.length &&
    calls.every((c) => TOOL_NAMES.has(c.tool ?? ""))
  ) {
    deps.surface.only = new Set(calls.map((call) => call.tool as string));
  }
  const server = createServer(deps);
  const refused = calls && callOutsideSurface(calls, deps.surface.left);
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
  // The body is read once, here: the SDK takes it parsed instead of cloning and reading it twice
  // more. Sign-in is resolved before this point (the grant), so the handler needs no auth context.
  const forward = body.text === undefined ? request : new Request(request, { body: body.text });
  return currentServer.run(server, () =>
    handler.fetch(forward, body.parsed === undefined ? undefined : { parsedBody: body.parsed }),
  );
}

/**
 * JSON-RPC batches: refused under protocol 2025-06-18 and later (MCP dropped them), and above
 * MAX_BATCH_MESSAGES under the older versions that still allow them.
 */
function refuseBatch(request: Request, size: number): Response | undefined {
  // Without the header the client is on 2025-03-26 (Streamable HTTP's default), which batches.
  const version = request.headers.get("mcp-protocol-version")?.trim() ?? "";
  let message: string | undefined;
  if (version >= FIRST_VERSION_WITHOUT_BATCHES) {
    message = `JSON-RPC batches are not part of MCP ${version} (dropped in ${FIRST_VERSION_WITHOUT_BATCHES}): send one message per request.`;
  } else if (size > MAX_BATCH_MESSAGES) {
    message = `A batch may hold at most ${MAX_BATCH_MESSAGES} messages; this one has ${size}.`;
  }
  if (!message) return undefined;
  return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32600, message } }, { status: 400 });
}

interface Message {
  method?: unknown;
  /** The tool a tools/call names. */
  tool?: string;
  id: string | number | null;
}

/** The SDK's own limit on a request body. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A POST body, read once: its text, and its JSON when it parses (otherwise the SDK answers). */
async function readBody(request: Request): Promise<{ text?: string; parsed?: unknown; tooLarge?: boolean }> {
  if (request.method !== "POST" || !request.body) return {};
  if (Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) return { tooLarge: true };
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES) return { tooLarge: true };
  const text = new TextDecoder().decode(bytes);
  try {
    return { text, parsed: text ? JSON.parse(text) : undefined };
  } catch {
    return { text };
  }
}

/** The JSON-RPC messages of a parsed body. */
function messagesOf(body: unknown): Message[] {
  return (Array.isArray(body) ? body : [body]).map((message) => {
    if (!message || typeof message !== "object") return { id: null };
    const { method, params, id } = message as { method?: unknown; params?: { name?: unknown }; id?: unknown };
    return {
      method,
      tool: method === "tools/call" && typeof params?.name === "string" ? params.name : undefined,
      id: typeof id === "string" || typeof id === "number" ? id : null,
    };
  });
}

/** The first tools/call that names a tool this request's surface left out. */
function callOutsideSurface(
  calls: readonly Message[],
  left: ReadonlyMap<string, Unavailable>,
): { id: string | number | null; unavailable: Unavailable } | undefined {
  for (const call of calls) {
    const unavailable = call.tool === undefined ? undefined : left.get(call.tool);
    if (unavailable) return { id: call.id, unavailable };
  }
  return undefined;
}
