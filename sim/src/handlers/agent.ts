// /nodes/{node}/qemu/{vmid}/agent: the guest-agent endpoints (qemu-server PVE/API2/Qemu/Agent.pm).
// Every call checks, in this order: the config exists, it has an `agent` key, the VM runs here,
// qemu-ga answers a guest-ping within 3 s. Simple commands relay QGA's answer as {result}, even
// an error reply; the others (exec, files, passwords) turn QGA errors into "Agent error: ...".

import type { Ctx, Route } from "../api/context";
import { PveError } from "../api/respond";
import type { PveSchema } from "../generated/api-schema";
import { base64, utf8 } from "../guest/bytes";
import {
  agentAnswers,
  execStart,
  execStatus,
  fileRead,
  fileWrite,
  type QgaContext,
  QgaError,
  settleGuests,
  setUserPassword,
  simpleCommand,
} from "../guest/qga";
import { applyEffect } from "../state/effects";
import type { Store } from "../state/store";
import { profileOf } from "../state/version";
import { loadGuest } from "./guests";

const A = "/nodes/{node}/qemu/{vmid}/agent";

/** The commands with an endpoint of their own and no parameters, and their HTTP method. */
const SIMPLE: Record<string, "GET" | "POST"> = {
  "fsfreeze-freeze": "POST",
  "fsfreeze-status": "POST",
  "fsfreeze-thaw": "POST",
  fstrim: "POST",
  "get-fsinfo": "GET",
  "get-host-name": "GET",
  "get-memory-block-info": "GET",
  "get-memory-blocks": "GET",
  "get-osinfo": "GET",
  "get-time": "GET",
  "get-timezone": "GET",
  "get-users": "GET",
  "get-vcpus": "GET",
  info: "GET",
  "network-get-interfaces": "GET",
  ping: "POST",
  shutdown: "POST",
  "suspend-disk": "POST",
  "suspend-hybrid": "POST",
  "suspend-ram": "POST",
};

const FILE_READ_MAX = 16 * 1024 * 1024;

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

/** PVE::QemuServer::Agent::assert_agent_available, after load_config. */
async function assertAgent(ctx: Ctx): Promise<QgaContext> {
  const g = loadGuest(ctx, "qemu");
  if (g.config.agent === undefined) throw new PveError("No QEMU guest agent configured");
  if (g.status !== "running") throw new PveError(`VM ${g.vmid} is not running`);
  const enabled = /^(1|enabled=1)(,|$)/.test(String(g.config.agent));
  if (!enabled || !g.os || !agentAnswers(ctx.store, g, ctx.now)) {
    // Without an agent device there is no socket and the ping fails at once; with one, the
    // guest-ping waits for its 3 s timeout.
    if (enabled) await sleep(ctx.store.settings.agentTimeoutMs);
    throw new PveError("QEMU guest agent is not running");
  }
  return { store: ctx.store, g, os: g.os, nowMs: ctx.now, settings: ctx.store.settings };
}

/** agent_cmd + check_agent_error: a QGA error reply becomes a 500. */
function agentError(e: unknown): never {
  if (e instanceof QgaError) throw new PveError(`Agent error: ${e.desc}`);
  throw e;
}

/** register_command: mon_cmd's answer as {result}; an error reply comes back as {error}, status 200. */
function simple(command: string | null) {
  return async (ctx: Ctx) => {
    const c = await assertAgent(ctx);
    try {
      return { result: simpleCommand(c, command ?? ctx.str("command")) };
    } catch (e) {
      if (e instanceof QgaError) return { result: { error: { class: e.cls, desc: e.desc } } };
      throw e;
    }
  };
}

function index(): { name: string }[] {
  const names = [
    ...Object.keys(SIMPLE),
    "exec",
    "exec-status",
    "file-read",
    "file-write",
    "set-user-password",
  ];
  return names.sort().map((name) => ({ name }));
}

/** Before qemu-server 9.1.5 (so on every 8.x) file-read took only `file`. */
function fileReadParams(schema: PveSchema, settings: Store["settings"]): PveSchema {
  if (settings.agentFileReadParams && profileOf(settings).fileReadParams) return schema;
  const { offset: _o, count: _c, decode: _d, ...properties } = schema.properties ?? {};
  return { ...schema, properties };
}

export const agentRoutes: Route[] = [
  // The index needs no VM: it lists the sub-commands.
  { method: "GET", path: A, handler: index },
  { method: "POST", path: A, handler: simple(null) },
  ...Object.entries(SIMPLE).map(
    ([command, method]): Route => ({ method, path: `${A}/${command}`, handler: simple(command) }),
  ),
  {
    method: "POST",
    path: `${A}/set-user-password`,
    handler: async (ctx) => {
      const c = await assertAgent(ctx);
      try {
        return { result: setUserPassword(c, ctx.str("username"), ctx.str("password"), ctx.bool("crypted")) };
      } catch (e) {
        agentError(e);
      }
    },
  },
  {
    method: "POST",
    path: `${A}/exec`,
    handler: async (ctx) => {
      const c = await assertAgent(ctx);
      const command = (ctx.params.command as unknown[]).map((x) => (x === null ? undefined : String(x)));
      // qemu_exec: an empty array leaves no program to run.
      if (command[0] === undefined && !ctx.has("input-data"))
        throw new PveError("command or input-data (or both) required");
      try {
        return execStart(c, command, ctx.optStr("input-data"));
      } catch (e) {
        agentError(e);
      }
    },
  },
  {
    method: "GET",
    path: `${A}/exec-status`,
    handler: async (ctx) => {
      const c = await assertAgent(ctx);
      try {
        return execStatus(c, Math.trunc(ctx.int("pid")));
      } catch (e) {
        agentError(e);
      }
    },
  },
  {
    method: "GET",
    path: `${A}/file-read`,
    params: fileReadParams,
    handler: async (ctx) => {
      const c = await assertAgent(ctx);
      const decode = ctx.params.decode === undefined ? true : ctx.bool("decode");
      try {
        return fileRead(
          c,
          ctx.str("file"),
          ctx.optInt("offset") ?? 0,
          ctx.optInt("count") ?? FILE_READ_MAX,
          decode,
        );
      } catch (e) {
        agentError(e);
      }
    },
  },
  {
    method: "POST",
    path: `${A}/file-write`,
    handler: async (ctx) => {
      const c = await assertAgent(ctx);
      const encode = ctx.params.encode === undefined ? true : ctx.bool("encode");
      const content = ctx.str("content");
      try {
        return fileWrite(c, ctx.str("file"), encode ? base64(utf8(content)) : content);
      } catch (e) {
        agentError(e);
      }
    },
  },
];

/** Applies what guests did on their own since the last request. */
export function settleAgents(store: Store, nowMs: number): void {
  if (store.qga.size === 0) return;
  settleGuests(store, nowMs, (g, to, atMs) => {
    if (to === "stopped") applyEffect(store, { kind: "guest-stopped", vmid: g.vmid }, atMs);
    else if (g.status === "running") {
      g.runState = "suspended";
      store.guests.put(g);
    }
  });
}
