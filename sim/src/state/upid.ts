// UPIDs exactly as pve-common PVE/UPID.pm writes and parses them.

export interface UpidParts {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const hex8 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

export function formatUpid(p: UpidParts): string {
  return `UPID:${p.node}:${hex8(p.pid)}:${hex8(p.pstart)}:${hex8(p.starttime)}:${p.type}:${p.id}:${p.user}:`;
}

// pstart may have 9 hex digits (uptime above 497 days); id may be empty; user may contain @ and !.
const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export function parseUpid(upid: string): UpidParts | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  return {
    node: m[1] as string,
    pid: Number.parseInt(m[3] as string, 16),
    pstart: Number.parseInt(m[4] as string, 16),
    starttime: Number.parseInt(m[5] as string, 16),
    type: m[6] as string,
    id: m[7] as string,
    user: m[8] as string,
  };
}

/** "root@pam!mcp" → ["root@pam", "mcp"]; a plain user id → [user, undefined]. */
export function splitTokenId(user: string): [string, string | undefined] {
  const m = /^(.+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$/.exec(user);
  return m ? [m[1] as string, m[2] as string] : [user, undefined];
}
