import { type GuestTarget, onGuest } from "../../mcp/guests";
import { assertAllowed } from "../../mcp/policy";
import { type ToolDeps, ToolError } from "../../mcp/tool";
import { ProxmoxError } from "../../proxmox/errors";

/** Running a call through the guest agent, with every agent error explained with what to do. */

/** Turns the agent's failures into what to do about them. */
export function explainAgentError(error: unknown, who: string): never {
  if (!(error instanceof ProxmoxError)) throw error;
  const message = error.pveMessage ?? "";
  if (/No QEMU guest agent configured/i.test(message)) {
    throw new ToolError(
      `${who} has no guest agent configured. Enable it with update_vm (extra: agent=1), restart the VM, and install qemu-guest-agent inside it.`,
    );
  }
  if (/VM \d+ is not running/i.test(message)) {
    throw new ToolError(`${who} is not running, so its guest agent cannot answer. Start it with start_vm.`);
  }
  if (/guest agent is not running/i.test(message)) {
    throw new ToolError(
      `The guest agent in ${who} is not answering. Is it installed and started? Debian/Ubuntu: apt install qemu-guest-agent, then ` +
        "systemctl enable --now qemu-guest-agent; RHEL/Fedora: dnf install qemu-guest-agent; Windows: install the VirtIO guest tools " +
        "from the virtio-win ISO. Right after boot it can take a few more seconds.",
    );
  }
  if (/^Agent error/i.test(message)) {
    const detail = message.replace(/^Agent error:\s*/i, "");
    let hint = "";
    if (/Failed to execute child process/i.test(detail)) {
      hint =
        ' The program is not installed or not on the agent\'s PATH; give its full path, or use ["sh", "-c", "..."].';
    } else if (/No such file or directory|cannot find the (file|path)/i.test(detail)) {
      hint = " The path does not exist inside the guest.";
    } else if (/Permission denied|Access is denied/i.test(detail)) {
      hint = " The agent runs without the rights for that path.";
    } else if (/pid/i.test(detail)) {
      hint = " The agent forgets a result once it has been read, and after a reboot.";
    } else if (/frozen|read-only/i.test(detail))
      hint = " Filesystems are frozen: thaw them with guest_fsfreeze action=thaw.";
    throw new ToolError(`The guest agent in ${who} reported: ${detail}.${hint}`);
  }
  throw error;
}

/** Runs an agent call on a VM (node found from the vmid when omitted), with agent errors explained. */
export async function onAgent<T>(
  deps: ToolDeps,
  args: { vmid: number; node?: string },
  call: (guest: GuestTarget) => Promise<T>,
): Promise<T> {
  assertAllowed(deps.policy, { vmid: args.vmid });
  return onGuest(deps, { vmid: args.vmid, node: args.node, type: "qemu" }, async (guest) => {
    assertAllowed(deps.policy, { node: guest.node });
    try {
      return await call(guest);
    } catch (error) {
      if (
        error instanceof ProxmoxError &&
        error.kind === "not_found" &&
        /Configuration file/.test(error.pveMessage ?? "")
      ) {
        throw error;
      }
      return explainAgentError(error, `VM ${guest.vmid}`);
    }
  });
}
