import type { ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { node, text, vmid, wholeNumber } from "../../mcp/args";
import { bytes, duration } from "../../mcp/format";
import { changes, READ_ONLY, type ToolDeps, ToolError, tool } from "../../mcp/tool";
import { MAX_POLL_MS, retryDelay } from "../../session/poll";
import type { ExecJob } from "../../session/session";
import { onAgent } from "./agent";
import { byteOffset, DEFAULT_OUTPUT_BYTES, EXEC_INPUT_LIMIT, maxBytes } from "./args";
import { page, type StreamPage } from "./bytes";
import { needsShell, shellJoin, shellSplit } from "./shell";

/**
 * guest_exec and guest_exec_status. Exec results live in the Session (the agent forgets them once
 * read); a wait that runs out leaves the job tracked.
 */

export const execResultSchema = z.object({
  job: z.string(),
  vmid: z.number(),
  pid: z.number(),
  status: z.enum(["running", "exited", "lost"]),
  exitcode: z.number().optional(),
  signal: z.number().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  stdoutNext: z.number().optional(),
  stderrNext: z.number().optional(),
  /** The shell a command line with shell syntax ran through, e.g. "sh -c". */
  shell: z.string().optional(),
});

export function execAnswer(job: ExecJob, offset: number, max: number, pollError?: string) {
  const data: z.infer<typeof execResultSchema> = {
    job: job.id,
    vmid: job.vmid,
    pid: job.pid,
    status: job.status,
  };
  const head = `${job.command} (VM ${job.vmid}, pid ${job.pid})`;
  if (job.status === "running" && pollError) {
    return {
      text:
        `Started ${head}, but its result could not be read (${pollError}); it may still be running. ` +
        `It stays tracked as job ${job.id} (guest_exec_status reads it later).`,
      data,
    };
  }
  if (job.status === "running") {
    return {
      text: `Still running after ${duration((Date.now() - job.startedAt) / 1000)}: ${head}. Job ${job.id} stays tracked; read it with guest_exec_status.`,
      data,
    };
  }
  if (job.status === "lost") {
    throw new ToolError(
      `VM ${job.vmid} has no result for pid ${job.pid}: ${job.error ?? "the agent no longer knows it"}. ` +
        "The agent forgets a result once it has been read, and after a reboot.",
    );
  }
  const out = page(job.out ?? "", offset, max);
  const err = page(job.err ?? "", offset, max);
  Object.assign(data, {
    exitcode: job.exitcode,
    signal: job.signal,
    stdout: out.text,
    stderr: err.text,
    stdoutNext: out.next,
    stderrNext: err.next,
  });
  const ending =
    job.signal !== undefined ? `killed by signal ${job.signal}` : `exit code ${job.exitcode ?? "?"}`;
  const lines = [`${head}: ${ending}.`];
  const section = (name: string, p: StreamPage, truncatedByAgent?: boolean) => {
    if (p.total === 0) return;
    lines.push(
      `${name}${p.binary ? ` (binary, base64 of chars ${offset}-${offset + Math.min(max, p.total - offset)})` : ""}:`,
    );
    lines.push(p.text);
    if (p.next !== undefined)
      lines.push(
        `… ${p.total - p.next} more characters of ${name}: guest_exec_status job=${job.id} offset=${p.next}.`,
      );
    if (truncatedByAgent) lines.push(`(the guest agent cut ${name} at its 16 MiB limit)`);
  };
  section("stdout", out, job.outTruncated);
  section("stderr", err, job.errTruncated);
  if (out.total === 0 && err.total === 0) lines.push("(no output)");
  if (job.storeTruncated) lines.push(`(only the first ${bytes(512 * 1024)} of each stream were kept)`);
  return { text: lines.join("\n"), data };
}

/**
 * Polls an exec job through the Session until it ends or the wait is over. A read that fails
 * (the host, the tunnel or the agent hiccuped) is tried again with backoff until the deadline;
 * the Session keeps the job either way, so nothing is lost when the wait ends first.
 */
export async function waitForExec(
  deps: ToolDeps,
  job: ExecJob,
  waitSeconds: number,
  ctx: ServerContext,
): Promise<{ job: ExecJob; pollError?: string }> {
  const deadline = Date.now() + waitSeconds * 1000;
  const token = ctx.mcpReq._meta?.progressToken;
  let current = job;
  let pollError: string | undefined;
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      current = (await deps.session.pollExecJob(current.id)) ?? current;
      pollError = undefined;
      failures = 0;
    } catch (error) {
      // Over Durable Object RPC only the message survives; the job itself is safe in the Session.
      pollError = error instanceof Error ? error.message : String(error);
      failures++;
    }
    if (current.status !== "running" || Date.now() >= deadline || ctx.mcpReq.signal.aborted) break;
    if (token !== undefined && pollError === undefined) {
      // Elapsed seconds only grow, as MCP progress must.
      const elapsed = (Date.now() - job.startedAt) / 1000;
      await ctx.mcpReq
        .notify({
          method: "notifications/progress",
          params: {
            progressToken: token,
            progress: elapsed,
            message: `${job.command}: running for ${duration(elapsed)}`,
          },
        })
        .catch(() => undefined);
    }
    const pause =
      failures > 0 ? retryDelay(failures) : Math.min(Math.round(150 * 1.4 ** attempt), MAX_POLL_MS);
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
  }
  return { job: current, pollError: current.status === "running" ? pollError : undefined };
}

export const guestExecTool = tool({
  name: "guest_exec",
  title: "Run a command in a VM",
  description:
    "Run a program in a VM via the guest agent: exit code, stdout, stderr. command: a line (shell syntax such as | ; > $ runs via sh -c, or cmd /c on Windows); or argv: the exact arguments.",
  input: z.object({
    vmid,
    node: node.optional(),
    // One type per parameter: some clients' schema converters drop a union's types.
    command: z.string().min(1).max(16384).optional().describe("A command line."),
    argv: z
      .array(z.string().max(4096))
      .min(1)
      .max(256)
      .optional()
      .describe("Program and arguments, as given."),
    input: z
      .string()
      .max(EXEC_INPUT_LIMIT, {
        error: `input may be at most ${EXEC_INPUT_LIMIT} characters (the agent's limit)`,
      })
      .optional()
      .describe("stdin."),
    wait_seconds: wholeNumber("wait_seconds", {
      min: 0,
      max: 240,
      hint: "how long to wait for the command",
    }).default(30),
  }),
  output: execResultSchema,
  scope: "exec",
  // openWorld: a command reaches whatever the VM can reach.
  annotations: changes({ destructive: true, idempotent: false, openWorld: true }),
  handler: (deps) => async (args, ctx) => {
    if ((args.command === undefined) === (args.argv === undefined))
      throw new ToolError(
        args.command === undefined
          ? 'Give command (a command line, e.g. "df -h /") or argv (e.g. ["df", "-h", "/"]).'
          : "Give command or argv, not both.",
      );
    const viaShell = args.command !== undefined && needsShell(args.command);
    const words = args.argv ?? (viaShell ? [] : shellSplit(args.command as string));
    if (!viaShell && words.length === 0) throw new ToolError("command is empty.");
    return onAgent(deps, args, async (guest) => {
      let argv = words;
      let shell: string | undefined;
      if (viaShell) {
        // The guest's OS decides which shell: qemu-ga reports "mswindows" for Windows.
        const os = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo", {
          node: guest.node,
          vmid: guest.vmid,
        });
        const windows = (os.result as { id?: string } | undefined)?.id === "mswindows";
        shell = windows ? "cmd.exe /c" : "sh -c";
        argv = windows
          ? ["cmd.exe", "/c", args.command as string]
          : ["/bin/sh", "-c", args.command as string];
      }
      const line = shellJoin(argv);
      const started = await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/exec", {
        node: guest.node,
        vmid: guest.vmid,
        command: argv,
        "input-data": args.input,
      });
      const job = await deps.session.startExecJob({
        vmid: guest.vmid,
        node: guest.node,
        pid: started.pid,
        command: line,
        actor: deps.actor,
        watchedUntil: Date.now() + args.wait_seconds * 1000,
      });
      const done = await waitForExec(deps, job, args.wait_seconds, ctx);
      const answer = execAnswer(done.job, 0, DEFAULT_OUTPUT_BYTES, done.pollError);
      if (!shell) return answer;
      return {
        text: `Ran through the guest's shell (${shell}), since the command line uses shell syntax.\n${answer.text}`,
        data: { ...answer.data, shell },
      };
    });
  },
});

export const guestExecStatusTool = tool({
  name: "guest_exec_status",
  title: "Result of a VM command",
  description: "A guest_exec result by job (or vmid + pid), readable again; output paged with offset.",
  input: z.object({
    job: text("job", {
      hint: "the job ID guest_exec gave",
      max: 64,
      check: (v) =>
        /^[a-z0-9-]+$/.test(v) ? null : "job must be a job ID as guest_exec gave it, such as 101-4242-m0abc",
    }).optional(),
    vmid: vmid.optional(),
    pid: wholeNumber("pid", {
      min: 0,
      max: 4_294_967_295,
      hint: "the process ID guest_exec gave",
    }).optional(),
    offset: byteOffset.default(0),
    max_bytes: maxBytes.default(DEFAULT_OUTPUT_BYTES),
  }),
  output: execResultSchema,
  scope: "exec",
  annotations: READ_ONLY,
  handler: (deps) => async (args) => {
    let job: ExecJob | null = null;
    if (args.job) {
      job = await deps.session.pollExecJob(args.job);
      if (!job)
        throw new ToolError(
          `There is no exec job '${args.job}' in this session (results are kept for 24 hours).`,
        );
    } else if (args.vmid !== undefined && args.pid !== undefined) {
      // Only a command this session started: reading another's pid would take its result away
      // from whoever started it (the agent forgets a result once read).
      const found = await deps.session.findExecJob(args.vmid, args.pid);
      if (!found)
        throw new ToolError(
          `pid ${args.pid} on VM ${args.vmid} was not started by guest_exec in this session, so its result is not read here: the guest agent hands a result out once, and it belongs to whoever started the command. Nothing was sent.`,
        );
      job = await deps.session.pollExecJob(found.id);
    } else {
      throw new ToolError("Give job (from guest_exec), or vmid and pid.");
    }
    return execAnswer(job as ExecJob, args.offset, args.max_bytes);
  },
});
