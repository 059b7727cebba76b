import { encodeParams, fillPath, type Params } from "./encode";
import { cleanPveMessage, errorFromResponse, ProxmoxError, scrub } from "./errors";
import type { PveEndpoints } from "./generated/pve-api";

/** "GET /nodes/{node}/qemu", ... : every endpoint the server calls, typed from the official schema. */
export type Endpoint = keyof PveEndpoints;
export type EndpointParams<E extends Endpoint> = PveEndpoints[E]["params"];
export type EndpointResult<E extends Endpoint> = PveEndpoints[E]["result"];

export type Fetcher = (request: Request) => Promise<Response>;

export interface ProxmoxClientOptions {
  /** Sends the request upstream: a service binding's fetch or the global fetch. */
  fetch: Fetcher;
  /** Origin of the Proxmox API, without `/api2/json`. */
  baseUrl: string;
  tokenId?: string;
  tokenSecret?: string;
  accessClientId?: string;
  accessClientSecret?: string;
  timeoutMs: number;
  /** Describes the upstream in messages, e.g. "the PVE binding" or the PROXMOX_URL host. */
  upstreamLabel: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface Envelope<T> {
  data: T;
  total?: number;
}

/**
 * The only code that knows about `/api2/json`, the request encoding and the `{data}` envelope.
 * Tools call `client.call("GET /nodes/{node}/qemu", { node })` and get typed data or a
 * ProxmoxError whose message a person can act on.
 */
export class ProxmoxClient {
  readonly #options: ProxmoxClientOptions;
  /** Counts upstream requests this client made (the benchmark reads it). */
  requestCount = 0;

  constructor(options: ProxmoxClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, "").replace(/\/api2\/json$/, "") };
  }

  get upstreamLabel(): string {
    return this.#options.upstreamLabel;
  }

  async call<E extends Endpoint>(
    endpoint: E,
    params: EndpointParams<E>,
    options?: CallOptions,
  ): Promise<EndpointResult<E>> {
    return (await this.callWithTotal(endpoint, params, options)).data;
  }

  /**
   * Like `call`, keeping the envelope's `total` (task lists and logs carry one). A GET that
   * failed to connect, or met a 502/503/530 from the tunnel or proxy, is sent once more: reading
   * is idempotent, and such failures often last only a moment. Writes are never sent twice.
   */
  async callWithTotal<E extends Endpoint>(
    endpoint: E,
    params: EndpointParams<E>,
    options?: CallOptions,
  ): Promise<Envelope<EndpointResult<E>>> {
    try {
      return await this.#send(endpoint, params, options);
    } catch (error) {
      if (!endpoint.startsWith("GET ") || options?.signal?.aborted || !worthRetrying(error)) throw error;
      return this.#send(endpoint, params, options);
    }
  }

  async #send<E extends Endpoint>(
    endpoint: E,
    params: EndpointParams<E>,
    options?: CallOptions,
  ): Promise<Envelope<EndpointResult<E>>> {
    const space = endpoint.indexOf(" ");
    const method = endpoint.slice(0, space);
    const template = endpoint.slice(space + 1);
    const { path, rest } = fillPath(template, params as Params);
    const encoded = encodeParams(rest);
    const hasBody = method === "POST" || method === "PUT";
    const query = !hasBody && encoded.size > 0 ? `?${encoded}` : "";
    const url = `${this.#options.baseUrl}/api2/json${path}${query}`;
    const displayPath = decodeURIComponent(path);

    const headers = new Headers({ Accept: "application/json" });
    const { tokenId, tokenSecret, accessClientId, accessClientSecret } = this.#options;
    if (tokenId && tokenSecret) headers.set("Authorization", `PVEAPIToken=${tokenId}=${tokenSecret}`);
    if (accessClientId && accessClientSecret) {
      headers.set("CF-Access-Client-Id", accessClientId);
      headers.set("CF-Access-Client-Secret", accessClientSecret);
    }
    if (hasBody) headers.set("Content-Type", "application/x-www-form-urlencoded");

    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const request = new Request(url, {
      method,
      headers,
      body: hasBody ? encoded.toString() : undefined,
      redirect: "manual",
      signal,
    });

    this.requestCount++;
    let response: Response;
    let body: string;
    try {
      response = await this.#options.fetch(request);
      body = await response.text();
    } catch (error) {
      if (error instanceof ProxmoxError) throw error;
      throw this.#transportError(error, method, displayPath, timeout.aborted);
    }

    const contentType = response.headers.get("content-type") ?? "";
    if (response.status >= 200 && response.status < 300 && contentType.includes("application/json")) {
      let parsed: { data?: unknown; total?: unknown };
      try {
        parsed = JSON.parse(body);
      } catch {
        throw this.#sanitize(
          new ProxmoxError({
            kind: "bad_response",
            status: response.status,
            method,
            path: displayPath,
            message: `Proxmox answered ${method} ${displayPath} with JSON that does not parse.`,
          }),
        );
      }
      const total = typeof parsed.total === "number" ? parsed.total : undefined;
      return { data: (parsed.data ?? null) as EndpointResult<E>, total };
    }
    throw this.#sanitize(
      errorFromResponse({
        method,
        path: displayPath,
        status: response.status,
        statusText: response.statusText,
        body,
        contentType,
        location: response.headers.get("location"),
        host: this.#options.upstreamLabel,
      }),
    );
  }

  #transportError(error: unknown, method: string, path: string, timedOut: boolean): ProxmoxError {
    const seconds = Math.round(this.#options.timeoutMs / 100) / 10;
    if (timedOut) {
      return this.#sanitize(
        new ProxmoxError({
          kind: "timeout",
          method,
          path,
          message:
            `Proxmox did not answer ${method} ${path} within ${seconds} s. The host or the tunnel may be down or overloaded; ` +
            "try again, or raise PROXMOX_TIMEOUT_MS.",
        }),
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === "AbortError") {
      return new ProxmoxError({
        kind: "network",
        method,
        path,
        message: `The request ${method} ${path} was cancelled.`,
      });
    }
    return this.#sanitize(
      new ProxmoxError({
        kind: "network",
        method,
        path,
        message: `Could not connect to Proxmox through ${this.#options.upstreamLabel} (${cleanPveMessage(reason)}). Check PROXMOX_URL and that the tunnel is up.`,
      }),
    );
  }

  #sanitize(error: ProxmoxError): ProxmoxError {
    const secrets = [this.#options.tokenSecret, this.#options.accessClientSecret];
    const message = scrub(error.message, secrets);
    if (message === error.message) return error;
    return new ProxmoxError({
      kind: error.kind,
      message,
      status: error.status,
      pveMessage: error.pveMessage && scrub(error.pveMessage, secrets),
      errors: error.errors,
      method: error.method,
      path: error.path,
    });
  }
}

/** A connection that failed (not one the caller cancelled) or a gateway that could not pass the request on. */
function worthRetrying(error: unknown): boolean {
  if (!(error instanceof ProxmoxError)) return false;
  if (error.kind === "network") return !/was cancelled/.test(error.message);
  return error.status === 502 || error.status === 503 || error.status === 530;
}

export interface UpstreamEnv {
  PVE?: Fetcher | { fetch: Fetcher };
  PROXMOX_URL?: string;
  PROXMOX_TOKEN_ID?: string;
  PROXMOX_TOKEN_SECRET?: string;
  CF_ACCESS_CLIENT_ID?: string;
  CF_ACCESS_CLIENT_SECRET?: string;
  PROXMOX_TIMEOUT_MS?: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Upstream selection: a `PVE` service binding when present (Workers VPC through a Cloudflare
 * Tunnel in production, the simulator in dev and tests), else PROXMOX_URL with the global fetch.
 */
export function clientFromEnv(env: UpstreamEnv): ProxmoxClient {
  const timeoutMs = Number(env.PROXMOX_TIMEOUT_MS) > 0 ? Number(env.PROXMOX_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  const common = {
    tokenId: env.PROXMOX_TOKEN_ID?.trim() || undefined,
    tokenSecret: env.PROXMOX_TOKEN_SECRET?.trim() || undefined,
    accessClientId: env.CF_ACCESS_CLIENT_ID?.trim() || undefined,
    accessClientSecret: env.CF_ACCESS_CLIENT_SECRET?.trim() || undefined,
    timeoutMs,
  };
  const binding = env.PVE;
  if (binding) {
    const send: Fetcher = typeof binding === "function" ? binding : (request) => binding.fetch(request);
    return new ProxmoxClient({
      ...common,
      fetch: send,
      // The binding decides where requests go; the URL's host is only a label.
      baseUrl: env.PROXMOX_URL?.trim() || "http://pve.internal",
      upstreamLabel: "the PVE service binding",
    });
  }
  const url = env.PROXMOX_URL?.trim();
  if (!url) {
    return new ProxmoxClient({
      ...common,
      fetch: async () => {
        throw new ProxmoxError({
          kind: "config",
          message:
            "No Proxmox upstream is configured. Set PROXMOX_URL to your Proxmox API hostname behind a Cloudflare Tunnel, " +
            "or bind PVE to a Workers VPC service (see the README).",
        });
      },
      baseUrl: "http://unconfigured.invalid",
      upstreamLabel: "an unconfigured upstream",
    });
  }
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // Reported by the request itself.
  }
  return new ProxmoxClient({
    ...common,
    fetch: (request) => fetch(request),
    baseUrl: url,
    upstreamLabel: host,
  });
}
