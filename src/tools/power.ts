import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { node, vmid, wholeNumber } from "../mcp/args";
import { changeSchema, confirmArg, guestTarget, preview, runTask, waitArgs } from "../mcp/changes";
import { assertUnlocked, assertUnprotected, type GuestFacts, guestFacts, label } from "../mcp/guest-state";
import { changes, defineTool, type ToolDeps, ToolError, tool } from "../mcp/tool";
import type { GuestType } from "../proxmox/locate";

type Action = "start" | "stop" | "shutdown" | "reboot";

const NOUN: Record<GuestType, string> = { qemu: "vm", lxc: "container" };

/** Proxmox endpoints for each action, per guest type. */
function startTask(
  deps: ToolDeps,
  guest: GuestFacts,
  action: Action | "resume",
  options: { timeout?: number },
) {
  const params = { node: guest.node, vmid: guest.vmid };
  if (guest.type === "qemu") {
    switch (action) {
      case "start":
        return deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/start", params);
      case "resume":
        return deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/resume", params);
      case "stop":
        return deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/stop", params);
      case "shutdown":
        return deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/shutdown", {
          ...params,
          timeout: options.timeout,
        });
      case "reboot":
        return deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/reboot", {
          ...params,
          timeout: options.timeout,
        });
    }
  }
  switch (action) {
    case "start":
      return deps.client.call("POST /nodes/{node}/lxc/{vmid}/status/start", params);
    case "resume":
      return deps.client.call("POST /nodes/{node}/lxc/{vmid}/status/resume", params);
    case "stop":
      return deps.client.call("POST /nodes/{node}/lxc/{vmid}/status/stop", params);
    case "shutdown":
      return deps.client.call("POST /nodes/{node}/lxc/{vmid}/status/shutdown", {
        ...params,
        timeout: options.timeout,
      });
    case "reboot":
      return deps.client.call("POST /nodes/{node}/lxc/{vmid}/status/reboot", {
        ...params,
        timeout: options.timeout,
      });
  }
}

/** Why an action cannot work in the guest's current state, or undefined when it can. */
function precondition(guest: GuestFacts, action: Action): string | undefined {
  const who = label(guest);
  if (guest.template)
    return `${who} is a template and never runs; clone it with clone_vm to get a VM you can start.`;
  const running = guest.status === "running";
  const paused = guest.status === "paused" || guest.status === "suspended";
  switch (action) {
    case "start": {
      if (running) return `${who} is already running.`;
      const starting = guest.activeTasks?.find((t) => /^(qm|vz)(start|resume)$/.test(t.type));
      return starting
        ? `${who} is already starting (a ${starting.type} task is running); wait_for_task follows it.\ntask: ${starting.upid}`
        : undefined;
    }
    case "stop":
      return guest.status === "stopped" ? `${who} is already stopped.` : undefined;
    case "shutdown":
      if (guest.status === "stopped") return `${who} is already stopped.`;
      if (paused)
        return `${who} is paused and cannot shut down cleanly: start_${NOUN[guest.type]} resumes it, stop_${NOUN[guest.type]} stops it hard.`;
      return undefined;
    case "reboot":
      if (guest.status === "stopped")
        return `${who} is not running; start it with start_${NOUN[guest.type]}.`;
      if (paused) return `${who} is paused; resume it with start_${NOUN[guest.type]} first.`;
      return undefined;
  }
}

const SPECS: Record<Action, { title: string; summary: (noun: string) => string; destructive: boolean }> = {
  start: {
    title: "Start",
    summary: (noun) => `Start a stopped ${noun} (or resume a paused one) and wait until it is up.`,
    destructive: false,
  },
  shutdown: {
    title: "Shut down",
    summary: (noun) => `Clean shutdown of a ${noun}; waits for it.`,
    destructive: false,
  },
  reboot: { title: "Reboot", summary: (noun) => `Clean reboot of a running ${noun}.`, destructive: false },
  stop: {
    title: "Stop",
    summary: (noun) => `Hard stop of a ${noun} (like pulling the power). Needs confirm; prefer shutdown.`,
    destructive: true,
  },
};

/** start, stop, shutdown and reboot, for VMs and containers, in that order. */
const powerTools = (["qemu", "lxc"] as const).flatMap((type) => {
  const noun = type === "qemu" ? "VM" : "container";
  return (["start", "stop", "shutdown", "reboot"] as const).map((action) => {
    const spec = SPECS[action];
    const name = `${action}_${NOUN[type]}`;
    const input = z.object({
      vmid: vmid,
      node: node.optional(),
      ...(action === "shutdown" || action === "reboot"
        ? {
            timeout: wholeNumber("timeout", {
              min: 1,
              max: 3600,
              hint: "seconds to wait for a clean stop",
            }).optional(),
          }
        : {}),
      ...(spec.destructive ? { confirm: confirmArg } : {}),
      ...waitArgs,
    });
    return tool({
      name,
      title: `${spec.title} ${noun}`,
      description: spec.summary(noun),
      input,
      output: changeSchema,
      scope: "write",
      annotations: changes({ destructive: spec.destructive, idempotent: true }),
      handler: (deps) => async (args, ctx) => {
        // A start under way still reads "stopped"; only the guest's tasks tell.
        const guest = await guestFacts(
          deps,
          { vmid: args.vmid, node: args.node, type },
          { activeTasks: action === "start" },
        );
        const problem = precondition(guest, action);
        if (problem) throw new ToolError(problem);
        assertUnlocked(guest);
        if (spec.destructive) {
          assertUnprotected(guest, action);
          if (!(args as { confirm?: boolean }).confirm) {
            return preview(
              name,
              `This hard-stops ${label(guest)} on ${guest.node}, which is ${guest.status}; unsaved data in it is lost.`,
              guestTarget(guest),
            );
          }
        }
        const resume = action === "start" && (guest.status === "paused" || guest.status === "suspended");
        const timeout = (args as { timeout?: number }).timeout;
        return runTask(deps, ctx, {
          tool: name,
          target: label(guest),
          subject: guestTarget(guest),
          args: { vmid: guest.vmid, node: guest.node, ...(timeout ? { timeout } : {}) },
          action: resume
            ? `Resume ${label(guest)} (it was paused)`
            : `${spec.title} ${label(guest)} on ${guest.node}`,
          start: () => startTask(deps, guest, resume ? "resume" : action, { timeout }),
          wait: args.wait,
          waitSeconds: args.wait_seconds,
        });
      },
    });
  });
});

export function registerPowerTools(server: McpServer, deps: ToolDeps): void {
  for (const spec of powerTools) defineTool(server, deps, spec);
}
