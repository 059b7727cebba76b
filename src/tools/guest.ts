import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { freeText, MAX_STRING, node, text, vmid, wholeNumber } from "../mcp/args";
import { changed, changeSchema, confirmArg, preview } from "../mcp/changes";
import { bytes, duration, timestamp, usage } from "../mcp/format";
import { GUEST_POWER_WAIT_MS, waitForGuestPower } from "../mcp/guest-state";
import { type GuestTarget, onGuest } from "../mcp/guests";
import { assertAllowed } from "../mcp/policy";
import { changes, defineTool, READ_ONLY, type ToolDeps, ToolError, tool } from "../mcp/tool";
import { ProxmoxError } from "../proxmox/errors";
import { checkGuestPath } from "../proxmox/formats";
import { repairText } from "../session/exec";
import { MAX_POLL_MS, retryDelay } from "../session/poll";
import type { ExecJob } from "../session/session";

/**
 * The QEMU guest agent: commands, files and system information inside VMs. Exec results live in
 * the Session (the agent forgets them once read); every agent error is explained with what to do.
 */

export const EXEC_INPUT_LIMIT = 64 * 1024;
/** qemu-server file-write: content maxLength 61440 ("smaller than our 64k POST limit"). */
export const FILE_WRITE_LIMIT = 61_440;
const DEFAULT_READ_BYTES = 64 * 1024;
const MAX_READ_BYTES = 1024 * 1024;

const guestPath = text("path", {
  hint: "an absolute path inside the guest, e.g. /etc/hostname",
  max: 4096,
  check: (v) => checkGuestPath("path", v),
});
const byteOffset = wholeNumber("offset", { min: 0, max: Number.MAX_SAFE_INTEGER, hint: "bytes to skip" });
const maxBytes = wholeNumber("max_bytes", { min: 1, max: MAX_READ_BYTES, hint: "bytes to return at most" });
const DEFAULT_OUTPUT_BYTES = 16 * 1024;

/** Splits a command line like a POSIX shell: whitespace separates, quotes group, backslash escapes. */
export function shellSplit(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === "\\" && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1] as string))
        word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new ToolError(`command has an unclosed ${quote === "'" ? "single" : "double"} quote.`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Whether a command line needs a shell to mean what it says: operators (`; | & && || > <`),
 * expansions (`$VAR`, `$(...)`, backticks, also inside double quotes), globs, `~`, or a newline.
 * Such a line runs through the guest's shell; splitting it into argv would pass `;` or `|` to the
 * program as arguments.
 */
export function needsShell(line: string): boolean {
  let quote: "'" | '"' | undefined;
  let wordStart = true;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    const next = line[i + 1] ?? "";
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      continue;
    }
    if (ch === "\\") {
      i++;
      wordStart = false;
      continue;
    }
    if (ch === "`" || (ch === "$" && /[A-Za-z_{(0-9?#@*!$-]/.test(next))) return true;
    if (quote === '"') {
      if (ch === '"') quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (";|&<>\n*?[".includes(ch) || (ch === "~" && wordStart)) {
      return true;
    }
    wordStart = /\s/.test(ch);
  }
  return false;
}

/** Shows an argv the way a shell would read it back. */
export function shellJoin(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Turns the agent's failures into what to do about them. */
export function explainAgentError(error: unknown, who: string): never {
  if (!(error instanceof ProxmoxError)) throw error;
  const message = error.pveMessage ?? "";
  if (/No QEMU guest agent configured/i.test(message)) {
    throw new ToolError(
      `${who} has no guest agent configured. Enable it with update_vm (extra: agent=1), restart the VM, and install qemu-guest-agent inside it.`,
    );
  }
  if (/VM \d+ is not running/i.test(message)) {
    throw new ToolError(`${who} is not running, so its guest agent cannot answer. Start it with start_vm.`);
  }
  if (/guest agent is not running/i.test(message)) {
    throw new ToolError(
      `The guest agent in ${who} is not answering. Is it installed and started? Debian/Ubuntu: apt install qemu-guest-agent, then ` +
        "systemctl enable --now qemu-guest-agent; RHEL/Fedora: dnf install qemu-guest-agent; Windows: install the VirtIO guest tools " +
        "from the virtio-win ISO. Right after boot it can take a few more seconds.",
    );
  }
  if (/^Agent error/i.test(message)) {
    const detail = message.replace(/^Agent error:\s*/i, "");
    let hint = "";
    if (/Failed to execute child process/i.test(detail)) {
      hint =
        ' The program is not installed or not on the agent\'s PATH; give its full path, or use ["sh", "-c", "..."].';
    } else if (/No such file or directory|cannot find the (file|path)/i.test(detail)) {
      hint = " The path does not exist inside the guest.";
    } else if (/Permission denied|Access is denied/i.test(detail)) {
      hint = " The agent runs without the rights for that path.";
    } else if (/pid/i.test(detail)) {
      hint = " The agent forgets a result once it has been read, and after a reboot.";
    } else if (/frozen|read-only/i.test(detail))
      hint = " Filesystems are frozen: thaw them with guest_fsfreeze action=thaw.";
    throw new ToolError(`The guest agent in ${who} reported: ${detail}.${hint}`);
  }
  throw error;
}

/** Runs an agent call on a VM (node found from the vmid when omitted), with agent errors explained. */
async function onAgent<T>(
  deps: ToolDeps,
  args: { vmid: number; node?: string },
  call: (guest: GuestTarget) => Promise<T>,
): Promise<T> {
  assertAllowed(deps.policy, { vmid: args.vmid });
  return onGuest(deps, { vmid: args.vmid, node: args.node, type: "qemu" }, async (guest) => {
    assertAllowed(deps.policy, { node: guest.node });
    try {
      return await call(guest);
    } catch (error) {
      if (
        error instanceof ProxmoxError &&
        error.kind === "not_found" &&
        /Configuration file/.test(error.pveMessage ?? "")
      ) {
        throw error;
      }
      return explainAgentError(error, `VM ${guest.vmid}`);
    }
  });
}

function looksBinary(text: string): boolean {
  if (!text) return false;
  const sample = text.slice(0, 4096);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
  const control = sample.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/g)?.length ?? 0;
  return control > sample.length / 100 || sample.includes("\u0000");
}

/** Base64 of byte-valued characters (as PVE delivers agent output), or of UTF-8 otherwise. */
function toBase64(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for characters above one byte
  if (/^[\u0000-\u00ff]*$/.test(text)) return btoa(text);
  return btoa(Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join(""));
}

interface StreamPage {
  text: string;
  total: number;
  next?: number;
  binary?: boolean;
}

function page(stream: string, offset: number, max: number): StreamPage {
  const total = stream.length;
  if (looksBinary(stream)) {
    const slice = stream.slice(offset, offset + max);
    return {
      text: toBase64(slice),
      total,
      binary: true,
      next: offset + max < total ? offset + max : undefined,
    };
  }
  const text = stream.slice(offset, offset + max);
  return { text, total, next: offset + max < total ? offset + max : undefined };
}

const execResultSchema = z.object({
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

function execAnswer(job: ExecJob, offset: number, max: number, pollError?: string) {
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
async function waitForExec(
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

const GET_KINDS = [
  "info",
  "osinfo",
  "host-name",
  "timezone",
  "time",
  "users",
  "vcpus",
  "memory-blocks",
  "memory-block-info",
  "fsinfo",
  "network-interfaces",
  "fsfreeze-status",
  "commands",
] as const;
type GetKind = (typeof GET_KINDS)[number];

// biome-ignore lint/suspicious/noExplicitAny: QGA answers are loosely typed JSON, rendered field by field
type Json = any;

function renderGet(what: GetKind, result: Json): string {
  switch (what) {
    case "info": {
      const enabled = (result?.supported_commands ?? []).filter((c: Json) => c.enabled).length;
      return `QEMU guest agent ${result?.version ?? "?"}, ${enabled} commands enabled`;
    }
    case "osinfo":
      return `${result?.["pretty-name"] ?? result?.name ?? "unknown OS"}, kernel ${result?.["kernel-release"] ?? "?"} (${result?.machine ?? "?"})`;
    case "host-name":
      return String(result?.["host-name"] ?? "?");
    case "timezone":
      return `${result?.zone ?? "?"} (UTC${(result?.offset ?? 0) >= 0 ? "+" : ""}${(result?.offset ?? 0) / 3600})`;
    case "time":
      return `${new Date(Number(result) / 1e6).toISOString()} (guest clock)`;
    case "users":
      return (result ?? []).length
        ? (result as Json[])
            .map(
              (u) =>
                `${u.domain ? `${u.domain}\\` : ""}${u.user} logged in since ${timestamp(Math.floor(u["login-time"]))}`,
            )
            .join("\n")
        : "No users logged in.";
    case "vcpus": {
      const list = (result ?? []) as Json[];
      return `${list.filter((c) => c.online).length} of ${list.length} vCPUs online`;
    }
    case "memory-blocks": {
      const list = (result ?? []) as Json[];
      return `${list.length} memory blocks, ${list.filter((b) => b.online).length} online`;
    }
    case "memory-block-info":
      return `memory block size ${bytes(result?.size)}`;
    case "fsinfo":
      return ((result ?? []) as Json[])
        .map(
          (fs) =>
            `${fs.mountpoint} ${fs.type} on ${fs.name}${fs["total-bytes"] ? `: ${usage(fs["used-bytes"], fs["total-bytes"])} (${Math.round((fs["used-bytes"] / fs["total-bytes"]) * 100)}%)` : ""}`,
        )
        .join("\n");
    case "network-interfaces":
      return ((result ?? []) as Json[])
        .map((nic) => {
          const addresses = ((nic["ip-addresses"] ?? []) as Json[]).map(
            (a) => `${a["ip-address"]}/${a.prefix}`,
          );
          return `${nic.name}${nic["hardware-address"] ? ` ${nic["hardware-address"]}` : ""}: ${addresses.join(", ") || "no address"}`;
        })
        .join("\n");
    case "fsfreeze-status":
      return `filesystems ${result}`;
    case "commands":
      return ((result ?? []) as Json[]).map((c) => c.name).join(", ");
  }
}

const guestExecTool = tool({
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

const guestExecStatusTool = tool({
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

const guestFileReadTool = tool({
  name: "guest_file_read",
  title: "Read a file in a VM",
  description: "Read a file in a VM via the guest agent: text, or base64 when binary; page with offset.",
  input: z.object({
    vmid,
    node: node.optional(),
    path: guestPath,
    offset: byteOffset.default(0),
    max_bytes: maxBytes.default(DEFAULT_READ_BYTES),
  }),
  output: z.object({
    path: z.string(),
    offset: z.number(),
    bytes: z.number(),
    binary: z.boolean(),
    content: z.string(),
    next: z.number().optional(),
  }),
  scope: "exec",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const { content, more } = await readFile(deps, guest, args.path, args.offset, args.max_bytes);
      const text = decodeText(content);
      const binary = text === undefined;
      const next = more ? args.offset + content.length : undefined;
      const body = binary ? base64Bytes(content) : (text as string);
      const header = `${args.path} in VM ${guest.vmid}: ${content.length} bytes from offset ${args.offset}${binary ? " (binary, base64 below)" : ""}`;
      const footer = next !== undefined ? `\n… more: guest_file_read offset=${next}.` : "";
      return {
        text: `${header}\n${body}${footer}`,
        data: { path: args.path, offset: args.offset, bytes: content.length, binary, content: body, next },
      };
    }),
});

const guestFileWriteTool = tool({
  name: "guest_file_write",
  title: "Write a file in a VM",
  description:
    "Write (replace) a file in a VM via the guest agent; text or base64, at most 60 KiB. Needs confirm if it exists.",
  input: z.object({
    vmid,
    node: node.optional(),
    path: guestPath,
    content: freeText("content", { hint: "the file's content", max: MAX_STRING }),
    encoding: z.enum(["text", "base64"]).default("text"),
    confirm: confirmArg,
  }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) => {
    if (args.content.length > FILE_WRITE_LIMIT) {
      throw new ToolError(
        `content is ${args.content.length} characters; the guest agent takes at most ${FILE_WRITE_LIMIT} (60 KiB) per call. Split the file, or write it with guest_exec (sh -c 'cat >> file' with input).`,
      );
    }
    if (args.encoding === "base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(args.content.replace(/\s+/g, ""))) {
      throw new ToolError("content is not valid base64.");
    }
    return onAgent(deps, args, async (guest) => {
      if (!args.confirm) {
        if (await fileExists(deps, guest, args.path)) {
          return preview(
            "guest_file_write",
            `${args.path} already exists in VM ${guest.vmid}; writing replaces it.`,
            { vmid: guest.vmid, node: guest.node },
          );
        }
      }
      const content = args.encoding === "base64" ? args.content.replace(/\s+/g, "") : args.content;
      await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/file-write", {
        node: guest.node,
        vmid: guest.vmid,
        file: args.path,
        content,
        encode: args.encoding === "text",
      });
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_file_write",
        target: `VM ${guest.vmid}`,
        args: { path: args.path, bytes: content.length, encoding: args.encoding },
        outcome: "done",
      });
      return changed(
        `Wrote ${args.path} in VM ${guest.vmid} (${content.length} ${args.encoding === "base64" ? "base64 characters" : "characters"}).`,
        `Write ${args.path} in VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    });
  },
});

const guestGetTool = tool({
  name: "guest_get",
  title: "VM facts from inside",
  description: "Read-only facts from inside a VM via the guest agent, chosen by what.",
  input: z.object({ vmid, node: node.optional(), what: z.enum(GET_KINDS) }),
  output: z.object({ vmid: z.number(), what: z.string(), result: z.unknown() }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const params = { node: guest.node, vmid: guest.vmid };
      let result: Json;
      switch (args.what) {
        case "commands":
          result = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent", params);
          break;
        case "fsfreeze-status":
          result = (await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-status", params))
            .result;
          break;
        case "info":
          result = (await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/info", params)).result;
          break;
        case "network-interfaces":
          result = (
            await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", params)
          ).result;
          break;
        default: {
          const endpoint =
            `GET /nodes/{node}/qemu/{vmid}/agent/get-${args.what}` as "GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo";
          result = (await deps.client.call(endpoint, params)).result;
        }
      }
      // PVE relays a QGA error reply of these simple commands as a 200 {result: {error}}, e.g.
      // a Windows guest without network-get-interfaces (recorded from PVE 6.2).
      const agentError = result?.error;
      if (agentError && typeof agentError === "object" && !Array.isArray(result)) {
        throw new ToolError(
          `The guest agent of VM ${guest.vmid} cannot answer ${args.what}: ${agentError.desc ?? "error"}${agentError.class ? ` (${agentError.class})` : ""}.`,
        );
      }
      return {
        text: `VM ${guest.vmid} ${args.what}:\n${renderGet(args.what, result)}`,
        data: { vmid: guest.vmid, what: args.what, result },
      };
    }),
});

const guestPingTool = tool({
  name: "guest_ping",
  title: "Check the VM guest agent",
  description: "Check that a VM's guest agent answers.",
  input: z.object({ vmid, node: node.optional() }),
  output: z.object({ vmid: z.number(), ok: z.boolean() }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/ping", {
        node: guest.node,
        vmid: guest.vmid,
      });
      return { text: `The guest agent in VM ${guest.vmid} answers.`, data: { vmid: guest.vmid, ok: true } };
    }),
});

const guestSetUserPasswordTool = tool({
  name: "guest_set_user_password",
  title: "Set a password in a VM",
  description: "Set a user's password inside a VM; never shown or stored. Needs confirm.",
  input: z.object({
    vmid,
    node: node.optional(),
    username: text("username", {
      hint: "a user name in the guest such as root",
      max: 64,
      check: (v) =>
        /^[A-Za-z0-9_][A-Za-z0-9_.@$\\-]*$/.test(v)
          ? null
          : "username must be a user name in the guest such as root",
    }),
    password: freeText("password", { hint: "the new password", min: 5, max: 1024 }),
    crypted: z.boolean().default(false).describe("password is already crypt()ed."),
    confirm: confirmArg,
  }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      if (!args.confirm)
        return preview(
          "guest_set_user_password",
          `This replaces the password of '${args.username}' inside VM ${guest.vmid}.`,
          { vmid: guest.vmid, node: guest.node },
        );
      await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/set-user-password", {
        node: guest.node,
        vmid: guest.vmid,
        username: args.username,
        password: args.password,
        crypted: args.crypted || undefined,
      });
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_set_user_password",
        target: `VM ${guest.vmid}`,
        args: { username: args.username },
        outcome: "done",
      });
      return changed(
        `Set the password of '${args.username}' in VM ${guest.vmid}.`,
        `Set the password of '${args.username}' in VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    }),
});

const guestFsfreezeTool = tool({
  name: "guest_fsfreeze",
  title: "Freeze or thaw VM filesystems",
  description: "Freeze or thaw a VM's filesystems via the guest agent. Needs confirm.",
  input: z.object({ vmid, node: node.optional(), action: z.enum(["freeze", "thaw"]), confirm: confirmArg }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const params = { node: guest.node, vmid: guest.vmid };
      if (!args.confirm) {
        return preview(
          "guest_fsfreeze",
          args.action === "freeze"
            ? `This freezes every filesystem in VM ${guest.vmid}: programs that write will hang until guest_fsfreeze action=thaw.`
            : `This thaws the filesystems of VM ${guest.vmid}.`,
          { vmid: guest.vmid, node: guest.node },
        );
      }
      const result =
        args.action === "freeze"
          ? await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-freeze", params)
          : await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-thaw", params);
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_fsfreeze",
        target: `VM ${guest.vmid}`,
        args: { action: args.action },
        outcome: "done",
      });
      const count = typeof result.result === "number" ? result.result : undefined;
      return changed(
        `${args.action === "freeze" ? "Froze" : "Thawed"} ${count ?? "the"} filesystem${count === 1 ? "" : "s"} of VM ${guest.vmid}.${args.action === "freeze" ? " Thaw them soon with guest_fsfreeze action=thaw." : ""}`,
        `${args.action === "freeze" ? "Freeze" : "Thaw"} the filesystems of VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    }),
});

const guestFstrimTool = tool({
  name: "guest_fstrim",
  title: "Trim VM filesystems",
  description: "Trim a VM's filesystems (fstrim) to give thin storage back.",
  input: z.object({ vmid, node: node.optional() }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: false, idempotent: true }),
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const { result } = await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fstrim", {
        node: guest.node,
        vmid: guest.vmid,
      });
      const paths = ((result as Json)?.paths ?? []) as Json[];
      const lines = paths.map(
        (p) => `${p.path}: ${p.error ? `failed (${p.error})` : `${bytes(p.trimmed ?? 0)} trimmed`}`,
      );
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_fstrim",
        target: `VM ${guest.vmid}`,
        args: {},
        outcome: "done",
      });
      return changed(
        [`Trimmed the filesystems of VM ${guest.vmid}.`, ...lines].join("\n"),
        `Trim the filesystems of VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    }),
});

const guestPowerTool = tool({
  name: "guest_power",
  title: "Shut down or suspend from inside",
  description: "Shut down or suspend a VM from inside via the guest agent. Needs confirm.",
  input: z.object({
    vmid,
    node: node.optional(),
    action: z.enum(["shutdown", "suspend-disk", "suspend-ram", "suspend-hybrid"]),
    confirm: confirmArg,
  }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args, ctx) =>
    onAgent(deps, args, async (guest) => {
      if (!args.confirm)
        return preview(
          "guest_power",
          `This asks the guest OS of VM ${guest.vmid} to ${args.action.replace("-", " to ")}.`,
          { vmid: guest.vmid, node: guest.node },
        );
      const params = { node: guest.node, vmid: guest.vmid };
      const endpoint =
        `POST /nodes/{node}/qemu/{vmid}/agent/${args.action}` as "POST /nodes/{node}/qemu/{vmid}/agent/shutdown";
      await deps.client.call(endpoint, params);
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_power",
        target: `VM ${guest.vmid}`,
        args: { action: args.action },
        outcome: "done",
      });
      // Wait for the guest to act, so a tool called next sees it stopped or suspended.
      const reached = await waitForGuestPower(
        deps,
        guest,
        args.action === "shutdown" || args.action === "suspend-disk" ? "stopped" : "suspended",
        ctx.mcpReq.signal,
      );
      const asked = `Ask the guest OS of VM ${guest.vmid} to ${args.action.replace("-", " to ")}`;
      const target = { vmid: guest.vmid, node: guest.node };
      if (!reached) {
        return {
          text: `Asked the guest OS of VM ${guest.vmid} to ${args.action.replace("-", " to ")}; it has not done so after ${GUEST_POWER_WAIT_MS / 1000} s. It happens in the guest's own time; get_vm shows when it is done.`,
          data: { state: "running" as const, action: asked, target },
        };
      }
      return changed(`${asked}: done, VM ${guest.vmid} is ${reached} now.`, asked, target);
    }),
});

export function registerGuestTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, guestExecTool);
  defineTool(server, deps, guestExecStatusTool);
  defineTool(server, deps, guestFileReadTool);
  defineTool(server, deps, guestFileWriteTool);
  defineTool(server, deps, guestGetTool);
  defineTool(server, deps, guestPingTool);
  defineTool(server, deps, guestSetUserPasswordTool);
  defineTool(server, deps, guestFsfreezeTool);
  defineTool(server, deps, guestFstrimTool);
  defineTool(server, deps, guestPowerTool);
}

/** Bytes of a file as a string of byte-valued characters, and whether more follows. */
async function readFile(
  deps: ToolDeps,
  guest: GuestTarget,
  path: string,
  offset: number,
  max: number,
): Promise<{ content: string; more: boolean }> {
  const base = { node: guest.node, vmid: guest.vmid, file: path };
  try {
    // qemu-server 9.1.5+: offset/count, and decode=0 for exact bytes as base64.
    const result = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/file-read", {
      ...base,
      offset: offset || undefined,
      count: max,
      decode: false,
    });
    return { content: fromChunkedBase64(result.content), more: Boolean(result.truncated) };
  } catch (error) {
    if (
      !(
        error instanceof ProxmoxError &&
        error.kind === "invalid_params" &&
        (error.errors?.count || error.errors?.offset || error.errors?.decode)
      )
    ) {
      throw error;
    }
  }
  // Older hosts: the whole file (up to 16 MiB), already decoded; page it here.
  const result = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/file-read", base);
  const all = result.content;
  return {
    content: all.slice(offset, offset + max),
    more: offset + max < all.length || Boolean(result.truncated),
  };
}

/** File size up to MAX_READ_BYTES, false when the file does not exist, undefined when unknown. */
/**
 * Whether a file exists, from a one-byte read. Only "No such file" means it does not; any other
 * failure (VM stopped, agent off, no permission) is thrown, for onAgent to explain.
 */
async function fileExists(deps: ToolDeps, guest: GuestTarget, path: string): Promise<boolean> {
  try {
    await readFile(deps, guest, path, 0, 1);
    return true;
  } catch (error) {
    if (error instanceof ProxmoxError && /No such file or directory/i.test(error.pveMessage ?? ""))
      return false;
    throw error;
  }
}

/** PVE returns the base64 of each 1 MiB chunk concatenated, so padding can appear mid-string. */
export function fromChunkedBase64(content: string): string {
  let out = "";
  for (const part of content.match(/[^=]+={0,2}|={1,2}/g) ?? []) {
    if (/^=+$/.test(part)) continue;
    out += atob(part);
  }
  return out;
}

/** UTF-8 text from byte-valued characters, or undefined when it is binary. */
function decodeText(byteString: string): string | undefined {
  if (looksBinary(byteString)) return undefined;
  const repaired = repairText(byteString);
  return looksBinary(repaired) ? undefined : repaired;
}

function base64Bytes(byteString: string): string {
  return toBase64(byteString);
}
