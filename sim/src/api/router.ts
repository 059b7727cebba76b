// One router keyed by API path template, like PVE::RESTHandler's method map.

import { API_SCHEMA, type PveEndpointSchema } from "../generated/api-schema";
import type { Handler, Route } from "./context";
import { PveError } from "./respond";

interface TrieNode {
  literal: Map<string, TrieNode>;
  param?: { name: string; node: TrieNode };
  methods: Map<
    string,
    { handler: Handler; schema: PveEndpointSchema; template: string; params?: Route["params"] }
  >;
}

const newNode = (): TrieNode => ({ literal: new Map(), methods: new Map() });

export interface Match {
  handler: Handler;
  schema: PveEndpointSchema;
  template: string;
  pathParams: Record<string, string>;
  params?: Route["params"];
}

/**
 * Volume ids (`local:iso/x.iso`) and IP set entries (`10.9.0.0/24`) contain "/": a trailing
 * `{volume}` or `{cidr}` takes the rest of the path, so both a raw and an encoded value reach the
 * handler once the whole path is decoded, as Proxmox's own routing lets them.
 */
const GREEDY_PARAMS = new Set(["volume", "cidr"]);

/** The handler of an operation of the schema that the simulator does not model. */
const notModelled: Handler = (ctx) => {
  throw new PveError(`Method '${ctx.method} ${ctx.path}' not implemented`, 501);
};

export class Router {
  private readonly root = newNode();

  constructor(routes: Route[]) {
    for (const r of routes) this.add(r);
    // Every other operation of the schema is routed too: Proxmox would run it, the simulator does
    // not model it. It is checked like the rest (permissions, parameters) and then answers 501.
    const modelled = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const [key, schema] of Object.entries(API_SCHEMA)) {
      if (modelled.has(key)) continue;
      this.add({ method: schema.method, path: schema.path, handler: notModelled });
    }
  }

  private add(route: Route): void {
    const key = `${route.method} ${route.path}`;
    const schema = API_SCHEMA[key];
    if (!schema) throw new Error(`route ${key} has no schema; add it to scripts/gen-pve-schema.mjs`);
    let node = this.root;
    for (const seg of route.path.split("/").filter(Boolean)) {
      const param = /^\{(.+)\}$/.exec(seg);
      if (param) {
        node.param ??= { name: param[1] as string, node: newNode() };
        node = node.param.node;
      } else {
        let next = node.literal.get(seg);
        if (!next) {
          next = newNode();
          node.literal.set(seg, next);
        }
        node = next;
      }
    }
    if (node.methods.has(route.method)) throw new Error(`duplicate route ${key}`);
    node.methods.set(route.method, {
      handler: route.handler,
      schema,
      template: route.path,
      ...(route.params ? { params: route.params } : {}),
    });
  }

  /** Segments are already percent-decoded. */
  match(method: string, segments: string[]): Match | null {
    const params: Record<string, string> = {};
    const walk = (node: TrieNode, i: number): TrieNode | null => {
      if (i === segments.length) return node;
      const seg = segments[i] as string;
      const lit = node.literal.get(seg);
      if (lit) {
        const found = walk(lit, i + 1);
        if (found) return found;
      }
      if (node.param) {
        const { name, node: child } = node.param;
        if (GREEDY_PARAMS.has(name) && child.methods.size > 0 && child.literal.size === 0 && !child.param) {
          params[name] = segments.slice(i).join("/");
          return child;
        }
        params[name] = seg;
        const found = walk(child, i + 1);
        if (found) return found;
        delete params[name];
      }
      return null;
    };
    const node = walk(this.root, 0);
    const entry = node?.methods.get(method);
    if (!entry) return null;
    return { ...entry, pathParams: params };
  }
}
