// A small MCP Apps host, for the browser test and for people (`npm run dashboard`): it connects to
// the MCP server as a client, calls show_dashboard, reads the view from its ui:// resource, renders
// it in a sandboxed frame and bridges the two with the extension's AppBridge, which proxies the
// view's tool calls to the server. Everything it does is logged with a [HOST] prefix.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const log = (...parts: unknown[]) => console.log("[HOST]", ...parts);

interface HostState {
  ready: boolean;
  error?: string;
}
const state: HostState = { ready: false };
(window as unknown as { __host: HostState }).__host = state;

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const args: Record<string, unknown> = {};
  if (params.get("node")) args.node = params.get("node");
  if (params.get("vmid")) args.vmid = Number(params.get("vmid"));

  const client = new Client({ name: "dashboard-test-host", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
  log("connected");
  const tools = await client.listTools();
  const show = tools.tools.find((t) => t.name === "show_dashboard");
  const uri = (show?._meta as { ui?: { resourceUri?: string } } | undefined)?.ui?.resourceUri;
  if (!uri) throw new Error("show_dashboard names no ui:// resource");
  const result = await client.callTool({ name: "show_dashboard", arguments: args });
  log("show_dashboard answered", JSON.stringify(result.content).length, "bytes of text");
  (document.getElementById("summary") as HTMLElement).textContent =
    (result.content as { type: string; text?: string }[]).find((c) => c.type === "text")?.text ?? "";
  const resource = await client.readResource({ uri });
  const html = (resource.contents[0] as { text?: string }).text ?? "";
  log("read", uri, html.length, "bytes");

  const frame = document.createElement("iframe");
  frame.id = "app";
  // An opaque origin: the view can run scripts but reaches nothing of the host page.
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = "width:100%;height:900px;border:0";
  (document.getElementById("view") as HTMLElement).append(frame);
  const bridge = new AppBridge(
    client,
    { name: "dashboard-test-host", version: "1.0.0" },
    { serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: { theme: "light", displayMode: "inline", locale: "en-US", timeZone: "UTC" } },
  );
  bridge.oninitialized = () => {
    log("view initialized");
    void bridge.sendToolInput({ arguments: args });
    void bridge.sendToolResult(result as never);
    state.ready = true;
  };
  bridge.onsizechange = ({ height }) => {
    if (height) frame.style.height = `${Math.ceil(height)}px`;
  };
  frame.srcdoc = html;
  const contentWindow = frame.contentWindow as Window;
  await bridge.connect(new PostMessageTransport(contentWindow, contentWindow));
  log("bridge connected");
}

main().catch((error: unknown) => {
  state.error = error instanceof Error ? error.message : String(error);
  log("failed:", state.error);
});
