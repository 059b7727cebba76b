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
  ["/cluster/ha/resources", "GET /cluster/ha/resources"],
  ["/cluster/ha/resources/vm:102", "GET /cluster/ha/resources/{sid}"],
  ["/cluster/ha/rules", "GET /cluster/ha/rules"],
  ["/cluster/ha/rules/keep-apart", "GET /cluster/ha/rules/{rule}"],
  ["/cluster/ha/status/current", "GET /cluster/ha/status/current"],
  ["/cluster/ha/status/manager_status", "GET /cluster/ha/status/manager_status"],
  ["/nodes/pve1/network", "GET /nodes/{node}/network"],
  ["/nodes/pve1/network/vmbr0", "GET /nodes/{node}/network/{iface}"],
  ["/access/users?full=1", "GET /access/users"],
  ["/access/users/ci@pve", "GET /access/users/{userid}"],
  ["/access/users/ci@pve/token", "GET /access/users/{userid}/token"],
  ["/access/users/ci@pve/token/deploy", "GET /access/users/{userid}/token/{tokenid}"],
  ["/access/groups", "GET /access/groups"],
  ["/access/groups/admins", "GET /access/groups/{groupid}"],
  ["/access/roles", "GET /access/roles"],
  ["/access/roles/PVEAdmin", "GET /access/roles/{roleid}"],
  ["/access/acl", "GET /access/acl"],
  ["/access/domains", "GET /access/domains"],
  ["/access/permissions", "GET /access/permissions"],
  ["/cluster/backup", "GET /cluster/backup"],
  ["/cluster/backup/backup-nightly", "GET /cluster/backup/{id}"],
  ["/cluster/backup/backup-nightly/included_volumes", "GET /cluster/backup/{id}/included_volumes"],
  ["/cluster/backup-info/not-backed-up", "GET /cluster/backup-info/not-backed-up"],
  ["/storage", "GET /storage"],
  ["/storage/local-zfs", "GET /storage/{storage}"],
  ["/cluster/firewall/options", "GET /cluster/firewall/options"],
  ["/cluster/firewall/rules", "GET /cluster/firewall/rules"],
  ["/cluster/firewall/rules/0", "GET /cluster/firewall/rules/{pos}"],
  ["/cluster/firewall/groups", "GET /cluster/firewall/groups"],
  ["/cluster/firewall/groups/webserver", "GET /cluster/firewall/groups/{group}"],
  ["/cluster/firewall/aliases", "GET /cluster/firewall/aliases"],
  ["/cluster/firewall/ipset", "GET /cluster/firewall/ipset"],
  ["/cluster/firewall/ipset/management", "GET /cluster/firewall/ipset/{name}"],
  ["/cluster/firewall/refs", "GET /cluster/firewall/refs"],
  ["/cluster/firewall/macros", "GET /cluster/firewall/macros"],
  ["/nodes/pve1/firewall/options", "GET /nodes/{node}/firewall/options"],
  ["/nodes/pve1/firewall/rules", "GET /nodes/{node}/firewall/rules"],
  ["/nodes/pve1/firewall/log", "GET /nodes/{node}/firewall/log"],
  ["/nodes/pve1/qemu/101/firewall/options", "GET /nodes/{node}/qemu/{vmid}/firewall/options"],
  ["/nodes/pve1/qemu/101/firewall/rules", "GET /nodes/{node}/qemu/{vmid}/firewall/rules"],
  ["/nodes/pve1/qemu/101/firewall/aliases", "GET /nodes/{node}/qemu/{vmid}/firewall/aliases"],
  ["/nodes/pve1/qemu/101/firewall/refs", "GET /nodes/{node}/qemu/{vmid}/firewall/refs"],
  ["/nodes/pve1/qemu/101/firewall/log", "GET /nodes/{node}/qemu/{vmid}/firewall/log"],
  ["/nodes/pve1/lxc/200/firewall/options", "GET /nodes/{node}/lxc/{vmid}/firewall/options"],
  ["/cluster/log", "GET /cluster/log"],
  ["/cluster/options", "GET /cluster/options"],
  ["/cluster/replication", "GET /cluster/replication"],
  ["/cluster/replication/205-0", "GET /cluster/replication/{id}"],
  ["/nodes/pve3/replication", "GET /nodes/{node}/replication"],
  ["/nodes/pve3/replication/205-0/status", "GET /nodes/{node}/replication/{id}/status"],
  ["/nodes/pve3/replication/205-0/log", "GET /nodes/{node}/replication/{id}/log"],
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

describe("HA, network, access and backup-job operations validate their parameters", () => {
  const cases: [string, string, Record<string, string>, Record<string, string>][] = [
    [
      "POST",
      "/cluster/ha/rules",
      { rule: "r1", type: "location", resources: "vm:101" },
      {
        type: "value 'location' does not have a value in the enumeration 'node-affinity, resource-affinity'",
      },
    ],
    [
      "POST",
      "/nodes/pve1/network",
      { iface: "averyveryverylongbridge0", type: "bridge" },
      { iface: "invalid format - invalid network interface name 'averyveryverylongbridge0'\n" },
    ],
    [
      "PUT",
      "/access/acl",
      { path: "/", users: "ci@pve" },
      { roles: "property is missing and it is not optional" },
    ],
    [
      "POST",
      "/cluster/backup",
      { schedule: "01:00", all: "1", mode: "fast" },
      { mode: "value 'fast' does not have a value in the enumeration 'snapshot, suspend, stop'" },
    ],
    ["POST", "/access/users/ci@pve/token/1bad", {}, { tokenid: "value does not match the regex pattern" }],
  ];
  for (const [method, path, body, errors] of cases) {
    it(`${method} ${path}`, async () => {
      const res = await env.PVE!.fetch(`http://pve/api2/json${path}`, {
        method,
        headers: { Authorization: TOKEN, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body).toString(),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: Record<string, string> }).errors).toMatchObject(errors);
    });
  }
});

describe("parameters of the firewall, storage and cluster configuration operations", () => {
  const send = async (method: string, path: string, fields: Record<string, string>) => {
    const res = await env.PVE!.fetch(`http://pve/api2/json${path}`, {
      method,
      headers: { Authorization: TOKEN, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: res.status, body: (await res.json()) as { errors?: Record<string, string> } };
  };

  it("checks rule fields against the firewall formats", async () => {
    const r = await send("POST", "/cluster/firewall/rules", {
      type: "in",
      action: "ACCEPT",
      proto: "tcpx",
      sport: "ssh,nosuchservice",
      "icmp-type": "wobble",
      iface: "9bad",
      log: "loud",
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual({
      proto: "invalid format - unknown protocol 'tcpx'\n",
      sport: "invalid format - invalid port 'nosuchservice'\n",
      "icmp-type": "invalid format - invalid icmp-type 'wobble'\n",
      iface: "invalid format - invalid network interface name '9bad'\n",
      log: "value 'loud' does not have a value in the enumeration 'emerg, alert, crit, err, warning, notice, info, debug, nolog'",
    });
  });

  it("checks names, ids and options of the other new operations", async () => {
    expect(
      (await send("POST", "/cluster/firewall/groups", { group: "a-very-long-group-name" })).body.errors,
    ).toEqual({
      group: "value may only be 18 characters long",
    });
    expect(
      (await send("POST", "/cluster/firewall/ipset/management", { cidr: "10.0.0.0/33" })).body.errors,
    ).toEqual({
      cidr: "invalid format - value does not look like a valid IP address or CIDR network\n",
    });
    expect(
      (await send("PUT", "/nodes/pve1/firewall/options", { nf_conntrack_max: "100" })).body.errors,
    ).toEqual({
      nf_conntrack_max: "value must have a minimum value of 32768",
    });
    expect(
      (await send("POST", "/storage", { storage: "x1", type: "dir", path: "/x", port: "70000" })).body.errors,
    ).toEqual({
      port: "value must have a maximum value of 65535",
    });
    expect((await send("POST", "/storage", { storage: "x1", path: "/x" })).body.errors).toEqual({
      type: "property is missing and it is not optional",
    });
    expect(
      (await send("POST", "/cluster/replication", { id: "1-0", type: "local", target: "pve2" })).body.errors,
    ).toEqual({
      id: "value does not match the regex pattern",
    });
    expect((await send("PUT", "/cluster/options", { max_workers: "0" })).body.errors).toEqual({
      max_workers: "value must have a minimum value of 1",
    });
  });
});
