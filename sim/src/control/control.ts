// The control API (/_sim/*): JSON in and out, no auth. Tests and benchmarks steer the simulator
// only through here.

import type { PveSimulator } from "../simulator";
import type { Fault, FaultKind, Settings } from "../state/model";
import { seedWorld } from "../state/seed";
import { isRunning } from "../state/tasks";
import { profileOf, RELEASES } from "../state/version";

export interface RequestLogEntry {
  method: string;
  /** Path after /api2/json, percent-decoded. */
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  contentType: string | null;
  authorized: boolean;
  status: number;
}

const FAULT_KINDS: FaultKind[] = ["json", "empty", "access-login", "tunnel-error", "hang"];

const json = (data: unknown, status = 200) =>
  new Response(JSON.stringify(data), { status, headers: { "Content-Type": "application/json" } });

const bad = (message: string, status = 400) => json({ ok: false, error: message }, status);

async function readJson(request: Request): Promise<Record<string, unknown> | null> {
  const text = await request.text();
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const isInt = (v: unknown, min: number, max: number) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

export async function handleControl(sim: PveSimulator, request: Request, url: URL): Promise<Response> {
  const { store } = sim;
  const route = `${request.method} ${url.pathname}`;

  if (route === "GET /_sim/requests") return json({ requests: sim.requests });
  if (route === "DELETE /_sim/requests") {
    sim.requests.length = 0;
    return json({ ok: true });
  }
  if (route === "DELETE /_sim/fail") {
    // Ends every injected fault at once (a test that injected "always fail" lets Proxmox recover).
    store.faults = [];
    store.saveFaults();
    return json({ ok: true });
  }
  if (route === "GET /_sim/state") {
    const now = Date.now();
    return json({
      t0: store.meta.t0,
      seed: store.meta.seed,
      settings: store.settings,
      faults: store.faults.filter((f) => f.remaining > 0),
      nodes: [...store.nodes.values()].map((n) => ({ node: n.name, online: n.online })),
      guests: [...store.guests.values()].map((g) => ({
        vmid: g.vmid,
        type: g.type,
        node: g.node,
        status: g.status,
        ...(g.runState && g.runState !== "running" ? { runState: g.runState } : {}),
        ...(g.config.lock ? { lock: g.config.lock } : {}),
      })),
      runningTasks: [...store.tasks.values()].filter((t) => isRunning(t, now)).map((t) => t.upid),
    });
  }

  if (request.method !== "POST") return bad(`no such control endpoint: ${route}`, 404);
  const body = await readJson(request);
  if (!body) return bad("body must be a JSON object");

  if (url.pathname === "/_sim/reset") {
    const nodes = (body.nodes ?? 3) as number;
    if (!isInt(nodes, 1, 64)) return bad("nodes must be an integer from 1 to 64");
    if (body.guests !== undefined && !isInt(body.guests, 0, 20_000))
      return bad("guests must be an integer from 0 to 20000");
    const guests = body.guests as number | undefined;
    store.replace(seedWorld(guests === undefined ? { nodes } : { nodes, guests }, Date.now()));
    sim.requests.length = 0;
    return json({ ok: true, nodes: store.nodes.size, guests: store.guests.size });
  }

  // Throws away everything held in memory and reads the state back, as after an eviction.
  if (url.pathname === "/_sim/restart") {
    sim.restart();
    return json({ ok: true });
  }

  if (url.pathname === "/_sim/settings") {
    const next: Settings = { ...store.settings };
    for (const key of ["latencyMs", "authFailureDelayMs"] as const) {
      if (body[key] === undefined) continue;
      if (!isInt(body[key], 0, 600_000)) return bad(`${key} must be a non-negative integer`);
      next[key] = body[key] as number;
    }
    if (body.taskDurationMs !== undefined) {
      if (body.taskDurationMs !== null && !isInt(body.taskDurationMs, 0, 86_400_000)) {
        return bad("taskDurationMs must be a non-negative integer or null");
      }
      next.taskDurationMs = body.taskDurationMs as number | null;
    }
    if (body.taskDurationScale !== undefined) {
      const s = body.taskDurationScale;
      if (typeof s !== "number" || !(s >= 0)) return bad("taskDurationScale must be a non-negative number");
      next.taskDurationScale = s;
    }
    // The guest agent: ping timeout, exec output cap and speed, file-read's era, token privileges.
    if (body.agentTimeoutMs !== undefined) {
      if (!isInt(body.agentTimeoutMs, 0, 600_000))
        return bad("agentTimeoutMs must be a non-negative integer");
      next.agentTimeoutMs = body.agentTimeoutMs as number;
    }
    if (body.execOutputLimitBytes !== undefined) {
      if (!isInt(body.execOutputLimitBytes, 1, 64 * 1024 * 1024))
        return bad("execOutputLimitBytes must be an integer from 1 to 67108864");
      next.execOutputLimitBytes = body.execOutputLimitBytes as number;
    }
    if (body.execTimeScale !== undefined) {
      const s = body.execTimeScale;
      if (typeof s !== "number" || !(s >= 0)) return bad("execTimeScale must be a non-negative number");
      next.execTimeScale = s;
    }
    if (body.agentFileReadParams !== undefined) {
      if (typeof body.agentFileReadParams !== "boolean") return bad("agentFileReadParams must be a boolean");
      next.agentFileReadParams = body.agentFileReadParams;
    }
    if (body.deniedPrivileges !== undefined) {
      const d = body.deniedPrivileges;
      if (!Array.isArray(d) || !d.every((x) => typeof x === "string" && /^[A-Z][A-Za-z.]+$/.test(x)))
        return bad("deniedPrivileges must be an array of privilege names such as VM.GuestAgent.Unrestricted");
      next.deniedPrivileges = [...new Set(d as string[])];
    }
    // The release played: version strings and what differs on the wire (state/version.ts).
    // file-read's offset/count came with 9.1.5, so an 8.4 profile has them off.
    if (body.version !== undefined) {
      if (typeof body.version !== "string" || !RELEASES.includes(body.version as Settings["version"]))
        return bad(`version must be one of ${RELEASES.join(", ")}`);
      next.version = body.version as Settings["version"];
      if (body.agentFileReadParams === undefined) next.agentFileReadParams = profileOf(next).fileReadParams;
    }
    if (next.agentFileReadParams && !profileOf(next).fileReadParams)
      return bad(
        `Proxmox VE ${next.version} has no file-read offset/count: agentFileReadParams must be false`,
      );
    store.settings = next;
    store.saveSettings();
    return json({ ok: true, settings: next });
  }

  if (url.pathname === "/_sim/fail") {
    if (!isInt(body.count, 0, 1_000_000)) return bad("count must be a non-negative integer");
    const kind = (body.kind ?? "json") as FaultKind;
    if (!FAULT_KINDS.includes(kind)) return bad(`kind must be one of ${FAULT_KINDS.join(", ")}`);
    if (body.status !== undefined && !isInt(body.status, 200, 599))
      return bad("status must be an HTTP status code");
    if (body.message !== undefined && typeof body.message !== "string")
      return bad("message must be a string");
    if (body.pathPrefix !== undefined && typeof body.pathPrefix !== "string")
      return bad("pathPrefix must be a string");
    const fault: Fault = { remaining: body.count as number, kind };
    if (body.status !== undefined) fault.status = body.status as number;
    if (body.message !== undefined) fault.message = body.message as string;
    if (body.pathPrefix !== undefined) fault.pathPrefix = body.pathPrefix as string;
    store.faults = [...store.faults.filter((f) => f.remaining > 0), fault];
    store.saveFaults();
    return json({ ok: true, faults: store.faults });
  }

  const nodeRoute = /^\/_sim\/nodes\/([^/]+)$/.exec(url.pathname);
  if (nodeRoute) {
    const node = store.nodes.get(decodeURIComponent(nodeRoute[1] as string));
    if (!node) return bad(`no such node '${nodeRoute[1]}'`, 404);
    if (typeof body.online !== "boolean") return bad("online must be a boolean");
    node.online = body.online;
    store.nodes.put(node);
    return json({ ok: true, node: node.name, online: node.online });
  }

  // What runs inside a guest: whether it reacts to ACPI (shutdowns) and whether qemu-ga answers.
  const guestRoute = /^\/_sim\/guests\/(\d+)$/.exec(url.pathname);
  if (guestRoute) {
    const g = store.guests.get(Number(guestRoute[1]));
    if (!g) return bad(`no such guest ${guestRoute[1]}`, 404);
    for (const key of ["ignoresAcpi", "agentRunning"] as const) {
      if (body[key] !== undefined && typeof body[key] !== "boolean") return bad(`${key} must be a boolean`);
    }
    if (body.ignoresAcpi !== undefined) g.ignoresAcpi = body.ignoresAcpi as boolean;
    // A name as a hand-edited config file may hold it: the API would refuse it, readers must cope.
    if (body.name !== undefined) {
      if (typeof body.name !== "string" || body.name.length > 256) return bad("name must be a string");
      g.config[g.type === "qemu" ? "name" : "hostname"] = body.name;
    }
    if (body.agentRunning !== undefined) {
      if (!g.os) return bad(`guest ${g.vmid} has no guest agent`);
      g.os.agentRunning = body.agentRunning as boolean;
    }
    store.guests.put(g);
    return json({
      ok: true,
      vmid: g.vmid,
      ignoresAcpi: g.ignoresAcpi === true,
      agentRunning: g.os?.agentRunning ?? false,
    });
  }

  // Fills or resizes a storage, e.g. to make backups and allocations run out of space.
  const storageRoute = /^\/_sim\/storages\/([^/]+)$/.exec(url.pathname);
  if (storageRoute) {
    const s = store.storages.get(decodeURIComponent(storageRoute[1] as string));
    if (!s) return bad(`no such storage '${storageRoute[1]}'`, 404);
    for (const key of ["total", "baseUsed"] as const) {
      if (body[key] === undefined) continue;
      if (!isInt(body[key], 0, Number.MAX_SAFE_INTEGER))
        return bad(`${key} must be a non-negative integer (bytes)`);
      s[key] = body[key] as number;
    }
    store.storages.put(s);
    return json({ ok: true, storage: s.storage, total: s.total, baseUsed: s.baseUsed });
  }

  return bad(`no such control endpoint: ${route}`, 404);
}
