// What differs between the Proxmox VE releases the simulator can play (the `version` setting):
// 9.2 (the default, the schema it validates against) and 8.4, the last release of the 8 series
// that many homelabs still run. Only what a client can see is modelled: version strings, the
// kernel, the guest-agent privileges (VM.Monitor before 9.0), file-read's parameters (9.1.5+) and
// the fields 9.0 added to status answers (memhost). HA (groups before 9.0) lives with HA.

import type { PveEndpointSchema, PveSchema } from "../generated/api-schema";
import type { Settings } from "./model";

export type PveRelease = Settings["version"];

export interface VersionProfile {
  /** /version `version`, and pve-manager's version in pveversion. */
  version: string;
  release: string;
  repoid: string;
  kernelRelease: string;
  kernelVersion: string;
  /** QEMU of a running VM (status/current `running-qemu`) and its machine type. */
  runningQemu: string;
  runningMachine: string;
  /** pvestatd and status/current report `memhost` (host memory use of a guest) since 9.0. */
  memhost: boolean;
  /** /cluster/resources node rows name the CPU architecture (`host-arch`) since 9.2. */
  hostArch: boolean;
  /** file-read takes offset/count/decode since qemu-server 9.1.5. */
  fileReadParams: boolean;
  /** VM.GuestAgent.* replaced VM.Monitor for the agent endpoints in 9.0. */
  guestAgentPrivileges: boolean;
}

export const PROFILES: Record<PveRelease, VersionProfile> = {
  "9.2": {
    version: "9.2.11",
    release: "9.2",
    repoid: "8f2a4b6e1d9c3570",
    kernelRelease: "6.17.2-1-pve",
    kernelVersion: "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)",
    runningQemu: "10.1.2",
    runningMachine: "pc-i440fx-9.2+pve1",
    memhost: true,
    hostArch: true,
    fileReadParams: true,
    guestAgentPrivileges: true,
  },
  "8.4": {
    version: "8.4.14",
    release: "8.4",
    repoid: "b502d23c55afcba1",
    kernelRelease: "6.8.12-15-pve",
    kernelVersion: "#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-15 (2025-09-12T11:02Z)",
    runningQemu: "9.2.0",
    runningMachine: "pc-i440fx-9.2+pve1",
    memhost: false,
    hostArch: false,
    fileReadParams: false,
    guestAgentPrivileges: false,
  },
};

export const profileOf = (settings: Pick<Settings, "version">): VersionProfile =>
  PROFILES[settings.version ?? "9.2"];

export const RELEASES = Object.keys(PROFILES) as PveRelease[];

const AGENT_PATH = /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/(agent\/|monitor$)/;

/**
 * The permission check an endpoint had on this release. Before 9.0 every guest-agent command
 * (and the monitor) needed VM.Monitor on the VM (qemu-server 8 Agent.pm register_command); 9.0
 * split that into VM.GuestAgent.* (and VM.PowerMgmt for agent shutdown/suspend).
 */
export function permissionsOn(
  schema: PveEndpointSchema,
  settings: Pick<Settings, "version">,
): PveEndpointSchema["permissions"] {
  if (profileOf(settings).guestAgentPrivileges || !AGENT_PATH.test(schema.path) || !schema.permissions?.check)
    return schema.permissions;
  return { check: ["perm", "/vms/{vmid}", ["VM.Monitor"]] };
}

/**
 * vzdump on 8.4 still took `maxfiles` (deprecated since 7.0, dropped in 9.2) and the notification
 * options 9.0 replaced (pve-manager 8.4 VZDump.pm); 9.2 refuses all three.
 */
export function vzdumpParams(schema: PveSchema, settings: Pick<Settings, "version">): PveSchema {
  if (settings.version !== "8.4") return schema;
  return {
    ...schema,
    properties: {
      ...schema.properties,
      maxfiles: { type: "integer", minimum: 1, optional: 1 },
      "notification-policy": { type: "string", enum: ["always", "failure", "never"], optional: 1 },
      "notification-target": { type: "string", format: "pve-configid", optional: 1 },
    },
  };
}
