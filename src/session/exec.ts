import type { ProxmoxClient } from "../proxmox/client";
import { ProxmoxError } from "../proxmox/errors";

/**
 * Reading a guest-agent exec result. This is the only code that calls exec-status: QGA forgets a
 * pid once its exited status has been read, so every read goes through the Session, which stores
 * the result before anyone else can ask.
 */

export type ExecStatus =
  | { state: "running" }
  | {
      state: "exited";
      exitcode?: number;
      signal?: number;
      out: string;
      err: string;
      outTruncated: boolean;
      errTruncated: boolean;
    }
  | { state: "lost"; error: string };

function flag(value: unknown): boolean {
  return value === 1 || value === true || value === "1";
}

/**
 * PVE decodes QGA's base64 output into bytes and JSON-encodes them, so UTF-8 output arrives with
 * each byte as one character (double-encoded). Undo that when it is what happened.
 */
export function repairText(text: string): string {
  // Only byte-valued characters with some above ASCII can be a UTF-8 byte sequence.
  if (!/[\u0080-\u00ff]/.test(text) || /[\u0100-\uffff]/.test(text)) return text;
  const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return text;
  }
}

export async function readExecStatus(
  client: ProxmoxClient,
  job: { node: string; vmid: number; pid: number },
): Promise<ExecStatus> {
  try {
    const status = await client.call("GET /nodes/{node}/qemu/{vmid}/agent/exec-status", {
      node: job.node,
      vmid: job.vmid,
      pid: job.pid,
    });
    if (!flag(status.exited)) return { state: "running" };
    return {
      state: "exited",
      exitcode: typeof status.exitcode === "number" ? status.exitcode : undefined,
      signal: typeof status.signal === "number" ? status.signal : undefined,
      out: repairText(status["out-data"] ?? ""),
      err: repairText(status["err-data"] ?? ""),
      outTruncated: flag(status["out-truncated"]),
      errTruncated: flag(status["err-truncated"]),
    };
  } catch (error) {
    // The agent no longer knows the pid (read already, guest rebooted): nothing more will come.
    const message = error instanceof ProxmoxError ? (error.pveMessage ?? "") : "";
    if (/^Agent error/i.test(message) && /pid/i.test(message)) return { state: "lost", error: message };
    // The VM stopped (or the agent configuration went away): the process is gone with it.
    if (/is not running|No QEMU guest agent configured/i.test(message))
      return { state: "lost", error: message };
    throw error;
  }
}
