import { type Cell, moreNote } from "../mcp/format";
import { onGuest, onNode } from "../mcp/guests";
import type { ToolAnswer, ToolDeps } from "../mcp/tool";
import type { GuestType } from "../proxmox/locate";
import {
  GUEST_COLUMNS,
  type GuestRow,
  type GuestStatus,
  guestCells,
  guestListText,
  guestStatusText,
  guestSummary,
  type RawGuest,
  toGuestRow,
  toGuestStatus,
} from "./guest-views";

export interface GuestListArgs {
  node?: string;
  status?: string;
  tag?: string;
  limit: number;
}

/**
 * Lists VMs or containers from one `/cluster/resources?type=vm` call, for the whole cluster or
 * one node: the node's own list (`/nodes/{node}/qemu`) lacks the pool each guest is in, so both
 * answers would otherwise differ. Only when a node shows no guests is the node itself asked, to
 * tell an empty node from a name that is not in the cluster.
 */
export async function listGuests(
  deps: ToolDeps,
  type: GuestType,
  args: GuestListArgs,
): Promise<ToolAnswer<{ total: number; columns: string[]; rows: Cell[][] }>> {
  const resources = await deps.client.call("GET /cluster/resources", { type: "vm" });
  let rows: GuestRow[] = resources
    .filter((item) => item.type === type && (!args.node || item.node === args.node))
    .map((item) => toGuestRow(item as RawGuest, item.node ?? "?"));
  if (args.node && rows.length === 0) {
    const node = args.node;
    const raw = await onNode<RawGuest[]>(deps, node, () =>
      type === "qemu"
        ? deps.client.call("GET /nodes/{node}/qemu", { node })
        : deps.client.call("GET /nodes/{node}/lxc", { node }),
    );
    rows = raw.map((guest) => toGuestRow(guest, node));
  }
  if (args.status) {
    const wanted = args.status;
    rows = rows.filter((row) =>
      wanted === "template" ? row.template : row.status === wanted && !row.template,
    );
  }
  if (args.tag) {
    const tag = args.tag.toLowerCase();
    rows = rows.filter((row) => row.tags?.some((t) => t.toLowerCase() === tag));
  }
  rows.sort((a, b) => a.vmid - b.vmid);
  const total = rows.length;
  const shown = rows.slice(0, args.limit);
  const noun = type === "qemu" ? "VMs" : "containers";
  const where = args.node ? ` on ${args.node}` : "";
  const filters = [args.status && `status ${args.status}`, args.tag && `tag ${args.tag}`]
    .filter(Boolean)
    .join(", ");
  const header =
    total === 0
      ? `No ${noun}${where}${filters ? ` matching ${filters}` : ""}.`
      : `${guestSummary(rows, type)}${where}${filters ? ` (${filters})` : ""}`;
  const text = [header, ...guestListText(shown, type)].join("\n") + moreNote(shown.length, total, noun);
  return { text, data: { total, columns: GUEST_COLUMNS, rows: shown.map(guestCells) } };
}

/** Live status of one VM or container (`status/current`), node found from the vmid when omitted. */
export async function guestStatus(
  deps: ToolDeps,
  type: GuestType,
  args: { vmid: number; node?: string },
): Promise<ToolAnswer<GuestStatus>> {
  const status = await onGuest(deps, { vmid: args.vmid, node: args.node, type }, async (guest) => {
    const params = { node: guest.node, vmid: guest.vmid };
    const raw =
      type === "qemu"
        ? await deps.client.call("GET /nodes/{node}/qemu/{vmid}/status/current", params)
        : await deps.client.call("GET /nodes/{node}/lxc/{vmid}/status/current", params);
    return toGuestStatus(raw, guest.node, type);
  });
  return { text: guestStatusText(status), data: status };
}
