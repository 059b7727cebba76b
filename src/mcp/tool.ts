import type { CallToolResult, McpServer, ServerContext, ToolAnnotations } from "@modelcontextprotocol/server";
import type { z } from "zod";
import type { ProxmoxClient } from "../proxmox/client";
import { ProxmoxError, scrub } from "../proxmox/errors";
import type { GuestLocator } from "../proxmox/locate";

/** What every tool handler gets: the Proxmox client and the guest locator for this request. */
export interface ToolDeps {
  client: ProxmoxClient;
  locator: GuestLocator;
  /** Values that must never appear in a tool result, whatever went wrong. */
  secrets: readonly (string | undefined)[];
}

/** A failure the tool explains itself (wrong kind of guest, ambiguous storage, ...). */
export class ToolError extends Error {
  override name = "ToolError";
}

export interface ToolAnswer<T> {
  /** Compact rendering: one line per item, human sizes. */
  text: string;
  /** Structured result matching the tool's outputSchema. */
  data: T;
}

export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  handler: (args: z.output<I>, ctx: ServerContext) => Promise<ToolAnswer<z.output<O>>>;
}

/**
 * Registers a tool the same way for every group: zod validates the input before the handler
 * runs (bad input never reaches Proxmox), the answer carries structured content plus compact
 * text, and any failure becomes an `isError` result with a message, never a crash.
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  server: McpServer,
  deps: ToolDeps,
  spec: ToolSpec<I, O>,
): void {
  server.registerTool(
    spec.name,
    {
      title: spec.title,
      description: spec.description,
      inputSchema: spec.input,
      outputSchema: spec.output,
      annotations: { title: spec.title, ...spec.annotations },
    },
    (async (args: z.output<I>, ctx: ServerContext): Promise<CallToolResult> => {
      try {
        const answer = await spec.handler(args, ctx);
        return {
          content: [{ type: "text", text: scrub(answer.text, deps.secrets) }],
          structuredContent: answer.data as Record<string, unknown>,
        };
      } catch (error) {
        return errorResult(error, spec.name, deps.secrets);
      }
    }) as never,
  );
}

export function errorResult(
  error: unknown,
  tool: string,
  secrets: readonly (string | undefined)[],
): CallToolResult {
  let message: string;
  if (error instanceof ProxmoxError || error instanceof ToolError) {
    message = error.message;
  } else {
    // Unexpected: say so without a stack trace; the detail goes to the Worker's log.
    console.error(`tool ${tool} failed`, error instanceof Error ? error.message : String(error));
    message = `${tool} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
  }
  return { content: [{ type: "text", text: scrub(message, secrets) }], isError: true };
}
