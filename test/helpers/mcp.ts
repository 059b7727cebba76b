import { exports } from "cloudflare:workers";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { expect } from "vitest";

/** The three client eras the server must serve. */
export const ERAS = ["2025-06-18", "2025-11-25", "2026-07-28"] as const;
export type Era = (typeof ERAS)[number];

/**
 * The era tool behaviour is tested in: each tool once. What differs between eras (initialize,
 * listing, calls, progress, errors, resources) is tested in each era by test/contract.test.ts.
 */
export const TOOL_ERA: Era = "2025-11-25";

export const MCP_URL = "http://localhost/mcp";

export interface ToolCallResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface TestClient {
  era: Era;
  listTools(): Promise<
    {
      name: string;
      annotations?: Record<string, unknown>;
      inputSchema: unknown;
      outputSchema?: unknown;
      description?: string;
    }[]
  >;
  call(name: string, args?: Record<string, unknown>): Promise<ToolCallResult>;
  /** Calls with a progress token; every progress notification is passed to `onProgress`. */
  callWithProgress(
    name: string,
    args: Record<string, unknown>,
    onProgress: (progress: { progress: number; total?: number; message?: string }) => void,
  ): Promise<ToolCallResult>;
  serverInfo(): { name: string; version: string } | undefined;
  close(): Promise<void>;
  /** resources/read: the contents of one resource (the dashboard's ui:// view). */
  readResource(
    uri: string,
  ): Promise<{ uri: string; mimeType?: string; text?: string; _meta?: Record<string, any> }[]>;
}

/** Sends requests straight into the Worker under test, as an HTTP client would. */
type Send = (request: Request) => Promise<Response>;

function workerFetch(rewriteInitialize?: string, send: Send = (r) => exports.default.fetch(r)): typeof fetch {
  return async (input, init) => {
    let request = new Request(input as RequestInfo, init);
    if (rewriteInitialize && request.method === "POST") {
      const body = await request.clone().text();
      if (body.includes('"method":"initialize"')) {
        const message = JSON.parse(body);
        message.params.protocolVersion = rewriteInitialize;
        request = new Request(request, { body: JSON.stringify(message) });
      }
    }
    // Real HTTP clients always send Host; a Request built in the runtime does not.
    if (!request.headers.has("host")) {
      const headers = new Headers(request.headers);
      headers.set("host", new URL(request.url).host);
      request = new Request(request, { headers });
    }
    return send(request);
  };
}

/** Connects to the Worker under test, or to another handler (`send`) built by the test. */
export async function connect(era: Era, send?: Send): Promise<TestClient> {
  if (era === "2026-07-28") {
    const client = new ClientV2(
      { name: "test-v2", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    await client.connect(new TransportV2(new URL(MCP_URL), { fetch: workerFetch(undefined, send) }));
    return {
      era,
      listTools: async () => (await client.listTools()).tools as never,
      call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as ToolCallResult,
      callWithProgress: async (name, args, onProgress) =>
        (await client.callTool({ name, arguments: args }, { onprogress: onProgress })) as ToolCallResult,
      serverInfo: () => client.getServerVersion() as never,
      close: () => client.close(),
      readResource: async (uri) => (await client.readResource({ uri })).contents as never,
    };
  }
  // The v1 SDK speaks 2025-11-25; a 2025-06-18 client is the same SDK asking for the older revision.
  const client = new ClientV1({ name: "test-v1", version: "1.0.0" });
  const transport = new TransportV1(new URL(MCP_URL), {
    fetch: workerFetch(era === "2025-06-18" ? era : undefined, send),
  });
  await client.connect(transport);
  return {
    era,
    listTools: async () => (await client.listTools()).tools as never,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as ToolCallResult,
    callWithProgress: async (name, args, onProgress) =>
      (await client.callTool({ name, arguments: args }, undefined, {
        onprogress: onProgress,
      })) as ToolCallResult,
    serverInfo: () => client.getServerVersion() as never,
    close: () => client.close(),
    readResource: async (uri) => (await client.readResource({ uri })).contents as never,
  };
}

export function textOf(result: ToolCallResult): string {
  return result.content
    .filter((block) => block.type === "text")
    .map((block) => block.text ?? "")
    .join("\n");
}

/** Calls a tool that must succeed; returns its text and structured result. */
export async function expectOk(client: TestClient, name: string, args: Record<string, unknown> = {}) {
  const result = await client.call(name, args);
  expect(result.isError ?? false, textOf(result)).toBe(false);
  return { text: textOf(result), data: result.structuredContent as Record<string, any> };
}

/** Calls a tool that must answer with an error result; returns the message. */
export async function expectError(
  client: TestClient,
  name: string,
  args: Record<string, unknown>,
): Promise<string> {
  const result = await client.call(name, args);
  expect(result.isError, textOf(result)).toBe(true);
  return textOf(result);
}

/** A list answer's table (`{columns, rows}`) as one object per row, empty trailing cells as null. */
export function tableRows(table: { columns: string[]; rows: unknown[][] } | undefined) {
  if (!table) return [];
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.map((column, i) => [column, row[i] ?? null])),
  );
}
