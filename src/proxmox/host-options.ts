/**
 * The one host-option policy: which guest and backup options reach the Proxmox host itself rather
 * than the guest. Every path that sends such options asks it (create_vm/update_vm's `extra`,
 * create_container, restore, write_api on guest creation, guest config, vzdump and backup jobs),
 * and refuses what it names unless the owner sets PVE_ALLOW_HOST_OPTIONS=true.
 *
 * Proxmox itself lets only the `root@pam` user (not even its API tokens) pass raw paths, `args`,
 * hook scripts and raw devices ("Only root can pass arbitrary filesystem paths."), so a refusal
 * here costs an owner nothing a token could have done, and keeps a looser token or a future
 * Proxmox from turning the `write` scope into access to the host.
 */

/** What the options configure: a VM, a container, or a backup (vzdump, backup jobs). */
export type OptionContext = "qemu" | "lxc" | "backup";

export const HOST_OPTIONS_SETTING = "PVE_ALLOW_HOST_OPTIONS=true";

export function hostOptionsAllowed(env: unknown): boolean {
  const value = (env as { PVE_ALLOW_HOST_OPTIONS?: unknown } | undefined)?.PVE_ALLOW_HOST_OPTIONS;
  return typeof value === "string" && /^(1|true|yes|on)$/i.test(value.trim());
}

/** A property string's parts as [key, value]; a part without `=` has the key "" (the default key). */
function parts(value: string): [string, string][] {
  return value.split(",").map((part) => {
    const eq = part.indexOf("=");
    return eq < 0 ? ["", part.trim()] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
}

const DISK = /^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$/;
const MOUNT = /^(rootfs|mp\d+|unused\d+)$/;

function qemuReach(key: string, family: string, value: string): string | undefined {
  if (key === "args") return "passes raw arguments to QEMU on the host";
  if (key === "ivshmem") return "maps shared memory of the host";
  if (family === "virtiofs") return "shares a host directory with the guest";
  if (family === "parallel") return "passes a host parallel port through";
  if (family === "serial")
    return value.trim() === "socket" ? undefined : "passes a host serial device through";
  if (family === "hostpci") {
    // Only a device the owner mapped in the cluster's resource mappings stays within reach.
    const p = parts(value);
    const mapped = p.some(([k]) => k === "mapping");
    return !mapped || p.some(([k, v]) => k === "host" || (k === "" && v !== ""))
      ? "passes a host PCI device through"
      : undefined;
  }
  if (family === "usb") {
    // `spice` (SPICE redirection) and mapped devices stay inside; the default key is a host device.
    const p = parts(value);
    const device = p.find(([k]) => k === "" || k === "host")?.[1];
    const mapped = p.some(([k]) => k === "mapping");
    return (device === undefined && mapped) || device === "spice"
      ? undefined
      : "passes a host USB device through";
  }
  if (DISK.test(key)) {
    for (const [k, v] of parts(value)) {
      if ((k === "" || k === "file") && v === "cdrom") return "uses the host's physical CD/DVD drive";
      if ((k === "" || k === "file") && v.startsWith("/")) return "uses a host device or file as a disk";
      if (k === "import-from" && v.startsWith("/")) return "reads a host file into a disk";
    }
  }
  return undefined;
}

function lxcReach(key: string, family: string, value: string): string | undefined {
  if (key.startsWith("lxc.")) return "writes a raw LXC key into the container's config on the host";
  if (family === "dev") return "passes a host device through";
  if (MOUNT.test(key)) {
    for (const [k, v] of parts(value)) {
      if ((k === "" || k === "volume") && v.startsWith("/")) return "mounts a host path into the container";
    }
  }
  return undefined;
}

/**
 * Why an option reaches the host, or undefined when it stays inside the guest (or the backup).
 * `key` is the option's name as sent (`scsi5`, `mp0`, `usb1`, `dumpdir`), `value` its value.
 */
export function hostReach(context: OptionContext, key: string, value: string): string | undefined {
  if (key === "hookscript") return "runs a script on the Proxmox host";
  if (context === "backup") {
    if (key === "script") return "runs a script on the Proxmox host";
    if (key === "dumpdir" || key === "tmpdir") return "writes to a directory of the Proxmox host";
    return undefined;
  }
  // A restore or a container template read from a host file instead of a storage volume.
  if ((key === "archive" || key === "ostemplate") && value.startsWith("/"))
    return "reads a file of the Proxmox host";
  const family = /^([a-z-]+?)\d*$/.exec(key)?.[1] ?? key;
  return context === "qemu" ? qemuReach(key, family, value) : lxcReach(key, family, value);
}

/** The options among `options` that reach the host, with why. */
export function hostOptionsIn(
  context: OptionContext,
  options: Readonly<Record<string, string | readonly string[]>>,
): { key: string; reach: string }[] {
  const found: { key: string; reach: string }[] = [];
  for (const [key, value] of Object.entries(options)) {
    for (const one of Array.isArray(value) ? value : [value as string]) {
      const reach = hostReach(context, key, one);
      if (reach) {
        found.push({ key, reach });
        break;
      }
    }
  }
  return found;
}

/** The refusal every path gives, naming each option, why, and the owner's setting. */
export function hostOptionsRefusal(found: readonly { key: string; reach: string }[], prefix = ""): string {
  const what = found.map((f) => `${f.key} ${f.reach}`).join("; ");
  const verdict =
    found.length === 1
      ? ", which gives whoever can change guests a way onto the Proxmox host itself, so it is refused."
      : ": each gives whoever can change guests a way onto the Proxmox host itself, so they are refused.";
  return `${prefix}${what}${verdict} The server's owner can allow such options with ${HOST_OPTIONS_SETTING}. Nothing was sent.`;
}
