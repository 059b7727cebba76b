import { ToolError } from "./tool-error";

/** Guard rails from the environment: which guests and nodes tools may change. */
export interface Policy {
  vmids?: { from: number; to: number }[];
  nodes?: Set<string>;
}

export function policyFromEnv(env: { PVE_ALLOWED_VMIDS?: string; PVE_ALLOWED_NODES?: string }): Policy {
  const policy: Policy = {};
  const vmids = (env.PVE_ALLOWED_VMIDS ?? "").trim();
  if (vmids) {
    policy.vmids = vmids
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [from, to] = part.split("-").map((n) => Number.parseInt(n.trim(), 10));
        return { from: from ?? Number.NaN, to: to ?? from ?? Number.NaN };
      })
      .filter((range) => Number.isInteger(range.from) && Number.isInteger(range.to));
  }
  const nodes = (env.PVE_ALLOWED_NODES ?? "").trim();
  if (nodes)
    policy.nodes = new Set(
      nodes
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean),
    );
  return policy;
}

export function assertAllowed(policy: Policy, target: { vmid?: number; node?: string }): void {
  const { vmid } = target;
  if (vmid !== undefined && policy.vmids && !policy.vmids.some((r) => vmid >= r.from && vmid <= r.to)) {
    throw new ToolError(
      `Guest ${vmid} is outside PVE_ALLOWED_VMIDS, so this server will not change it. The owner can widen that list.`,
    );
  }
  if (target.node !== undefined && policy.nodes && !policy.nodes.has(target.node)) {
    throw new ToolError(
      `Node ${target.node} is outside PVE_ALLOWED_NODES, so this server will not change anything on it. The owner can widen that list.`,
    );
  }
}
