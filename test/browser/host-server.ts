// Serves the test host page (host/index.html and the bundled host/host.ts) and forwards /mcp to
// the MCP server, so the page, its MCP client and the server share one origin.

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const HOST_DIR = fileURLToPath(new URL("./host/", import.meta.url));

export interface HostServer {
  url: string;
  /** What passed through /mcp: the JSON-RPC method, and the tool's name for tools/call. */
  calls: string[];
  close(): Promise<void>;
}

export async function startHost(mcpUrl: string, port = 0): Promise<HostServer> {
  const bundle = await build({
    entryPoints: [`${HOST_DIR}host.ts`],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  const script = bundle.outputFiles[0]?.text ?? "";
  const page = readFileSync(`${HOST_DIR}index.html`, "utf8");
  const calls: string[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/host.js") {
        res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(script);
        return;
      }
      if (path === "/mcp") {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        if (req.method === "POST") {
          try {
            const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
              method?: string;
              params?: { name?: string };
            };
            if (message.method)
              calls.push(
                message.method === "tools/call" ? `tools/call ${message.params?.name}` : message.method,
              );
          } catch {
            // Not JSON: the server will say so.
          }
        }
        const headers = new Headers();
        for (const name of [
          "content-type",
          "accept",
          "mcp-session-id",
          "mcp-protocol-version",
          "last-event-id",
        ]) {
          const value = req.headers[name];
          if (typeof value === "string") headers.set(name, value);
        }
        // A client that goes away (or the server closing) ends the upstream stream too.
        const abort = new AbortController();
        res.on("close", () => abort.abort());
        const upstream = await fetch(mcpUrl, {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks),
          signal: abort.signal,
        });
        const out: Record<string, string> = {};
        upstream.headers.forEach((value, name) => {
          if (name !== "content-encoding" && name !== "content-length" && name !== "transfer-encoding")
            out[name] = value;
        });
        res.writeHead(upstream.status, out);
        try {
          if (upstream.body) {
            for await (const chunk of upstream.body) {
              if (res.writableEnded || res.destroyed) break;
              res.write(chunk);
            }
          }
        } catch {
          // The stream was aborted: nothing more to send.
        }
        if (!res.writableEnded) res.end();
        return;
      }
      if (path === "/" || path === "/index.html") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page);
        return;
      }
      res.writeHead(404).end("not found");
    } catch (error) {
      if (res.writableEnded || res.destroyed) return;
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
