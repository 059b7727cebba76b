import { registerAppTool } from "@modelcontextprotocol/ext-apps/server";
import type {
  CallToolResult,
  McpServer,
  ServerContext,
  StandardSchemaWithJSON,
  ToolAnnotations,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ProxmoxClient, UpstreamEnv } from "../proxmox/client";
import { ProxmoxError, scrub } from "../proxmox/errors";
import type { GuestLocator } from "../proxmox/locate";
import type { SessionApi } from "../session/session";
import { neutralizeAnswer, neutralizeMessage } from "./plain";
import type { Policy } from "./policy";
import { checkTool, type Scope, type Surface } from "./surface";
import { ToolError } from "./tool-error";

/** What every tool handler gets: the Proxmox client and the guest locator for this request. */
export interface ToolDeps {
  client: ProxmoxClient;
  /** The upstream settings the client was built from, for check_connection's diagnosis. */
  upstream: UpstreamEnv;
  locator: GuestLocator;
  /** Values that must never appear in a tool result, whatever went wrong. */
  secrets: readonly (string | undefined)[];
  /** This session's Durable Object: tracked tasks and the audit log. */
  session: SessionApi;
  /** Who is acting, for the audit log: the signed-in user, or "local" while sign-in is off. */
  actor: string;
  policy: Policy;
  /**
   * PVE_ALLOW_HOST_OPTIONS=true: the owner lets `extra` set options that reach the Proxmox host
   * (hookscript, args, device passthrough, host paths as disks or mount points).
   */
  allowHostOptions: boolean;
  /** Which tools this request may use (its grant's scopes, PVE_READ_ONLY, PVE_TOOLSETS). */
  surface: Surface;
  /** The same user's Sessions on other clients (other grants), for get_audit_log. */
  otherSessions: () => Promise<{ name: string; session: SessionApi }[]>;
}

/** A failure the tool explains itself (wrong kind of guest, ambiguous storage, ...). */
export { ToolError } from "./tool-error";

export interface ToolAnswer<T> {
  /** Compact rendering: one line per item, human sizes. */
  text: string;
  /** Structured result matching the tool's outputSchema. */
  data: T;
}

/** destructiveHint and idempotentHint only mean something when readOnlyHint is false (MCP spec). */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  /** The OAuth scope a grant needs for this tool: read, write (changes the cluster) or exec (inside guests). */
  scope: Scope;
  input: I;
  /**
   * The structured result, for every tool (some clients show the model only this part): read
   * tools their rows, changes the shared shape of src/mcp/changes.ts.
   */
  output: O;
  annotations: ToolAnnotations;
  /**
   * MCP Apps (io.modelcontextprotocol/ui): the ui:// view a host renders with this tool's result,
   * and who may call it (`["app"]`: only that view, hidden from the model by hosts with apps).
   */
  ui?: { resourceUri?: string; visibility?: ("model" | "app")[] };
  /** Binds the handler to one request's dependencies (client, session, policy). */
  handler: (deps: ToolDeps) => (args: z.output<I>, ctx: ServerContext) => Promise<ToolAnswer<z.output<O>>>;
}

/**
 * A tool's definition, built once per isolate at module scope. Each request builds a fresh
 * McpServer (the transport is stateless); building the zod schemas of 58 tools on every request
 * was most of what the MCP layer added to a call, so only the handler is bound per request.
 */
export function tool<I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>): ToolSpec<I, O> {
  return spec;
}

/**
 * Annotations of a tool that changes the cluster. Every hint is explicit, defaults included:
 * connector directories and hosts that ask before a change read them, and a missing hint is read
 * as the riskiest value by some and as unknown by others.
 */
export function changes(options: {
  destructive: boolean;
  idempotent: boolean;
  /** True when the change can make Proxmox or a guest reach outside the cluster (a download, a command). */
  openWorld?: boolean;
}): ToolAnnotations {
  return {
    readOnlyHint: false,
    destructiveHint: options.destructive,
    idempotentHint: options.idempotent,
    openWorldHint: options.openWorld ?? false,
  };
}

/**
 * Registers a tool the same way for every group: only when the request's surface includes it
 * (scope, read-only mode, toolsets), zod validates the input before the handler runs (bad input
 * never reaches Proxmox), the answer carries structured content plus compact text, and any
 * failure becomes an `isError` result with a message, never a crash.
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  server: McpServer,
  deps: ToolDeps,
  spec: ToolSpec<I, O>,
): void {
  const unavailable = checkTool(deps.surface, spec.name, spec.scope);
  if (unavailable) {
    deps.surface.left.set(spec.name, unavailable);
    return;
  }
  if (deps.surface.only && !deps.surface.only.has(spec.name)) return;
  const handler = spec.handler(deps);
  // A tool with a view goes through the extension's helper, which also writes the legacy
  // `_meta["ui/resourceUri"]` key older hosts read.
  const registrar = spec.ui ? appRegistrar(server, spec.ui) : server;
  registrar.registerTool(
    spec.name,
    {
      // Both places: hosts show the top-level title, directories and older hosts read the annotation's.
      title: spec.title,
      description: spec.description,
      inputSchema: lean(spec.input, "input"),
      outputSchema: lean(spec.output, "output"),
      annotations: { title: spec.title, ...spec.annotations },
    },
    (async (args: z.output<I>, ctx: ServerContext): Promise<CallToolResult> => {
      try {
        const raw = await handler(args, ctx);
        // Names and other values from Proxmox never forge a line or hide characters in the answer.
        const answer = neutralizeAnswer(raw.text, raw.data);
        return {
          content: [{ type: "text", text: scrub(answer.text, deps.secrets) }],
          structuredContent: answer.data as Record<string, unknown>,
        };
      } catch (error) {
        return errorResult(error, spec.name, deps.secrets, deps.locator.knownNames());
      }
    }) as never,
  );
}

/** server.registerTool for a tool with an MCP Apps view (or only callable by one). */
function appRegistrar(
  server: McpServer,
  ui: NonNullable<ToolSpec<z.ZodObject, z.ZodObject>["ui"]>,
): Pick<McpServer, "registerTool"> {
  return {
    registerTool: ((name: string, config: { _meta?: Record<string, unknown> }, cb: never) =>
      registerAppTool(server, name, { ...config, _meta: { ...config._meta, ui } } as never, cb)) as never,
  };
}

/**
 * `tools/list` is paid for in every conversation, so schemas go out lean: no `$schema`, no
 * meaningless bounds, and output schemas as their top-level field names (what each holds is
 * described by the result itself). Validation still uses the full zod schemas. The JSON
 * is built once per tool per isolate, not on every request (each request builds a fresh McpServer).
 */
const leanSchemas = { input: new WeakMap(), output: new WeakMap() } as const satisfies Record<
  "input" | "output",
  WeakMap<z.ZodObject, StandardSchemaWithJSON>
>;

function lean(schema: z.ZodObject, io: "input" | "output"): StandardSchemaWithJSON {
  const cached = leanSchemas[io].get(schema);
  if (cached) return cached;
  let json: Record<string, unknown> | undefined;
  const toJson = () => {
    if (!json) {
      const full = z.toJSONSchema(schema, {
        io,
        target: "draft-2020-12",
        // A default around a checked number (a preprocess pipe, src/mcp/args.ts) is not written
        // by zod; clients still need to see it.
        override: (ctx) => {
          const def = ctx.zodSchema._zod.def as { type: string; defaultValue?: unknown };
          if (def.type === "default" && ctx.jsonSchema.default === undefined)
            ctx.jsonSchema.default = def.defaultValue as never;
        },
      }) as Record<string, unknown>;
      json = io === "output" ? fieldNames(full) : strip(full);
    }
    return json;
  };
  const standard = {
    "~standard": {
      version: 1,
      vendor: "zod",
      validate: (value: unknown) => schema["~standard"].validate(value),
      jsonSchema: { input: toJson, output: toJson },
    },
  } as unknown as StandardSchemaWithJSON;
  leanSchemas[io].set(schema, standard);
  return standard;
}

/**
 * Input schemas: everything a caller needs, minus `$schema`, bounds that say nothing, and string
 * lengths (a model never writes a 256-character node name; zod still refuses one).
 */
function strip(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "maxLength" || key === "minLength") continue;
    // Bounds are checked here and named in the refusal of a value outside them; listing them for
    // every vmid, wait and size cost about 1.5 KB of tools/list in every conversation.
    if (key === "maximum" || key === "minimum" || key === "maxItems" || key === "minItems") continue;
    // An option that is off unless given says nothing by its default.
    if (key === "default" && value === false) continue;
    if (key === "properties" && value && typeof value === "object") {
      // Keys here are property names (a property may well be called "description").
      const properties: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value as Record<string, unknown>)) {
        properties[name] = strip(sub as Record<string, unknown>);
      }
      out[key] = properties;
    } else if (Array.isArray(value)) {
      out[key] = value.map((item) =>
        item && typeof item === "object" ? strip(item as Record<string, unknown>) : item,
      );
    } else if (value && typeof value === "object") {
      out[key] = strip(value as Record<string, unknown>);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Output schemas: the top-level field names only. What each field holds is shown by the answer
 * itself (a table names its columns, a number is a number); the field types cost about 5 KB of
 * tools/list, which pays for every tool's title, while the names still tell a model what comes back.
 */
function fieldNames(schema: Record<string, unknown>): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const name of Object.keys((schema.properties ?? {}) as Record<string, unknown>)) properties[name] = {};
  return { type: "object", properties };
}

export function errorResult(
  error: unknown,
  tool: string,
  secrets: readonly (string | undefined)[],
  /** Values the message may quote that could hold line breaks (guest names). */
  quoted: Iterable<string> = [],
): CallToolResult {
  let message: string;
  if (error instanceof ProxmoxError || error instanceof ToolError) {
    message = error.message;
  } else {
    // Unexpected: say so without a stack trace; the detail goes to the Worker's log.
    console.error(
      `tool ${tool} failed:`,
      scrub(error instanceof Error ? error.message : String(error), secrets),
    );
    message = `${tool} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
  }
  return {
    content: [{ type: "text", text: scrub(neutralizeMessage(message, quoted), secrets) }],
    isError: true,
  };
}
