// 8. Invalid input: every tool fuzzed with the calls of bench/fuzz-cases.ts (wrong types, missing
// arguments, huge strings, "../", "%2F", "?", "#", newline, NUL, unicode, arrays, null, objects);
// how many were refused and how many Proxmox requests they caused (budget: 0).

import type { ToolInfo } from "./clients.ts";
import { Mcp, textOf } from "./clients.ts";
import { fuzzCalls } from "./fuzz-cases.ts";
import type { Context, SectionResult } from "./stats.ts";
import { table } from "./stats.ts";
import { ALLOWLIST_CASES, FENCED, HOST_OPTION_CASES, type RefusalCase } from "./trust-cases.ts";

/** write_api with confirm for each case; returns the cases that were not refused naming `expected`. */
async function refusals(
  mcp: Mcp,
  cases: readonly RefusalCase[],
): Promise<{ refused: number; accepted: string[] }> {
  let refused = 0;
  const accepted: string[] = [];
  for (const [method, path, params, expected] of cases) {
    const result = await mcp.call("write_api", { method, path, params, confirm: true });
    if (result.isError && textOf(result).includes(expected)) refused += 1;
    else accepted.push(`${method} ${path} ${JSON.stringify(params)}: ${textOf(result).slice(0, 100)}`);
  }
  return { refused, accepted };
}

/**
 * write_api calls that must be refused by policy rather than by their shape: options that reach
 * the host (this server's settings), and guests outside the allowlists (a second MCP server
 * started with PVE_ALLOWED_VMIDS/NODES set, on the same simulator).
 */
async function policyRefusals(
  ctx: Context,
): Promise<{ rows: string[][]; accepted: string[]; requests: number; cases: number; refused: number }> {
  await ctx.sim.reset();
  await ctx.sim.clearRequests();
  const host = await refusals(ctx.mcp, HOST_OPTION_CASES);
  const hostRequests = (await ctx.sim.requests()).length;
  const fenced = await ctx.servers.startMcp(FENCED, "fenced");
  // Its readiness check called get_nodes; count from here.
  await ctx.sim.clearRequests();
  let allow: { refused: number; accepted: string[] };
  try {
    const mcp = await Mcp.connect(fenced.mcpUrl, "bench-fenced");
    allow = await refusals(
      mcp,
      ALLOWLIST_CASES.map(([, ...rest]) => rest),
    );
    await mcp.close();
  } finally {
    await fenced.stop();
  }
  const requests = hostRequests + (await ctx.sim.requests()).length;
  return {
    rows: [
      ["write_api: options that reach the host", String(HOST_OPTION_CASES.length), String(host.refused)],
      [
        `write_api: guests outside PVE_ALLOWED_VMIDS=${FENCED.PVE_ALLOWED_VMIDS}, PVE_ALLOWED_NODES=${FENCED.PVE_ALLOWED_NODES}`,
        String(ALLOWLIST_CASES.length),
        String(allow.refused),
      ],
    ],
    accepted: [...host.accepted, ...allow.accepted],
    requests,
    cases: HOST_OPTION_CASES.length + ALLOWLIST_CASES.length,
    refused: host.refused + allow.refused,
  };
}

export async function fuzzSection(ctx: Context, tools: ToolInfo[]): Promise<SectionResult> {
  await ctx.sim.reset();
  const { calls, unknownRequired } = fuzzCalls(tools);
  if (unknownRequired.length) {
    throw new Error(
      `no valid value for required arguments ${unknownRequired.join(", ")} (bench/fuzz-cases.ts)`,
    );
  }
  await ctx.sim.clearRequests();
  let refused = 0;
  const accepted: string[] = [];
  const perTool = new Map<string, { attempts: number; refused: number }>();
  // A few calls at a time, as a busy client would send them; the count does not depend on it.
  const BATCH = 8;
  for (let i = 0; i < calls.length; i += BATCH) {
    if (i % 504 === 0) ctx.log(`fuzz: ${i} of ${calls.length} calls`);
    const batch = calls.slice(i, i + BATCH);
    const results = await Promise.all(
      batch.map((call) =>
        ctx.mcp.call(call.tool, call.args).catch((error: Error) => ({
          isError: true,
          content: [{ type: "text", text: `protocol error: ${error.message}` }],
        })),
      ),
    );
    for (const [j, result] of results.entries()) {
      const call = batch[j];
      if (!call) continue;
      const row = perTool.get(call.tool) ?? { attempts: 0, refused: 0 };
      row.attempts += 1;
      if (result.isError) {
        refused += 1;
        row.refused += 1;
      } else {
        accepted.push(`${call.tool} ${call.arg} (${call.label}): ${textOf(result).slice(0, 80)}`);
      }
      perTool.set(call.tool, row);
    }
  }
  const requests = await ctx.sim.requests();
  const writes = requests.filter((r) => r.method !== "GET").length;
  const policy = await policyRefusals(ctx);
  const kinds = [...new Set(calls.map((c) => c.label))].length;
  const body = [
    table(
      ["attempts", "refused", "accepted", "upstream requests caused", "of them writes"],
      [
        [
          String(calls.length),
          String(refused),
          String(accepted.length),
          String(requests.length),
          String(writes),
        ],
      ],
    ),
    "",
    `${tools.length} tools, the ${perTool.size} that take arguments fuzzed, ${kinds} kinds of invalid value. Each call changes one argument of a valid call (or leaves out a required one); an argument already fuzzed in full on another tool with the same definition gets one value of each kind. The simulator's request log is read after all calls.`,
    "",
    "Valid calls refused by policy (bench/trust-cases.ts, the same cases as test/trust.test.ts), each with confirm: true:",
    "",
    table(["calls", "attempts", "refused"], policy.rows),
    "",
    `Upstream requests they caused: ${policy.requests}.`,
    ...(policy.accepted.length
      ? ["", "Not refused (each is a defect):", "", ...policy.accepted.slice(0, 20).map((a) => `- ${a}`)]
      : []),
    ...(accepted.length
      ? ["", "Accepted (each is a defect):", "", ...accepted.slice(0, 20).map((a) => `- ${a}`)]
      : []),
    ...(requests.length
      ? [
          "",
          "Requests that reached the simulator:",
          "",
          ...requests.slice(0, 20).map((r) => `- ${r.method} ${r.path}`),
        ]
      : []),
  ].join("\n");
  return {
    title: "8. Invalid input",
    howToRead:
      "Invalid calls to every tool, as a clumsy client or an attacker would send them. Every one must be refused with an error result and none may reach Proxmox: budget 0 upstream requests.",
    body,
    checks: [
      {
        what: `invalid calls refused (${calls.length} attempts over every tool)`,
        budget: "all",
        actual: `${refused} of ${calls.length}`,
        pass: refused === calls.length,
        deterministic: true,
      },
      {
        what: "upstream requests caused by invalid calls",
        budget: "0",
        actual: `${requests.length} (${writes} writes)`,
        pass: requests.length === 0,
        deterministic: true,
      },
      {
        what: `write_api host-option and allowlist cases refused (${policy.cases})`,
        budget: "all",
        actual: `${policy.refused} of ${policy.cases}`,
        pass: policy.refused === policy.cases,
        deterministic: true,
      },
      {
        what: "upstream requests caused by host-option and allowlist cases",
        budget: "0",
        actual: String(policy.requests),
        pass: policy.requests === 0,
        deterministic: true,
      },
    ],
  };
}
