// A small MCP Apps host, for the browser test and for people (`npm run dashboard`): it connects to
// the MCP server as a client, calls show_dashboard, reads the view from its ui:// resource, renders
// it in a sandboxed frame and bridges the two with the extension's AppBridge, which proxies the
// view's tool calls to the server. Everything it does is logged with a [HOST] prefix.
//
// Query parameters play the hosts a view meets: theme=light|dark (with CSS variables and a font,
// as Claude sends them) or theme=none (nothing: the view follows the system's preference);
// fullscreen=0 for a host without fullscreen; touch=1 for a touch device; node= and vmid= focus.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { McpUiDisplayMode, McpUiHostContext, McpUiStyles } from "@modelcontextprotocol/ext-apps";
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const log = (...parts: unknown[]) => console.log("[HOST]", ...parts);

interface HostState {
  ready: boolean;
  error?: string;
  displayMode: McpUiDisplayMode;
  /** Every display mode the view asked for, in order. */
  modeRequests: string[];
}
const state: HostState = { ready: false, displayMode: "inline", modeRequests: [] };
(window as unknown as { __host: HostState }).__host = state;

const FONT = '"Liberation Sans", Arial, sans-serif';
const THEMES: Record<"light" | "dark", Partial<McpUiStyles>> = {
  light: {
    "--color-background-primary": "#ffffff",
    "--color-background-secondary": "#f5f4ef",
    "--color-text-primary": "#141413",
    "--color-text-secondary": "#5e5d59",
    "--color-border-primary": "#d6d3cb",
    "--font-sans": FONT,
  },
  dark: {
    "--color-background-primary": "#262624",
    "--color-background-secondary": "#30302e",
    "--color-text-primary": "#f5f4ef",
    "--color-text-secondary": "#bfbdb6",
    "--color-border-primary": "#4a4945",
    "--font-sans": FONT,
  },
};

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const args: Record<string, unknown> = {};
  if (params.get("node")) args.node = params.get("node");
  if (params.get("vmid")) args.vmid = Number(params.get("vmid"));
  const theme =
    params.get("theme") === "dark" ? "dark" : params.get("theme") === "none" ? undefined : "light";
  const modes: McpUiDisplayMode[] = params.get("fullscreen") === "0" ? ["inline"] : ["inline", "fullscreen"];
  document.documentElement.dataset.theme = theme ?? "none";

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

  const view = document.getElementById("view") as HTMLElement;
  const frame = document.createElement("iframe");
  frame.id = "app";
  // An opaque origin: the view can run scripts but reaches nothing of the host page.
  frame.setAttribute("sandbox", "allow-scripts");
  frame.setAttribute("title", "Proxmox dashboard");
  frame.style.height = "120px";
  view.append(frame);
  const dimensions = () =>
    state.displayMode === "fullscreen"
      ? { height: window.innerHeight, width: window.innerWidth }
      : { maxHeight: 500, width: view.clientWidth };
  const context: McpUiHostContext = {
    displayMode: "inline",
    availableDisplayModes: modes,
    locale: "en-US",
    timeZone: "UTC",
    platform: "web",
    containerDimensions: dimensions(),
    ...(params.get("touch") === "1" ? { deviceCapabilities: { touch: true, hover: false } } : {}),
    ...(theme ? { theme, styles: { variables: THEMES[theme] as McpUiStyles } } : {}),
  };
  const bridge = new AppBridge(
    client,
    { name: "dashboard-test-host", version: "1.0.0" },
    { serverTools: {}, serverResources: {}, logging: {} },
    { hostContext: context },
  );
  let inlineHeight = 120;
  bridge.oninitialized = () => {
    log("view initialized");
    void bridge.sendToolInput({ arguments: args });
    void bridge.sendToolResult(result as never);
    state.ready = true;
  };
  bridge.onsizechange = ({ height }) => {
    if (!height) return;
    inlineHeight = Math.ceil(height);
    // In fullscreen the frame fills the window whatever the view's height; the view scrolls.
    if (state.displayMode === "inline") frame.style.height = `${inlineHeight}px`;
  };
  bridge.onrequestdisplaymode = async ({ mode }) => {
    state.modeRequests.push(mode);
    log("view asks for", mode);
    if (!modes.includes(mode)) return { mode: state.displayMode };
    state.displayMode = mode;
    document.body.dataset.mode = mode;
    frame.style.height = mode === "fullscreen" ? "" : `${inlineHeight}px`;
    bridge.setHostContext({ ...context, displayMode: mode, containerDimensions: dimensions() });
    return { mode };
  };
  window.addEventListener("resize", () => {
    bridge.setHostContext({ ...context, displayMode: state.displayMode, containerDimensions: dimensions() });
  });
  frame.srcdoc = html;
  const contentWindow = frame.contentWindow as Window;
  await bridge.connect(new PostMessageTransport(contentWindow, contentWindow));
  log("bridge connected");
}

main().catch((error: unknown) => {
  state.error = error instanceof Error ? error.message : String(error);
  log("failed:", state.error);
});
