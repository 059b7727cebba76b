// 4. Waiting: how soon after a Proxmox task (or a guest exec job) ends the tool answers, and how
// many status requests the wait costs.

import type { Mcp, Sim, SimRequest, ToolInfo } from "./clients.ts";
import { textOf } from "./clients.ts";
import { type Context, median, ms, percentile, type SectionResult, sleep, table, timing } from "./stats.ts";

interface Job {
  kind: "task" | "exec";
  /** 1 s, 10 s or 60 s: the row the job is reported in. */
  nominalMs: number;
  /** The job's real duration: the nominal one plus a spread (see `spread`). */
  durationMs: number;
  vmid: number;
  node: string;
  progress: boolean;
  /** Epoch ms when the call was sent and when its answer arrived. */
  sentAt?: number;
  answeredAt?: number;
  /** Epoch ms the task started, read from its UPID (tasks only). */
  startedAt?: number;
  upid?: string;
  error?: string;
  progressEvents: number;
}

const GUESTS = 200;

/**
 * Real tasks end at any moment relative to the poll schedule, and how late a poll sees the end
 * depends on that phase. So the jobs of one row spread their durations over a poll interval
 * (a quarter of the duration, at most 3 s) instead of all ending in the same phase.
 */
const spread = (nominalMs: number, i: number, n: number) =>
  Math.round(nominalMs + (i / n) * Math.min(nominalMs / 4, 3000));

/**
 * When a task started, to 10 ms: its UPID holds the start in whole seconds and pstart, the
 * start in clock ticks (HZ=100) since the node booted; nodes boot on a whole second, so pstart's
 * last two digits are the start's hundredths.
 */
export function upidStartMs(upid: string): number | undefined {
  const parts = upid.split(":");
  const pstart = Number.parseInt(parts[3] ?? "", 16);
  const starttime = Number.parseInt(parts[4] ?? "", 16);
  if (!Number.isFinite(pstart) || !Number.isFinite(starttime)) return undefined;
  return starttime * 1000 + (pstart % 100) * 10;
}

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
          {
            vmid: job.vmid,
            node: job.node,
            argv: ["sleep", seconds.toFixed(3)],
            wait_seconds: waitSeconds,
          },
        ];
  job.sentAt = Date.now();
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
  job.answeredAt = Date.now();
  const text = textOf(result);
  job.upid = /UPID:[^\s)]+/.exec(text)?.[0];
  if (job.upid) {
    const started = upidStartMs(job.upid);
    // Trust the UPID only when it falls inside the call (10 ms of rounding either way).
    if (started !== undefined && started >= job.sentAt - 10 && started <= job.answeredAt)
      job.startedAt = started;
  }
  if (result.isError) job.error = text.slice(0, 200);
  else if (/still running/i.test(text)) job.error = `still running after ${waitSeconds} s`;
}

/** How late the answer came: after the task's end when its start is known, else after the call's start + duration (an upper bound). */
function lateness(job: Job): number {
  const from = job.startedAt ?? (job.sentAt as number);
  return (job.answeredAt as number) - from - job.durationMs;
}

/**
 * Waits until `count` qmstart tasks of these VMs have been seen running (`seen` accumulates:
 * a short task may have ended by the time the next one starts).
 */
async function untilStarted(sim: Sim, vmids: number[], count: number, seen: Set<string>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const state = await sim.control<{ runningTasks: string[] }>("GET", "state");
    for (const upid of state.runningTasks) {
      if (vmids.some((v) => upid.includes(`:qmstart:${v}:`))) seen.add(upid);
    }
    if (seen.size >= count) return;
    await sleep(25);
  }
  throw new Error(`tasks for VMs ${vmids.join(", ")} did not start within 30 s`);
}

const SHARED_WAITERS = 20;
const SHARED_TASK_MS = 5000;

/** Status requests of one waiter alone, then of twenty concurrent waiters on one task. */
async function sharedWaits(sim: Sim, mcp: Mcp, vms: { vmid: number; node: string }[]) {
  const start = async (vm: { vmid: number; node: string }) => {
    await sim.settings({ taskDurationMs: SHARED_TASK_MS });
    const started = await mcp.call("start_vm", { vmid: vm.vmid, node: vm.node, wait: false });
    await sim.settings({ taskDurationMs: null });
    const upid = /UPID:[^\s)]+/.exec(textOf(started))?.[0];
    if (!upid) throw new Error(`start_vm gave no UPID: ${textOf(started).slice(0, 200)}`);
    return upid;
  };
  const [first, second] = vms as [{ vmid: number; node: string }, { vmid: number; node: string }];
  await sim.clearRequests();
  const alone = await start(first);
  await mcp.call("wait_for_task", { upid: alone, wait_seconds: 60 }, { timeoutMs: 90_000 });
  const shared = await start(second);
  const answers = await Promise.all(
    Array.from({ length: SHARED_WAITERS }, () =>
      mcp.call("wait_for_task", { upid: shared, wait_seconds: 60 }, { timeoutMs: 90_000 }),
    ),
  );
  const log = await sim.requests();
  const about = (upid: string, end: string) =>
    log.filter((r) => r.path.includes(upid) && r.path.endsWith(end)).length;
  return {
    alone: about(alone, "/status"),
    status: about(shared, "/status"),
    log: about(shared, "/log"),
    answeredAtOnce: answers.filter((a) => /Not waited for/.test(textOf(a))).length,
  };
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
  // At most MAX_OPEN_WAITS (16) waits are open per session: the full run keeps its 15 task jobs under it.
  const perDuration = ctx.mode === "full" ? 5 : 2;
  await sim.reset({ nodes: 3, guests: GUESTS });
  // Guest programs run in real time (the simulator may scale guest time, e.g. for its own tests).
  const { settings } = await sim.control<{ settings: Record<string, unknown> }>("GET", "state");
  if ("execTimeScale" in settings) await sim.settings({ execTimeScale: 1 });
  const hasExec = tools.some((t) => t.name === "guest_exec");
  const jobCount = durations.length * perDuration;
  // Two more stopped VMs for the shared-wait run: one waiter alone, then twenty on one task.
  const { startable, agent } = await pickGuests(sim, jobCount + 2, hasExec ? jobCount : 0);

  // Exec jobs: only when the tool exists and a quick command works against this simulator.
  let execNote: string | undefined;
  if (!hasExec) execNote = "guest_exec is not in tools/list: not available yet.";
  else if (agent.length < jobCount)
    execNote = `only ${agent.length} running VMs with the guest agent enabled, need ${jobCount}.`;
  else {
    const first = agent[0] as { vmid: number; node: string };
    const probe = await mcp.call("guest_exec", {
      vmid: first.vmid,
      node: first.node,
      argv: ["echo", "bench"],
    });
    if (probe.isError)
      execNote = `guest_exec does not work against the simulator yet: "${textOf(probe).slice(0, 160)}"`;
  }

  // One VM per job, so that each job's status requests can be told apart in the request log.
  const jobs: Job[] = [];
  let next = 0;
  for (const nominalMs of durations) {
    for (let i = 0; i < perDuration; i++) {
      const durationMs = spread(nominalMs, i, perDuration);
      const progress = i % 2 === 1;
      const vm = startable[next] as { vmid: number; node: string };
      jobs.push({
        kind: "task",
        nominalMs,
        durationMs,
        vmid: vm.vmid,
        node: vm.node,
        progress,
        progressEvents: 0,
      });
      if (!execNote) {
        const a = agent[next] as { vmid: number; node: string };
        jobs.push({
          kind: "exec",
          nominalMs,
          durationMs,
          vmid: a.vmid,
          node: a.node,
          progress,
          progressEvents: 0,
        });
      }
      next++;
    }
  }

  await sim.clearRequests();
  const running: Promise<void>[] = [];
  // Longest first, so that all jobs overlap and the section takes about as long as the longest.
  // taskDurationMs applies to tasks as they start: set it, start that task, wait until it runs.
  const order = [...jobs].sort((a, b) => b.durationMs - a.durationMs);
  const taskVmids = jobs.filter((j) => j.kind === "task").map((j) => j.vmid);
  let started = 0;
  const seen = new Set<string>();
  log(
    `waiting: ${jobs.length} jobs of ${durations.map((d) => `${d / 1000} s`).join(", ")} (each a little longer)`,
  );
  for (const job of order) {
    if (job.kind === "task") await sim.settings({ taskDurationMs: job.durationMs });
    running.push(runJob(mcp, job));
    if (job.kind === "task") await untilStarted(sim, taskVmids, ++started, seen);
  }
  await Promise.all(running);
  await sim.settings({ taskDurationMs: null });
  const requestLog = await sim.requests();

  const rows: (string | number)[][] = [];
  const failures: string[] = [];
  for (const kind of ["task", "exec"] as const) {
    for (const nominalMs of durations) {
      const group = jobs.filter((j) => j.kind === kind && j.nominalMs === nominalMs);
      if (group.length === 0) continue;
      for (const j of group.filter((x) => x.error))
        failures.push(`${kind} on VM ${j.vmid} (${j.durationMs / 1000} s): ${j.error}`);
      const done = group.filter((j) => !j.error && j.answeredAt !== undefined);
      if (done.length === 0) continue;
      const after = done.map(lateness);
      const status = done.map((j) => requestsOf(j, requestLog).status);
      const withProgress = done.filter((j) => j.progress);
      const precise = done.every((j) => j.startedAt !== undefined);
      const seconds = done.map((j) => j.durationMs / 1000);
      rows.push([
        kind === "task" ? "start_vm" : "guest_exec `sleep`",
        `${nominalMs / 1000} s (${done.length} jobs, ${Math.min(...seconds)}–${Math.max(...seconds)} s)`,
        `${timing(after)}${precise ? "" : " (upper bound)"}`,
        ms(Math.max(...after)),
        precise ? ms(median(done.map((j) => (j.startedAt as number) - (j.sentAt as number)))) : "—",
        `${median(status)} (max ${Math.max(...status)})`,
        kind === "task" && withProgress.length
          ? `${median(withProgress.map((j) => requestsOf(j, requestLog).log))}`
          : "—",
        withProgress.length ? `${median(withProgress.map((j) => j.progressEvents))}` : "—",
      ]);
    }
  }
  const shared = await sharedWaits(sim, mcp, startable.slice(jobCount, jobCount + 2));
  log(
    `waiting: ${SHARED_WAITERS} waiters on one task made ${shared.status} status requests (one waiter alone: ${shared.alone})`,
  );

  const afterEnd = (kind: Job["kind"]) => jobs.filter((j) => j.kind === kind && !j.error).map(lateness);
  const aims = (["task", "exec"] as const)
    .map((kind) => ({ kind, after: afterEnd(kind) }))
    .filter(({ after }) => after.length > 0)
    .map(({ kind, after }) => ({
      // At the median, like the overhead aim; p95 is about one poll interval (750 ms), shown beside it.
      what: `${kind === "task" ? "task" : "exec job"} answer after its end, median over all durations (aim)`,
      budget: "< 500 ms",
      actual: `${ms(median(after))} (p95 ${ms(percentile(after, 95))})`,
      pass: median(after) < 500,
      deterministic: false,
    }));
  const body = [
    table(
      [
        "tool",
        "duration",
        "answer after the end: median / p95",
        "max",
        "call → task start: median",
        "status requests per job: median",
        "task-log requests per job with progress",
        "progress notifications per job with progress",
      ],
      rows,
    ),
    "",
    `A simulated ${GUESTS}-guest cluster; all jobs run at once, one VM each; every other job asks for progress (a progress token), which adds a task-log read at most every 2 s. ` +
      "Tasks are start_vm on stopped VMs with the simulator's task duration set (taskDurationMs); the durations of a " +
      "row spread over a poll interval, because how late a poll sees the end depends on where the end falls between " +
      'polls. A task\'s start is read from its UPID (to 10 ms), so "after the end" is exact; exec jobs (`sleep N`) ' +
      "are timed from when the call was sent, an upper bound that includes the tool's work before the program " +
      "starts. Status requests are `GET /nodes/{node}/tasks/{upid}/status` for that UPID, or `agent/exec-status` " +
      "of that VM; they include the Session's own alarm checks.",
    "",
    `${SHARED_WAITERS} concurrent wait_for_task calls on one ${SHARED_TASK_MS / 1000} s task made ${shared.status} status ` +
      `requests and ${shared.log} task-log reads (one waiter alone on a task as long: ${shared.alone} status requests); ` +
      `${shared.answeredAtOnce} of ${SHARED_WAITERS} were over the session's cap of open waits and answered at once with the ` +
      "task's state and its UPID. Waits on one task share one poll in the isolate, so this is about what one waiter costs.",
    "",
    execNote
      ? `Exec jobs: ${execNote}`
      : "Exec jobs: `guest_exec` of `sleep N` on running VMs with the agent.",
    ...(failures.length ? ["", `Jobs that did not finish cleanly: ${failures.join("; ")}.`] : []),
  ].join("\n");
  return {
    title: "4. Waiting for tasks and exec jobs",
    howToRead:
      "How long after a task (or guest command) ends the tool answers, and how many status requests the wait costs. Aim: under 500 ms after the end with a handful of requests; a poll interval trades one for the other. Polls back off from 250 ms to 750 ms, so an answer comes under half a second after the end at the median and within about 0.8 s at worst, for about 1.3 status requests per second of waiting.",
    body,
    checks: [
      ...aims,
      {
        what: `status requests with ${SHARED_WAITERS} waiters on one task (one waiter alone: ${shared.alone})`,
        budget: "≤ one waiter's + 2",
        actual: String(shared.status),
        pass: shared.status <= shared.alone + 2,
        // Both counts follow the poll schedule, whose phase against the task's end varies by one.
        deterministic: false,
      },
      ...failures.map((f) => ({
        what: `waiting job: ${f.split(":")[0]}`,
        budget: "ends within its wait",
        actual: f,
        pass: false,
        deterministic: false,
      })),
    ],
  };
}
