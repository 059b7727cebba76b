// Every read endpoint the simulator serves answers in the shape the official schema declares:
// required fields present, JSON types as Proxmox emits them (booleans as 0/1).
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { API_SCHEMA, type PveSchema } from "../sim/src/generated/api-schema";

const TOKEN = "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000";

/** Returns the first mismatch between a value and a return schema, or null. */
function mismatch(value: unknown, schema: PveSchema, path: string): string | null {
  if (value === undefined || value === null) {
    return schema.optional || schema.type === "null" || !schema.type ? null : `${path}: missing`;
  }
  switch (schema.type) {
    case "string":
      return typeof value === "string" ? null : `${path}: expected string, got ${JSON.stringify(value)}`;
    case "integer":
      return Number.isInteger(value) ? null : `${path}: expected integer, got ${JSON.stringify(value)}`;
    case "number":
      return typeof value === "number" ? null : `${path}: expected number, got ${JSON.stringify(value)}`;
    case "boolean":
      return value === 0 || value === 1 || typeof value === "boolean"
        ? null
        : `${path}: expected 0/1, got ${JSON.stringify(value)}`;
    case "array": {
      if (!Array.isArray(value)) return `${path}: expected array`;
      for (const [i, item] of value.entries()) {
        const m = schema.items ? mismatch(item, schema.items, `${path}[${i}]`) : null;
        if (m) return m;
      }
      return null;
    }
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return `${path}: expected object`;
      for (const [name, sub] of Object.entries(schema.properties ?? {})) {
        if (name.endsWith("[n]")) continue;
        const m = mismatch((value as Record<string, unknown>)[name], sub, `${path}.${name}`);
        if (m) return m;
      }
      return null;
    }
    default:
      return null;
  }
}

const PATHS: [string, string][] = [
  ["/version", "GET /version"],
  ["/cluster/status", "GET /cluster/status"],
  ["/cluster/resources", "GET /cluster/resources"],
  ["/cluster/tasks", "GET /cluster/tasks"],
  ["/nodes", "GET /nodes"],
  ["/nodes/pve1/status", "GET /nodes/{node}/status"],
  ["/nodes/pve1/qemu?full=1", "GET /nodes/{node}/qemu"],
  ["/nodes/pve2/qemu/105/status/current", "GET /nodes/{node}/qemu/{vmid}/status/current"],
  ["/nodes/pve1/qemu/103/status/current", "GET /nodes/{node}/qemu/{vmid}/status/current"],
  ["/nodes/pve1/qemu/101/config", "GET /nodes/{node}/qemu/{vmid}/config"],
  ["/nodes/pve1/qemu/101/pending", "GET /nodes/{node}/qemu/{vmid}/pending"],
  ["/nodes/pve1/qemu/101/snapshot", "GET /nodes/{node}/qemu/{vmid}/snapshot"],
  ["/nodes/pve1/qemu/101/migrate", "GET /nodes/{node}/qemu/{vmid}/migrate"],
  ["/nodes/pve1/lxc", "GET /nodes/{node}/lxc"],
  ["/nodes/pve1/lxc/201/status/current", "GET /nodes/{node}/lxc/{vmid}/status/current"],
  ["/nodes/pve1/lxc/201/config", "GET /nodes/{node}/lxc/{vmid}/config"],
  ["/nodes/pve2/lxc/202/snapshot", "GET /nodes/{node}/lxc/{vmid}/snapshot"],
  ["/nodes/pve1/lxc/201/migrate", "GET /nodes/{node}/lxc/{vmid}/migrate"],
  ["/nodes/pve1/storage", "GET /nodes/{node}/storage"],
  ["/nodes/pve1/storage/nas/status", "GET /nodes/{node}/storage/{storage}/status"],
  ["/nodes/pve1/storage/nas/content", "GET /nodes/{node}/storage/{storage}/content"],
  ["/nodes/pve1/storage/local-lvm/content", "GET /nodes/{node}/storage/{storage}/content"],
  [
    "/nodes/pve1/storage/nas/content/nas:iso/proxmox-ve_9.1-1.iso",
    "GET /nodes/{node}/storage/{storage}/content/{volume}",
  ],
  ["/nodes/pve2/tasks?source=all", "GET /nodes/{node}/tasks"],
  ["/pools", "GET /pools"],
  ["/pools?poolid=prod", "GET /pools"],
  ["/pools/prod", "GET /pools/{poolid}"],
  ["/nodes/pve3/services", "GET /nodes/{node}/services"],
  ["/nodes/pve3/services/chrony/state", "GET /nodes/{node}/services/{service}/state"],
  ["/nodes/pve1/syslog?limit=20", "GET /nodes/{node}/syslog"],
  ["/nodes/pve1/journal?lastentries=20", "GET /nodes/{node}/journal"],
  ["/nodes/pve1/apt/update", "GET /nodes/{node}/apt/update"],
  ["/nodes/pve1/apt/versions", "GET /nodes/{node}/apt/versions"],
  ["/nodes/pve1/apt/changelog?name=qemu-server", "GET /nodes/{node}/apt/changelog"],
  ["/nodes/pve1/aplinfo", "GET /nodes/{node}/aplinfo"],
  ["/nodes/pve1/disks/smart?disk=/dev/sdb", "GET /nodes/{node}/disks/smart"],
  ["/nodes/pve1/disks/zfs", "GET /nodes/{node}/disks/zfs"],
  ["/nodes/pve1/disks/zfs/tank", "GET /nodes/{node}/disks/zfs/{name}"],
  [
    "/nodes/pve1/query-url-metadata?url=https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-13.2.0-amd64-netinst.iso",
    "GET /nodes/{node}/query-url-metadata",
  ],
];

beforeAll(async () => {
  await env.PVE!.fetch("http://pve/_sim/reset", { method: "POST", body: "{}" });
});

describe("responses match the official return schemas", () => {
  for (const [path, key] of PATHS) {
    it(`${path}`, async () => {
      const res = await env.PVE!.fetch(`http://pve/api2/json${path}`, { headers: { Authorization: TOKEN } });
      expect(res.status).toBe(200);
      const { data } = (await res.json()) as { data: unknown };
      const schema = API_SCHEMA[key];
      expect(schema, key).toBeDefined();
      expect(mismatch(data, schema?.returns as PveSchema, "data")).toBeNull();
    });
  }

  it("task status and log", async () => {
    const res = await env.PVE!.fetch("http://pve/api2/json/nodes/pve1/tasks", {
      headers: { Authorization: TOKEN },
    });
    const { data } = (await res.json()) as { data: { upid: string }[] };
    const upid = data[0]?.upid as string;
    for (const [suffix, key] of [
      ["status", "GET /nodes/{node}/tasks/{upid}/status"],
      ["log", "GET /nodes/{node}/tasks/{upid}/log"],
    ] as const) {
      const r = await env.PVE!.fetch(`http://pve/api2/json/nodes/pve1/tasks/${upid}/${suffix}`, {
        headers: { Authorization: TOKEN },
      });
      const body = (await r.json()) as { data: unknown };
      expect(mismatch(body.data, API_SCHEMA[key]?.returns as PveSchema, "data")).toBeNull();
    }
  });
});
