import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALLOWLIST_CASES, FENCED, HOST_OPTION_CASES } from "../bench/trust-cases";
import { allOperations } from "../src/api/index";
import { serveMcp } from "../src/server/endpoint";
import type { Grant } from "../src/server/server";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

/**
 * The API tools judged by effect: scopes follow what an operation does (not where its path
 * sits), the allowlists hold whatever names a guest, one host-option policy serves every path,
 * secrets are masked by what they are, and path values cannot step out of their path. Every
 * refusal is counted at the simulator: nothing refused reaches Proxmox.
 */

const ALL = ["read", "write", "exec", "admin"];

function asGrant(scopes: string[], e: Env = env, user = "dana@example.com"): Promise<TestClient> {
  const grant: Grant = { user, clientId: `client-${user}`, scopes };
  return connect("2025-11-25", (request) => serveMcp(request, e, grant));
}

async function expectNoRequest(): Promise<void> {
  expect(await sim.requests()).toEqual([]);
}

const write = (client: TestClient, method: string, path: string, params: Record<string, unknown> = {}) =>
  expectError(client, "write_api", { method, path, params, confirm: true });

beforeEach(async () => {
  await sim.reset();
  await sim.clearRequests();
});

describe("scopes by effect", () => {
  it("every operation whose class differs from 'everything under a guest path is write'", () => {
    const guestPath = /^\/nodes\/\{node\}\/(qemu|lxc)(\/|$)/;
    const differs = allOperations()
      .filter((op) => guestPath.test(op.path) && op.method !== "GET")
      .filter((op) => op.class.scope !== "write")
      .map((op) => `${op.key} ${op.class.scope ?? "never"}`);
    expect(differs).toEqual([
      "POST /nodes/{node}/lxc/{vmid}/mtunnel never",
      "POST /nodes/{node}/lxc/{vmid}/remote_migrate admin",
      "POST /nodes/{node}/lxc/{vmid}/spiceproxy never",
      "POST /nodes/{node}/lxc/{vmid}/termproxy never",
      "POST /nodes/{node}/lxc/{vmid}/vncproxy never",
      "POST /nodes/{node}/qemu/{vmid}/agent exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/exec exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/file-write exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-freeze exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-status exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/fsfreeze-thaw exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/fstrim exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/ping exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/set-user-password exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/shutdown exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/suspend-disk exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/suspend-hybrid exec",
      "POST /nodes/{node}/qemu/{vmid}/agent/suspend-ram exec",
      "POST /nodes/{node}/qemu/{vmid}/dbus-vmstate never",
      "POST /nodes/{node}/qemu/{vmid}/monitor never",
      "POST /nodes/{node}/qemu/{vmid}/mtunnel never",
      "POST /nodes/{node}/qemu/{vmid}/remote_migrate admin",
      "PUT /nodes/{node}/qemu/{vmid}/sendkey exec",
      "POST /nodes/{node}/qemu/{vmid}/spiceproxy never",
      "POST /nodes/{node}/qemu/{vmid}/termproxy never",
      "POST /nodes/{node}/qemu/{vmid}/vncproxy never",
    ]);
    const reads = allOperations()
      .filter((op) => op.method === "GET" && op.class.scope !== "read")
      .map((op) => `${op.path} ${op.class.scope ?? "never"}`);
    expect(reads).toEqual([
      "/cluster/acme/meta admin",
      "/cluster/acme/tos admin",
      "/cluster/sdn/ipams/{ipam}/status admin",
      "/nodes/{node}/apt/changelog admin",
      "/nodes/{node}/lxc/{vmid}/mtunnelwebsocket never",
      "/nodes/{node}/lxc/{vmid}/vncwebsocket never",
      "/nodes/{node}/qemu/{vmid}/agent/exec-status exec",
      "/nodes/{node}/qemu/{vmid}/agent/file-read exec",
      "/nodes/{node}/qemu/{vmid}/mtunnelwebsocket never",
      "/nodes/{node}/qemu/{vmid}/vncwebsocket never",
      "/nodes/{node}/query-oci-repo-tags admin",
      "/nodes/{node}/query-url-metadata admin",
      "/nodes/{node}/report admin",
      "/nodes/{node}/scan/cifs admin",
      "/nodes/{node}/scan/iscsi admin",
      "/nodes/{node}/scan/nfs admin",
      "/nodes/{node}/scan/pbs admin",
      "/nodes/{node}/storage/{storage}/file-restore/download never",
      "/nodes/{node}/storage/{storage}/file-restore/list exec",
      "/nodes/{node}/vncwebsocket never",
    ]);
  });

  it("remote_migrate needs admin; delete=1 counts as destroying a protected guest; its token is masked", async () => {
    const endpoint = "apitoken=PVEAPIToken=root@pam!mig=0b9e2c1d-secret-value,host=203.0.113.9,port=8006";
    const params = {
      "target-endpoint": endpoint,
      "target-bridge": "vmbr0",
      "target-storage": "local-lvm",
      delete: 1,
    };
    const writer = await asGrant(["read", "write"]);
    expect(await write(writer, "POST", "/nodes/pve1/qemu/102/remote_migrate", params)).toContain(
      "needs the admin scope",
    );
    await writer.close();
    await expectNoRequest();
    const admin = await asGrant(ALL);
    expect(await write(admin, "POST", "/nodes/pve1/qemu/102/remote_migrate", params)).toContain(
      "VM 102 'db-01' is protected",
    );
    expect(await changesSent()).toEqual([]);
    const preview = await expectOk(admin, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/remote_migrate",
      params,
    });
    await admin.close();
    expect(JSON.stringify(preview)).not.toContain("secret-value");
    expect(preview.text).toContain("target-endpoint=apitoken=********,host=203.0.113.9,port=8006");
  });

  it("GETs that make the host connect elsewhere need admin", async () => {
    const reader = await asGrant(["read", "write", "exec"]);
    for (const [path, params] of [
      ["/nodes/pve1/query-url-metadata", { url: "http://169.254.169.254/latest/meta-data/" }],
      ["/nodes/pve1/query-oci-repo-tags", { reference: "docker.io/library/debian" }],
      ["/cluster/acme/meta", { directory: "http://10.0.0.1/dir" }],
      ["/cluster/acme/tos", { directory: "http://10.0.0.1/dir" }],
      ["/nodes/pve1/scan/cifs", { server: "10.0.0.9", username: "u", password: "p" }],
      ["/nodes/pve1/scan/pbs", { server: "10.0.0.9", username: "root@pam", password: "p" }],
      ["/nodes/pve1/scan/nfs", { server: "10.0.0.9" }],
      ["/nodes/pve1/scan/iscsi", { portal: "10.0.0.9" }],
      ["/nodes/pve1/apt/changelog", { name: "pve-manager" }],
    ] as const) {
      const message = await expectError(reader, "read_api", { path, params });
      expect(message, path).toContain("needs the admin scope");
    }
    await reader.close();
    await expectNoRequest();
  });

  it("exec results and file reads through the agent need exec; a read client does not even list them", async () => {
    const reader = await asGrant(["read", "write"]);
    for (const [path, params] of [
      ["/nodes/pve1/qemu/101/agent/exec-status", { pid: 1 }],
      ["/nodes/pve1/qemu/101/agent/file-read", { file: "/etc/shadow" }],
    ] as const) {
      expect(await expectError(reader, "read_api", { path, params }), path).toContain("needs the exec scope");
    }
    const names = (await reader.listTools()).map((t) => t.name);
    expect(names).not.toContain("guest_file_read");
    expect(names).not.toContain("guest_exec_status");
    await reader.close();
    await expectNoRequest();
  });

  it("guest_exec_status reads only commands this session started, so another's result is never taken", async () => {
    const owner = await asGrant(ALL, env, "owner@example.com");
    const started = await expectOk(owner, "guest_exec", {
      vmid: 100,
      argv: ["sh", "-c", "sleep 1; echo mine"],
      wait_seconds: 0,
    });
    const pid = (started.data as { pid: number }).pid;
    const other = await asGrant(ALL, env, "mallory@example.com");
    await sim.clearRequests();
    expect(await expectError(other, "guest_exec_status", { vmid: 100, pid })).toContain(
      `pid ${pid} on VM 100 was not started by guest_exec in this session`,
    );
    await other.close();
    expect((await sim.requests()).filter((r) => r.path.endsWith("/agent/exec-status"))).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const mine = await expectOk(owner, "guest_exec_status", { vmid: 100, pid });
    await owner.close();
    expect(mine.data).toMatchObject({ exitcode: 0, stdout: "mine\n" });
  });
});

describe("allowlists hold whatever names the guest", () => {
  const fenced = { ...env, ...FENCED } as Env;
  let client: TestClient;
  beforeAll(async () => {
    client = await asGrant(ALL, fenced);
  });
  afterAll(async () => {
    await client.close();
  });

  it.each(ALLOWLIST_CASES)("%s", async (_, method, path, params, expected) => {
    const message = await write(client, method, path, params);
    expect(message).toContain(expected);
    expect(message).toMatch(/PVE_ALLOWED_(VMIDS|NODES)/);
    await expectNoRequest();
  });

  it("naming only allowed guests still works", async () => {
    const preview = await expectOk(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/stopall",
      params: { vms: "101,102" },
    });
    expect(preview.data).toMatchObject({ state: "needs_confirm" });
    const bulk = await expectOk(client, "write_api", {
      method: "POST",
      path: "/cluster/bulk-action/guest/shutdown",
      params: { vms: [101] },
    });
    expect(bulk.data).toMatchObject({ state: "needs_confirm" });
  });
});

describe("one host-option policy through write_api", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await asGrant(ALL);
  });
  afterAll(async () => {
    await client.close();
  });

  it.each(HOST_OPTION_CASES)("%s %s %j", async (method, path, params, reason) => {
    const message = await write(client, method, path, params);
    expect(message).toContain(reason);
    expect(message).toContain("way onto the Proxmox host itself");
    expect(message).toContain("PVE_ALLOW_HOST_OPTIONS=true");
    await expectNoRequest();
  });

  it("what stays inside the guest goes through: SPICE USB, a serial socket, a mapped PCI device, a volume", async () => {
    for (const params of [
      { usb0: "spice" },
      { serial0: "socket" },
      { hostpci0: "mapping=gpu" },
      { scsi5: "local-lvm:8" },
      { ide2: "none,media=cdrom" },
    ]) {
      const preview = await expectOk(client, "write_api", {
        method: "PUT",
        path: "/nodes/pve1/qemu/101/config",
        params,
      });
      expect(preview.data, JSON.stringify(params)).toMatchObject({ state: "needs_confirm" });
    }
  });
});

describe("protection cannot be lifted from here", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await asGrant(ALL);
  });
  afterAll(async () => {
    await client.close();
  });

  it("a 'protected' tag counts like the flag: no tool drops it, and the answer says how the owner can", async () => {
    await expectOk(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { tags: "prod;protected" },
      confirm: true,
    });
    await sim.clearRequests();
    const dropped = await expectError(client, "update_vm", { vmid: 101, tags: "prod", confirm: true });
    expect(dropped).toContain("VM 101 'web-01' is protected");
    expect(dropped).toContain("remove the 'protected' tag from");
    expect(dropped).toContain("qm set 101 --protection 0");
    expect(dropped).not.toContain("Clear protection in its options first");
    expect(await write(client, "PUT", "/nodes/pve1/qemu/101/config", { delete: "tags" })).toContain(
      "remove the 'protected' tag from",
    );
    expect(await write(client, "PUT", "/nodes/pve1/qemu/101/config", { tags: "prod" })).toContain(
      "remove the 'protected' tag from",
    );
    expect(await write(client, "DELETE", "/nodes/pve1/qemu/101", {})).toContain("will not delete it");
    // The flag given as false/no/off in extra is the flag cleared too.
    expect(
      await expectError(client, "update_vm", { vmid: 102, extra: "protection=off", confirm: true }),
    ).toContain("remove protection from");
    expect(await changesSent()).toEqual([]);
    // Keeping the tag is fine.
    await expectOk(client, "update_vm", { vmid: 101, tags: "web;protected", confirm: true });
  });

  it("deleting a protected guest's disk through its volume, unlink or an unused entry is refused", async () => {
    expect(
      await write(client, "DELETE", "/nodes/pve1/storage/local-lvm/content/local-lvm:vm-102-disk-0", {}),
    ).toContain("will not delete a disk of it");
    expect(
      await write(client, "PUT", "/nodes/pve1/qemu/102/unlink", { idlist: "scsi0", force: 1 }),
    ).toContain("will not delete disks of it");
    expect(await write(client, "PUT", "/nodes/pve1/qemu/102/config", { delete: "unused0" })).toContain(
      "will not delete a disk of it",
    );
    expect(await changesSent()).toEqual([]);
  });
});

describe("path values stay in their path", () => {
  it("'.' and '..' are refused before anything is previewed, audited or sent", async () => {
    const client = await asGrant(ALL);
    for (const [method, path] of [
      ["PUT", "/cluster/sdn/prefix-lists/.."],
      ["DELETE", "/nodes/pve1/tasks/.."],
      ["DELETE", "/pools/prod%2F.."],
      ["DELETE", "/nodes/pve1/storage/local/content/local:iso/../../x"],
      ["DELETE", "/access/groups/.."],
    ] as const) {
      const message = await expectError(client, "write_api", { method, path, params: {} });
      expect(message, path).toMatch(/'\.' or '\.\.' segment|not a Proxmox task ID/);
    }
    expect(await expectError(client, "read_api", { path: "/access/users/.." })).toContain(
      "'.' or '..' segment",
    );
    expect(await expectError(client, "read_api", { path: "/nodes/pve1/tasks/not-a-upid/status" })).toContain(
      "is not a Proxmox task ID",
    );
    for (const [path, expected] of [
      ["/access/users/alice", "does not look like a valid user name"],
      ["/access/domains/9bad", "does not look like a valid realm"],
      ["/access/roles/bad role", "invalid role name"],
      ["/access/groups/bad group", "invalid group name"],
    ] as const) {
      expect(await expectError(client, "read_api", { path }), path).toContain(expected);
    }
    await client.close();
    await expectNoRequest();
  });
});

describe("secrets are masked by what they are", () => {
  it("in previews and in the audit log, whatever the parameter is called", async () => {
    const client = await asGrant(ALL);
    const cases = [
      [
        "POST",
        "/cluster/acme/plugins",
        { id: "cf", type: "dns", api: "cf", data: "CF_Token=plugin-secret-1" },
        "plugin-secret-1",
      ],
      [
        "POST",
        "/cluster/notifications/endpoints/webhook",
        {
          name: "hook",
          url: "https://user:url-secret-2@hooks.example.com/x",
          method: "post",
          header: ["name=Authorization,value=header-secret-3"],
        },
        "secret-",
      ],
      [
        "POST",
        "/access/tfa/root@pam",
        { type: "totp", totp: "otpauth://totp/pve?secret=TOTPSECRET4&issuer=pve", value: "123456" },
        "TOTPSECRET4",
      ],
    ] as const;
    for (const [method, path, params, secret] of cases) {
      const preview = await expectOk(client, "write_api", { method, path, params });
      expect(JSON.stringify(preview), path).not.toContain(secret);
      expect(preview.text, path).toContain("********");
    }
    // The simulator does not model webhooks (501): the attempt is audited all the same.
    await expectError(client, "write_api", {
      method: "POST",
      path: cases[1][1],
      params: cases[1][2],
      confirm: true,
    });
    const audit = await expectOk(client, "get_audit_log", { tool: "write_api" });
    expect(audit.text).toContain("/cluster/notifications/endpoints/webhook");
    expect(JSON.stringify(audit)).not.toContain("secret-");
    await client.close();
  });
});
