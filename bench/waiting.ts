// 4. Waiting: how soon after a Proxmox task (or a guest exec job) ends the tool answers, and how
// many status requests the wait costs.

import type { Mcp, Sim, SimRequest, ToolInfo } from "./clients.ts";
import { textOf } from "./clients.ts";
import { type Context, median, ms, percentile, type SectionResult, sleep, table, timing } from "./stats.ts";

interface Job {
  kind: "task" | "exec";
  durationMs: number;
  vmid: number;
  node: string;
  progress: boolean;
  elapsedMs?: number;
  upid?: string;
  error?: string;
  progressEvents: number;
}

const GUESTS = 200;

async function config(sim: Sim, node: string, vmid: number) {
  return sim.data<Record<string, unknown>>("GET", `/nodes/${node}/qemu/${vmid}/config`);
}

/** Stopped, unprotected VMs (start_vm targets) and running VMs with the agent enabled (exec targets). */
async function pickGuests(sim: Sim, stopped: number, withAgent: number) {
  const guests = (await sim.guests()).filter((g) => g.type === "qemu" && !g.lock);
  const startable: { vmid: number; node: string }[] = [];
  const agent: { vmid: number; node: string }[] = [];
  for (const g of guests) {
    if (startable.length >= stopped && agent.length >= withAgent) break;
    const wantStopped = g.status === "stopped" && startable.length < stopped;
    const wantAgent = g.status === "running" && !g.runState && agent.length < withAgent;
    if (!wantStopped && !wantAgent) continue;
    const c = await config(sim, g.node, g.vmid);
    if (c.protection || c.template || String(c.tags ?? "").includes("protected")) continue;
    if (wantStopped) startable.push(g);
    else if (/^(1|enabled=1)/.test(String(c.agent ?? ""))) agent.push(g);
  }
  if (startable.length < stopped) throw new Error(`only ${startable.length} startable VMs, need ${stopped}`);
  return { startable, agent };
}

async function runJob(mcp: Mcp, job: Job): Promise<void> {
  const seconds = job.durationMs / 1000;
  const waitSeconds = Math.min(240, Math.ceil(seconds) + 30);
  const [tool, args] =
    job.kind === "task"
      ? ["start_vm", { vmid: job.vmid, node: job.node, wait_seconds: waitSeconds }]
      : [
          "guest_exec",
          { vmid: job.vmid, node: job.node, command: ["sleep", String(seconds)], wait_seconds: waitSeconds },
        ];
  const start = performance.now();
  const result = await mcp.call(tool as string, args, {
    timeoutMs: (waitSeconds + 30) * 1000,
    ...(job.progress
      ? {
          onProgress: () => {
            job.progressEvents++;
          },
        }
      : {}),
  });
  job.elapsedMs = performance.now() - start;
  const text = textOf(result);
  job.upid = /UPID:[^\s)]+/.exec(text)?.[0];
  if (result.isError) job.error = text.slice(0, 200);
  else if (/still running/i.test(text)) job.error = `still running after ${waitSeconds} s`;
}

/** Waits until the simulator shows `count` running qmstart tasks for these VMs. */
async function untilStarted(sim: Sim, vmids: number[], count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const state = await sim.control<{ runningTasks: string[] }>("GET", "state");
    const running = state.runningTasks.filter((u) => vmids.some((v) => u.includes(`:qmstart:${v}:`)));
    if (running.length >= count) return;
    await sleep(50);
  }
  throw new Error(`tasks for VMs ${vmids.join(", ")} did not start within 30 s`);
}

function requestsOf(job: Job, log: SimRequest[]) {
  if (job.kind === "task") {
    const mine = log.filter((r) => job.upid && r.path.includes(job.upid));
    return {
      status: mine.filter((r) => r.path.endsWith("/status")).length,
      log: mine.filter((r) => r.path.endsWith("/log")).length,
    };
  }
  const mine = log.filter((r) => r.path.startsWith(`/nodes/${job.node}/qemu/${job.vmid}/agent/`));
  return { status: mine.filter((r) => r.path.endsWith("/exec-status")).length, log: 0 };
}

export async function waitingSection(ctx: Context, tools: ToolInfo[]): Promise<SectionResult> {
  const { sim, mcp, log } = ctx;
  const durations = ctx.mode === "full" ? [1000, 10_000, 60_000] : [1000, 10_000];
  const perDuration = ctx.mode === "full" ? 6 : 2;
  await sim.reset({ nodes: 3, guests: GUESTS });
  // Guest programs run in real time (the simulator may scale guest time, e.g. for its own tests).
  const { settings } = await sim.control<{ settings: Record<string, unknown> }>("GET", "state");
  if ("execTimeScale" in settings) await sim.settings({ execTimeScale: 1 });
  const hasExec = tools.some((t) => t.name === "guest_exec");
  const { startable, agent } = await pickGuests(
    sim,
    durations.length * perDuration,
    hasExec ? durations.length * perDuration : 0,
  );

  // Exec jobs: only when the tool exists and a quick command works against this simulator.
  let execNote: string | undefined;
  if (!hasExec) execNote = "guest_exec is not in tools/list: not available yet.";
  else if (agent.length === 0)
    execNote = "no running VM with the guest agent enabled in the simulated cluster.";
  else {
    const first = agent[0] as { vmid: number; node: string };
    const probe = await mcp.call("guest_exec", {
      vmid: first.vmid,
      node: first.node,
      command: ["echo", "bench"],
    });
    if (probe.isError)
      execNote = `guest_exec does not work against the simulator yet: "${textOf(probe).slice(0, 160)}"`;
  }

  const jobs: Job[] = [];
  let t = 0;
  let e = 0;
  // Longest first, so all durations overlap: the section takes about as long as the longest task.
  for (const durationMs of [...durations].reverse()) {
    for (let i = 0; i < perDuration; i++) {
      const g = startable[t++] as { vmid: number; node: string };
      jobs.push({ kind: "task", durationMs, ...g, progress: i % 2 === 1, progressEvents: 0 });
      if (!execNote && agent.length) {
        const a = agent[e++ % agent.length] as { vmid: number; node: string };
        jobs.push({ kind: "exec", durationMs, ...a, progress: i % 2 === 1, progressEvents: 0 });
      }
    }
  }
  // Several exec jobs on one VM would mix their exec-status requests: one job per VM.
  const execVms = new Set<number>();
  for (const job of jobs.filter((j) => j.kind === "exec")) {
    if (execVms.has(job.vmid)) job.error = "skipped: not enough agent VMs";
    execVms.add(job.vmid);
  }

  await sim.clearRequests();
  const running: Promise<void>[] = [];
  // taskDurationMs applies to tasks as they start: set it, start that batch, wait until it runs.
  let started = 0;
  for (const durationMs of [...durations].reverse()) {
    const batch = jobs.filter((j) => j.durationMs === durationMs && !j.error);
    await sim.settings({ taskDurationMs: durationMs });
    log(`waiting: ${batch.length} jobs of ${durationMs / 1000} s`);
    for (const job of batch) running.push(runJob(mcp, job));
    const tasks = batch.filter((j) => j.kind === "task");
    started += tasks.length;
    await untilStarted(
      sim,
      jobs.filter((j) => j.kind === "task").map((j) => j.vmid),
      started,
    );
  }
  await Promise.all(running);
  await sim.settings({ taskDurationMs: null });
  const requestLog = await sim.requests();

  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  for (const kind of ["task", "exec"] as const) {
    for (const durationMs of durations) {
      for (const progress of [false, true]) {
        const group = jobs.filter(
          (j) => j.kind === kind && j.durationMs === durationMs && j.progress === progress,
        );
        if (group.length === 0) continue;
        const done = group.filter((j) => !j.error && j.elapsedMs !== undefined);
        for (const j of group.filter((x) => x.error))
          failures.push(`${kind} ${j.vmid} (${durationMs / 1000} s): ${j.error}`);
        if (done.length === 0) continue;
        const after = done.map((j) => (j.elapsedMs as number) - j.durationMs);
        const reqs = done.map((j) => requestsOf(j, requestLog));
        const status = reqs.map((r) => r.status);
        rows.push([
          kind === "task" ? "start_vm" : "guest_exec (sleep)",
          `${durationMs / 1000} s`,
          progress ? "yes" : "no",
          done.length,
          timing(after),
          ms(Math.max(...after)),
          `${median(status)} (max ${Math.max(...status)})`,
          kind === "task" && progress ? `${median(reqs.map((r) => r.log))}` : "—",
          progress ? `${median(done.map((j) => j.progressEvents))}` : "—",
        ]);
      }
    }
  }
  const afterEnd = (kind: Job["kind"]) =>
    jobs.filter((j) => j.kind === kind && !j.error).map((j) => (j.elapsedMs as number) - j.durationMs);
  const aims = (["task", "exec"] as const)
    .map((kind) => ({ kind, after: afterEnd(kind) }))
    .filter(({ after }) => after.length > 0)
    .map(({ kind, after }) => ({
      what: `${kind === "task" ? "task" : "exec job"} answer after its end, p95 over all durations (aim)`,
      budget: "< 500 ms",
      actual: ms(percentile(after, 95)),
      pass: percentile(after, 95) < 500,
      deterministic: false,
    }));
  const body = [
    table(
      [
        "tool",
        "duration",
        "progress asked",
        "jobs",
        "answer after the end: median / p95",
        "max",
        "status requests per job: median",
        "task-log requests (progress)",
        "progress notifications",
      ],
      rows,
    ),
    "",
    `Tasks are start_vm on stopped VMs of a simulated ${GUESTS}-guest cluster, with the simulator's task duration fixed ` +
      "(taskDurationMs); all durations run at once. \"After the end\" is the call's wall time minus the task's duration, " +
      "so it also holds the few milliseconds before the task started: an upper bound. Status requests are " +
      "`GET /nodes/{node}/tasks/{upid}/status` for that UPID (for exec jobs, `agent/exec-status` of that VM).",
    "",
    execNote
      ? `Exec jobs: ${execNote}`
      : "Exec jobs: `guest_exec` of `sleep N` on running VMs with the agent; time from the process's exit.",
    ...(failures.length ? ["", `Jobs that did not finish cleanly: ${failures.join("; ")}.`] : []),
  ].join("\n");
  return {
    title: "4. Waiting for tasks and exec jobs",
    howToRead:
      "How long after a task (or guest command) ends the tool answers, and how many status requests the wait costs. Aim: under 500 ms after the end with a handful of requests; a fixed poll interval trades one for the other.",
    body,
    checks: [
      ...aims,
      ...failures.map((f) => ({
        what: `waiting job: ${f.split(":")[0]}`,
        budget: "ends within its wait",
        actual: f,
        pass: f.includes("skipped"),
        deterministic: false,
      })),
    ],
  };
}
