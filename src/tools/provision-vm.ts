import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { auditedChange, changeSchema, guestTarget, runTask } from "../mcp/changes";
import { bytes } from "../mcp/format";
import { type InterfaceAddresses, waitForAddress } from "../mcp/guest-address";
import { type GuestFacts, label } from "../mcp/guest-state";
import { changes, defineTool, type ToolDeps, tool } from "../mcp/tool";
import type { EndpointParams } from "../proxmox/client";
import { type Args, agentOn, input, plan } from "./provision-vm-plan";

/**
 * provision_vm: from a cloud-init template to a running VM someone can SSH into, in one call.
 * Clone, configure, grow the disk, start, then wait for the guest agent to report an address.
 * Everything is checked before the clone is sent; a step that fails after the clone is an answer
 * (what was done, what not, what to call next), and the VM is never deleted behind anyone's back.
 */

const STEPS = ["clone", "config", "resize", "cloudinit", "start", "agent"] as const;
type StepName = (typeof STEPS)[number];

const stepSchema = z.object({
  step: z.enum(STEPS),
  outcome: z.enum(["done", "skipped", "failed", "running", "not_done"]),
  seconds: z.number(),
  upid: z.string().optional(),
  note: z.string().optional(),
});
type Step = z.infer<typeof stepSchema>;

/**
 * The shared change shape (state, action, target, upid of the last task) plus the VM as it
 * stands. state: done (every step asked for ended well), running (the wait ended first; the
 * tasks stay tracked), partial (a step after the clone failed; the VM is kept).
 */
const outputSchema = changeSchema.extend({
  state: z.enum(["done", "running", "partial"]),
  vmid: z.number(),
  node: z.string(),
  name: z.string().optional(),
  template: z.number(),
  /** What the VM is doing as far as this call knows. */
  vm_state: z.enum(["cloning", "stopped", "running", "unknown"]),
  /** Running with a reachable address. */
  ready: z.boolean(),
  steps: z.array(stepSchema),
  addresses: z.array(
    z.object({ interface: z.string(), ipv4: z.array(z.string()), ipv6: z.array(z.string()) }),
  ),
  ssh: z.string().optional(),
  next: z.string().optional(),
});
type Answer = z.infer<typeof outputSchema>;

/**
 * A context whose progress notifications count the whole call: the task waits inside each step
 * start their own clocks, and MCP progress must only grow.
 */
function callProgress(ctx: ServerContext, t0: number) {
  const token = ctx.mcpReq._meta?.progressToken;
  let last = 0;
  let current: StepName = "clone";
  const send = async (message: string) => {
    if (token === undefined) return;
    last = Math.max(last + 0.001, (Date.now() - t0) / 1000);
    await ctx.mcpReq
      .notify({ method: "notifications/progress", params: { progressToken: token, progress: last, message } })
      .catch(() => undefined);
  };
  const mcpReq = Object.create(ctx.mcpReq);
  mcpReq.notify = (n: { params?: { message?: string } }) =>
    send(`${current}: ${n.params?.message ?? "waiting"}`);
  const stepCtx = Object.create(ctx) as ServerContext;
  Object.defineProperty(stepCtx, "mcpReq", { value: mcpReq });
  return {
    ctx: stepCtx,
    step: async (name: StepName, message: string) => {
      current = name;
      await send(`${name}: ${message}`);
    },
  };
}

const provisionVmTool = tool({
  name: "provision_vm",
  title: "Provision VM from template",
  description:
    "One call from a cloud-init template to a running VM you can SSH into: clone, set CPU/memory/cloud-init, grow disk, start, wait for its IP. Answers steps, addresses and the ssh line; never deletes on failure.",
  input,
  output: outputSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const t0 = Date.now();
    const deadline = t0 + args.wait_seconds * 1000;
    const left = () => Math.floor((deadline - Date.now()) / 1000);
    const p = callProgress(ctx, t0);
    const plan_ = await plan(deps, args);
    const { source, targetNode, full, newid } = plan_;
    const answer: Answer = {
      state: "done",
      action: `Provision VM ${newid} '${args.name}' on ${targetNode} from ${label(source)}`,
      target: guestTarget({ vmid: newid, node: targetNode, name: args.name }),
      vmid: newid,
      node: targetNode,
      name: args.name,
      template: source.vmid,
      vm_state: "cloning",
      ready: false,
      steps: [],
      addresses: [],
    };
    const target = `VM ${newid}`;
    const vm = { node: targetNode, vmid: newid };
    const upidOf = (message: string) => /task: (UPID:\S+)/.exec(message)?.[1];
    const notDone = (from: number) => {
      for (const name of STEPS.slice(from))
        answer.steps.push({ step: name, outcome: "not_done", seconds: 0 });
    };

    // 1. clone: a failure here leaves nothing behind, so it is an error like clone_vm's.
    await p.step("clone", `${full ? "full" : "linked"} clone of ${label(source)}`);
    let began = Date.now();
    const clone = await runTask(deps, p.ctx, {
      tool: "provision_vm",
      target: label(source),
      subject: guestTarget(source),
      args: {
        vmid: source.vmid,
        node: source.node,
        newid,
        name: args.name,
        full,
        target: targetNode,
        pool: args.pool,
      },
      action: `${full ? "Full" : "Linked"} clone of ${label(source)} to VM ${newid} '${args.name}'`,
      start: () =>
        deps.client.call("POST /nodes/{node}/qemu/{vmid}/clone", {
          node: source.node,
          vmid: source.vmid,
          newid,
          name: args.name,
          full,
          target: targetNode !== source.node ? targetNode : undefined,
          storage: full ? args.storage : undefined,
          pool: args.pool,
        }),
      wait: true,
      waitSeconds: Math.max(1, left()),
    });
    const cloneStep: Step = { step: "clone", outcome: "done", seconds: secs(began), upid: clone.data.upid };
    answer.steps.push(cloneStep);
    if (clone.data.state !== "done") {
      cloneStep.outcome = "running";
      answer.vm_state = "cloning";
      notDone(1);
      answer.next = `The clone is still running (it stays tracked). wait_for_task with its upid, then call provision_vm's remaining steps by hand: update_vm, resize_vm_disk, start_vm, guest_get what=network-interfaces on VM ${newid}.`;
      return render(answer, source, args);
    }
    answer.vm_state = "stopped";

    const fail = (index: number, step: Step, error: unknown, next: string) => {
      const message = error instanceof Error ? error.message : String(error);
      step.outcome = "failed";
      step.note = message.replace(/\ntask: UPID:\S+/, "");
      step.upid ??= upidOf(message);
      answer.steps.push(step);
      notDone(index + 1);
      answer.next = `VM ${newid} exists and is kept. ${next}`;
      return render(answer, source, args);
    };

    // 2. config: hardware and cloud-init in one request.
    began = Date.now();
    const settings = plan_.settings;
    if (Object.keys(settings).length === 0) {
      answer.steps.push({ step: "config", outcome: "skipped", seconds: 0, note: "nothing to change" });
    } else {
      await p.step("config", Object.keys(settings).join(", "));
      try {
        await auditedChange(
          deps,
          {
            tool: "provision_vm",
            target,
            args: { ...vm, ...settings, ...(settings.sshkeys ? { sshkeys: "(set)" } : {}) },
          },
          () =>
            deps.client.call("PUT /nodes/{node}/qemu/{vmid}/config", {
              ...vm,
              ...settings,
            } as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/config">),
        );
        answer.steps.push({
          step: "config",
          outcome: "done",
          seconds: secs(began),
          note: Object.keys(settings).join(", "),
        });
      } catch (error) {
        return fail(
          1,
          { step: "config", outcome: "failed", seconds: secs(began) },
          error,
          `Set its config with update_vm (cloud-init keys via extra), then start_vm.`,
        );
      }
    }

    // 3. resize: grow only.
    began = Date.now();
    if (!plan_.grow || !plan_.boot || args.disk_gb === undefined) {
      answer.steps.push({
        step: "resize",
        outcome: "skipped",
        seconds: 0,
        ...(args.disk_gb !== undefined && plan_.boot?.size
          ? { note: `${plan_.boot.key} is ${plan_.boot.size} already` }
          : {}),
      });
    } else {
      const disk = plan_.boot.key;
      await p.step("resize", `${disk} to ${args.disk_gb} GiB`);
      try {
        const resized = await runTask(deps, p.ctx, {
          tool: "provision_vm",
          target,
          subject: guestTarget({ ...vm, name: args.name }),
          args: { ...vm, disk, size: `${args.disk_gb}G` },
          action: `Grow ${disk} of VM ${newid} from ${plan_.current !== undefined ? bytes(plan_.current) : "?"} to ${args.disk_gb} GiB`,
          start: () =>
            deps.client.call("PUT /nodes/{node}/qemu/{vmid}/resize", {
              ...vm,
              disk: disk as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/resize">["disk"],
              size: `${args.disk_gb}G`,
            }),
          wait: true,
          waitSeconds: Math.max(1, left()),
        });
        const step: Step = {
          step: "resize",
          outcome: "done",
          seconds: secs(began),
          upid: resized.data.upid,
          note: `${disk} ${args.disk_gb}G`,
        };
        answer.steps.push(step);
        if (resized.data.state !== "done") {
          step.outcome = "running";
          notDone(3);
          answer.next = `The resize is still running (tracked). wait_for_task with its upid, then start_vm vmid=${newid}.`;
          return render(answer, source, args);
        }
      } catch (error) {
        return fail(
          2,
          { step: "resize", outcome: "failed", seconds: secs(began) },
          error,
          `Grow the disk with resize_vm_disk vmid=${newid} disk=${disk} size=${args.disk_gb}G, then start_vm.`,
        );
      }
    }

    // 4. cloud-init drive: Proxmox regenerates it at every start; a VM left stopped gets it now.
    began = Date.now();
    if (!plan_.wantsCloudInit || args.start) {
      answer.steps.push({
        step: "cloudinit",
        outcome: "skipped",
        seconds: 0,
        note: plan_.wantsCloudInit ? "regenerated at start" : "no cloud-init settings",
      });
    } else {
      await p.step("cloudinit", "regenerate the drive");
      try {
        await deps.client.call("PUT /nodes/{node}/qemu/{vmid}/cloudinit", vm);
        answer.steps.push({ step: "cloudinit", outcome: "done", seconds: secs(began) });
      } catch (error) {
        return fail(
          3,
          { step: "cloudinit", outcome: "failed", seconds: secs(began) },
          error,
          "Proxmox regenerates the cloud-init drive at start: start_vm applies it.",
        );
      }
    }

    // 5. start
    began = Date.now();
    if (!args.start) {
      answer.steps.push({ step: "start", outcome: "skipped", seconds: 0, note: "start=false" });
      answer.steps.push({ step: "agent", outcome: "skipped", seconds: 0 });
      answer.next = `start_vm vmid=${newid} starts it.`;
      return render(answer, source, args);
    }
    if (left() < 1) {
      notDone(4);
      answer.next = `The wait ran out before the start. start_vm vmid=${newid} starts it.`;
      return render(answer, source, args);
    }
    await p.step("start", `VM ${newid}`);
    try {
      const started = await runTask(deps, p.ctx, {
        tool: "provision_vm",
        target,
        subject: guestTarget({ ...vm, name: args.name }),
        args: vm,
        action: `Start VM ${newid} '${args.name}' on ${targetNode}`,
        start: () => deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/start", vm),
        wait: true,
        waitSeconds: Math.max(1, left()),
      });
      const step: Step = { step: "start", outcome: "done", seconds: secs(began), upid: started.data.upid };
      answer.steps.push(step);
      if (started.data.state !== "done") {
        step.outcome = "running";
        answer.vm_state = "unknown";
        notDone(5);
        answer.next = `The start is still running (tracked). wait_for_task with its upid, then guest_get vmid=${newid} what=network-interfaces.`;
        return render(answer, source, args);
      }
      answer.vm_state = "running";
    } catch (error) {
      return fail(
        4,
        { step: "start", outcome: "failed", seconds: secs(began) },
        error,
        `Fix what the start log says, then start_vm vmid=${newid}.`,
      );
    }

    // 6. the guest agent's address
    began = Date.now();
    if (!agentOn(source.config)) {
      answer.steps.push({
        step: "agent",
        outcome: "skipped",
        seconds: 0,
        note: "the template has the guest agent off (agent option)",
      });
      answer.next =
        `The template ${label(source)} has the QEMU guest agent off, so no VM from it reports its address. ` +
        `Fix the template once: install qemu-guest-agent in its image and set agent=1 on it (update_vm vmid=${source.vmid} extra="agent=1"). ` +
        `For VM ${newid}: update_vm extra="agent=1", install qemu-guest-agent inside, reboot_vm; or read the address from your DHCP server.`;
      return render(answer, source, args);
    }
    if (!args.wait_for_ip) {
      answer.steps.push({ step: "agent", outcome: "skipped", seconds: 0, note: "wait_for_ip=false" });
      answer.next = `guest_get vmid=${newid} what=network-interfaces shows its addresses once the guest has booted.`;
      return render(answer, source, args);
    }
    await p.step("agent", "waiting for the guest agent to report an address");
    const found = await waitForAddress(deps, vm, deadline, {
      signal: ctx.mcpReq.signal,
      onAttempt: (n) => p.step("agent", `no address yet (attempt ${n})`),
    });
    answer.addresses = found.addresses.map((a: InterfaceAddresses) => ({
      interface: a.name,
      ipv4: a.ipv4,
      ipv6: a.ipv6,
    }));
    if (found.addresses.length) {
      answer.ready = true;
      answer.steps.push({ step: "agent", outcome: "done", seconds: secs(began) });
    } else {
      answer.steps.push({
        step: "agent",
        outcome: "running",
        seconds: secs(began),
        note: found.agentAnswered
          ? "the agent answers but no interface has a usable address yet"
          : "the guest agent has not answered yet",
      });
      answer.next = found.agentAnswered
        ? `VM ${newid} runs; its network has no address yet (DHCP?). guest_get vmid=${newid} what=network-interfaces asks again.`
        : `VM ${newid} runs; its guest agent has not answered within ${args.wait_seconds} s: it may still be booting, or qemu-guest-agent is not installed in the template's image. guest_get vmid=${newid} what=network-interfaces asks again.`;
    }
    return render(answer, source, args);
  },
});

function secs(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

function render(answer: Answer, source: GuestFacts, args: Args): { text: string; data: Answer } {
  const outcomes = answer.steps.map((s) => s.outcome);
  answer.state = outcomes.includes("failed")
    ? "partial"
    : outcomes.includes("running") || outcomes.includes("not_done")
      ? "running"
      : "done";
  const lastTask = answer.steps.filter((s) => s.upid).at(-1)?.upid;
  if (lastTask) answer.upid = lastTask;
  const user = args.ciuser ?? (typeof source.config.ciuser === "string" ? source.config.ciuser : undefined);
  const ip = answer.addresses.flatMap((a) => a.ipv4)[0] ?? answer.addresses.flatMap((a) => a.ipv6)[0];
  if (ip) answer.ssh = `ssh ${user ?? "<user>"}@${ip}`;
  const who = `VM ${answer.vmid} '${answer.name ?? ""}'`;
  const from = `from ${label(source)}`;
  const head = answer.ready
    ? `${who} is running on ${answer.node} (${from}). SSH: ${answer.ssh}${user ? "" : " (the image's default user)"}`
    : answer.vm_state === "cloning"
      ? `${who} is being cloned on ${answer.node} ${from}; the wait ended first.`
      : `${who} on ${answer.node} (${from}) is ${answer.vm_state}, not ready yet.`;
  const lines = [head];
  if (answer.addresses.length)
    lines.push(
      `Addresses: ${answer.addresses.map((a) => `${a.interface} ${[...a.ipv4, ...a.ipv6].join(" ")}`).join("; ")}`,
    );
  lines.push("Steps:");
  for (const s of answer.steps) {
    const time =
      s.outcome === "done" || s.outcome === "failed" || s.outcome === "running" ? ` (${s.seconds} s)` : "";
    lines.push(`- ${s.step}: ${s.outcome.replace("_", " ")}${time}${s.note ? `: ${s.note}` : ""}`);
    if (s.upid) lines.push(`task: ${s.upid}`);
  }
  if (answer.next) lines.push(`Next: ${answer.next}`);
  return { text: lines.join("\n"), data: answer };
}

export function registerProvisionVmTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, provisionVmTool);
}
