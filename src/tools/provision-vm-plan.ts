import { z } from "zod";
import { freeText, guestId, node, poolId, storage, text, wholeNumber } from "../mcp/args";
import { MAX_WAIT_SECONDS } from "../mcp/changes";
import { disksOf, type GuestFacts, guestFacts, label } from "../mcp/guest-state";
import { type ToolDeps, ToolError } from "../mcp/tool";
import { checkDnsName, checkTags, ipConfig, isIpv4, isIpv6 } from "../proxmox/formats";
import { checkGuestOptions } from "../proxmox/options";
import { sizeBytes } from "./provision/options";
import { freeVmid, pickNode } from "./provision/placement";
import { clusterStorages } from "./storage";

/**
 * provision_vm's arguments and everything decided from them before anything is sent: which
 * template, which node, linked or full, a free ID, the config to set, whether the disk grows.
 */

/** Claude.ai gives up on a call after 60 s: answer well before, with the state so far. */
const DEFAULT_BUDGET_SECONDS = 45;

// One OpenSSH public key per line: type, base64 blob, optional comment.
const SSH_KEY =
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|ssh-(rsa|ed25519)-cert-v01@openssh\.com)\s+[A-Za-z0-9+/]+={0,3}(\s+\S.*)?$/;

function checkKeys(value: string): string | null {
  const lines = value.split(/\r?\n/).map((line) => line.trim());
  if (!lines.some(Boolean)) return "sshkeys must hold at least one public key";
  for (const [i, line] of lines.entries()) {
    if (line && !SSH_KEY.test(line))
      return `sshkeys line ${i + 1} is not an OpenSSH public key (such as 'ssh-ed25519 AAAAC3Nza... me@laptop'); give public keys, one per line`;
  }
  return null;
}

/** ip or ip6 alone: its address keys only, so ip cannot smuggle an ip6 and the other way round. */
function checkAddress(name: "ip" | "ip6", value: string): string | null {
  const keys = name === "ip" ? ["ip", "gw"] : ["ip6", "gw6"];
  const config = ipConfig(name === "ip" ? value : `ip6=${value}`, "qemu");
  if (config.error !== undefined)
    return name === "ip"
      ? "ip must be dhcp, or an address with prefix such as 10.0.0.5/24 optionally followed by ,gw=10.0.0.1"
      : "ip6 must be dhcp, auto, or an address with prefix such as 2001:db8::5/64 optionally followed by ,gw6=2001:db8::1";
  const used = config.value.split(",").map((part) => part.slice(0, part.indexOf("=")));
  return used.every((key) => keys.includes(key)) ? null : `${name} may only hold ${keys.join(" and ")}`;
}

export const input = z.object({
  template: text("template", {
    hint: "the template's VM ID or name, e.g. 107 or ubuntu-2404-template",
    max: 128,
    check: (v) => (/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(v) ? null : "template must be a VM ID or a VM name"),
  }).describe("Template VM: ID or name."),
  name: text("name", {
    hint: "a DNS-style name such as web-1",
    max: 128,
    check: (v) => checkDnsName("name", v),
  }),
  newid: guestId("newid").optional().describe("Default: next free."),
  node: node.optional().describe("Default: the template's node."),
  full: z.boolean().optional().describe("Default: linked clone when the storage allows."),
  storage: storage.optional().describe("For a full clone."),
  pool: poolId("pool").optional(),
  tags: text("tags", {
    hint: "tags separated by ';'",
    max: 256,
    check: (v) => checkTags("tags", v),
  }).optional(),
  cores: wholeNumber("cores", { min: 1, max: 512, hint: "CPU cores" }).optional(),
  sockets: wholeNumber("sockets", { min: 1, max: 4, hint: "CPU sockets" }).optional(),
  memory: wholeNumber("memory", { min: 16, max: 4 * 1024 * 1024, hint: "MiB" })
    .optional()
    .describe("MiB."),
  balloon: wholeNumber("balloon", { min: 0, max: 4 * 1024 * 1024, hint: "minimum MiB, 0 = off" })
    .optional()
    .describe("MiB; 0 turns ballooning off."),
  disk_gb: wholeNumber("disk_gb", { min: 1, max: 65536, hint: "GiB" })
    .optional()
    .describe("Grow the boot disk to at least this; never shrinks."),
  ciuser: text("ciuser", {
    hint: "a user name such as debian",
    max: 64,
    check: (v) => (/^[a-z_][a-z0-9_.-]*$/i.test(v) ? null : "ciuser must be a user name such as debian"),
  }).optional(),
  sshkeys: freeText("sshkeys", { hint: "SSH public keys, one per line", max: 8192 })
    .superRefine((v, ctx) => {
      const problem = checkKeys(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional()
    .describe("Public keys, one per line."),
  cipassword: text("cipassword", { hint: "the cloud-init user's password", max: 256 }).optional(),
  ip: text("ip", { hint: "dhcp or 10.0.0.5/24,gw=10.0.0.1", max: 128, check: (v) => checkAddress("ip", v) })
    .optional()
    .describe("dhcp or 10.0.0.5/24,gw=10.0.0.1"),
  ip6: text("ip6", { hint: "dhcp, auto or 2001:db8::5/64", max: 128, check: (v) => checkAddress("ip6", v) })
    .optional()
    .describe("dhcp, auto or CIDR[,gw6=]"),
  nameserver: text("nameserver", {
    hint: "DNS server addresses separated by spaces",
    max: 256,
    check: (v) =>
      v.split(" ").every((a) => isIpv4(a) || isIpv6(a))
        ? null
        : "nameserver must be IP addresses separated by spaces",
  }).optional(),
  searchdomain: text("searchdomain", {
    hint: "DNS search domains separated by spaces",
    max: 256,
    check: (v) =>
      v
        .split(" ")
        .every((d) =>
          /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(d),
        )
        ? null
        : "searchdomain must be domain names separated by spaces",
  }).optional(),
  start: z.boolean().default(true),
  wait_for_ip: z.boolean().default(true),
  wait_seconds: wholeNumber("wait_seconds", {
    min: 5,
    max: MAX_WAIT_SECONDS,
    hint: "how long the whole call may wait, in seconds",
  })
    .default(DEFAULT_BUDGET_SECONDS)
    .describe("Whole call; default 45 fits clients that give up at 60 s."),
});
export type Args = z.output<typeof input>;

const CLOUD_INIT_ARGS = [
  "ciuser",
  "sshkeys",
  "cipassword",
  "ip",
  "ip6",
  "nameserver",
  "searchdomain",
] as const;

// Storages whose volumes Proxmox can clone linked from a template's base volume.
const LINKABLE = new Set(["lvmthin", "zfspool", "rbd", "btrfs"]);
const FILE_STORAGE = new Set(["dir", "nfs", "cifs", "glusterfs", "cephfs"]);

/** Whether the VM config turns the guest agent on ("1", "enabled=1,fstrim_cloned_disks=1"). */
export function agentOn(config: Record<string, unknown>): boolean {
  return /^(1|enabled=1)(,|$)/.test(String(config.agent ?? ""));
}

/** The disk the VM boots from: first disk in the boot order, else the first disk. */
function bootDisk(config: Record<string, unknown>) {
  const disks = disksOf(config).filter(
    (d) => !/cloudinit/.test(d.volume) && /^(scsi|virtio|sata|ide)\d+$/.test(d.key),
  );
  const order = /order=([^,]+)/.exec(String(config.boot ?? ""))?.[1]?.split(";") ?? [];
  return order.map((key) => disks.find((d) => d.key === key)).find(Boolean) ?? disks[0];
}

function cloudInitDrive(config: Record<string, unknown>): string | undefined {
  return Object.keys(config).find(
    (k) => /^(ide|sata|scsi)\d+$/.test(k) && /cloudinit/.test(String(config[k])),
  );
}

/** A free slot for a new cloud-init drive (ide2 first, where the Proxmox UI puts it). */
function freeCloudInitSlot(config: Record<string, unknown>): string | undefined {
  return ["ide2", "ide0", "ide1", "ide3", "sata0", "sata1"].find((k) => config[k] === undefined);
}

/** The template named by ID or name; refused when it does not exist or is not a template. */
async function findTemplate(deps: ToolDeps, template: string): Promise<GuestFacts> {
  let vmid: number | undefined = /^\d+$/.test(template) ? Number(template) : undefined;
  if (vmid === undefined) {
    const vms = (await deps.client.call("GET /cluster/resources", { type: "vm" })).filter(
      (r) => r.type === "qemu" && r.name === template,
    );
    if (vms.length > 1)
      throw new ToolError(
        `Several VMs are named '${template}' (${vms.map((v) => v.vmid).join(", ")}); give the template's VM ID.`,
      );
    vmid = vms[0]?.vmid;
    if (vmid === undefined) {
      const templates = (await deps.client.call("GET /cluster/resources", { type: "vm" }))
        .filter((r) => r.type === "qemu" && r.template)
        .map((r) => `${r.vmid} '${r.name ?? ""}'`);
      throw new ToolError(
        `There is no VM named '${template}'. Templates: ${templates.join(", ") || "none (convert a cloud-init VM to a template first)"}.`,
      );
    }
  }
  // An unknown ID is refused by the guest index, with where to look.
  const facts = await guestFacts(deps, { vmid, type: "qemu" });
  if (!facts.template)
    throw new ToolError(
      `${label(facts)} is not a template. provision_vm clones templates; clone_vm copies a normal VM, or convert this one to a template first.`,
    );
  return facts;
}

/** What Proxmox would refuse, or what cannot work, decided before anything is sent. */
export async function plan(deps: ToolDeps, args: Args) {
  const source = await findTemplate(deps, args.template);
  const config = source.config;
  const targetNode = args.node && args.node !== source.node ? await pickNode(deps, args.node) : source.node;
  const disks = disksOf(config);
  const storages = await clusterStorages(deps);
  const typeOf = (id: string) => storages.find((s) => s.storage === id)?.type;
  const shared = new Set(storages.filter((s) => s.shared).map((s) => s.storage));
  const localDisks = disks.map((d) => d.volume.split(":")[0] ?? "").filter((id) => !shared.has(id));
  if (targetNode !== source.node && localDisks.length > 0 && !(args.storage && shared.has(args.storage))) {
    throw new ToolError(
      `${label(source)} has disks on local storage (${[...new Set(localDisks)].join(", ")}), which ${targetNode} cannot reach. ` +
        `Provision on ${source.node} and migrate_vm afterwards, or give storage= a shared storage (full clone).`,
    );
  }
  if (
    args.storage &&
    !storages.some((s) => s.storage === args.storage && s.node === targetNode && s.content.includes("images"))
  )
    throw new ToolError(
      `Storage '${args.storage}' does not hold VM disks on ${targetNode}. get_storages node=${targetNode} lists them.`,
    );
  const linkable = disks
    .filter((d) => !/cloudinit/.test(d.volume))
    .every((d) => {
      const type = typeOf(d.volume.split(":")[0] ?? "");
      return (type && LINKABLE.has(type)) || (type && FILE_STORAGE.has(type) && d.volume.endsWith(".qcow2"));
    });
  if (args.full === false && !linkable)
    throw new ToolError(
      `${label(source)} is on storage that cannot make linked clones; leave full unset or true.`,
    );
  if (args.full === false && args.storage)
    throw new ToolError(
      "storage applies to full clones only (a linked clone stays on the template's storage).",
    );
  const full = args.full ?? (Boolean(args.storage) || !linkable);
  const memory = args.memory ?? Number(config.memory ?? 2048);
  if (args.balloon !== undefined && args.balloon > memory)
    throw new ToolError(`balloon (${args.balloon} MiB) must not exceed memory (${memory} MiB).`);
  const wantsCloudInit = CLOUD_INIT_ARGS.some((k) => args[k] !== undefined);
  const ciDrive = cloudInitDrive(config);
  const ciSlot = ciDrive ? undefined : wantsCloudInit ? freeCloudInitSlot(config) : undefined;
  if (wantsCloudInit && !ciDrive && !ciSlot)
    throw new ToolError(`${label(source)} has no cloud-init drive and no free IDE/SATA slot for one.`);
  const boot = bootDisk(config);
  const current = boot?.size ? sizeBytes(boot.size) : undefined;
  const grow =
    args.disk_gb !== undefined && boot && (current === undefined || args.disk_gb * 1024 ** 3 > current);
  const ciStorage = args.storage ?? boot?.volume.split(":")[0] ?? "local-lvm";
  const settings = configParams(args, ciSlot ? { [ciSlot]: `${ciStorage}:cloudinit` } : {});
  const problem = checkGuestOptions(
    "qemu",
    Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])),
    deps.allowHostOptions,
  );
  if (problem) throw new ToolError(problem);
  const newid = await freeVmid(deps, args.newid);
  return { source, targetNode, full, newid, settings, boot, grow, current, wantsCloudInit };
}

/** The config step's settings, as Proxmox takes them. */
function configParams(args: Args, extra: Record<string, string>): Record<string, string | number> {
  const ipconfig = [args.ip && ipConfig(args.ip, "qemu"), args.ip6 && ipConfig(`ip6=${args.ip6}`, "qemu")]
    .map((c) => (c && c.error === undefined ? c.value : undefined))
    .filter(Boolean)
    .join(",");
  const out: Record<string, string | number | undefined> = {
    cores: args.cores,
    sockets: args.sockets,
    memory: args.memory === undefined ? undefined : String(args.memory),
    balloon: args.balloon,
    tags: args.tags,
    ciuser: args.ciuser,
    cipassword: args.cipassword,
    // Proxmox wants the key list URL-encoded inside the value (qemu-server sshkeys format).
    sshkeys: args.sshkeys
      ? encodeURIComponent(
          args.sshkeys
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter(Boolean)
            .join("\n"),
        )
      : undefined,
    ipconfig0: ipconfig || undefined,
    nameserver: args.nameserver,
    searchdomain: args.searchdomain,
    ...extra,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number
  >;
}
