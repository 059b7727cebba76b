import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { defineTool, READ_ONLY, type ToolDeps, tool } from "../mcp/tool";
import { diagnose, diagnosisText } from "../proxmox/doctor";

const checkConnectionTool = tool({
  name: "check_connection",
  title: "Check connection",
  description:
    "Diagnose the path to Proxmox step by step (config, tunnel/Access, token, cluster, privileges) and say how to fix what fails.",
  input: z.object({}),
  output: z.object({
    verdict: z.enum(["ok", "degraded", "failing"]),
    version: z.string().optional(),
    checks: z.array(
      z.object({ step: z.string(), ok: z.boolean(), detail: z.string(), fix: z.string().optional() }),
    ),
    groups: z.array(z.object({ group: z.string(), ok: z.boolean(), missing: z.array(z.string()) })),
  }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async () => {
    const diagnosis = await diagnose(deps.upstream);
    return {
      text: diagnosisText(diagnosis),
      data: {
        verdict: diagnosis.verdict,
        version: diagnosis.version,
        checks: diagnosis.checks,
        groups: diagnosis.groups,
      },
    };
  },
});

export function registerConnectionTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, checkConnectionTool);
}
