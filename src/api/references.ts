import { assertAllowed, type Policy } from "../mcp/policy";
import { ToolError } from "../mcp/tool";
import { VOLUME_STORAGE_PREFIX } from "../proxmox/formats";
import { parseUpid } from "../proxmox/upid";
import type { Operation } from "./index";
import type { WireParams } from "./validate";

/**
 * Every guest and node a request names, however it names it, held to PVE_ALLOWED_VMIDS and
 * PVE_ALLOWED_NODES before anything is sent: a path's {vmid} is one way among many (HA ids,
 * volumes, backups, UPIDs, replication jobs, node-wide and cluster-wide actions).
 */

/** Whatever a request names as a guest or a node, however it names it. */
export interface References {
  vmids: number[];
  nodes: string[];
  /** Set when the request acts on every guest of a node or of the cluster, or of a pool. */
  wide?: { what: string; cluster: boolean };
}

const VMID_PARAMS = ["vmid", "newid", "vms", "target-vmid"];

function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/[,;\s]+/)).filter(Boolean);
}

/**
 * The guest a volume belongs to, from Proxmox's volume names: disks (`vm-203-disk-0`,
 * `base-`, `subvol-`, `basevol-`, in a `203/` folder on file storages), vzdump archives
 * (`backup/vzdump-lxc-203-…`) and PBS snapshots (`backup/ct/203/…`). `storage:` may lead.
 */
export function volumeOwner(value: string, storagePrefix: "required" | "optional"): number | undefined {
  const prefix = VOLUME_STORAGE_PREFIX;
  if (storagePrefix === "required" && !prefix.test(value)) return undefined;
  const volume = value.replace(prefix, "");
  const match =
    /^(?:\d+\/)?(?:vm|base|subvol|basevol)-(\d+)-/.exec(volume) ??
    /^(?:backup\/|dump\/)?vzdump-(?:qemu|lxc|openvz)-(\d+)-/.exec(volume) ??
    /^backup\/(?:vm|ct)\/(\d+)\//.exec(volume);
  return match ? Number(match[1]) : undefined;
}

/** The vmid of an HA resource id: `vm:108`, `ct:108`, or a bare `108`. */
function haGuest(sid: string): number | undefined {
  const match = /^(?:(?:vm|ct):)?(\d+)$/.exec(sid.trim());
  return match ? Number(match[1]) : undefined;
}

const NODE_WIDE = /^\/nodes\/\{node\}\/(startall|stopall|suspendall|migrateall)$/;
const CLUSTER_WIDE = /^\/cluster\/bulk-action\/guest\//;
export const BACKUPS = /^(\/nodes\/\{node\}\/vzdump|\/cluster\/backup(\/\{id\})?)$/;

export function referencesOf(op: Operation, wire: WireParams): References {
  const vmids = new Set<number>();
  const nodes = new Set<string>();
  const add = (vmid: number | undefined) => {
    if (vmid !== undefined && Number.isSafeInteger(vmid)) vmids.add(vmid);
  };
  for (const key of VMID_PARAMS) for (const v of listOf(wire[key])) if (/^\d+$/.test(v)) add(Number(v));
  for (const [name, value] of Object.entries(wire)) {
    const schema = op.params[name];
    const format = typeof schema?.format === "string" ? schema.format : "";
    for (const one of Array.isArray(value) ? value : [value]) {
      if (name === "node" || format === "pve-node") nodes.add(one);
      if (/^pve-(ha-)?node-list$/.test(format))
        for (const n of listOf(one)) nodes.add(n.replace(/:\d+$/, ""));
      if (name === "sid" || format === "pve-ha-resource-id-list" || format.startsWith("pve-ha-resource"))
        for (const sid of listOf(one)) add(haGuest(sid));
      if (format === "pve-replication-job-id" || (name === "id" && /\/replication(\/|$)/.test(op.path)))
        add(/^(\d+)-\d+$/.exec(one) ? Number(one.split("-")[0]) : undefined);
      const upid = parseUpid(one);
      if (upid) {
        nodes.add(upid.node);
        if (/^\d+$/.test(upid.id)) add(Number(upid.id));
      }
      // Volumes, also inside property strings (`scsi1: local-lvm:vm-203-disk-0,size=8G`); only the
      // path's {volume} may leave out its storage.
      if (name === "volume" && op.pathParams.includes("volume")) add(volumeOwner(one, "optional"));
      else for (const part of one.split(",")) add(volumeOwner(part.slice(part.indexOf("=") + 1), "required"));
    }
  }
  const refs: References = { vmids: [...vmids], nodes: [...nodes] };
  const named = listOf(wire.vms).length > 0 || listOf(wire.vmid).length > 0;
  if (NODE_WIDE.test(op.path) && !named) refs.wide = { what: "every guest of a node", cluster: false };
  else if (CLUSTER_WIDE.test(op.path) && !named)
    refs.wide = { what: "every guest of the cluster", cluster: true };
  else if (BACKUPS.test(op.path) && (wire.all === "1" || wire.pool !== undefined))
    refs.wide = {
      what: wire.pool !== undefined ? "every guest of a pool" : "every guest",
      cluster: !op.path.startsWith("/nodes/") && wire.node === undefined,
    };
  return refs;
}

/** Refuses a request that names a guest or node outside the allowlists, before anything is sent. */
export function assertReferencesAllowed(policy: Policy, refs: References): void {
  for (const vmid of refs.vmids) assertAllowed(policy, { vmid });
  for (const node of refs.nodes) assertAllowed(policy, { node });
  if (!refs.wide) return;
  const limits = [
    policy.vmids ? "PVE_ALLOWED_VMIDS" : "",
    refs.wide.cluster && policy.nodes ? "PVE_ALLOWED_NODES" : "",
  ]
    .filter(Boolean)
    .join(" and ");
  if (limits)
    throw new ToolError(
      `This acts on ${refs.wide.what}, and ${limits} ${limits.includes(" and ") ? "are" : "is"} set, so this server will not send it: name the guests (vms or vmid) instead, each inside the list. Nothing was sent.`,
    );
}
