// /access/permissions (pve-access-control PVE/API2/AccessControl.pm).

import type { Ctx, Route } from "../api/context";
import { profileOf } from "../state/version";

/** Every privilege of PVE 9 (VM.Monitor was replaced by VM.GuestAgent.* in 9.0). */
export const PRIVILEGES = [
  "Datastore.Allocate",
  "Datastore.AllocateSpace",
  "Datastore.AllocateTemplate",
  "Datastore.Audit",
  "Group.Allocate",
  "Mapping.Audit",
  "Mapping.Modify",
  "Mapping.Use",
  "Permissions.Modify",
  "Pool.Allocate",
  "Pool.Audit",
  "Realm.Allocate",
  "Realm.AllocateUser",
  "SDN.Allocate",
  "SDN.Audit",
  "SDN.Use",
  "Sys.AccessNetwork",
  "Sys.Audit",
  "Sys.Console",
  "Sys.Incoming",
  "Sys.Modify",
  "Sys.PowerMgmt",
  "Sys.Syslog",
  "User.Modify",
  "VM.Allocate",
  "VM.Audit",
  "VM.Backup",
  "VM.Clone",
  "VM.Config.CDROM",
  "VM.Config.CPU",
  "VM.Config.Cloudinit",
  "VM.Config.Disk",
  "VM.Config.HWType",
  "VM.Config.Memory",
  "VM.Config.Network",
  "VM.Config.Options",
  "VM.Console",
  "VM.GuestAgent.Audit",
  "VM.GuestAgent.FileRead",
  "VM.GuestAgent.FileSystemMgmt",
  "VM.GuestAgent.FileWrite",
  "VM.GuestAgent.Unrestricted",
  "VM.Migrate",
  "VM.PowerMgmt",
  "VM.Replicate",
  "VM.Snapshot",
  "VM.Snapshot.Rollback",
];

/** PVE 8 had VM.Monitor where 9 has the five VM.GuestAgent.* privileges. */
function privilegesOf(settings: Ctx["store"]["settings"]): string[] {
  if (profileOf(settings).guestAgentPrivileges) return PRIVILEGES;
  return [...PRIVILEGES.filter((p) => !p.startsWith("VM.GuestAgent.")), "VM.Monitor"].sort();
}

/**
 * The simulator's token holds every privilege everywhere, less the ones the `deniedPrivileges`
 * setting takes away (a token with too few privileges, as the connection doctor must notice).
 */
function permissions(ctx: Ctx): Record<string, Record<string, number>> {
  const denied = new Set(ctx.store.settings.deniedPrivileges);
  const all = Object.fromEntries(
    privilegesOf(ctx.store.settings)
      .filter((p) => !denied.has(p))
      .map((p) => [p, 1]),
  );
  const path = ctx.optStr("path");
  if (path) return { [path]: all };
  const out: Record<string, Record<string, number>> = {};
  for (const p of ["/", "/access", "/mapping", "/nodes", "/pool", "/sdn", "/storage", "/vms"]) out[p] = all;
  return out;
}

export const accessRoutes: Route[] = [{ method: "GET", path: "/access/permissions", handler: permissions }];
