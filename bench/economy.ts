// 2. Upstream economy: Proxmox requests per read-tool call, read from the simulator's request log.

import type { SimRequest, ToolInfo } from "./clients.ts";
import { textOf } from "./clients.ts";
import type { Check, Context, SectionResult } from "./stats.ts";
import { table } from "./stats.ts";

type Variant =
  | "node given"
  | "vmid only, lookup"
  | "vmid only, cached"
  | "node in UPID"
  | "finished job"
  | "no target";

/** Request budgets from the issue, per way of naming the target. */
const BUDGET: Partial<Record<Variant, { max: number; text: string }>> = {
  "node given": { max: 1, text: "1" },
  "node in UPID": { max: 1, text: "1" },
  "finished job": { max: 0, text: "0" },
  "vmid only, lookup": { max: 2, text: "≤ 2" },
  "vmid only, cached": { max: 1, text: "1" },
};

interface World {
  vm: number;
  vmNode: string;
  vmWithSnapshots: number;
  ct: number;
  ctNode: string;
  upid: string;
  /** A VM whose guest agent answers (guest_* tools). */
  agentVm: number;
  agentVmNode: string;
  /** Fresh guests the node lookup has never seen (created on demand). */
  freshGuest: (type: "qemu" | "lxc") => Promise<number>;
  /** A guest_exec job that has finished (run once, on demand). */
  finishedJob: () => Promise<{ job: string; vmid: number; pid: number }>;
}

interface Case {
  tool: string;
  variant: Variant;
  args: (w: World) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Make the same call once, unmeasured, first (so the lookup is cached). */
  warm?: boolean;
  /** Tells apart two cases of one tool and variant. */
  note?: string;
}

/** A guest-targeted tool: with the node, then by vmid alone on a guest the lookup has not seen, then again (cached). */
function guestCases(tool: string, type: "qemu" | "lxc", extra: Record<string, unknown> = {}): Case[] {
  let fresh = 0;
  return [
    {
      tool,
      variant: "node given",
      args: (w) => ({
        vmid: type === "qemu" ? w.vm : w.ct,
        node: type === "qemu" ? w.vmNode : w.ctNode,
        ...extra,
      }),
    },
    {
      tool,
      variant: "vmid only, lookup",
      args: async (w) => {
        fresh = await w.freshGuest(type);
        return { vmid: fresh, ...extra };
      },
    },
    { tool, variant: "vmid only, cached", args: () => ({ vmid: fresh, ...extra }) },
  ];
}

function agentCases(tool: string, extra: Record<string, unknown>): Case[] {
  return [
    { tool, variant: "node given", args: (w) => ({ vmid: w.agentVm, node: w.agentVmNode, ...extra }) },
    { tool, variant: "vmid only, cached", args: (w) => ({ vmid: w.agentVm, ...extra }), warm: true },
  ];
}

const CASES: Case[] = [
  { tool: "check_connection", variant: "no target", args: () => ({}) },
  { tool: "get_cluster_status", variant: "no target", args: () => ({}) },
  { tool: "get_cluster_resources", variant: "no target", args: () => ({}) },
  { tool: "get_next_vmid", variant: "no target", args: () => ({}) },
  { tool: "get_nodes", variant: "no target", args: () => ({}) },
  { tool: "get_node_status", variant: "node given", args: (w) => ({ node: w.vmNode }) },
  { tool: "get_vms", variant: "no target", args: () => ({}) },
  { tool: "get_vms", variant: "node given", args: (w) => ({ node: w.vmNode }) },
  ...guestCases("get_vm", "qemu"),
  ...guestCases("get_vm_config", "qemu"),
  { tool: "get_containers", variant: "no target", args: () => ({}) },
  { tool: "get_containers", variant: "node given", args: (w) => ({ node: w.ctNode }) },
  ...guestCases("get_container", "lxc"),
  { tool: "get_storages", variant: "no target", args: () => ({}) },
  { tool: "get_storages", variant: "node given", args: (w) => ({ node: w.vmNode }) },
  { tool: "get_storage_content", variant: "no target", args: () => ({ storage: "nas" }) },
  { tool: "get_storage_content", variant: "node given", args: (w) => ({ storage: "local", node: w.vmNode }) },
  {
    tool: "get_snapshots",
    variant: "node given",
    args: (w) => ({ vmid: w.vmWithSnapshots, node: w.vmNode }),
  },
  ...guestCases("get_snapshots", "qemu").slice(1),
  { tool: "get_backups", variant: "no target", args: () => ({}) },
  { tool: "get_backups", variant: "no target", args: () => ({ storage: "nas" }) },
  { tool: "get_backups", variant: "node given", args: (w) => ({ storage: "nas", node: w.vmNode }) },
  { tool: "get_tasks", variant: "no target", args: () => ({}) },
  { tool: "get_tasks", variant: "node given", args: (w) => ({ node: w.vmNode }) },
  { tool: "get_task_status", variant: "node in UPID", args: (w) => ({ upid: w.upid }) },
  { tool: "get_task_log", variant: "node in UPID", args: (w) => ({ upid: w.upid }) },
  { tool: "wait_for_task", variant: "node in UPID", args: (w) => ({ upid: w.upid }) },
  { tool: "get_tracked_tasks", variant: "no target", args: () => ({}) },
  { tool: "get_audit_log", variant: "no target", args: () => ({}) },
  { tool: "get_pools", variant: "no target", args: () => ({}) },
  { tool: "get_pool", variant: "no target", args: () => ({ poolid: "prod" }) },
  ...agentCases("guest_ping", {}),
  ...agentCases("guest_get", { what: "osinfo" }),
  ...agentCases("guest_file_read", { path: "/etc/hostname" }),
  // The Session keeps a finished job's result, so reading it again costs Proxmox nothing.
  {
    tool: "guest_exec_status",
    variant: "finished job",
    note: "by job",
    args: async (w) => ({ job: (await w.finishedJob()).job }),
  },
  {
    tool: "guest_exec_status",
    variant: "finished job",
    note: "by vmid + pid",
    args: async (w) => {
      const { vmid, pid } = await w.finishedJob();
      return { vmid, pid };
    },
  },
];

/** Read tools that need state this section does not create. */
const NOT_HERE: Record<string, string> = {
  get_metrics: "measured in section 8",
  show_dashboard: "measured in section 8",
  dashboard_refresh: "measured in section 8",
};

/** Shortens UPIDs in request paths so the table stays readable. */
const shortPath = (r: SimRequest) => `${r.method} ${r.path.replace(/UPID:[^/]+/g, "{upid}")}`;

export async function economySection(ctx: Context, tools: ToolInfo[]): Promise<SectionResult> {
  const { sim, mcp } = ctx;
  await sim.reset();
  // Fresh guests below are created through the simulator's API; their tasks end at once.
  await sim.settings({ taskDurationMs: 0 });
  const tasks = await sim.data<{ upid: string; status?: string }[]>("GET", "/nodes/pve1/tasks", { limit: 5 });
  const upid = tasks.find((t) => t.status === "OK")?.upid ?? tasks[0]?.upid;
  if (!upid) throw new Error("the seeded cluster has no finished task on pve1");
  let nextFresh = 9000;
  let finished: { job: string; vmid: number; pid: number } | undefined;
  const world: World = {
    vm: 100,
    vmNode: "pve1",
    vmWithSnapshots: 101,
    ct: 200,
    ctNode: "pve1",
    upid,
    agentVm: 100,
    agentVmNode: "pve1",
    freshGuest: async (type) => {
      const vmid = nextFresh++;
      // On pve2, so a wrong guess of the node would show up as an extra request.
      if (type === "qemu") {
        await sim.data("POST", "/nodes/pve2/qemu", { vmid, name: `bench-${vmid}`, memory: 512 });
      } else {
        await sim.data("POST", "/nodes/pve2/lxc", {
          vmid,
          ostemplate: "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst",
          hostname: `bench-${vmid}`,
          storage: "local-lvm",
        });
      }
      return vmid;
    },
    finishedJob: async () => {
      if (finished) return finished;
      const result = await mcp.call("guest_exec", { vmid: 100, node: "pve1", argv: ["echo", "economy"] });
      const job = result.structuredContent as { job?: string; vmid?: number; pid?: number; status?: string };
      if (result.isError || job.status !== "exited" || !job.job || job.pid === undefined) {
        throw new Error(`guest_exec for the exec-status cases failed: ${textOf(result).slice(0, 200)}`);
      }
      finished = { job: job.job, vmid: 100, pid: job.pid };
      return finished;
    },
  };

  const listed = new Map(tools.map((t) => [t.name, t]));
  const rows: (string | number)[][] = [];
  const checks: Check[] = [];
  for (const c of CASES) {
    if (!listed.has(c.tool)) continue;
    const args = await c.args(world);
    if (c.warm) await mcp.call(c.tool, args);
    await sim.clearRequests();
    const result = await mcp.call(c.tool, args);
    const requests = await sim.requests();
    const budget = BUDGET[c.variant];
    const failed = result.isError === true;
    const count = requests.length;
    const pass = !failed && (budget === undefined || count <= budget.max);
    rows.push([
      c.tool,
      c.note ? `${c.variant}, ${c.note}` : c.variant,
      `\`${JSON.stringify(args)}\``,
      failed ? `error: ${textOf(result).slice(0, 120)}` : count,
      budget ? `${budget.text}${failed ? "" : pass ? " ✓" : " ✗"}` : "—",
      requests.map(shortPath).join("; ") || "none",
    ]);
    // A guest-agent tool the simulator cannot serve yet is reported, not failed.
    const agentMissing = failed && c.tool.startsWith("guest_");
    if ((budget || failed) && !agentMissing) {
      checks.push({
        what: `${c.tool}, ${c.variant}${c.note ? `, ${c.note}` : ""}`,
        budget: budget ? `${budget.text} request${budget.max === 1 ? "" : "s"}` : "answers without error",
        actual: failed ? `error: ${textOf(result).slice(0, 200)}` : `${count}`,
        pass,
        deterministic: true,
      });
    }
  }
  const measured = new Set(CASES.map((c) => c.tool));
  const missing = tools
    .filter((t) => t.annotations?.readOnlyHint && !measured.has(t.name))
    .map(
      (t) =>
        `${t.name} (${NOT_HERE[t.name] ?? "no arguments known to the harness: add it to bench/economy.ts"})`,
    );
  await sim.settings({ taskDurationMs: null });

  const body = [
    table(["tool", "target", "arguments", "requests", "budget", "upstream requests"], rows),
    "",
    "On the seeded homelab (3 nodes). `vmid only, lookup` uses a guest created for the purpose on pve2, which the " +
      "server's guest index has not seen; `vmid only, cached` repeats the call right after, within the index's lifetime. " +
      "`finished job` reads the result of a `guest_exec` that has ended, by job and by vmid + pid: the Session " +
      "Durable Object kept it, so no request reaches the guest agent (the agent forgets a result once read). " +
      "`no target` rows have no budget in the issue and are listed for reference.",
    ...(missing.length ? ["", `Read tools not measured: ${missing.join(", ")}.`] : []),
  ].join("\n");
  return {
    title: "2. Upstream economy",
    howToRead:
      "Proxmox API requests one tool call makes, counted in the simulator's request log. Each request is a round trip through the tunnel to the Proxmox host, so fewer is faster and lighter. Budgets: 1 with the node given (or in the UPID), at most 2 with the vmid only, 1 when the node lookup is cached; a finished exec job's result, 0.",
    body,
    checks,
  };
}
