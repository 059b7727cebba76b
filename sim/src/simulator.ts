// The Proxmox VE simulator: one Durable Object owning the whole cluster. Requests under
// /api2/json go through the same steps as in pveproxy/pvedaemon: auth, routing, the node proxy,
// parameter extraction and validation, the handler, the envelope. /_sim/* is the control API.

import { DurableObject } from "cloudflare:workers";
import { Permissions } from "./api/acl";
import { authenticate, DEFAULT_TOKEN_ID, DEFAULT_TOKEN_SECRET } from "./api/auth";
import { Ctx } from "./api/context";
import { BodyError, type ExtractedParams, extractParams, type RawParams } from "./api/params";
import { checkPermissions, permError } from "./api/permissions";
import { bareResponse, errorResponse, okResponse, PveError, paramError } from "./api/respond";
import { Router } from "./api/router";
import { coerceParams, normalizeLegacy, validateParams } from "./api/validate";
import { handleControl, type RequestLogEntry } from "./control/control";
import { faultResponse, takeFault } from "./control/faults";
import { accessRoutes } from "./handlers/access";
import { agentRoutes, settleAgents } from "./handlers/agent";
import { aptRoutes } from "./handlers/apt";
import { backupRoutes } from "./handlers/backup";
import { backupJobRoutes } from "./handlers/backup-jobs";
import { cloneRoutes } from "./handlers/clone";
import { clusterRoutes } from "./handlers/cluster";
import { clusterConfigRoutes } from "./handlers/clusterconfig";
import { configRoutes } from "./handlers/config";
import { downloadRoutes } from "./handlers/downloads";
import { firewallRoutes } from "./handlers/firewall";
import { haRoutes } from "./handlers/ha";
import { logRoutes } from "./handlers/logs";
import { lxcRoutes } from "./handlers/lxc";
import { migrateRoutes } from "./handlers/migrate";
import { networkRoutes } from "./handlers/network";
import { nodeDiskRoutes } from "./handlers/node-disks";
import { nodePowerRoutes } from "./handlers/node-power";
import { nodeRoutes } from "./handlers/nodes";
import { poolRoutes } from "./handlers/pools";
import { provisionRoutes } from "./handlers/provision";
import { qemuRoutes } from "./handlers/qemu";
import { replicationRoutes } from "./handlers/replication";
import { rrdRoutes } from "./handlers/rrd";
import { serviceRoutes } from "./handlers/services";
import { storageRoutes } from "./handlers/storage";
import { storageConfigRoutes } from "./handlers/storageconfig";
import { taskRoutes } from "./handlers/tasks";
import { settleHosts } from "./host/power";
import { tokenSecret } from "./state/access";
import { seedWorld } from "./state/seed";
import { Store } from "./state/store";
import { tick } from "./state/tasks";
import { permissionsOn } from "./state/version";

const router = new Router([
  ...clusterRoutes,
  ...nodeRoutes,
  ...qemuRoutes,
  ...agentRoutes,
  ...lxcRoutes,
  ...provisionRoutes,
  ...configRoutes,
  ...cloneRoutes,
  ...migrateRoutes,
  ...backupRoutes,
  ...storageRoutes,
  ...taskRoutes,
  ...poolRoutes,
  ...accessRoutes,
  ...haRoutes,
  ...networkRoutes,
  ...backupJobRoutes,
  ...firewallRoutes,
  ...storageConfigRoutes,
  ...clusterConfigRoutes,
  ...replicationRoutes,
  ...serviceRoutes,
  ...logRoutes,
  ...aptRoutes,
  ...nodePowerRoutes,
  ...nodeDiskRoutes,
  ...downloadRoutes,
  ...rrdRoutes,
]);

const MAX_LOGGED_REQUESTS = 5000;

/** Node operations without `proxyto`: the node pveproxy answers from runs them, so {node} may be offline. */
const RUNS_LOCALLY = new Set(["/nodes/{node}/wakeonlan"]);

interface SimVars {
  SIM_TOKEN_ID?: string;
  SIM_TOKEN_SECRET?: string;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

/** uri_unescape of the request path; malformed escapes stay as they are. */
function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  }
}

/** Request log values as they were sent: strings or string arrays. */
function asSent(params: RawParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] = Array.isArray(v)
      ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)))
      : typeof v === "string"
        ? v
        : v;
  }
  return out;
}

export class PveSimulator extends DurableObject<SimEnv> {
  store: Store;
  readonly requests: RequestLogEntry[] = [];

  constructor(ctx: DurableObjectState, env: SimEnv) {
    super(ctx, env);
    this.store = new Store(ctx.storage);
    ctx.blockConcurrencyWhile(async () => {
      if (!this.store.load()) this.store.replace(seedWorld({ nodes: 3 }, Date.now()));
    });
  }

  /**
   * What a restart of this object does (eviction, a deploy, a crash): everything in memory is
   * gone and the state is read back from SQLite, as the constructor does.
   */
  restart(): void {
    this.store = new Store(this.ctx.storage);
    if (!this.store.load()) this.store.replace(seedWorld({ nodes: 3 }, Date.now()));
    this.requests.length = 0;
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_sim/")) return handleControl(this, request, url);
    if (url.pathname.startsWith("/api2/") || url.pathname === "/api2") return this.api(request, url);
    return bareResponse(501, "no such uri");
  }

  private token(): { id: string; secret: string } {
    const vars = this.env as SimEnv & SimVars;
    return {
      id: vars.SIM_TOKEN_ID || DEFAULT_TOKEN_ID,
      secret: vars.SIM_TOKEN_SECRET || DEFAULT_TOKEN_SECRET,
    };
  }

  private async api(request: Request, url: URL): Promise<Response> {
    await sleep(this.store.settings.latencyMs);
    const m = /^\/api2\/([^/]+)(\/.*)?$/.exec(url.pathname);
    // Proxmox (PVE::APIServer::AnyEvent) decodes the whole path before splitting it, so an
    // encoded "/" ("/pools/a%2Fb") is a separator like any other and names a different path.
    const segments = decodeSegment(m?.[2] ?? "")
      .split("/")
      .filter(Boolean);
    const path = `/${segments.join("/")}`;
    const entry: RequestLogEntry = {
      method: request.method,
      path,
      query: {},
      body: {},
      contentType: request.headers.get("Content-Type"),
      authorized: false,
      status: 0,
    };
    this.requests.push(entry);
    if (this.requests.length > MAX_LOGGED_REQUESTS)
      this.requests.splice(0, this.requests.length - MAX_LOGGED_REQUESTS);
    const res = await this.answer(request, url, m?.[1], segments, path, entry);
    entry.status = res.status;
    return res;
  }

  private async answer(
    request: Request,
    url: URL,
    format: string | undefined,
    segments: string[],
    path: string,
    entry: RequestLogEntry,
  ): Promise<Response> {
    const { store } = this;
    const fault = takeFault(store.faults, path);
    if (fault) {
      store.saveFaults();
      return faultResponse(fault, request.signal);
    }
    if (format !== "json") return bareResponse(501, "no such uri");

    let params: ExtractedParams | undefined;
    let bodyError: string | undefined;
    try {
      params = await extractParams(request, url);
      entry.query = asSent(params.query);
      entry.body = asSent(params.body);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      bodyError = e.message;
    }

    const { id, secret } = this.token();
    const auth = authenticate(request.headers.get("Authorization"), id, secret, (tokenid) =>
      tokenSecret(store, tokenid, Math.floor(Date.now() / 1000)),
    );
    // AnyEvent.pm: the realm list of the login form needs no credentials.
    const anonymous =
      !auth.ok && auth.reason === "No ticket" && request.method === "GET" && path === "/access/domains";
    if (!auth.ok && !anonymous) {
      // pveproxy delays every failed authentication (3 s) and answers with an empty body.
      await sleep(store.settings.authFailureDelayMs);
      return bareResponse(401, auth.reason);
    }
    const user = auth.ok ? auth.user : "";
    entry.authorized = auth.ok;
    if (bodyError !== undefined || !params) return bareResponse(501, bodyError ?? "bad request");

    const method = request.method;
    const match = router.match(method, segments);
    if (!match) return errorResponse(new PveError(`Method '${method} ${path}' not implemented`, 501));

    const now = Date.now();
    // What the guests did since the last request (exec jobs ending, guest-initiated shutdowns)
    // happened before any task that ends now, so it goes first.
    settleAgents(store, now);
    // Node reboots and shutdowns that came due, with what their guests and tasks did before.
    settleHosts(store, now);
    tick(store, now);

    try {
      // pveproxy proxies /nodes/{node}/... to that node; offline nodes fail at the connection.
      const nodeName = match.pathParams.node;
      if (nodeName !== undefined && /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(nodeName)) {
        const node = store.nodes.get(nodeName);
        if (!node) throw new PveError(`no such cluster node '${nodeName}'`);
        if (!node.online && !RUNS_LOCALLY.has(match.template)) {
          return bareResponse(
            595,
            "Errors during connection establishment, proxy handshake: No route to host",
          );
        }
      }

      const merged: RawParams = { ...params.merged };
      for (const [k, v] of Object.entries(match.pathParams)) {
        const given = merged[k];
        if (given !== undefined && given !== null && String(given) !== v) {
          throw paramError({ [k]: "duplicate parameter (already defined in URI) with conflicting values!" });
        }
        merged[k] = v;
      }
      // pvedaemon checks permissions on the raw parameters, before it validates them.
      // PVE/HTTPServer.pm: operations without `allowtoken` refuse API tokens, and every caller
      // here is a token. The text keeps the newline raise_perm_exc puts inside the parentheses.
      if (auth.ok && !match.schema.allowtoken) {
        throw permError(`URI '${path}' not available with API token, need proper ticket.\n`);
      }
      const perms = new Permissions(store, user, user === id);
      checkPermissions(match.schema, merged, perms, permissionsOn(match.schema, store.settings));

      const schema = match.params?.(match.schema.parameters, store.settings) ?? match.schema.parameters;
      normalizeLegacy(merged, schema);
      const errors = validateParams(merged, schema);
      if (errors) throw paramError(errors);

      const ctx = new Ctx(store, now, coerceParams(merged, schema), user, method, path);
      ctx.perms = perms;
      // Handlers that wait for their task (background_delay, delay) answer asynchronously.
      const data = await match.handler(ctx);
      const extra = {
        ...(ctx.total === undefined ? {} : { total: ctx.total }),
        ...(ctx.changes === undefined ? {} : { changes: ctx.changes }),
      };
      return okResponse(data, Object.keys(extra).length ? extra : undefined);
    } catch (e) {
      if (e instanceof PveError) return errorResponse(e);
      console.error("simulator handler crashed", e);
      return errorResponse(new PveError(`internal error: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
}
