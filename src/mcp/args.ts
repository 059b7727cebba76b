import { z } from "zod";

/**
 * Arguments shared by every tool, named the same everywhere (`node`, `vmid`, `storage`, `upid`,
 * `poolid`, `limit`) with the checks Proxmox itself applies, so input that cannot be valid is
 * refused with a clear message before any upstream request.
 */

// pve-node: a hostname label (PVE::JSONSchema pve_verify_node_name).
// Checked with refine rather than regex so the pattern is not repeated in every tool's schema.
export const node = z
  .string({ error: "node must be a cluster node name such as pve1" })
  .refine((value) => value.length <= 63 && /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(value), {
    error: "node must be a cluster node name (letters, digits and '-'), not an IP address or FQDN",
  });

// pve-vmid: 100..999999999. Numbers in strings ("101") are accepted, models often send them.
export const vmid = z.coerce
  .number({ error: "vmid must be a number such as 101" })
  .int({ error: "vmid must be a whole number" })
  .min(100, { error: "vmid must be between 100 and 999999999 (Proxmox reserves 0-99)" })
  .max(999_999_999, { error: "vmid must be between 100 and 999999999" });

// pve-storage-id.
export const storage = z
  .string({ error: "storage must be a storage ID such as local-lvm" })
  .refine((value) => /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value), {
    error: "storage must be a storage ID such as local-lvm or nas",
  });

// pve-poolid; nested pools (a/b) exist since PVE 8.1.
export const poolid = z
  .string({ error: "poolid must be a pool name" })
  .refine((value) => /^[A-Za-z0-9_\-.]+(\/[A-Za-z0-9_\-.]+){0,2}$/.test(value), {
    error: "poolid must be a pool name such as prod",
  });

export const upid = z
  .string({ error: "upid must be a Proxmox task ID (UPID:node:...)" })
  .refine((value) => value.startsWith("UPID:"), {
    error: "upid must be a Proxmox task ID starting with 'UPID:'",
  });

export function limit(defaultValue: number, max = 5000) {
  return z.coerce
    .number()
    .int()
    .min(1, { error: "limit must be at least 1" })
    .max(max, { error: `limit must be at most ${max}` })
    .default(defaultValue);
}

/**
 * `vmid`, `node` and `limit` carry no per-tool description: their names say it, and wherever a
 * vmid is given the node is optional (the server finds it), which the instructions state once.
 */
export const describe = {
  node: "Node name, e.g. pve1.",
};

/**
 * A whole number from `min` to `max`, given as a number or a string of digits; anything else
 * (`[5]`, `true`, `null`, `"1e2"`) is refused rather than converted.
 */
export function wholeNumber(name: string, min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value),
    z
      .number({ error: `${name} must be a whole number from ${min} to ${max}` })
      .int({ error: `${name} must be a whole number` })
      .min(min, { error: `${name} must be at least ${min}` })
      .max(max, { error: `${name} must be at most ${max}` }),
  );
}
