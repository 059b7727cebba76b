import { z } from "zod";
import { type ChangeAnswer, changeSchema } from "../../mcp/changes";
import { WORD } from "../../mcp/guest-state";
import { type ToolDeps, ToolError } from "../../mcp/tool";
import { ProxmoxError } from "../../proxmox/errors";
import type { GuestType } from "../../proxmox/locate";

/**
 * What create_vm and create_container check and report beyond the task itself: that the
 * template exists before anything is sent, and afterwards whether the new guest runs.
 */

/** A create's result: the change, and with start: true whether the new guest runs now. */
export const createdSchema = changeSchema.extend({ started: z.boolean().optional() });

/**
 * After a create: where the guest is and, when it was asked to start, whether it runs. Proxmox
 * only warns when the start after a create fails, so the guest's status is read to be sure.
 */
export function afterCreate(deps: ToolDeps, type: GuestType, id: number, nodeName: string, start: boolean) {
  const result: { started?: boolean } = {};
  const note = async () => {
    const where = `${WORD[type]} ${id} is on ${nodeName}`;
    if (!start) return `${where}.`;
    try {
      const params = { node: nodeName, vmid: id };
      const status =
        type === "qemu"
          ? await deps.client.call("GET /nodes/{node}/qemu/{vmid}/status/current", params)
          : await deps.client.call("GET /nodes/{node}/lxc/{vmid}/status/current", params);
      result.started = status.status === "running";
      return result.started
        ? `${where} and was started: it is running.`
        : `${where} but is ${status.status}: it did not start. ${type === "qemu" ? "start_vm" : "start_container"} starts it.`;
    } catch {
      return `${where}; whether it started could not be read (get_${type === "qemu" ? "vm" : "container"} shows it).`;
    }
  };
  return { note, result };
}

/** A create tool's answer with `started` added once it is known. */
export function withStarted(answer: ChangeAnswer, result: { started?: boolean }) {
  return result.started === undefined
    ? answer
    : { ...answer, data: { ...answer.data, started: result.started } };
}

/**
 * The template volume must exist before a create is sent: Proxmox would fail the task only after
 * a long tar error. Refused with the templates that storage has.
 */
export async function assertTemplateExists(
  deps: ToolDeps,
  nodeName: string,
  template: string,
): Promise<void> {
  const colon = template.indexOf(":");
  const store = colon > 0 ? template.slice(0, colon) : "";
  if (!store) {
    throw new ToolError(
      `template must be a volume ID such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst; get_storage_content content=vztmpl lists them.`,
    );
  }
  let volumes: string[];
  try {
    volumes = (
      await deps.client.call("GET /nodes/{node}/storage/{storage}/content", {
        node: nodeName,
        storage: store,
        content: "vztmpl",
      })
    ).map((row) => row.volid);
  } catch (error) {
    if (error instanceof ProxmoxError && (error.kind === "not_found" || error.kind === "invalid_params")) {
      throw new ToolError(
        `Storage '${store}' of the template is not available on ${nodeName}. get_storages node=${nodeName} lists its storages.`,
      );
    }
    throw error;
  }
  if (volumes.includes(template)) return;
  throw new ToolError(
    `There is no template ${template} on ${nodeName}. ${
      volumes.length
        ? `Templates on ${store}: ${volumes.join(", ")}.`
        : `${store} has no container templates; download one first (pveam download ${store} <template>).`
    }`,
  );
}
