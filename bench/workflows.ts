// Tool calls per workflow: an everyday request done with one purpose-built tool versus the
// general tools a model had to chain before, counted in tool calls, Proxmox requests and time.

import type { Mcp, Sim } from "./clients.ts";
import { textOf } from "./clients.ts";
import type { Check, Context, SectionResult } from "./stats.ts";
import { ms, sleep, table } from "./stats.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchKeyBenchKeyBenchKeyBenchKeyBench me@laptop";

interface Run {
  calls: number;
  requests: number;
  ms: number;
  ok: boolean;
  note: string;
}

/** Counts one workflow: every tool call it makes and every request the simulator saw. */
async function measure(
  sim: Sim,
  work: (call: Mcp["call"]) => Promise<{ ok: boolean; note: string }>,
  mcp: Mcp,
) {
  await sim.clearRequests();
  let calls = 0;
  const call: Mcp["call"] = (...args) => {
    calls++;
    return mcp.call(...args);
  };
  const start = performance.now();
  const { ok, note } = await work(call);
  const elapsed = performance.now() - start;
  return { calls, requests: (await sim.requests()).length, ms: elapsed, ok, note } satisfies Run;
}

/** "A new VM from my cloud-init template, 2 cores, 4 GB, my SSH key, DHCP, started, tell me its IP." */
async function provisionOneCall(call: Mcp["call"]) {
  const result = await call("provision_vm", {
    template: "ubuntu-2404-template",
    name: "bench-new",
    cores: 2,
    memory: 4096,
    ciuser: "debian",
    sshkeys: KEY,
    ip: "dhcp",
  });
  const data = result.structuredContent as { ready?: boolean; ssh?: string } | undefined;
  return { ok: !result.isError && data?.ready === true, note: data?.ssh ?? textOf(result).slice(0, 120) };
}

/**
 * The same with the tools of before, as a model that knows them well would chain them: clone,
 * update (cloud-init through `extra`, the key URL-encoded by the model), start, then ask the agent
 * again and again until an address shows (a second between asks, as a model turn takes at least).
 */
async function provisionByHand(call: Mcp["call"]) {
  const clone = await call("clone_vm", { vmid: 107, name: "bench-old" });
  const cloneText = textOf(clone);
  // clone_vm names the new VM in its action: "Linked clone of VM 107 ... to VM 112 ...".
  const id = Number(/ to VM (\d+)/.exec(cloneText)?.[1]);
  if (clone.isError || !id) return { ok: false, note: `clone_vm: ${cloneText.slice(0, 120)}` };
  const update = await call("update_vm", {
    vmid: id,
    cores: 2,
    memory: 4096,
    extra: [
      "ciuser=debian",
      `sshkeys=${encodeURIComponent(KEY)}`,
      "ipconfig0=ip=dhcp",
      "ide0=local-lvm:cloudinit",
    ].join("\n"),
  });
  if (update.isError) return { ok: false, note: `update_vm: ${textOf(update).slice(0, 120)}` };
  const start = await call("start_vm", { vmid: id });
  if (start.isError) return { ok: false, note: `start_vm: ${textOf(start).slice(0, 120)}` };
  for (let attempt = 0; attempt < 40; attempt++) {
    const ifaces = await call("guest_get", { vmid: id, what: "network-interfaces" });
    const found = !ifaces.isError && /192\.168\.\d+\.\d+/.exec(textOf(ifaces).replace(/127\.0\.0\.1/g, ""));
    if (found) return { ok: true, note: `ssh debian@${found[0]}` };
    await sleep(1000);
  }
  return { ok: false, note: "no address after 40 asks" };
}

export async function workflowsSection(ctx: Context): Promise<SectionResult> {
  const { sim, mcp } = ctx;
  await sim.reset();
  // Proxmox's own task timings, and a guest that boots in 3 s (12 s × 0.25) before qemu-ga answers.
  await sim.settings({ taskDurationMs: null, execTimeScale: 0.25 });
  const one = await measure(sim, provisionOneCall, mcp);
  await sim.reset();
  await sim.settings({ taskDurationMs: null, execTimeScale: 0.25 });
  const before = await measure(sim, provisionByHand, mcp);
  await sim.settings({ execTimeScale: 1 });

  const row = (how: string, run: Run) => [
    "provision a VM from a template, with its IP",
    how,
    run.calls,
    run.requests,
    ms(run.ms),
    run.ok ? run.note : `failed: ${run.note}`,
  ];
  const checks: Check[] = [
    {
      what: "provisioning workflow, tool calls",
      budget: "1 call",
      actual: one.ok ? `${one.calls}` : `failed: ${one.note}`,
      pass: one.ok && one.calls === 1,
      deterministic: true,
    },
  ];
  const body = [
    table(
      ["workflow", "tools", "tool calls", "Proxmox requests", "time", "answer"],
      [
        row("provision_vm", one),
        row("clone_vm, update_vm (cloud-init via extra), start_vm, guest_get × n", before),
      ],
    ),
    "",
    "On the seeded homelab, template 107 'ubuntu-2404-template' on pve2, Proxmox's task timings, a guest that " +
      "boots in 3 s before its agent answers. Each tool call is a model turn (and in Claude.ai often a permission " +
      "prompt); the chained version also needs the model to know that cloud-init keys go in `extra`, URL-encoded, " +
      "and that the template lacks a cloud-init drive. Times leave out the model's own time per turn, which comes on top of every call. 'Why is VM X slow' (diagnose_guest) is not measured here yet.",
  ].join("\n");
  return {
    title: "10. Tool calls per workflow",
    howToRead:
      "Tool calls (model turns), Proxmox requests and wall time for one everyday request, with the one-call tool and with the tools a model chained before. Budget: 1 call.",
    body,
    checks,
  };
}
