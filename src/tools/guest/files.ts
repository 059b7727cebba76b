import { z } from "zod";
import { freeText, MAX_STRING, node, vmid } from "../../mcp/args";
import { changed, changeSchema, confirmArg, preview } from "../../mcp/changes";
import type { GuestTarget } from "../../mcp/guests";
import { changes, READ_ONLY, type ToolDeps, ToolError, tool } from "../../mcp/tool";
import { ProxmoxError } from "../../proxmox/errors";
import { onAgent } from "./agent";
import { byteOffset, DEFAULT_READ_BYTES, FILE_WRITE_LIMIT, guestPath, maxBytes } from "./args";
import { base64Bytes, decodeText, fromChunkedBase64 } from "./bytes";

/** guest_file_read and guest_file_write: files inside a VM, paged, text or base64. */

export const guestFileReadTool = tool({
  name: "guest_file_read",
  title: "Read a file in a VM",
  description: "Read a file in a VM via the guest agent: text, or base64 when binary; page with offset.",
  input: z.object({
    vmid,
    node: node.optional(),
    path: guestPath,
    offset: byteOffset.default(0),
    max_bytes: maxBytes.default(DEFAULT_READ_BYTES),
  }),
  output: z.object({
    path: z.string(),
    offset: z.number(),
    bytes: z.number(),
    binary: z.boolean(),
    content: z.string(),
    next: z.number().optional(),
  }),
  scope: "exec",
  annotations: READ_ONLY,
  handler: (deps) => async (args) =>
    onAgent(deps, args, async (guest) => {
      const { content, more } = await readFile(deps, guest, args.path, args.offset, args.max_bytes);
      const text = decodeText(content);
      const binary = text === undefined;
      const next = more ? args.offset + content.length : undefined;
      const body = binary ? base64Bytes(content) : (text as string);
      const header = `${args.path} in VM ${guest.vmid}: ${content.length} bytes from offset ${args.offset}${binary ? " (binary, base64 below)" : ""}`;
      const footer = next !== undefined ? `\n… more: guest_file_read offset=${next}.` : "";
      return {
        text: `${header}\n${body}${footer}`,
        data: { path: args.path, offset: args.offset, bytes: content.length, binary, content: body, next },
      };
    }),
});

export const guestFileWriteTool = tool({
  name: "guest_file_write",
  title: "Write a file in a VM",
  description:
    "Write (replace) a file in a VM via the guest agent; text or base64, at most 60 KiB. Needs confirm if it exists.",
  input: z.object({
    vmid,
    node: node.optional(),
    path: guestPath,
    content: freeText("content", { hint: "the file's content", max: MAX_STRING }),
    encoding: z.enum(["text", "base64"]).default("text"),
    confirm: confirmArg,
  }),
  output: changeSchema,
  scope: "exec",
  annotations: changes({ destructive: true, idempotent: true }),
  handler: (deps) => async (args) => {
    if (args.content.length > FILE_WRITE_LIMIT) {
      throw new ToolError(
        `content is ${args.content.length} characters; the guest agent takes at most ${FILE_WRITE_LIMIT} (60 KiB) per call. Split the file, or write it with guest_exec (sh -c 'cat >> file' with input).`,
      );
    }
    if (args.encoding === "base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(args.content.replace(/\s+/g, ""))) {
      throw new ToolError("content is not valid base64.");
    }
    return onAgent(deps, args, async (guest) => {
      if (!args.confirm) {
        if (await fileExists(deps, guest, args.path)) {
          return preview(
            "guest_file_write",
            `${args.path} already exists in VM ${guest.vmid}; writing replaces it.`,
            { vmid: guest.vmid, node: guest.node },
          );
        }
      }
      const content = args.encoding === "base64" ? args.content.replace(/\s+/g, "") : args.content;
      await deps.client.call("POST /nodes/{node}/qemu/{vmid}/agent/file-write", {
        node: guest.node,
        vmid: guest.vmid,
        file: args.path,
        content,
        encode: args.encoding === "text",
      });
      await deps.session.audit({
        actor: deps.actor,
        tool: "guest_file_write",
        target: `VM ${guest.vmid}`,
        args: { path: args.path, bytes: content.length, encoding: args.encoding },
        outcome: "done",
      });
      return changed(
        `Wrote ${args.path} in VM ${guest.vmid} (${content.length} ${args.encoding === "base64" ? "base64 characters" : "characters"}).`,
        `Write ${args.path} in VM ${guest.vmid}`,
        { vmid: guest.vmid, node: guest.node },
      );
    });
  },
});

/** Bytes of a file as a string of byte-valued characters, and whether more follows. */
export async function readFile(
  deps: ToolDeps,
  guest: GuestTarget,
  path: string,
  offset: number,
  max: number,
): Promise<{ content: string; more: boolean }> {
  const base = { node: guest.node, vmid: guest.vmid, file: path };
  try {
    // qemu-server 9.1.5+: offset/count, and decode=0 for exact bytes as base64.
    const result = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/file-read", {
      ...base,
      offset: offset || undefined,
      count: max,
      decode: false,
    });
    return { content: fromChunkedBase64(result.content), more: Boolean(result.truncated) };
  } catch (error) {
    if (
      !(
        error instanceof ProxmoxError &&
        error.kind === "invalid_params" &&
        (error.errors?.count || error.errors?.offset || error.errors?.decode)
      )
    ) {
      throw error;
    }
  }
  // Older hosts: the whole file (up to 16 MiB), already decoded; page it here.
  const result = await deps.client.call("GET /nodes/{node}/qemu/{vmid}/agent/file-read", base);
  const all = result.content;
  return {
    content: all.slice(offset, offset + max),
    more: offset + max < all.length || Boolean(result.truncated),
  };
}

/**
 * Whether a file exists, from a one-byte read. Only "No such file" means it does not; any other
 * failure (VM stopped, agent off, no permission) is thrown, for onAgent to explain.
 */
export async function fileExists(deps: ToolDeps, guest: GuestTarget, path: string): Promise<boolean> {
  try {
    await readFile(deps, guest, path, 0, 1);
    return true;
  } catch (error) {
    if (error instanceof ProxmoxError && /No such file or directory/i.test(error.pveMessage ?? ""))
      return false;
    throw error;
  }
}
