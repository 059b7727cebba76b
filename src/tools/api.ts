import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { detail, searchEntry } from "../api/describe";
import { checkRequest, checkTarget } from "../api/guard";
import { allOperations, resolvePath } from "../api/index";
import type { HttpMethod } from "../api/schema";
import { matchesPrefix, nearestOperations, searchOperations } from "../api/search";
import { shape } from "../api/shape";
import { type ChangeTarget, changeSchema, guestTarget, runTask, waitArgs } from "../mcp/changes";
import type { Scope } from "../mcp/surface";
import { changes, defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import type { Endpoint } from "../proxmox/client";
import { maskSecrets } from "../proxmox/secrets";
import { parseUpid } from "../proxmox/upid";

/**
 * The whole Proxmox VE API through three tools: search_api finds an operation in the schema the
 * server embeds, read_api runs any GET, write_api any change. Each request is checked against the
 * schema, its operation's scope and the guard rails before it is sent (src/api/guard.ts).
 */

const METHODS = ["GET", "POST", "PUT", "DELETE"] as const;

// Values stay as the client sent them; src/api/validate.ts checks each against its schema.
const paramsArg = z.record(z.string(), z.unknown()).default({});

const pagingArgs = {
  limit: z.number().int().min(1).max(1000).default(50),
  offset: z.number().int().min(0).default(0),
};

const searchApiTool = tool({
  name: "search_api",
  title: "Search the Proxmox API",
  description:
    "Find Proxmox API operations the other tools lack (firewall, HA, network, users/tokens, storage config, backup jobs, downloads, services, updates). Everyday words, or path alone for one operation's parameters. Each hit has an example read_api or write_api call.",
  input: z.object({
    query: z.string().max(200).optional(),
    method: z.enum(METHODS).optional(),
    path: z.string().max(300).optional().describe("Exact path for full detail, or a prefix to filter"),
    limit: z.number().int().min(1).max(20).default(6),
  }),
  output: z.object({ operations: z.array(z.record(z.string(), z.unknown())), total: z.number() }),
  scope: "read",
  annotations: READ_ONLY,
  handler: () => async (args) => {
    const query = args.query?.trim() ?? "";
    if (!query && !args.path) throw new ToolError("Give query (a few words), path, or both.");
    if (args.path && !query) {
      const methods = args.method ? [args.method] : METHODS;
      const exact = methods.flatMap((m) => resolvePath(m, args.path as string)?.op ?? []);
      if (exact.length > 0) {
        const details = exact.map(detail);
        return {
          text: details.map((d) => d.text).join("\n\n"),
          data: { operations: details.map((d) => ({ ...d.info })), total: details.length },
        };
      }
    }
    let hits: ReturnType<typeof searchEntry>[];
    let total: number;
    let head = "";
    if (query) {
      const found = searchOperations(query, {
        method: args.method,
        pathPrefix: args.path,
        limit: args.limit,
      });
      const { words, ignored } = found.query;
      hits = found.hits.map((h) =>
        searchEntry(h.op, h.values, { share: h.match, words: h.matched, of: words.length }),
      );
      total = found.total;
      const best = found.hits[0]?.matched.length ?? 0;
      head = searchHead(words, ignored, best, found.prefixIgnored ? args.path : undefined);
    } else {
      const under = allOperations().filter(
        (op) => (!args.method || op.method === args.method) && matchesPrefix(op.path, args.path as string),
      );
      if (!under.length) {
        const near = nearestOperations(args.method, args.path as string, 5).map((op) => op.key);
        throw new ToolError(
          `No operation under ${args.path}. Nearest operations: ${near.join("; ")}. Or search by words with query.`,
        );
      }
      hits = under.slice(0, args.limit).map((op) => searchEntry(op));
      total = under.length;
    }
    const more = total > hits.length ? `\n… ${total - hits.length} more; raise limit or add words.` : "";
    return {
      text: `${head}${hits.map((h) => h.line).join("\n")}${more}\nsearch_api path=<template> gives all parameters.`,
      data: { operations: hits.map((h) => ({ ...h.info })), total },
    };
  },
});

/** What was searched, what was left out, and how many of the words the best operation matches. */
function searchHead(words: string[], ignored: string[], best: number, prefix: string | undefined): string {
  const lines: string[] = [];
  if (prefix) lines.push(`No operation under ${prefix}: searched the whole API.`);
  const left = ignored.length
    ? ` (${ignored.join(", ")} left out: numbers, IDs and names carry no weight)`
    : "";
  const searched = words.join(", ");
  if (words.length === 0) lines.push(`No words to search by${left}; general operations:`);
  else if (best === words.length) lines.push(`Matches for ${searched}${left}:`);
  else if (best > 0) lines.push(`No operation matches all of ${searched}${left}; best partial matches:`);
  else lines.push(`No operation matches ${searched}${left}; general operations:`);
  return `${lines.join("\n")}\n`;
}

const shapedOutput = z.object({
  method: z.string(),
  path: z.string(),
  total: z.number().optional(),
  offset: z.number().optional(),
  columns: z.array(z.string()).optional(),
  rows: z.array(z.array(z.unknown())).optional(),
  same: z.record(z.string(), z.unknown()).optional(),
  values: z.record(z.string(), z.unknown()).optional(),
  items: z.array(z.unknown()).optional(),
  value: z.unknown().optional(),
  more: z.number().optional(),
});

const readApiTool = tool({
  name: "read_api",
  title: "Read from the Proxmox API",
  description:
    "Any GET of the Proxmox API, path filled in (e.g. /nodes/pve1/qemu/101/firewall/rules), with params. Tables paged by limit/offset; fields keeps those columns.",
  input: z.object({
    path: z.string().min(1).max(500),
    params: paramsArg,
    fields: z.array(z.string()).max(100).optional(),
    ...pagingArgs,
  }),
  output: shapedOutput,
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    const checked = checkRequest(deps, "read_api", "GET", args.path, args.params);
    const { data } = await deps.client.callWithTotal(checked.op.key as Endpoint, checked.wire as never);
    const shaped = shape(data, { limit: args.limit, offset: args.offset, fields: args.fields });
    return {
      text: `GET ${checked.concrete}:\n${shaped.text}`,
      data: { method: "GET", path: checked.concrete, ...shaped.data },
    };
  },
});

const writeApiTool = tool({
  name: "write_api",
  title: "Change via the Proxmox API",
  description:
    "Any POST/PUT/DELETE of the Proxmox API (find it with search_api). Without confirm: true it only previews the request, target and privileges. Tasks are waited on.",
  input: z.object({
    method: z.enum(["POST", "PUT", "DELETE"]),
    path: z.string().min(1).max(500),
    params: paramsArg,
    confirm: z.boolean().default(false),
    ...waitArgs,
  }),
  // The shape every change answers with, plus what only a raw API call has.
  output: changeSchema.extend({
    request: z.record(z.string(), z.unknown()).optional(),
    privileges: z.string().optional(),
    result: z.record(z.string(), z.unknown()).optional(),
  }),
  scope: "write",
  // openWorld: download-url and the like make a node fetch from anywhere.
  annotations: changes({ destructive: true, idempotent: false, openWorld: true }),
  handler: (deps) => async (args, ctx) => {
    const checked = checkRequest(deps, "write_api", args.method as HttpMethod, args.path, args.params);
    const { op, wire, concrete } = checked;
    const target = await checkTarget(deps, checked);
    const pathParams = new Set(op.pathParams);
    const body = maskSecrets(Object.fromEntries(Object.entries(wire).filter(([k]) => !pathParams.has(k))));
    const request = { method: op.method, path: concrete, params: body };
    const sent = `${op.method} ${concrete}${
      Object.keys(body).length
        ? ` with ${Object.entries(body)
            .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : v}`)
            .join(" ")}`
        : ""
    }`;
    const subject: ChangeTarget | undefined = target.guest
      ? guestTarget(target.guest)
      : typeof wire.node === "string"
        ? { node: wire.node }
        : undefined;
    const action = `${op.method} ${concrete}`;
    if (!args.confirm) {
      return {
        text:
          `Not done: this would send ${sent}.\nTarget: ${target.label}. Scope: ${op.class.scope}. Proxmox checks: ${op.privileges}.` +
          `${op.upid ? " It starts a task." : ""}\nCall write_api again with confirm: true to go ahead.`,
        data: {
          state: "needs_confirm" as const,
          action,
          ...(subject ? { target: subject } : {}),
          request,
          privileges: op.privileges,
        },
      };
    }
    const audit = { tool: "write_api", target: target.guest ? target.label : concrete, args: request };
    const call = () => deps.client.call(op.key as Endpoint, wire as never);
    let immediate: unknown;
    // runTask audits the call (args masked), tracks a task it starts, and waits with progress.
    const answer = await runTask(deps, ctx, {
      ...audit,
      subject: subject ?? {},
      action,
      start: async () => {
        const result = await call();
        if (typeof result === "string" && parseUpid(result)) return result;
        immediate = result;
        return null;
      },
      wait: args.wait,
      waitSeconds: args.wait_seconds,
    });
    if (answer.data.upid || immediate === null || immediate === undefined || immediate === "") return answer;
    const shaped = shape(immediate, { limit: 200, offset: 0 });
    // A secret Proxmox hands back (a new API token's value) is shown here once; it is not kept.
    const secret = /\/token\/\{tokenid\}$/.test(op.path) && op.method === "POST" && shaped.data.values?.value;
    const once = secret
      ? "\nThe token's value is shown only now: Proxmox will not show it again, and this server keeps no copy."
      : "";
    return {
      text: `${op.method} ${concrete}: done.\n${shaped.text}${once}`,
      data: { ...answer.data, result: shaped.data },
    };
  },
});

/** write_api serves write, exec and admin operations: it is listed when any of them is granted. */
function writeScope(deps: ToolDeps): Scope {
  return (["write", "admin", "exec"] as const).find((scope) => deps.surface.scopes.has(scope)) ?? "write";
}

export function registerApiTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, searchApiTool);
  defineTool(server, deps, readApiTool);
  const scope = writeScope(deps);
  defineTool(server, deps, scope === writeApiTool.scope ? writeApiTool : { ...writeApiTool, scope });
}
