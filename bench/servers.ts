// Starts the simulator and the MCP server as two `wrangler dev` processes on free ports, waits
// until the MCP server reaches the simulator, and stops both however the run ends.
//
// Two processes rather than `npm run dev`'s one: a multi-config `wrangler dev` serves only its
// first Worker, and the benchmark must reach the simulator's control API (/_sim/*) and its
// /api2/json directly. The MCP Worker's `PVE` service binding finds the simulator through
// wrangler's dev registry (a private registry folder per run, so no other dev session on this
// machine can answer in its place).

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Servers {
  /** http://127.0.0.1:PORT/mcp */
  mcpUrl: string;
  /** http://127.0.0.1:PORT (simulator origin: /_sim/*, /api2/json/*) */
  simOrigin: string;
  /** Seconds from spawning the processes until the MCP server answered a tool call. */
  startupSeconds: number;
  logDir: string;
  /**
   * One more MCP server with other settings (`--var`), bound to the same simulator; stopped with
   * the others, or earlier by its own stop.
   */
  startMcp(
    vars: Readonly<Record<string, string>>,
    name: string,
  ): Promise<{ mcpUrl: string; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** What the Workers are built from; copied so that edits made during a run do not reload them. */
const TREE = [
  "wrangler.toml",
  "src",
  "sim/wrangler.toml",
  "sim/src",
  "package.json",
  "tsconfig.json",
  "scripts",
];

/** A port the kernel just handed out; free unless someone grabs it in the next instant. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const children = new Set<ChildProcess>();

/** Signals the whole process group of a child (wrangler starts workerd beneath itself). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    children.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // wrangler stops its workerd itself on SIGTERM (and reaps it); the group is signalled only if
  // that takes too long.
  child.kill("SIGTERM");
  const graceful = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!graceful) {
    signalGroup(child, "SIGKILL");
    await Promise.race([exited, sleep(2000)]);
  }
  // workerd may outlive wrangler by a moment: give it that moment, then make sure the group is gone.
  const groupAlive = () => {
    try {
      process.kill(-(child.pid as number), 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 20 && groupAlive(); i++) await sleep(100);
  if (groupAlive()) {
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  children.delete(child);
}

const scratchDirs = new Set<string>();

/** A scratch folder removed when the run ends, however it ends. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "proxmox-mcp-bench-"));
  scratchDirs.add(dir);
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  scratchDirs.delete(dir);
}

/**
 * Copies the Workers' sources (the working tree as it is now, uncommitted changes included, or
 * with `committed` the sources at HEAD; never .dev.vars) into a scratch folder. `wrangler dev` watches its sources and reloads on every
 * change, so measuring the live tree while someone edits it would measure reloads.
 */
export function snapshotTree(options: { committed?: boolean } = {}): string {
  const dir = scratchDir();
  const tree = join(dir, "tree");
  if (options.committed) {
    // The sources as committed at HEAD, without the working tree's changes.
    mkdirSync(tree, { recursive: true });
    const archive = execFileSync("git", ["archive", "--format=tar", "HEAD", ...TREE], {
      cwd: ROOT,
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync("tar", ["-x", "-C", tree], { input: archive });
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
    return tree;
  }
  for (const path of TREE) {
    if (existsSync(join(ROOT, path))) cpSync(join(ROOT, path), join(tree, path), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
  return tree;
}

/** Last resort on an abrupt exit: synchronous SIGKILL to every group still running. */
process.on("exit", () => {
  for (const child of children) signalGroup(child, "SIGKILL");
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

// The servers run in their own process groups, so a ctrl-c in the terminal does not reach them:
// stop them here, then exit.
export const interrupted = { signal: undefined as NodeJS.Signals | undefined };

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    interrupted.signal = signal;
    process.stderr.write(`\n${signal}: stopping the servers\n`);
    void Promise.all([...children].map(stopChild)).finally(() => process.exit(130));
  });
}

function spawnWrangler(args: string[], cwd: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [WRANGLER, ...args], {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Both streams write to one log: neither may end it while the other still writes (stdout often
  // closes first and stderr has a last line), so it is ended once the process has closed both.
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once("close", () => log.end());
  children.add(child);
  return child;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  throw new Error(
    `${what} not ready after ${timeoutMs / 1000} s${lastError ? ` (last error: ${String(lastError)})` : ""}`,
  );
}

/** True once a tool call through the MCP server got an answer from the simulator. */
async function mcpReachesSimulator(mcpUrl: string): Promise<true | undefined> {
  const res = await fetch(mcpUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-11-25",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "get_nodes", arguments: {} },
    }),
  });
  const body = await res.text();
  return res.ok && body.includes("pve1") && !body.includes('"isError":true') ? true : undefined;
}

/** Starts both Workers from `tree` (see snapshotTree). */
export async function startServers(tree: string, logDir: string): Promise<Servers> {
  mkdirSync(logDir, { recursive: true });
  const scratch = scratchDir();
  const [mcpPort, simPort, mcpInspector, simInspector] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_REGISTRY_PATH: join(scratch, "registry"),
    // No interactive hotkeys; logs go to files.
    CI: "true",
  };
  const common = ["--env", "dev", "--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  const started = performance.now();
  const sim = spawnWrangler(
    [
      "dev",
      "-c",
      "sim/wrangler.toml",
      ...common,
      "--port",
      String(simPort),
      "--inspector-port",
      String(simInspector),
      "--persist-to",
      join(scratch, "sim-state"),
    ],
    tree,
    env,
    join(logDir, "sim.log"),
  );
  const mcp = spawnWrangler(
    [
      "dev",
      "-c",
      "wrangler.toml",
      ...common,
      "--port",
      String(mcpPort),
      "--inspector-port",
      String(mcpInspector),
      "--persist-to",
      join(scratch, "mcp-state"),
    ],
    tree,
    env,
    join(logDir, "mcp.log"),
  );

  const extra = new Set<ChildProcess>();
  const stop = async () => {
    await Promise.all([stopChild(mcp), stopChild(sim), ...[...extra].map(stopChild)]);
    removeScratch(scratch);
  };
  const startMcp = async (vars: Readonly<Record<string, string>>, name: string) => {
    const [port, inspector] = [await freePort(), await freePort()];
    const child = spawnWrangler(
      [
        "dev",
        "-c",
        "wrangler.toml",
        ...common,
        "--port",
        String(port),
        "--inspector-port",
        String(inspector),
        "--persist-to",
        join(scratch, `mcp-state-${name}`),
        ...Object.entries(vars).flatMap(([key, value]) => ["--var", `${key}:${value}`]),
      ],
      tree,
      env,
      join(logDir, `mcp-${name}.log`),
    );
    extra.add(child);
    const url = `http://127.0.0.1:${port}/mcp`;
    await until(`MCP server ${name} (reaching the simulator)`, 120_000, () => mcpReachesSimulator(url));
    return {
      mcpUrl: url,
      stop: async () => {
        await stopChild(child);
        extra.delete(child);
      },
    };
  };

  const simOrigin = `http://127.0.0.1:${simPort}`;
  const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
  try {
    const exitedEarly = new Promise<never>((_, reject) => {
      for (const [name, child] of [
        ["simulator", sim],
        ["MCP server", mcp],
      ] as const) {
        child.once("exit", (code, signal) =>
          reject(new Error(`${name} (wrangler dev) exited early (${signal ?? code}); see ${logDir}/*.log`)),
        );
      }
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([
      (async () => {
        await until("simulator", 120_000, async () =>
          (await fetch(`${simOrigin}/_sim/state`)).ok ? true : undefined,
        );
        await until("MCP server (reaching the simulator)", 120_000, () => mcpReachesSimulator(mcpUrl));
      })(),
      exitedEarly,
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    mcpUrl,
    simOrigin,
    startupSeconds: (performance.now() - started) / 1000,
    logDir,
    startMcp,
    stop,
  };
}
