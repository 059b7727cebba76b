import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createMcpHandler } from "agents/mcp/server";
import { inject } from "vitest";
import { createServer, toolDeps } from "../../src/server/server";
import { connect, type TestClient } from "./mcp";
import type { Recording } from "./recording";

/**
 * Real Proxmox VE answers as the server's upstream: a PVE binding that serves recorded bodies
 * (../shared/proxmox/recorded, handed over by the global setup) byte for byte, so the tools are
 * proven against what real hosts send and not only against the simulator.
 */

/** null when ../shared is absent (it is present in CI): replay tests skip then. */
export const recordings: Recording[] | null = inject("recorded");

/** The recording of one file (the first index entry that names it). */
export function recording(file: string): Recording {
  const found = recordings?.find((r) => r.file === file);
  if (!found) throw new Error(`no recording ${file}`);
  return found;
}

/** The `data` of a recorded body. */
export const recordedData = <T = unknown>(file: string): T =>
  (JSON.parse(recording(file).body) as { data: T }).data;

let replays = 0;

export interface Replay {
  client: TestClient;
  /** Every upstream request, as "GET /path?query" (changes followed by their form body). */
  requests: string[];
  /** Requests nothing was recorded for (answered 501, as Proxmox answers an unknown path). */
  unanswered: string[];
}

/** An answer the recordings lack but a tool needs first, given by hand and said so in the test. */
export interface Served {
  method?: string;
  path: string;
  body: string;
}

/**
 * Connects an MCP client to a server whose upstream answers with these recordings (matched by
 * method, path and the recording's query; other query parameters the tool adds are ignored).
 */
export async function replay(files: string[], extra: Served[] = []): Promise<Replay> {
  const served = [
    ...files.map((file) => recording(file)),
    ...extra.map((e) => ({ method: e.method ?? "GET", path: e.path, query: {}, status: 200, body: e.body })),
  ];
  const requests: string[] = [];
  const unanswered: string[] = [];
  const upstream = {
    fetch: async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const path = decodeURIComponent(url.pathname.replace(/^\/api2\/json/, ""));
      const line = `${request.method} ${path}${url.search}`;
      const body =
        request.method === "GET" || request.method === "DELETE"
          ? ""
          : new TextDecoder().decode(await request.arrayBuffer());
      requests.push(body ? `${line} ${body}` : line);
      const match = served
        .filter(
          (r) =>
            r.method === request.method &&
            r.path.replace(/\/$/, "") === path.replace(/\/$/, "") &&
            Object.entries(r.query).every(([k, v]) => url.searchParams.get(k) === v),
        )
        .sort((a, b) => Object.keys(b.query).length - Object.keys(a.query).length)[0];
      if (!match) {
        unanswered.push(line);
        const message = `Method '${request.method} ${path}' not implemented`;
        return new Response(JSON.stringify({ data: null, message: `${message}\n` }), {
          status: 501,
          statusText: message,
          headers: { "Content-Type": "application/json;charset=UTF-8" },
        });
      }
      return new Response(match.body, {
        status: match.status,
        headers: { "Content-Type": "application/json;charset=UTF-8", Server: "pve-api-daemon/3.0" },
      });
    },
  };
  // Its own PROXMOX_URL keeps the guest-location cache apart from the simulator's.
  replays += 1;
  const replayEnv = { ...env, PVE: upstream, PROXMOX_URL: `https://replay-${replays}.invalid` } as Env;
  const handler = createMcpHandler(() => createServer(toolDeps(replayEnv)));
  const client = await connect("2026-07-28", (request) =>
    handler(request, replayEnv, createExecutionContext()),
  );
  return { client, requests, unanswered };
}
