import { Hono } from "hono";
import { authorizeRoutes } from "./auth/authorize";
import { type AuthMode, allowedUsersOf, authMode, isLocalRequest } from "./auth/config";
import { serveOAuth } from "./auth/provider";
import { isReadOnly, toolsetsFromEnv } from "./mcp/surface";
import { type Diagnosis, diagnose } from "./proxmox/doctor";
import { rejectHostOrOrigin, serveMcp } from "./server/endpoint";
import { LOCAL_GRANT } from "./server/server";
import { PRODUCT } from "./version";

/**
 * Worker entry. Routes:
 *   /mcp      the MCP endpoint (Streamable HTTP, 2025-era and 2026-07-28 clients), behind OAuth
 *   /authorize, /callback   sign-in and consent (src/auth/authorize.ts)
 *   /oauth/token, /oauth/register, /.well-known/oauth-*   served by the OAuth provider
 *   /healthz  liveness and configuration summary, without secrets
 *   /         a short landing page
 *
 * Sign-in is off only for requests addressed to localhost when AUTH_MODE=none (`npm run dev`,
 * the tests). Anywhere else /mcp needs a token, and a deployment whose sign-in is not configured
 * refuses /mcp (fail closed) and says why at /healthz.
 */

export { isLocalRequest };

function upstreamMode(e: Env): string {
  if (e.PVE) return "service-binding";
  if (e.PROXMOX_URL) return "url";
  return "unconfigured";
}

function authSummary(mode: AuthMode, env: Env): Record<string, unknown> {
  const toolsets = toolsetsFromEnv(env);
  const surface = {
    readOnly: isReadOnly(env),
    ...(toolsets.enabled ? { toolsets: [...toolsets.enabled] } : {}),
    ...(toolsets.unknown.length > 0 ? { unknownToolsets: toolsets.unknown } : {}),
  };
  if (mode.kind === "local") return { auth: "none (localhost)", ...surface };
  if (mode.kind === "refused") {
    return { auth: "not configured: /mcp refused", authProblems: mode.problems, ...surface };
  }
  const users = allowedUsersOf(env).size;
  return {
    auth: `oauth (${mode.config.provider})`,
    resource: mode.config.resource,
    allowedUsers: users,
    ...(users === 0 ? { authProblems: ["ALLOWED_USERS is empty: everyone is refused."] } : {}),
    ...surface,
  };
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
      ...authSummary(authMode(c.env, c.req.raw), c.env),
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

app.route("/", authorizeRoutes);

function refusedMcp(problems: string[]): Response {
  return Response.json(
    {
      jsonrpc: "2.0",
      error: {
        code: -32001,
        message: `Sign-in is not configured on this deployment (${problems.join(" ")}), so /mcp is served only on localhost. See /healthz.`,
      },
      id: null,
    },
    { status: 403 },
  );
}

export default {
  async fetch(request, env, ctx) {
    const isMcp = new URL(request.url).pathname === "/mcp";
    if (isMcp) {
      const rejected = rejectHostOrOrigin(request, env);
      if (rejected) return rejected;
    }
    const mode = authMode(env, request);
    switch (mode.kind) {
      case "local":
        return isMcp ? serveMcp(request, env, LOCAL_GRANT) : app.fetch(request, env, ctx);
      case "refused":
        return isMcp ? refusedMcp(mode.problems) : app.fetch(request, env, ctx);
      case "oauth":
        return serveOAuth(mode.config, app, request, env, ctx);
    }
  },
} satisfies ExportedHandler<Env>;

export { Session } from "./session/session";
