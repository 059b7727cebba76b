import { env } from "cloudflare:workers";
import { expect } from "vitest";

/**
 * Raw access to the simulator's Proxmox API and control endpoint, for the simulator's own tests
 * (the product's tests go through MCP clients instead).
 */

/** The simulator's built-in development token (wrangler.toml [env.dev]). */
export const SIM_TOKEN = "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000";

export type Row = Record<string, unknown>;

/** An /api2/json request; `auth` null sends no Authorization header. */
export function api(
  path: string,
  init: RequestInit = {},
  auth: string | null = SIM_TOKEN,
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth !== null) headers.set("Authorization", auth);
  return env.PVE!.fetch(`http://pve/api2/json${path}`, { ...init, headers });
}

/** A call that must succeed: its `data`. */
export async function data<T = Row>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await api(path, init);
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).toBe(200);
  return (JSON.parse(text) as { data: T }).data;
}

/** A refused call: status and the body's message (and per-parameter errors). */
export async function refused(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; message: string; errors?: Row }> {
  const res = await api(path, init);
  const body = (await res.json()) as { message: string; errors?: Row };
  expect(res.status, `${path} should fail`).not.toBe(200);
  return { status: res.status, message: body.message, ...(body.errors ? { errors: body.errors } : {}) };
}

/** A form-encoded body, as Proxmox clients send POST and PUT parameters. */
export const form = (fields: Record<string, string | number>, method = "POST"): RequestInit => ({
  method,
  body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString(),
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});

/** A POST to the simulator's control endpoint that must succeed. */
export async function control<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<T> {
  const res = await env.PVE!.fetch(`http://pve/_sim/${path}`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<T>;
}
