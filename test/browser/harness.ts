// Starts the simulator, the MCP server (both `wrangler dev`, as the benchmark does) and the test
// host page, and opens the dashboard in headless Chromium: the system's chromium, never a
// downloaded build.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Frame, type Page } from "playwright-core";
import { ROOT, type Servers, scratchDir, snapshotTree, startServers } from "../../bench/servers.ts";
import { type HostServer, startHost } from "./host-server.ts";

/** Debian's chromium (what .ci/run installs), or CHROMIUM_PATH. */
export function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

export interface Session {
  servers: Servers;
  host: HostServer;
  browser: Browser;
  page: Page;
  /** Dialogs (alert, confirm) the page opened: an injected script would open one. */
  dialogs: string[];
  close(): Promise<void>;
}

/** Steers the simulator through its control API. */
export async function control(servers: Servers, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${servers.simOrigin}/_sim/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`/_sim/${path}: ${res.status} ${await res.text()}`);
}

export async function openDashboard(
  options: { prepare?: (servers: Servers) => Promise<void> } = {},
): Promise<Session> {
  const executablePath = findChromium();
  if (!executablePath)
    throw new Error("no chromium installed (apt-get install chromium, or set CHROMIUM_PATH)");
  const logDir = join(ROOT, "test", "browser", ".out", "logs");
  mkdirSync(logDir, { recursive: true });
  const servers = await startServers(snapshotTree(), logDir);
  let host: HostServer | undefined;
  let browser: Browser | undefined;
  try {
    await options.prepare?.(servers);
    host = await startHost(servers.mcpUrl);
    browser = await chromium.launch({
      executablePath,
      headless: true,
      // Root in a container cannot use Chromium's own sandbox; the view's iframe sandbox still applies.
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("console", (msg) => {
      if (process.env.DASHBOARD_DEBUG) console.log(`[page] ${msg.text()}`);
    });
    const session: Session = {
      servers,
      host,
      browser,
      page,
      dialogs,
      close: async () => {
        await browser?.close();
        await host?.close();
        await servers.stop();
      },
    };
    return session;
  } catch (error) {
    await browser?.close();
    await host?.close();
    await servers.stop();
    throw error;
  }
}

export interface ViewOptions {
  width: number;
  /** light or dark: the host sends that theme with CSS variables; none: no theme at all. */
  theme: "light" | "dark" | "none";
  /** The system's preference (what prefers-color-scheme answers). */
  scheme?: "light" | "dark";
  /** More host page parameters (fullscreen=0, touch=1, node=, vmid=). */
  query?: Record<string, string>;
}

export interface View {
  frame: Frame;
  /** Index into session.host.calls where this page load began. */
  firstCall: number;
  /** The host page's background, which shows through the transparent view. */
  hostBackground: string;
}

/** Loads the host page as asked and returns the view's frame once the card is painted. */
export async function showView(session: Session, options: ViewOptions, timeoutMs = 60_000): Promise<View> {
  const { page } = session;
  await page.setViewportSize({ width: options.width, height: 900 });
  await page.emulateMedia({ colorScheme: options.scheme ?? "light" });
  const firstCall = session.host.calls.length;
  const query = new URLSearchParams({ theme: options.theme, ...options.query });
  await page.goto(`${session.host.url}?${query}`);
  const handle = await page.waitForSelector("iframe#app", { timeout: timeoutMs });
  const frame = await handle.contentFrame();
  if (!frame) throw new Error("the view's iframe has no frame");
  await frame.waitForSelector("body[data-painted] #trend canvas", { timeout: timeoutMs });
  const hostBackground = await page.evaluate(
    () => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor as string,
  );
  return { frame, firstCall, hostBackground };
}

/** Presses the card's button and waits for the full dashboard the host's fullscreen shows. */
export async function openFull(view: View, timeoutMs = 60_000): Promise<void> {
  await view.frame.click("#open-full");
  await view.frame.waitForSelector("body[data-mode='fullscreen'][data-loaded] #guests tbody tr", {
    timeout: timeoutMs,
  });
  await view.frame.waitForSelector("[data-chart='cpu'] canvas", { timeout: timeoutMs });
}

export { scratchDir };
