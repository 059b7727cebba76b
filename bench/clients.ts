// The two clients of a benchmark run: an MCP client (the v1 SDK most MCP hosts embed) and a plain
// HTTP client for the simulator's control API and its Proxmox API.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

/** The simulator's built-in development token (not a credential: the simulator runs locally). */
export const SIM_AUTH = "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000";

export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  status: number;
}

export interface SimGuest {
  vmid: number;
  type: "qemu" | "lxc";
  node: string;
  status: string;
  runState?: string;
  lock?: string;
}

export class Sim {
  readonly origin: string;

  constructor(origin: string) {
    this.origin = origin;
  }

  async control<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.origin}/_sim/${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator ${method} /_sim/${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  reset(options: { nodes?: number; guests?: number } = {}) {
    return this.control<{ nodes: number; guests: number }>("POST", "reset", options);
  }

  settings(settings: Record<string, unknown>) {
    return this.control("POST", "settings", settings);
  }

  async requests(): Promise<SimRequest[]> {
    return (await this.control<{ requests: SimRequest[] }>("GET", "requests")).requests;
  }

  clearRequests() {
    return this.control("DELETE", "requests");
  }

  async guests(): Promise<SimGuest[]> {
    return (await this.control<{ guests: SimGuest[] }>("GET", "state")).guests;
  }

  /** One Proxmox API request straight to the simulator, as the MCP server would send it. */
  async api(
    method: string,
    path: string,
    params?: Record<string, string | number>,
  ): Promise<{ status: number; body: string }> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params ?? {})) form.set(k, String(v));
    const hasBody = method === "POST" || method === "PUT";
    const query = !hasBody && form.size ? `?${form}` : "";
    const res = await fetch(`${this.origin}/api2/json${path}${query}`, {
      method,
      headers: {
        Authorization: SIM_AUTH,
        Accept: "application/json",
        ...(hasBody ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
      },
      body: hasBody ? form.toString() : undefined,
    });
    return { status: res.status, body: await res.text() };
  }

  async data<T>(method: string, path: string, params?: Record<string, string | number>): Promise<T> {
    const { status, body } = await this.api(method, path, params);
    if (status !== 200) throw new Error(`simulator ${method} ${path}: ${status} ${body.slice(0, 200)}`);
    return (JSON.parse(body) as { data: T }).data;
  }
}

export interface ToolResult {
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface ToolInfo {
  name: string;
  description?: string;
  inputSchema: { properties?: Record<string, unknown>; required?: string[] };
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean };
}

export const textOf = (result: ToolResult) =>
  result.content
    .filter((block) => block.type === "text")
    .map((block) => block.text ?? "")
    .join("\n");

/** Bytes of an answer as a model receives it: the text plus the structured content. */
export function answerBytes(result: ToolResult): { text: number; structured: number; total: number } {
  const text = Buffer.byteLength(textOf(result));
  const structured = result.structuredContent
    ? Buffer.byteLength(JSON.stringify(result.structuredContent))
    : 0;
  return { text, structured, total: text + structured };
}

/** An MCP session over Streamable HTTP with the v1 SDK. */
export class Mcp {
  readonly client: Client;
  readonly url: string;

  private constructor(client: Client, url: string) {
    this.client = client;
    this.url = url;
  }

  static async connect(url: string, name = "bench"): Promise<Mcp> {
    const client = new Client({ name, version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return new Mcp(client, url);
  }

  async tools(): Promise<ToolInfo[]> {
    return (await this.client.listTools()).tools as ToolInfo[];
  }

  async call(
    name: string,
    args: Record<string, unknown> = {},
    options: { onProgress?: (message?: string) => void; timeoutMs?: number } = {},
  ): Promise<ToolResult> {
    const { onProgress } = options;
    return (await this.client.callTool({ name, arguments: args }, undefined, {
      timeout: options.timeoutMs ?? 60_000,
      ...(onProgress
        ? { onprogress: (p: { message?: string }) => onProgress(p.message), resetTimeoutOnProgress: true }
        : {}),
    })) as ToolResult;
  }

  close() {
    return this.client.close();
  }
}

/**
 * One JSON-RPC request posted by hand, as the thinnest possible MCP client would (the server is
 * stateless, so no initialize is needed): returns the HTTP body and its size on the wire.
 */
export async function rawRpc(
  url: string,
  method: string,
  params: Record<string, unknown>,
): Promise<{ bytes: number; result: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${body.slice(0, 200)}`);
  const json = res.headers.get("content-type")?.includes("text/event-stream")
    ? (body
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trim())
        .pop() ?? "{}")
    : body;
  const message = JSON.parse(json) as { result?: Record<string, unknown>; error?: { message: string } };
  if (!message.result) throw new Error(`${method}: ${message.error?.message ?? "no result"}`);
  return { bytes: Buffer.byteLength(body), result: message.result };
}

/**
 * How many rows a list answer shows: its table's rows (`{columns, rows}`), the rows of all its
 * tables when it has several sections (get_cluster_resources), or else its longest array.
 */
export function shownRows(structured: Record<string, unknown> | undefined): number | undefined {
  if (!structured) return undefined;
  if (Array.isArray(structured.rows)) return structured.rows.length;
  let tables: number | undefined;
  let longest: number | undefined;
  for (const value of Object.values(structured)) {
    if (Array.isArray(value)) longest = Math.max(longest ?? 0, value.length);
    else if (value && typeof value === "object" && Array.isArray((value as { rows?: unknown }).rows))
      tables = (tables ?? 0) + (value as { rows: unknown[] }).rows.length;
  }
  return tables ?? longest;
}
