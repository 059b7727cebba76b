/**
 * Which tools one request may see: the scopes its grant carries, minus what the owner turned off
 * for everyone (PVE_READ_ONLY, PVE_TOOLSETS). Tools outside the surface are not registered, so
 * they are not listed; a call that names one anyway gets an answer that says which scope it needs.
 */

/**
 * `read`: every tool that only looks. `write`: tools that change the cluster (power, provisioning,
 * snapshots, backups, pools, stopping tasks). `exec`: tools that act inside guests through the QEMU
 * guest agent (commands, file writes, passwords, fsfreeze, fstrim, guest power). `admin`: the
 * hosts and who may do what (users, tokens, ACLs, node network, services, updates, node power,
 * storage configuration, cluster and node firewall), reached through write_api only.
 */
export const SCOPES = ["read", "write", "exec", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * Tool groups for PVE_TOOLSETS. A tool may sit in more than one group (get_next_vmid serves both
 * VMs and containers); it is registered when any of its groups is enabled.
 */
export const TOOLSETS = {
  cluster: ["get_cluster_status", "get_cluster_resources", "get_next_vmid"],
  nodes: ["get_nodes", "get_node_status"],
  vms: [
    "get_vms",
    "get_vm",
    "get_vm_config",
    "start_vm",
    "shutdown_vm",
    "reboot_vm",
    "stop_vm",
    "create_vm",
    "update_vm",
    "delete_vm",
    "clone_vm",
    "migrate_vm",
    "resize_vm_disk",
    "provision_vm",
    "get_next_vmid",
  ],
  containers: [
    "get_containers",
    "get_container",
    "start_container",
    "shutdown_container",
    "reboot_container",
    "stop_container",
    "create_container",
    "update_container",
    "delete_container",
    "get_next_vmid",
  ],
  storage: ["get_storages", "get_storage_content"],
  snapshots: ["get_snapshots", "create_snapshot", "delete_snapshot", "rollback_snapshot"],
  backups: ["get_backups", "create_backup", "restore_backup"],
  tasks: ["get_tasks", "get_task_status", "wait_for_task", "get_task_log", "stop_task", "get_tracked_tasks"],
  pools: ["get_pools", "get_pool", "create_pool", "delete_pool"],
  guest: [
    "guest_exec",
    "guest_exec_status",
    "guest_file_read",
    "guest_file_write",
    "guest_get",
    "guest_ping",
    "guest_set_user_password",
    "guest_fsfreeze",
    "guest_fstrim",
    "guest_power",
  ],
  audit: ["get_audit_log"],
  connection: ["check_connection"],
  api: ["search_api", "read_api", "write_api"],
  metrics: ["get_metrics"],
  dashboard: ["show_dashboard", "dashboard_refresh"],
} as const satisfies Record<string, readonly string[]>;

/** Every tool's name (each belongs to at least one toolset; a test holds this). */
export const TOOL_NAMES: ReadonlySet<string> = new Set(Object.values(TOOLSETS).flat());

export type Toolset = keyof typeof TOOLSETS;
export const TOOLSET_NAMES = Object.keys(TOOLSETS) as Toolset[];

/** Why a tool is not part of this request's surface. */
export interface Unavailable {
  tool: string;
  scope: Scope;
  /** "grant": the client was not given the scope (it may ask again); the others are the owner's choice. */
  reason: "grant" | "read-only" | "toolsets";
}

export interface Surface {
  /** Scopes this request may use. */
  readonly scopes: ReadonlySet<Scope>;
  /** Scopes the client was granted (before the server's own limits). */
  readonly granted: ReadonlySet<Scope>;
  readonly readOnly: boolean;
  /** Enabled groups; undefined means all. */
  readonly toolsets?: ReadonlySet<Toolset>;
  /** Tools left out while the server was built, filled by defineTool. */
  readonly left: Map<string, Unavailable>;
  /**
   * When set, only these tools are built: a request that does nothing but call tools needs no
   * other (registering all 58 on every call was a measurable part of each call).
   */
  only?: ReadonlySet<string>;
}

export interface SurfaceEnv {
  PVE_READ_ONLY?: string;
  PVE_TOOLSETS?: string;
}

export function isReadOnly(env: SurfaceEnv): boolean {
  return /^(1|true|yes|on)$/i.test((env.PVE_READ_ONLY ?? "").trim());
}

/** PVE_TOOLSETS as given: the known groups, and any names that are not groups. */
export function toolsetsFromEnv(env: SurfaceEnv): { enabled?: Set<Toolset>; unknown: string[] } {
  const names = (env.PVE_TOOLSETS ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) return { unknown: [] };
  const enabled = new Set<Toolset>();
  const unknown: string[] = [];
  for (const name of names) {
    if (name in TOOLSETS) enabled.add(name as Toolset);
    else unknown.push(name);
  }
  return { enabled, unknown };
}

/** The surface for a grant's scopes under this server's configuration. */
export function surfaceFor(env: SurfaceEnv, grantedScopes: readonly string[]): Surface {
  const granted = new Set(grantedScopes.filter(isScope));
  const readOnly = isReadOnly(env);
  const scopes = new Set([...granted].filter((scope) => scope === "read" || !readOnly));
  const { enabled } = toolsetsFromEnv(env);
  return { scopes, granted, readOnly, toolsets: enabled, left: new Map() };
}

function inToolsets(toolsets: ReadonlySet<Toolset>, tool: string): boolean {
  for (const group of toolsets) {
    if ((TOOLSETS[group] as readonly string[]).includes(tool)) return true;
  }
  return false;
}

/** Undefined when the tool belongs to the surface; otherwise why not. */
export function checkTool(surface: Surface, tool: string, scope: Scope): Unavailable | undefined {
  if (surface.toolsets && !inToolsets(surface.toolsets, tool)) return { tool, scope, reason: "toolsets" };
  if (scope !== "read" && surface.readOnly) return { tool, scope, reason: "read-only" };
  if (!surface.scopes.has(scope)) return { tool, scope, reason: "grant" };
  return undefined;
}

/** What a client that calls a tool outside its surface is told. */
export function explainUnavailable(u: Unavailable): string {
  switch (u.reason) {
    case "read-only":
      return `${u.tool} needs the ${u.scope} scope, which this server grants to no one: it runs read-only (PVE_READ_ONLY=true).`;
    case "toolsets":
      return `${u.tool} is not enabled on this server: its group is not in PVE_TOOLSETS.`;
    case "grant":
      return `${u.tool} needs the ${u.scope} scope, which this connection was not granted. Sign in again and allow ${u.scope} on the consent page.`;
  }
}
