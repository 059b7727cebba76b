import { clientFromEnv, type UpstreamEnv } from "./client";
import { ProxmoxError } from "./errors";

/**
 * The connection doctor: walks the path from this Worker to Proxmox step by step (configuration,
 * reachability, cluster, token, privileges) and says what works, what will fail and how to fix it.
 * Used by the `check_connection` tool and by /healthz. Nothing it returns contains a secret.
 */

export interface Check {
  step: "upstream" | "token" | "reach" | "cluster" | "privileges";
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface GroupVerdict {
  group: string;
  ok: boolean;
  missing: string[];
}

export interface Diagnosis {
  verdict: "ok" | "degraded" | "failing";
  upstream: { mode: "service-binding" | "url" | "unconfigured"; target?: string };
  version?: string;
  cluster?: { name?: string; quorate: boolean; nodes: number; online: number };
  tokenUser?: string;
  groups: GroupVerdict[];
  checks: Check[];
}

/** What each group of tools needs, in PVE 9 privilege names. */
export const GROUP_PRIVILEGES: Record<string, string[]> = {
  read: ["VM.Audit", "Sys.Audit", "Datastore.Audit", "Pool.Audit"],
  power: ["VM.PowerMgmt"],
  provision: [
    "VM.Allocate",
    "VM.Clone",
    "VM.Migrate",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Disk",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Config.HWType",
    "VM.Config.CDROM",
    "VM.Config.Cloudinit",
    "Datastore.AllocateSpace",
  ],
  snapshots: ["VM.Snapshot", "VM.Snapshot.Rollback"],
  backups: ["VM.Backup", "Datastore.AllocateSpace"],
  pools: ["Pool.Allocate"],
  guest_agent: [
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.Unrestricted",
  ],
};

/**
 * The privileges each group needs on the release that answered. Proxmox VE 8 guards every
 * guest-agent endpoint with VM.Monitor alone; 9.0 replaced it with the VM.GuestAgent.* privileges.
 */
export function groupPrivileges(version: string | undefined): Record<string, string[]> {
  if (!(majorOf(version) < 9)) return GROUP_PRIVILEGES;
  return { ...GROUP_PRIVILEGES, guest_agent: ["VM.Monitor"] };
}

/** "8.4.14" -> 8; NaN when unknown. */
export const majorOf = (version: string | undefined) => Number.parseInt(version ?? "", 10);

/** What an older release lacks that the tools would otherwise use, said once in the reach step. */
function releaseNote(version: string): string {
  return majorOf(version) < 9
    ? "; Proxmox VE 8: the guest agent needs VM.Monitor, and guest_file_read reads files whole (file-read has no offset/count)"
    : "";
}

/** Where a privilege must be held to work on every object it applies to. */
function scopeOf(privilege: string): string {
  if (privilege.startsWith("VM.")) return "/vms";
  if (privilege.startsWith("Datastore.")) return "/storage";
  if (privilege.startsWith("Pool.")) return "/pool";
  if (privilege.startsWith("Sys.")) return "/nodes";
  return "/";
}

const TOKEN_ID = /^[^\s@!:]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/;

export function checkTokenShape(id: string | undefined, secret: string | undefined): Check {
  if (!id || !secret) {
    return {
      step: "token",
      ok: false,
      detail: `${!id ? "PROXMOX_TOKEN_ID" : "PROXMOX_TOKEN_SECRET"} is not set.`,
      fix: "Create an API token in Proxmox (Datacenter > Permissions > API Tokens) and set both with wrangler secret put.",
    };
  }
  if (id.includes(":") || /^PBSAPIToken/i.test(id)) {
    return {
      step: "token",
      ok: false,
      detail:
        "PROXMOX_TOKEN_ID contains ':' or a PBS prefix: that is the Proxmox Backup Server token format.",
      fix: "For Proxmox VE the token id is user@realm!tokenname (for example mcp@pve!claude) and the secret goes in PROXMOX_TOKEN_SECRET.",
    };
  }
  if (!TOKEN_ID.test(id)) {
    return {
      step: "token",
      ok: false,
      detail: "PROXMOX_TOKEN_ID does not look like user@realm!tokenname.",
      fix: "Use the full token id as Proxmox shows it, e.g. root@pam!mcp or mcp@pve!claude.",
    };
  }
  // The placeholder of .dev.vars.example (xxxxxxxx-xxxx-...), copied but not filled in.
  if (/^[x-]+$/i.test(secret) || /^<.*>$/.test(secret)) {
    return {
      step: "token",
      ok: false,
      detail: "PROXMOX_TOKEN_SECRET is still the example file's placeholder, not a real token secret.",
      fix: "Put the secret Proxmox showed when the token was created in PROXMOX_TOKEN_SECRET (.dev.vars, or wrangler secret put).",
    };
  }
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(secret);
  return {
    step: "token",
    ok: true,
    detail: `token ${id}${uuid ? "" : " (its secret is not a UUID; Proxmox token secrets usually are)"}`,
  };
}

function explain(error: unknown): { detail: string; fix?: string } {
  if (!(error instanceof ProxmoxError))
    return { detail: error instanceof Error ? error.message : String(error) };
  const fixes: Partial<Record<ProxmoxError["kind"], string>> = {
    access_login:
      "Add CF_ACCESS_CLIENT_ID/CF_ACCESS_CLIENT_SECRET and a Service Auth policy for that token on the Access application.",
    tunnel:
      "Start cloudflared on the Proxmox side (systemctl status cloudflared) and check the tunnel's public hostname and ingress.",
    tls: "In the tunnel ingress for https://localhost:8006 set originServerName and caPool to Proxmox's CA (or noTLSVerify as a last resort).",
    auth: "Check the token id (user@realm!name) and secret; a deleted or expired token gives the same answer.",
    permission:
      "Grant the token a role on / (e.g. PVEAuditor for reading); with privilege separation the token needs its own ACL.",
    timeout: "Check that Proxmox and the tunnel are up; raise PROXMOX_TIMEOUT_MS if the host is just slow.",
    network: "Check PROXMOX_URL (scheme, hostname, port) and that the tunnel hostname resolves.",
    config: "Set PROXMOX_URL, or bind PVE to a Workers VPC service.",
    bad_response: "PROXMOX_URL must point at the Proxmox API behind the tunnel, not at another web site.",
  };
  return { detail: error.message, fix: fixes[error.kind] };
}

function privilegesOn(permissions: Record<string, Record<string, unknown>>, path: string): Set<string> {
  const held = new Set<string>();
  for (const candidate of [path, "/"]) {
    for (const [privilege, value] of Object.entries(permissions[candidate] ?? {})) {
      if (value === 1 || value === true || value === "1") held.add(privilege);
    }
  }
  return held;
}

export async function diagnose(env: UpstreamEnv): Promise<Diagnosis> {
  const checks: Check[] = [];
  const upstream: Diagnosis["upstream"] = env.PVE
    ? { mode: "service-binding", target: "PVE" }
    : env.PROXMOX_URL?.trim()
      ? { mode: "url", target: safeHost(env.PROXMOX_URL) }
      : { mode: "unconfigured" };
  checks.push(
    upstream.mode === "unconfigured"
      ? {
          step: "upstream",
          ok: false,
          detail: "No Proxmox upstream is configured.",
          fix: "Set PROXMOX_URL, or bind PVE to a Workers VPC service.",
        }
      : {
          step: "upstream",
          ok: true,
          detail:
            upstream.mode === "service-binding"
              ? "PVE service binding (Workers VPC or a local simulator)"
              : `PROXMOX_URL ${upstream.target}${env.CF_ACCESS_CLIENT_ID ? " with a Cloudflare Access service token" : ""}`,
        },
  );
  const token = checkTokenShape(env.PROXMOX_TOKEN_ID?.trim(), env.PROXMOX_TOKEN_SECRET?.trim());
  checks.push(token);
  const diagnosis: Diagnosis = { verdict: "failing", upstream, groups: [], checks };
  if (upstream.mode === "unconfigured" || !token.ok) return diagnosis;
  diagnosis.tokenUser = env.PROXMOX_TOKEN_ID?.trim();

  const client = clientFromEnv(env);
  try {
    const version = await client.call("GET /version", {});
    diagnosis.version = `${version.version}${version.release ? ` (release ${version.release})` : ""}`;
    checks.push({
      step: "reach",
      ok: true,
      detail: `Proxmox VE ${diagnosis.version} answered with the token${releaseNote(String(version.version))}`,
    });
  } catch (error) {
    checks.push({ step: "reach", ok: false, ...explain(error) });
    return diagnosis;
  }

  try {
    const status = await client.call("GET /cluster/status", {});
    const nodes = status.filter((s) => s.type === "node");
    const cluster = status.find((s) => s.type === "cluster");
    const online = nodes.filter((n) => n.online === 1 || n.online === true).length;
    const quorate = cluster ? cluster.quorate === 1 || cluster.quorate === true : online > 0;
    diagnosis.cluster = { name: cluster?.name, quorate, nodes: nodes.length, online };
    checks.push({
      step: "cluster",
      ok: quorate && online === nodes.length,
      detail: `${cluster ? `cluster ${cluster.name}` : "standalone node"}: ${online} of ${nodes.length} nodes online${quorate ? ", quorate" : ", NOT quorate"}`,
      fix: quorate
        ? online < nodes.length
          ? "Offline nodes cannot be reached; their guests show as unknown."
          : undefined
        : "Without quorum Proxmox refuses changes: bring nodes back online.",
    });
  } catch (error) {
    checks.push({ step: "cluster", ok: false, ...explain(error) });
  }

  try {
    const permissions = (await client.call("GET /access/permissions", {})) as Record<
      string,
      Record<string, unknown>
    >;
    for (const [group, privileges] of Object.entries(groupPrivileges(diagnosis.version))) {
      const missing = privileges.filter((p) => !privilegesOn(permissions, scopeOf(p)).has(p));
      diagnosis.groups.push({ group, ok: missing.length === 0, missing });
    }
    const failing = diagnosis.groups.filter((g) => !g.ok);
    checks.push({
      step: "privileges",
      ok: failing.length === 0,
      detail: failing.length
        ? `the token lacks ${failing.map((g) => `${g.group} (${g.missing.join(", ")})`).join("; ")}`
        : "the token has every privilege the tools use",
      fix: failing.length
        ? "Grant the missing privileges on / to the token (pveum acl modify / --tokens 'user@realm!name' --roles <role>), or leave those tool groups unused."
        : undefined,
    });
  } catch (error) {
    checks.push({ step: "privileges", ok: false, ...explain(error) });
  }

  const readOk = diagnosis.groups.find((g) => g.group === "read")?.ok ?? false;
  diagnosis.verdict = !readOk ? "failing" : checks.every((c) => c.ok) ? "ok" : "degraded";
  return diagnosis;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(not a valid URL)";
  }
}

export function diagnosisText(d: Diagnosis): string {
  const lines = [`Connection: ${d.verdict.toUpperCase()}`];
  for (const check of d.checks) {
    lines.push(`${check.ok ? "ok  " : "FAIL"} ${check.step}: ${check.detail}`);
    if (!check.ok && check.fix) lines.push(`     fix: ${check.fix}`);
  }
  if (d.groups.length) {
    lines.push(`tool groups: ${d.groups.map((g) => `${g.group} ${g.ok ? "ok" : "will fail"}`).join(", ")}`);
  }
  return lines.join("\n");
}
