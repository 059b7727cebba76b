import { type ToolDeps, ToolError } from "../../mcp/tool";
import { ipConfig } from "../../proxmox/formats";
import type { GuestType } from "../../proxmox/locate";
import { checkGuestOptions } from "../../proxmox/options";

/** Options given as text (`extra`, ipconfig) turned into checked Proxmox parameters. */

export function ipProperty(value: string, guest: GuestType): string {
  const config = ipConfig(value, guest);
  if (config.error !== undefined) throw new ToolError(config.error);
  return config.value;
}

/**
 * `extra` as options, checked against the guest type's schema before anything is sent; options
 * that reach the host are refused unless the owner set PVE_ALLOW_HOST_OPTIONS=true.
 */
export function extraOptions(
  deps: ToolDeps,
  type: GuestType,
  extra: string | undefined,
  reserved: readonly string[],
): Record<string, string> {
  const options = parseExtra(extra, reserved);
  const problem = checkGuestOptions(type, options, deps.allowHostOptions);
  if (problem) throw new ToolError(problem);
  return options;
}

/** "bios=ovmf\nmachine=q35" → { bios: "ovmf", machine: "q35" }. */
export function parseExtra(
  extra: string | undefined,
  reserved: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!extra) return out;
  for (const raw of extra.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq).trim() : "";
    if (!/^[a-z][a-z0-9_.-]*$/i.test(key)) {
      throw new ToolError(
        `extra: '${line.length > 60 ? `${line.slice(0, 60)}…` : line}' is not a key=value option (one per line, e.g. bios=ovmf).`,
      );
    }
    if (Object.hasOwn(out, key)) throw new ToolError(`extra: ${key} is given twice.`);
    if (reserved.includes(key)) throw new ToolError(`extra: set ${key} with its own argument, not in extra.`);
    out[key] = line.slice(eq + 1).trim();
  }
  return out;
}

/** A size as Proxmox writes it ("32G", "512M", "1T") in bytes. */
export function sizeBytes(size: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(size.trim());
  if (!match) return undefined;
  const unit =
    { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(match[2] ?? "").toUpperCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** The node to create on: the one asked for (online and allowed), else the online node with most free memory. */
