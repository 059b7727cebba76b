import { env } from "cloudflare:workers";
import { clearGuestIndex } from "../../src/proxmox/locate";

/** Steers the simulator through its control endpoint, the only way tests change it. */
async function control(path: string, init?: { method?: string; body?: unknown }): Promise<unknown> {
  const pve = env.PVE;
  if (!pve) throw new Error("the test Worker has no PVE binding");
  const response = await pve.fetch(`http://pve/_sim/${path}`, {
    method: init?.method ?? (init?.body !== undefined ? "POST" : "GET"),
    headers: { "Content-Type": "application/json" },
    body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  if (!response.ok)
    throw new Error(`simulator control ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: Record<string, string | string[]>;
  contentType?: string;
  authorized: boolean;
  status: number;
}

export const sim = {
  async reset(scale?: { nodes?: number; guests?: number }): Promise<void> {
    await control("reset", { body: scale ?? {} });
    clearGuestIndex();
  },
  settings: (settings: { latencyMs?: number; authFailureDelayMs?: number; taskDurationMs?: number }) =>
    control("settings", { body: settings }),
  fail: (fault: {
    count: number;
    status?: number;
    kind?: "json" | "empty" | "access-login" | "tunnel-error" | "hang";
    message?: string;
    pathPrefix?: string;
  }) => control("fail", { body: fault }),
  /** Ends every fault injected so far. */
  clearFaults: () => control("fail", { method: "DELETE" }),
  setNodeOnline: (node: string, online: boolean) => control(`nodes/${node}`, { body: { online } }),
  async requests(): Promise<SimRequest[]> {
    return ((await control("requests")) as { requests: SimRequest[] }).requests;
  },
  clearRequests: () => control("requests", { method: "DELETE" }),
  /**
   * Guest-agent settings: the guest-ping timeout (default 3000 ms), QGA's exec output cap per
   * stream (default 16 MiB), how fast guest programs run (`sleep 5` takes 5 s × execTimeScale),
   * whether file-read knows offset/count/decode (false = before PVE 9.1.5), and the privileges
   * the API token lacks (403 where an endpoint needs them).
   */
  agentSettings: (settings: {
    agentTimeoutMs?: number;
    execOutputLimitBytes?: number;
    execTimeScale?: number;
    agentFileReadParams?: boolean;
    deniedPrivileges?: string[];
  }) => control("settings", { body: settings }),
  /**
   * The Proxmox VE release the simulator plays: "9.2" (default) or "8.4" (version strings,
   * VM.Monitor instead of VM.GuestAgent.*, file-read without offset/count, no memhost).
   */
  version: (version: "9.2" | "8.4") => control("settings", { body: { version } }),
  /** Restarts the simulator's Durable Object: memory is lost, its SQLite state is read back. */
  restart: () => control("restart", { body: {} }),
  /** What runs inside a guest: whether qemu-ga answers, whether the OS reacts to ACPI. */
  setGuest: (vmid: number, guest: { agentRunning?: boolean; ignoresAcpi?: boolean; name?: string }) =>
    control(`guests/${vmid}`, { body: guest }),
};

/** The changes (non-GET API requests) the simulator received since its log was last cleared. */
export async function changesSent(): Promise<string[]> {
  return (await sim.requests()).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
}
