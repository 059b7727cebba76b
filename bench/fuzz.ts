// 8. Invalid input: every tool fuzzed with the calls of bench/fuzz-cases.ts (wrong types, missing
// arguments, huge strings, "../", "%2F", "?", "#", newline, NUL, unicode, arrays, null, objects);
// how many were refused and how many Proxmox requests they caused (budget: 0).

import type { ToolInfo } from "./clients.ts";
import { textOf } from "./clients.ts";
import { fuzzCalls } from "./fuzz-cases.ts";
import type { Context, SectionResult } from "./stats.ts";
import { table } from "./stats.ts";

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
    ],
  };
}
