import { env } from "cloudflare:workers";
import { localhostAllowedHostnames, localhostAllowedOrigins } from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { Hono } from "hono";
import { createServer, toolDeps } from "./mcp/server";
import { type Diagnosis, diagnose } from "./proxmox/doctor";
import { PRODUCT } from "./version";

/**
 * Worker entry. Routes:
 *   /mcp      the MCP endpoint (Streamable HTTP, 2025-era and 2026-07-28 clients)
 *   /healthz  liveness and configuration summary, without secrets
 *   /         a short landing page
 *
 * Sign-in is not built yet, so /mcp is served only to requests addressed to localhost
 * (wrangler dev, tests). This is the seam where the OAuth provider will wrap `mcpApi`.
 */

/**
 * Host and Origin validation stay on: the handler's defaults (localhost, workers.dev) plus the
 * hostnames in MCP_HOSTNAMES (comma-separated), for a Worker served on a custom domain.
 */
function hostPolicy(configured: string | undefined) {
  const hostnames = (configured ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (hostnames.length === 0) return {};
  return {
    allowedHostnames: [...localhostAllowedHostnames(), ...hostnames],
    allowedOriginHostnames: [...localhostAllowedOrigins(), ...hostnames],
  };
}

const mcpHandler = createMcpHandler(() => createServer(toolDeps(env), env), {
  route: "/mcp",
  ...hostPolicy(env.MCP_HOSTNAMES),
});

const LOCAL_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLocalRequest(request: Request): boolean {
  return LOCAL_HOSTNAMES.has(new URL(request.url).hostname);
}

export const mcpApi = {
  fetch(request: Request, _env: Env, ctx: ExecutionContext): Promise<Response> {
    return mcpHandler(request, _env, ctx);
  },
};

function upstreamMode(e: Env): string {
  if (e.PVE) return "service-binding";
  if (e.PROXMOX_URL) return "url";
  return "unconfigured";
}

const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) =>
  c.text(
    `${PRODUCT.title} ${PRODUCT.version}\n\nAn MCP server for a Proxmox VE cluster. Add ${new URL("/mcp", c.req.url)} as a connector in your MCP client.\n`,
  ),
);

/** /healthz asks Proxmox at most every 15 s per isolate, so uptime checks cannot hammer it. */
let lastDiagnosis: { at: number; value: Promise<Diagnosis> } | undefined;

/** Drops the cached /healthz verdict (tests change the upstream between requests). */
export function forgetHealth(): void {
  lastDiagnosis = undefined;
}

app.get("/healthz", async (c) => {
  if (!lastDiagnosis || Date.now() - lastDiagnosis.at > 15_000) {
    lastDiagnosis = { at: Date.now(), value: diagnose(c.env) };
  }
  const d = await lastDiagnosis.value;
  // The same verdict as check_connection, without details that could name hosts or tokens.
  return c.json(
    {
      ok: d.verdict !== "failing",
      verdict: d.verdict,
      name: PRODUCT.name,
      version: PRODUCT.version,
      proxmox: d.version,
      upstream: upstreamMode(c.env),
      auth: isLocalRequest(c.req.raw) ? "none (localhost)" : "not configured: /mcp refused",
      checks: d.checks.map((check) => ({
        step: check.step,
        ok: check.ok,
        ...(check.ok ? {} : { fix: check.fix }),
      })),
      failingGroups: d.groups.filter((g) => !g.ok).map((g) => g.group),
    },
    d.verdict === "failing" ? 503 : 200,
  );
});

app.all("/mcp", (c) => {
  if (!isLocalRequest(c.req.raw)) {
    return c.json(
      {
        jsonrpc: "2.0",
        error: {
          code: -32001,
          message: "Sign-in is not configured on this deployment, so /mcp is served only on localhost.",
        },
        id: null,
      },
      403,
    );
  }
  return mcpApi.fetch(c.req.raw, c.env, c.executionCtx as ExecutionContext);
});

export default {
  fetch(request, workerEnv, ctx) {
    return app.fetch(request, workerEnv, ctx);
  },
} satisfies ExportedHandler<Env>;

export { Session } from "./session/session";
