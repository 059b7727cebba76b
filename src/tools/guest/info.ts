import { z } from "zod";
import { freeText, node, text, vmid } from "../../mcp/args";
import { changed, changeSchema, confirmArg, preview } from "../../mcp/changes";
import { bytes, timestamp, usage } from "../../mcp/format";
import { GUEST_POWER_WAIT_MS, waitForGuestPower } from "../../mcp/guest-state";
import { changes, READ_ONLY, ToolError, tool } from "../../mcp/tool";
import { onAgent } from "./agent";

/** Facts from inside a VM and the agent's own actions: guest_get, ping, passwords, fsfreeze, fstrim, guest power. */

export const GET_KINDS = [
  "info",
  "osinfo",
  "host-name",
  "timezone",
  "time",
  "users",
  "vcpus",
  "memory-blocks",
  "memory-block-info",
  "fsinfo",
  "network-interfaces",
  "fsfreeze-status",
  "commands",
] as const;
export type GetKind = (typeof GET_KINDS)[number];

// biome-ignore lint/suspicious/noExplicitAny: QGA answers are loosely typed JSON, rendered field by field
export type Json = any;

export function renderGet(what: GetKind, result: Json): string {
  switch (what) {
    case "info": {
      const enabled = (result?.supported_commands ?? []).filter((c: Json) => c.enabled).length;
      return `QEMU guest agent ${result?.version ?? "?"}, ${enabled} commands enabled`;
    }
    case "osinfo":
      return `${result?.["pretty-name"] ?? result?.name ?? "unknown OS"}, kernel ${result?.["kernel-release"] ?? "?"} (${result?.machine ?? "?"})`;
    case "host-name":
      return String(result?.["host-name"] ?? "?");
    case "timezone":
      return `${result?.zone ?? "?"} (UTC${(result?.offset ?? 0) >= 0 ? "+" : ""}${(result?.offset ?? 0) / 3600})`;
    case "time":
      return `${new Date(Number(result) / 1e6).toISOString()} (guest clock)`;
    case "users":
      return (result ?? []).length
        ? (result as Json[])
            .map(
              (u) =>
                `${u.domain ? `${u.domain}\\` : ""}${u.user} logged in since ${timestamp(Math.floor(u["login-time"]))}`,
            )
            .join("\n")
        : "No users logged in.";
    case "vcpus": {
      const list = (result ?? []) as Json[];
      return `${list.filter((c) => c.online).length} of ${list.length} vCPUs online`;
    }
    case "memory-blocks": {
      const list = (result ?? []) as Json[];
      return `${list.length} memory blocks, ${list.filter((b) => b.online).length} online`;
    }
    case "memory-block-info":
      return `memory block size ${bytes(result?.size)}`;
    case "fsinfo":
      return ((result ?? []) as Json[])
        .map(
          (fs) =>
            `${fs.mountpoint} ${fs.type} on ${fs.name}${fs["total-bytes"] ? `: ${usage(fs["used-bytes"], fs["total-bytes"])} (${Math.round((fs["used-bytes"] / fs["total-bytes"]) * 100)}%)` : ""}`,
        )
        .join("\n");
    case "network-interfaces":
      return ((result ?? []) as Json[])
        .map((nic) => {
          const addresses = ((nic["ip-addresses"] ?? []) as Json[]).map(
            (a) => `${a["ip-address"]}/${a.prefix}`,
          );
          return `${nic.name}${nic["hardware-address"] ? ` ${nic["hardware-address"]}` : ""}: ${addresses.join(", ") || "no address"}`;
        })
        .join("\n");
    case "fsfreeze-status":
      return `filesystems ${result}`;
    case "commands":
      return ((result ?? []) as Json[]).map((c) => c.name).join(", ");
  }
}

export const guestGetTool = tool({
  name: "guest_get",
  title: "VM facts from inside",
  description: "Read-only facts from inside a VM via the guest agent, chosen by what.",
  input: z.object({ vmid, node: node.optional(), what: z.enum(GET_KINDS) }),
  output: z.object({ vmid: z.number(), what: z.string(), result: z.unknown() }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const params = { node: guest.node, vmid: guest.vmid };
      let result: Json;
      switch (args.what) {
        case "commands":
          result = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent", params);
          break;
        case "fsfreeze-status":
          result = (await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-status", params))
            .result;
          break;
        case "info":
          result = (await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/info", params)).result;
          break;
        case "network-interfaces":
          result = (
            await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", params)
          ).result;
          break;
        default: {
          const endpoint =
            `GET /nodes/{node}/qemu/{vmid}/agent/get-${args.what}` as "GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo";
          result = (await deps.client.call(endpoint, params)).result;
        }
      }
      // PVE relays a QGA error reply of these simple commands as a 200 {result: {error}}, e.g.
      // a Windows guest without network-get-interfaces (recorded from PVE 6.2).
      const agentError = result?.error;
      if (agentError && typeof agentError === "object" && !Array.isArray(result)) {
        throw new ToolError(
          `The guest agent of VM ${guest.vmid} cannot answer ${args.what}: ${agentError.desc ?? "error"}${agentError.class ? ` (${agentError.class})` : ""}.`,
        );
      }
      return {
        text: `VM ${guest.vmid} ${args.what}:\n${renderGet(args.what, result)}`,
        data: { vmid: guest.vmid, what: args.what, result },
      };
    }),
});

export const guestPingTool = tool({
  name: "guest_ping",
  title: "Check the VM guest agent",
  description: "Check that a VM's guest agent answers.",
  input: z.object({ vmid, node: node.optional() }),
  output: z.object({ vmid: z.number(), ok: z.boolean() }),
  scope: "read",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/ping", {
        node: guest.node,
        vmid: guest.vmid,
      });
      return { text: `The guest agent in VM ${guest.vmid} answers.`, data: { vmid: guest.vmid, ok: true } };
    }),
});

export const guestSetUserPasswordTool = tool({
  name: "guest_set_user_password",
  title: "Set a password in a VM",
  description: "Set a user's password inside a VM; never shown or stored. Needs confirm.",
  input: z.object({
    vmid,
    node: node.optional(),
    username: text("username", {
      hint: "a user name in the guest such as root",
      max: 64,
      check: (v) =>
        /^[A-Za-z0-9_][A-Za-z0-9_.@$\\-]*$/.test(v)
          ? null
          : "username must be a user name in the guest such as root",
    }),
    password: freeText("password", { hint: "the new password", min: 5, max: 1024 }),
    crypted: z.boolean().default(false).describe("password is already crypt()ed."),
    confirm: confirmArg,
  }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      if (!args.confirm)
        return preview(
          "guest_set_user_password",
          `This replaces the password of '${args.username}' inside VM ${guest.vmid}.`,
          { vmid: guest.vmid, node: guest.node },
        );
      await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/set-user-password", {
        node: guest.node,
        vmid: guest.vmid,
        username: args.username,
        password: args.password,
        crypted: args.crypted || undefined,
      });
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_set_user_password",
        target: `VM ${guest.vmid}`,
        args: { username: args.username },
        outcome: "done",
      });
      return changed(
        `Set the password of '${args.username}' in VM ${guest.vmid}.`,
        `Set the password of '${args.username}' in VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    }),
});

export const guestFsfreezeTool = tool({
  name: "guest_fsfreeze",
  title: "Freeze or thaw VM filesystems",
  description: "Freeze or thaw a VM's filesystems via the guest agent. Needs confirm.",
  input: z.object({ vmid, node: node.optional(), action: z.enum(["freeze", "thaw"]), confirm: confirmArg }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const params = { node: guest.node, vmid: guest.vmid };
      if (!args.confirm) {
        return preview(
          "guest_fsfreeze",
          args.action === "freeze"
            ? `This freezes every filesystem in VM ${guest.vmid}: programs that write will hang until guest_fsfreeze action=thaw.`
            : `This thaws the filesystems of VM ${guest.vmid}.`,
          { vmid: guest.vmid, node: guest.node },
        );
      }
      const result =
        args.action === "freeze"
          ? await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-freeze", params)
          : await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-thaw", params);
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_fsfreeze",
        target: `VM ${guest.vmid}`,
        args: { action: args.action },
        outcome: "done",
      });
      const count = typeof result.result === "number" ? result.result : undefined;
      return changed(
        `${args.action === "freeze" ? "Froze" : "Thawed"} ${count ?? "the"} filesystem${count === 1 ? "" : "s"} of VM ${guest.vmid}.${args.action === "freeze" ? " Thaw them soon with guest_fsfreeze action=thaw." : ""}`,
        `${args.action === "freeze" ? "Freeze" : "Thaw"} the filesystems of VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    }),
});

export const guestFstrimTool = tool({
  name: "guest_fstrim",
  title: "Trim VM filesystems",
  description: "Trim a VM's filesystems (fstrim) to give thin storage back.",
  input: z.object({ vmid, node: node.optional() }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: false, idempotent: true }),
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const { result } = await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/fstrim", {
        node: guest.node,
        vmid: guest.vmid,
      });
      const paths = ((result as Json)?.paths ?? []) as Json[];
      const lines = paths.map(
        (p) => `${p.path}: ${p.error ? `failed (${p.error})` : `${bytes(p.trimmed ?? 0)} trimmed`}`,
      );
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_fstrim",
        target: `VM ${guest.vmid}`,
        args: {},
        outcome: "done",
      });
      return changed(
        [`Trimmed the filesystems of VM ${guest.vmid}.`, ...lines].join("\n"),
        `Trim the filesystems of VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    }),
});

export const guestPowerTool = tool({
  name: "guest_power",
  title: "Shut down or suspend from inside",
  description: "Shut down or suspend a VM from inside via the guest agent. Needs confirm.",
  input: z.object({
    vmid,
    node: node.optional(),
    action: z.enum(["shutdown", "suspend-disk", "suspend-ram", "suspend-hybrid"]),
    confirm: confirmArg,
  }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args, ctx) =>
    onAgent(deps, args, async (guest) => {
      if (!args.confirm)
        return preview(
          "guest_power",
          `This asks the guest OS of VM ${guest.vmid} to ${args.action.replace("-", " to ")}.`,
          { vmid: guest.vmid, node: guest.node },
        );
      const params = { node: guest.node, vmid: guest.vmid };
      const endpoint =
        `POST /nodes/{node}/qemu/{vmid}/agent/${args.action}` as "POST /nodes/{node}/qemu/{vmid}/agent/shutdown";
      await deps.client.call(endpoint, params);
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_power",
        target: `VM ${guest.vmid}`,
        args: { action: args.action },
        outcome: "done",
      });
      // Wait for the guest to act, so a tool called next sees it stopped or suspended.
      const reached = await waitForGuestPower(
        deps,
        guest,
        args.action === "shutdown" || args.action === "suspend-disk" ? "stopped" : "suspended",
        ctx.mcpReq.signal,
      );
      const asked = `Ask the guest OS of VM ${guest.vmid} to ${args.action.replace("-", " to ")}`;
      const target = { vmid: guest.vmid, node: guest.node };
      if (!reached) {
        return {
          text: `Asked the guest OS of VM ${guest.vmid} to ${args.action.replace("-", " to ")}; it has not done so after ${GUEST_POWER_WAIT_MS / 1000} s. It happens in the guest's own time; get_vm shows when it is done.`,
          data: { state: "running" as const, action: asked, target },
        };
      }
      return changed(`${asked}: done, VM ${guest.vmid} is ${reached} now.`, asked, target);
    }),
});
