import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import { freeText, guestId, node, poolId, storage, text, wholeNumber } from "../mcp/args";
import { auditedChange, changeSchema, guestTarget, MAX_WAIT_SECONDS, runTask } from "../mcp/changes";
import { bytes } from "../mcp/format";
import { type InterfaceAddresses, waitForAddress } from "../mcp/guest-address";
import { disksOf, type GuestFacts, guestFacts, label } from "../mcp/guest-state";
import { changes, defineTool, type ToolDeps, ToolError, tool } from "../mcp/tool";
import type { EndpointParams } from "../proxmox/client";
import { checkDnsName, checkTags, ipConfig, isIpv4, isIpv6 } from "../proxmox/formats";
import { checkGuestOptions } from "../proxmox/options";
import { freeVmid, pickNode, sizeBytes } from "./provision";
import { clusterStorages } from "./storage";

/**
 * provision_vm: from a cloud-init template to a running VM someone can SSH into, in one call.
 * Clone, configure, grow the disk, start, then wait for the guest agent to report an address.
 * Everything is checked before the clone is sent; a step that fails after the clone is an answer
 * (what was done, what not, what to call next), and the VM is never deleted behind anyone's back.
 */

/** Claude.ai gives up on a call after 60 s: answer well before, with the state so far. */
const DEFAULT_BUDGET_SECONDS = 45;

const STEPS = ["clone", "config", "resize", "cloudinit", "start", "agent"] as const;
type StepName = (typeof STEPS)[number];

const stepSchema = z.object({
  step: z.enum(STEPS),
  outcome: z.enum(["done", "skipped", "failed", "running", "not_done"]),
  seconds: z.number(),
  upid: z.string().optional(),
  note: z.string().optional(),
});
type Step = z.infer<typeof stepSchema>;

/**
 * The shared change shape (state, action, target, upid of the last task) plus the VM as it
 * stands. state: done (every step asked for ended well), running (the wait ended first; the
 * tasks stay tracked), partial (a step after the clone failed; the VM is kept).
 */
const outputSchema = changeSchema.extend({
  state: z.enum(["done", "running", "partial"]),
  vmid: z.number(),
  node: z.string(),
  name: z.string().optional(),
  template: z.number(),
  /** What the VM is doing as far as this call knows. */
  vm_state: z.enum(["cloning", "stopped", "running", "unknown"]),
  /** Running with a reachable address. */
  ready: z.boolean(),
  steps: z.array(stepSchema),
  addresses: z.array(
    z.object({ interface: z.string(), ipv4: z.array(z.string()), ipv6: z.array(z.string()) }),
  ),
  ssh: z.string().optional(),
  next: z.string().optional(),
});
type Answer = z.infer<typeof outputSchema>;

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

const input = z.object({
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
type Args = z.output<typeof input>;

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
function agentOn(config: Record<string, unknown>): boolean {
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
  let facts: GuestFacts;
  try {
    facts = await guestFacts(deps, { vmid, type: "qemu" });
  } catch (error) {
    if (error instanceof ToolError && /no (VM|guest)|does not exist|not found/i.test(error.message))
      throw new ToolError(
        `There is no VM ${vmid} to provision from. get_vms lists templates (status template).`,
      );
    throw error;
  }
  if (!facts.template)
    throw new ToolError(
      `${label(facts)} is not a template. provision_vm clones templates; clone_vm copies a normal VM, or convert this one to a template first.`,
    );
  return facts;
}

/** What Proxmox would refuse, or what cannot work, decided before anything is sent. */
async function plan(deps: ToolDeps, args: Args) {
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

/**
 * A context whose progress notifications count the whole call: the task waits inside each step
 * start their own clocks, and MCP progress must only grow.
 */
function callProgress(ctx: ServerContext, t0: number) {
  const token = ctx.mcpReq._meta?.progressToken;
  let last = 0;
  let current: StepName = "clone";
  const send = async (message: string) => {
    if (token === undefined) return;
    last = Math.max(last + 0.001, (Date.now() - t0) / 1000);
    await ctx.mcpReq
      .notify({ method: "notifications/progress", params: { progressToken: token, progress: last, message } })
      .catch(() => undefined);
  };
  const mcpReq = Object.create(ctx.mcpReq);
  mcpReq.notify = (n: { params?: { message?: string } }) =>
    send(`${current}: ${n.params?.message ?? "waiting"}`);
  const stepCtx = Object.create(ctx) as ServerContext;
  Object.defineProperty(stepCtx, "mcpReq", { value: mcpReq });
  return {
    ctx: stepCtx,
    step: async (name: StepName, message: string) => {
      current = name;
      await send(`${name}: ${message}`);
    },
  };
}

const provisionVmTool = tool({
  name: "provision_vm",
  title: "Provision VM from template",
  description:
    "One call from a cloud-init template to a running VM you can SSH into: clone, set CPU/memory/cloud-init, grow disk, start, wait for its IP. Answers steps, addresses and the ssh line; never deletes on failure.",
  input,
  output: outputSchema,
  scope: "write",
  annotations: changes({ destructive: false, idempotent: false }),
  handler: (deps) => async (args, ctx) => {
    const t0 = Date.now();
    const deadline = t0 + args.wait_seconds * 1000;
    const left = () => Math.floor((deadline - Date.now()) / 1000);
    const p = callProgress(ctx, t0);
    const plan_ = await plan(deps, args);
    const { source, targetNode, full, newid } = plan_;
    const answer: Answer = {
      state: "done",
      action: `Provision VM ${newid} '${args.name}' on ${targetNode} from ${label(source)}`,
      target: guestTarget({ vmid: newid, node: targetNode, name: args.name }),
      vmid: newid,
      node: targetNode,
      name: args.name,
      template: source.vmid,
      vm_state: "cloning",
      ready: false,
      steps: [],
      addresses: [],
    };
    const target = `VM ${newid}`;
    const vm = { node: targetNode, vmid: newid };
    const upidOf = (message: string) => /task: (UPID:\S+)/.exec(message)?.[1];
    const notDone = (from: number) => {
      for (const name of STEPS.slice(from))
        answer.steps.push({ step: name, outcome: "not_done", seconds: 0 });
    };

    // 1. clone: a failure here leaves nothing behind, so it is an error like clone_vm's.
    await p.step("clone", `${full ? "full" : "linked"} clone of ${label(source)}`);
    let began = Date.now();
    const clone = await runTask(deps, p.ctx, {
      tool: "provision_vm",
      target: label(source),
      subject: guestTarget(source),
      args: {
        vmid: source.vmid,
        node: source.node,
        newid,
        name: args.name,
        full,
        target: targetNode,
        pool: args.pool,
      },
      action: `${full ? "Full" : "Linked"} clone of ${label(source)} to VM ${newid} '${args.name}'`,
      start: () =>
        deps.client.call("POST /nodes/{node}/qemu/{vmid}/clone", {
          node: source.node,
          vmid: source.vmid,
          newid,
          name: args.name,
          full,
          target: targetNode !== source.node ? targetNode : undefined,
          storage: full ? args.storage : undefined,
          pool: args.pool,
        }),
      wait: true,
      waitSeconds: Math.max(1, left()),
    });
    const cloneStep: Step = { step: "clone", outcome: "done", seconds: secs(began), upid: clone.data.upid };
    answer.steps.push(cloneStep);
    if (clone.data.state !== "done") {
      cloneStep.outcome = "running";
      answer.vm_state = "cloning";
      notDone(1);
      answer.next = `The clone is still running (it stays tracked). wait_for_task with its upid, then call provision_vm's remaining steps by hand: update_vm, resize_vm_disk, start_vm, guest_get what=network-interfaces on VM ${newid}.`;
      return render(answer, source, args);
    }
    answer.vm_state = "stopped";

    const fail = (index: number, step: Step, error: unknown, next: string) => {
      const message = error instanceof Error ? error.message : String(error);
      step.outcome = "failed";
      step.note = message.replace(/\ntask: UPID:\S+/, "");
      step.upid ??= upidOf(message);
      answer.steps.push(step);
      notDone(index + 1);
      answer.next = `VM ${newid} exists and is kept. ${next}`;
      return render(answer, source, args);
    };

    // 2. config: hardware and cloud-init in one request.
    began = Date.now();
    const settings = plan_.settings;
    if (Object.keys(settings).length === 0) {
      answer.steps.push({ step: "config", outcome: "skipped", seconds: 0, note: "nothing to change" });
    } else {
      await p.step("config", Object.keys(settings).join(", "));
      try {
        await auditedChange(
          deps,
          {
            tool: "provision_vm",
            target,
            args: { ...vm, ...settings, ...(settings.sshkeys ? { sshkeys: "(set)" } : {}) },
          },
          () =>
            deps.client.call("PUT /nodes/{node}/qemu/{vmid}/config", {
              ...vm,
              ...settings,
            } as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/config">),
        );
        answer.steps.push({
          step: "config",
          outcome: "done",
          seconds: secs(began),
          note: Object.keys(settings).join(", "),
        });
      } catch (error) {
        return fail(
          1,
          { step: "config", outcome: "failed", seconds: secs(began) },
          error,
          `Set its config with update_vm (cloud-init keys via extra), then start_vm.`,
        );
      }
    }

    // 3. resize: grow only.
    began = Date.now();
    if (!plan_.grow || !plan_.boot || args.disk_gb === undefined) {
      answer.steps.push({
        step: "resize",
        outcome: "skipped",
        seconds: 0,
        ...(args.disk_gb !== undefined && plan_.boot?.size
          ? { note: `${plan_.boot.key} is ${plan_.boot.size} already` }
          : {}),
      });
    } else {
      const disk = plan_.boot.key;
      await p.step("resize", `${disk} to ${args.disk_gb} GiB`);
      try {
        const resized = await runTask(deps, p.ctx, {
          tool: "provision_vm",
          target,
          subject: guestTarget({ ...vm, name: args.name }),
          args: { ...vm, disk, size: `${args.disk_gb}G` },
          action: `Grow ${disk} of VM ${newid} from ${plan_.current !== undefined ? bytes(plan_.current) : "?"} to ${args.disk_gb} GiB`,
          start: () =>
            deps.client.call("PUT /nodes/{node}/qemu/{vmid}/resize", {
              ...vm,
              disk: disk as EndpointParams<"PUT /nodes/{node}/qemu/{vmid}/resize">["disk"],
              size: `${args.disk_gb}G`,
            }),
          wait: true,
          waitSeconds: Math.max(1, left()),
        });
        const step: Step = {
          step: "resize",
          outcome: "done",
          seconds: secs(began),
          upid: resized.data.upid,
          note: `${disk} ${args.disk_gb}G`,
        };
        answer.steps.push(step);
        if (resized.data.state !== "done") {
          step.outcome = "running";
          notDone(3);
          answer.next = `The resize is still running (tracked). wait_for_task with its upid, then start_vm vmid=${newid}.`;
          return render(answer, source, args);
        }
      } catch (error) {
        return fail(
          2,
          { step: "resize", outcome: "failed", seconds: secs(began) },
          error,
          `Grow the disk with resize_vm_disk vmid=${newid} disk=${disk} size=${args.disk_gb}G, then start_vm.`,
        );
      }
    }

    // 4. cloud-init drive: Proxmox regenerates it at every start; a VM left stopped gets it now.
    began = Date.now();
    if (!plan_.wantsCloudInit || args.start) {
      answer.steps.push({
        step: "cloudinit",
        outcome: "skipped",
        seconds: 0,
        note: plan_.wantsCloudInit ? "regenerated at start" : "no cloud-init settings",
      });
    } else {
      await p.step("cloudinit", "regenerate the drive");
      try {
        await deps.client.call("PUT /nodes/{node}/qemu/{vmid}/cloudinit", vm);
        answer.steps.push({ step: "cloudinit", outcome: "done", seconds: secs(began) });
      } catch (error) {
        return fail(
          3,
          { step: "cloudinit", outcome: "failed", seconds: secs(began) },
          error,
          "Proxmox regenerates the cloud-init drive at start: start_vm applies it.",
        );
      }
    }

    // 5. start
    began = Date.now();
    if (!args.start) {
      answer.steps.push({ step: "start", outcome: "skipped", seconds: 0, note: "start=false" });
      answer.steps.push({ step: "agent", outcome: "skipped", seconds: 0 });
      answer.next = `start_vm vmid=${newid} starts it.`;
      return render(answer, source, args);
    }
    if (left() < 1) {
      notDone(4);
      answer.next = `The wait ran out before the start. start_vm vmid=${newid} starts it.`;
      return render(answer, source, args);
    }
    await p.step("start", `VM ${newid}`);
    try {
      const started = await runTask(deps, p.ctx, {
        tool: "provision_vm",
        target,
        subject: guestTarget({ ...vm, name: args.name }),
        args: vm,
        action: `Start VM ${newid} '${args.name}' on ${targetNode}`,
        start: () => deps.client.call("POST /nodes/{node}/qemu/{vmid}/status/start", vm),
        wait: true,
        waitSeconds: Math.max(1, left()),
      });
      const step: Step = { step: "start", outcome: "done", seconds: secs(began), upid: started.data.upid };
      answer.steps.push(step);
      if (started.data.state !== "done") {
        step.outcome = "running";
        answer.vm_state = "unknown";
        notDone(5);
        answer.next = `The start is still running (tracked). wait_for_task with its upid, then guest_get vmid=${newid} what=network-interfaces.`;
        return render(answer, source, args);
      }
      answer.vm_state = "running";
    } catch (error) {
      return fail(
        4,
        { step: "start", outcome: "failed", seconds: secs(began) },
        error,
        `Fix what the start log says, then start_vm vmid=${newid}.`,
      );
    }

    // 6. the guest agent's address
    began = Date.now();
    if (!agentOn(source.config)) {
      answer.steps.push({
        step: "agent",
        outcome: "skipped",
        seconds: 0,
        note: "the template has the guest agent off (agent option)",
      });
      answer.next =
        `The template ${label(source)} has the QEMU guest agent off, so no VM from it reports its address. ` +
        `Fix the template once: install qemu-guest-agent in its image and set agent=1 on it (update_vm vmid=${source.vmid} extra="agent=1"). ` +
        `For VM ${newid}: update_vm extra="agent=1", install qemu-guest-agent inside, reboot_vm; or read the address from your DHCP server.`;
      return render(answer, source, args);
    }
    if (!args.wait_for_ip) {
      answer.steps.push({ step: "agent", outcome: "skipped", seconds: 0, note: "wait_for_ip=false" });
      answer.next = `guest_get vmid=${newid} what=network-interfaces shows its addresses once the guest has booted.`;
      return render(answer, source, args);
    }
    await p.step("agent", "waiting for the guest agent to report an address");
    const found = await waitForAddress(deps, vm, deadline, {
      signal: ctx.mcpReq.signal,
      onAttempt: (n) => p.step("agent", `no address yet (attempt ${n})`),
    });
    answer.addresses = found.addresses.map((a: InterfaceAddresses) => ({
      interface: a.name,
      ipv4: a.ipv4,
      ipv6: a.ipv6,
    }));
    if (found.addresses.length) {
      answer.ready = true;
      answer.steps.push({ step: "agent", outcome: "done", seconds: secs(began) });
    } else {
      answer.steps.push({
        step: "agent",
        outcome: "running",
        seconds: secs(began),
        note: found.agentAnswered
          ? "the agent answers but no interface has a usable address yet"
          : "the guest agent has not answered yet",
      });
      answer.next = found.agentAnswered
        ? `VM ${newid} runs; its network has no address yet (DHCP?). guest_get vmid=${newid} what=network-interfaces asks again.`
        : `VM ${newid} runs; its guest agent has not answered within ${args.wait_seconds} s: it may still be booting, or qemu-guest-agent is not installed in the template's image. guest_get vmid=${newid} what=network-interfaces asks again.`;
    }
    return render(answer, source, args);
  },
});

function secs(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

function render(answer: Answer, source: GuestFacts, args: Args): { text: string; data: Answer } {
  const outcomes = answer.steps.map((s) => s.outcome);
  answer.state = outcomes.includes("failed")
    ? "partial"
    : outcomes.includes("running") || outcomes.includes("not_done")
      ? "running"
      : "done";
  const lastTask = answer.steps.filter((s) => s.upid).at(-1)?.upid;
  if (lastTask) answer.upid = lastTask;
  const user = args.ciuser ?? (typeof source.config.ciuser === "string" ? source.config.ciuser : undefined);
  const ip = answer.addresses.flatMap((a) => a.ipv4)[0] ?? answer.addresses.flatMap((a) => a.ipv6)[0];
  if (ip) answer.ssh = `ssh ${user ?? "<user>"}@${ip}`;
  const who = `VM ${answer.vmid} '${answer.name ?? ""}'`;
  const from = `from ${label(source)}`;
  const head = answer.ready
    ? `${who} is running on ${answer.node} (${from}). SSH: ${answer.ssh}${user ? "" : " (the image's default user)"}`
    : answer.vm_state === "cloning"
      ? `${who} is being cloned on ${answer.node} ${from}; the wait ended first.`
      : `${who} on ${answer.node} (${from}) is ${answer.vm_state}, not ready yet.`;
  const lines = [head];
  if (answer.addresses.length)
    lines.push(
      `Addresses: ${answer.addresses.map((a) => `${a.interface} ${[...a.ipv4, ...a.ipv6].join(" ")}`).join("; ")}`,
    );
  lines.push("Steps:");
  for (const s of answer.steps) {
    const time =
      s.outcome === "done" || s.outcome === "failed" || s.outcome === "running" ? ` (${s.seconds} s)` : "";
    lines.push(`- ${s.step}: ${s.outcome.replace("_", " ")}${time}${s.note ? `: ${s.note}` : ""}`);
    if (s.upid) lines.push(`task: ${s.upid}`);
  }
  if (answer.next) lines.push(`Next: ${answer.next}`);
  return { text: lines.join("\n"), data: answer };
}

export function registerProvisionVmTools(server: McpServer, deps: ToolDeps): void {
  defineTool(server, deps, provisionVmTool);
}
