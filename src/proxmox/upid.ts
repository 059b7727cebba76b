/**
 * Proxmox task ids (pve-common `PVE::Tools::upid_decode`):
 * UPID:<node>:<pid 8 hex>:<pstart 8-9 hex>:<starttime 8 hex>:<type>:<id>:<user>:
 * The trailing colon is part of it; `id` may be empty (vzdump of several guests).
 */
const UPID_PATTERN =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export interface Upid {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  /** Unix seconds. */
  starttime: number;
  type: string;
  id: string;
  user: string;
}

export function parseUpid(value: string): Upid | undefined {
  const match = UPID_PATTERN.exec(value.trim());
  if (!match) return undefined;
  return {
    upid: value.trim(),
    node: match[1] as string,
    pid: Number.parseInt(match[3] as string, 16),
    pstart: Number.parseInt(match[4] as string, 16),
    starttime: Number.parseInt(match[5] as string, 16),
    type: match[6] as string,
    id: match[7] as string,
    user: match[8] as string,
  };
}

/** `OK` and `WARNINGS: N` are success (PVE::Tools::upid_status_is_error); anything else is the error. */
export function exitStatusIsError(exitstatus: string | undefined): boolean {
  if (exitstatus === undefined) return false;
  return !(exitstatus === "OK" || /^WARNINGS: \d+$/.test(exitstatus));
}
