import { freeText, text, wholeNumber } from "../../mcp/args";
import { checkBridge, checkDnsName, checkTags, ipConfig } from "../../proxmox/formats";
import type { GuestType } from "../../proxmox/locate";

/** Arguments the provisioning tools share. */

export const extraArg = freeText("extra", { hint: "more Proxmox options, key=value per line", max: 8192 })
  .optional()
  .describe("More Proxmox options, key=value per line.");

// Values spliced into property strings (net0, ipconfig0, ide2, ...) are checked against their
// schema format here, so none can add a key of its own ("vmbr0,tag=9").
export const guestName = (name: string) =>
  text(name, { hint: "a DNS-style name such as web-1", max: 128, check: (v) => checkDnsName(name, v) });
export const bridgeArg = text("bridge", {
  hint: "a bridge such as vmbr0",
  max: 15,
  check: (v) => checkBridge("bridge", v),
});
export const tagsArg = text("tags", {
  hint: "tags separated by ';'",
  max: 256,
  check: (v) => checkTags("tags", v),
});
export const ipArg = (guest: GuestType) =>
  text("ip", {
    hint: "dhcp or 10.0.0.5/24,gw=10.0.0.1",
    max: 256,
    check: (v) => ipConfig(v, guest).error ?? null,
  });
export const cores = wholeNumber("cores", { min: 1, max: 512, hint: "CPU cores" });
// 4 TiB in MiB: more than any host this server will meet, and far from overflowing anything.
export const memory = wholeNumber("memory", { min: 16, max: 4 * 1024 * 1024, hint: "MiB" });
export const swap = wholeNumber("swap", { min: 0, max: 4 * 1024 * 1024, hint: "MiB" });
export const diskGb = wholeNumber("disk_gb", { min: 1, max: 65536, hint: "GiB" });

/** The checked address as the property string Proxmox takes ("ip=10.0.0.5/24,gw=10.0.0.1"). */
