// The view's side of MCP Apps: JSON-RPC over postMessage with the host. The extension's App
// class does this too, but it brings the MCP client SDK's Protocol and zod to validate every
// message, three quarters of the view's size; the view needs six messages, so it speaks them
// itself, as the extension's own "raw" example does, with the extension's types for the shapes.

import type {
  McpUiDisplayMode,
  McpUiHostContext,
  McpUiInitializeResult,
  McpUiRequestDisplayModeResult,
} from "@modelcontextprotocol/ext-apps";

export interface ToolResult {
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

interface Message {
  jsonrpc: "2.0";
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string };
}

/** The protocol version of @modelcontextprotocol/ext-apps 2.0 (LATEST_PROTOCOL_VERSION). */
const PROTOCOL_VERSION = "2026-01-26";
/** A host that never answers must not leave a button waiting for ever. */
const TIMEOUT_MS = 60_000;

export class HostBridge {
  context: McpUiHostContext = {};
  ontoolinput?: (args: Record<string, unknown>) => void;
  ontoolresult?: (result: ToolResult) => void;
  oncontext?: (context: McpUiHostContext) => void;
  onteardown?: () => void;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }
  >();

  constructor(private readonly host: Window = window.parent) {
    window.addEventListener("message", (event) => {
      // Only the window that embeds the view speaks for the host.
      if (event.source !== this.host) return;
      const msg = event.data as Message;
      if (msg?.jsonrpc !== "2.0") return;
      this.receive(msg);
    });
  }

  private receive(msg: Message): void {
    if (msg.method === undefined && typeof msg.id === "number") {
      const waiting = this.pending.get(msg.id);
      if (!waiting) return;
      this.pending.delete(msg.id);
      clearTimeout(waiting.timer);
      if (msg.error) waiting.reject(new Error(msg.error.message));
      else waiting.resolve(msg.result);
      return;
    }
    const params = msg.params ?? {};
    switch (msg.method) {
      case "ui/notifications/tool-input":
        this.ontoolinput?.((params.arguments ?? {}) as Record<string, unknown>);
        break;
      case "ui/notifications/tool-result":
        this.ontoolresult?.(params as ToolResult);
        break;
      case "ui/notifications/host-context-changed":
        this.context = { ...this.context, ...params };
        this.oncontext?.(this.context);
        break;
      case "ui/resource-teardown":
        this.onteardown?.();
        this.reply(msg.id, {});
        break;
      case "ping":
        this.reply(msg.id, {});
        break;
      default:
        if (msg.id !== undefined)
          this.post({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
    }
  }

  private post(msg: Message): void {
    this.host.postMessage(msg, "*");
  }

  private reply(id: Message["id"], result: unknown): void {
    if (id !== undefined) this.post({ jsonrpc: "2.0", id, result });
  }

  request<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the host did not answer ${method}`));
      }, TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.post({ jsonrpc: "2.0", id, method, params });
    });
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.post({ jsonrpc: "2.0", method, params });
  }

  async connect(): Promise<McpUiHostContext> {
    const result = await this.request<McpUiInitializeResult>("ui/initialize", {
      appInfo: { name: "Proxmox dashboard", version: "2.0.0" },
      appCapabilities: { availableDisplayModes: ["inline", "fullscreen"] },
      protocolVersion: PROTOCOL_VERSION,
    });
    this.context = result.hostContext ?? {};
    this.notify("ui/notifications/initialized");
    return this.context;
  }

  callTool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    return this.request<ToolResult>("tools/call", { name, arguments: args });
  }

  async requestDisplayMode(mode: McpUiDisplayMode): Promise<McpUiDisplayMode> {
    const result = await this.request<McpUiRequestDisplayModeResult>("ui/request-display-mode", { mode });
    return result.mode;
  }

  /** Tells the host how tall the view is, so an inline frame fits it (no scrolling of its own). */
  watchSize(root: HTMLElement): void {
    let last = "";
    const send = () => {
      const rect = root.getBoundingClientRect();
      const size = { width: Math.ceil(rect.width), height: Math.ceil(rect.height) };
      const key = `${size.width}x${size.height}`;
      if (key === last) return;
      last = key;
      this.notify("ui/notifications/size-changed", size);
    };
    new ResizeObserver(send).observe(root);
    send();
  }
}
