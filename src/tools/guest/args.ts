import { text, wholeNumber } from "../../mcp/args";
import { checkGuestPath } from "../../proxmox/formats";

/** Arguments and limits the guest-agent tools share. */

export const EXEC_INPUT_LIMIT = 64 * 1024;
/** qemu-server file-write: content maxLength 61440 ("smaller than our 64k POST limit"). */
export const FILE_WRITE_LIMIT = 61_440;
export const DEFAULT_READ_BYTES = 64 * 1024;
export const MAX_READ_BYTES = 1024 * 1024;

export const guestPath = text("path", {
  hint: "an absolute path inside the guest, e.g. /etc/hostname",
  max: 4096,
  check: (v) => checkGuestPath("path", v),
});
export const byteOffset = wholeNumber("offset", {
  min: 0,
  max: Number.MAX_SAFE_INTEGER,
  hint: "bytes to skip",
});
export const maxBytes = wholeNumber("max_bytes", {
  min: 1,
  max: MAX_READ_BYTES,
  hint: "bytes to return at most",
});
export const DEFAULT_OUTPUT_BYTES = 16 * 1024;
