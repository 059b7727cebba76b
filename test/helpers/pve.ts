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

/** A POST of form fields that must succeed (most answer with a UPID). */
export const post = <T = string>(path: string, fields: Record<string, string | number> = {}) =>
  data<T>(path, form(fields));

/** A PUT of form fields that must succeed. */
export const put = <T = null>(path: string, fields: Record<string, string | number>) =>
  data<T>(path, form(fields, "PUT"));

/** GET /nodes/{node}/tasks/{upid}/status, as Proxmox answers it. */
export interface TaskStatus {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  tokenid?: string;
  status: "running" | "stopped";
  exitstatus?: string;
}

/** The node a UPID names. */
export const nodeOf = (upid: string) => upid.split(":")[1] as string;

export const taskStatus = (upid: string) => data<TaskStatus>(`/nodes/${nodeOf(upid)}/tasks/${upid}/status`);

/** Polls a task's status until it stops (tasks in tests take milliseconds to a few seconds). */
export async function taskFinished(upid: string): Promise<TaskStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await taskStatus(upid);
    if (s.status === "stopped") return s;
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error(`task ${upid} never stopped`);
}

/** A task's whole log, one string per line. */
export async function taskLog(upid: string): Promise<string[]> {
  const rows = await data<{ n: number; t: string }[]>(`/nodes/${nodeOf(upid)}/tasks/${upid}/log?limit=0`);
  return rows.map((r) => r.t);
}
