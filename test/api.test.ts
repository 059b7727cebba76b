import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveMcp } from "../src/mcp/endpoint";
import { type Grant, LOCAL_SESSION } from "../src/mcp/server";
import type { SessionApi } from "../src/session/session";
import { connect, ERAS, expectError, expectOk, type TestClient, textOf } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

/**
 * search_api, read_api and write_api over MCP against the simulator: finding operations for
 * everyday intents, reading and changing what the simulator models (guests, config, snapshots,
 * pools, tasks, storage content, the guest agent), previews, and every refusal before any request.
 */

const sessionStub = () => env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION));
const session = () => sessionStub() as unknown as SessionApi;
const UPID = /UPID:pve\d:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:\w+:\d*:[^:\s]+:/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client served for `grant` under `e` (the OAuth layer is tested in auth*.test.ts). */
function asGrant(scopes: string[], e: Env = env): Promise<TestClient> {
  const grant: Grant = { user: "dana@example.com", clientId: "client-api", scopes };
  return connect("2025-11-25", (request) => serveMcp(request, e, grant));
}

/** Nothing at all reached the simulator since the log was cleared. */
async function expectNoRequest(): Promise<void> {
  expect(await sim.requests()).toEqual([]);
}

describe.each(ERAS)("the three API tools are listed for MCP %s", (era) => {
  it("with their annotations, under 3 KiB together", async () => {
    const client = await connect(era);
    const tools = (await client.listTools()).filter((t) => t.name.endsWith("_api"));
    await client.close();
    expect(tools.map((t) => t.name).sort()).toEqual(["read_api", "search_api", "write_api"]);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.search_api?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.read_api?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.write_api?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(JSON.stringify(tools).length).toBeLessThan(3 * 1024);
  });
});

describe("search_api", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });

  it.each([
    ["firewall rules of a VM", "GET /nodes/{node}/qemu/{vmid}/firewall/rules"],
    ["add a firewall rule to a container", "POST /nodes/{node}/lxc/{vmid}/firewall/rules"],
    ["HA resources", "GET /cluster/ha/resources"],
    ["node network interfaces", "GET /nodes/{node}/network"],
    ["create an API token for a user", "POST /access/users/{userid}/token/{tokenid}"],
    ["users", "GET /access/users"],
    ["storage configuration", "PUT /storage/{storage}"],
    ["backup jobs", "GET /cluster/backup"],
    ["download an ISO", "POST /nodes/{node}/storage/{storage}/download-url"],
    ["restart a service", "POST /nodes/{node}/services/{service}/restart"],
    ["available package updates", "GET /nodes/{node}/apt/update"],
    ["RRD statistics of a VM", "GET /nodes/{node}/qemu/{vmid}/rrddata"],
  ])("%s → %s, in a short answer", async (query, expected) => {
    const { text, data } = await expectOk(client, "search_api", { query });
    const keys = data.operations.map((o: { method: string; path: string }) => `${o.method} ${o.path}`);
    expect(keys.slice(0, 3)).toContain(expected);
    expect(text).toContain(expected);
    expect(text.length).toBeLessThan(2 * 1024);
    expect(JSON.stringify(data).length).toBeLessThan(2 * 1024);
  });

  it("method and path prefix narrow the search", async () => {
    const { data } = await expectOk(client, "search_api", {
      query: "rules",
      method: "DELETE",
      path: "/cluster/firewall",
    });
    for (const op of data.operations) {
      expect(op.method).toBe("DELETE");
      expect(op.path.startsWith("/cluster/firewall")).toBe(true);
    }
    expect(data.operations.map((o: { path: string }) => o.path)).toContain("/cluster/firewall/rules/{pos}");
  });

  it("path alone gives one operation's full detail: parameters, privileges, scope", async () => {
    const { text, data } = await expectOk(client, "search_api", {
      path: "/nodes/{node}/qemu/{vmid}/firewall/rules",
      method: "POST",
    });
    expect(text).toMatch(/^POST \/nodes\/\{node\}\/qemu\/\{vmid\}\/firewall\/rules: Create new rule\./);
    expect(text).toContain("Scope: write (write_api). Proxmox checks: VM.Config.Network on /vms/{vmid}.");
    expect(text).toMatch(/\n {2}action\* \(string, 2\.\.20\) Rule action/);
    expect(text).toMatch(/\n {2}type\* \(in\|out\|forward\|group\) Rule type\./);
    const op = data.operations[0];
    expect(op).toMatchObject({
      method: "POST",
      scope: "write",
      privileges: "VM.Config.Network on /vms/{vmid}",
    });
    expect(op.params.find((p: { name: string }) => p.name === "log")).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["nolog", "info"]),
    });
  });

  it("a concrete path works too, and shows every method of it; denied operations say why", async () => {
    const { data } = await expectOk(client, "search_api", { path: "/nodes/pve1/qemu/101/snapshot" });
    expect(data.operations.map((o: { method: string }) => o.method)).toEqual(["GET", "POST"]);
    expect(data.operations.find((o: { method: string }) => o.method === "POST")).toMatchObject({
      task: true,
    });
    const shell = await expectOk(client, "search_api", { path: "/nodes/{node}/termproxy" });
    expect(shell.text).toContain("Never sent by this server: it opens a shell or console");
  });
});

describe("read_api and write_api on what the simulator models", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-11-25");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 200 });
    await sim.clearRequests();
  });

  it("read_api: a list as a table, sent with its params, paged with offset", async () => {
    const first = await expectOk(client, "read_api", {
      path: "/cluster/resources",
      params: { type: "vm" },
      limit: 5,
    });
    const [request] = await sim.requests();
    expect(request).toMatchObject({ method: "GET", path: "/cluster/resources", query: { type: "vm" } });
    expect(first.data.columns.slice(0, 3)).toEqual(["id", "vmid", "name"]);
    expect(first.data.rows).toHaveLength(5);
    expect(first.data.total).toBeGreaterThan(5);
    expect(first.text).toMatch(
      /^GET \/cluster\/resources:\n\d+ rows(, all with [^:\n]+)?:\nid \| vmid \| name \| /,
    );
    expect(first.text).toContain(`call again with offset=5 to see them`);
    const next = await expectOk(client, "read_api", {
      path: "/cluster/resources",
      params: { type: "vm" },
      limit: 5,
      offset: 5,
    });
    expect(next.data.rows[0][0]).not.toBe(first.data.rows[0][0]);
    expect(next.data.offset).toBe(5);
    const narrow = await expectOk(client, "read_api", {
      path: "/cluster/resources",
      params: { type: "vm" },
      fields: ["vmid", "name", "status"],
      limit: 500,
    });
    expect(narrow.data.columns).toEqual(["vmid", "name", "status"]);
    expect(narrow.data.rows).toHaveLength(first.data.total);
  });

  it("read_api: an object as key: value lines (a guest's config), and a concrete volume path", async () => {
    const config = await expectOk(client, "read_api", { path: "/nodes/pve1/qemu/101/config" });
    expect(config.text).toMatch(/^GET \/nodes\/pve1\/qemu\/101\/config:\nname: web-01\n/);
    expect(config.data.values).toMatchObject({ name: "web-01", cores: 2 });
    const content = await expectOk(client, "read_api", { path: "/nodes/pve1/storage/local/content" });
    expect(content.data.columns).toContain("volid");
    const volid = content.data.rows[0][content.data.columns.indexOf("volid")] as string;
    expect(volid).toContain(":");
    const volume = await expectOk(client, "read_api", { path: `/nodes/pve1/storage/local/content/${volid}` });
    expect(volume.data.values).toHaveProperty("format");
  });

  it("write_api without confirm previews and sends nothing: request, guest name and state, privileges", async () => {
    const { text, data } = await expectOk(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/snapshot",
      params: { snapname: "before_upgrade", description: "pre upgrade", vmstate: true },
    });
    expect(text).toBe(
      "Not done: this would send POST /nodes/pve1/qemu/101/snapshot with snapname=before_upgrade description=pre upgrade vmstate=1.\n" +
        "Target: VM 101 'web-01' on pve1 (running). Scope: write. Proxmox checks: VM.Snapshot on /vms/{vmid}. It starts a task.\n" +
        "Call write_api again with confirm: true to go ahead.",
    );
    expect(data).toMatchObject({
      done: false,
      confirmationRequired: true,
      request: { method: "POST", path: "/nodes/pve1/qemu/101/snapshot", params: { vmstate: "1" } },
      target: "VM 101 'web-01' on pve1 (running)",
    });
    expect(await changesSent()).toEqual([]);
  });

  it("write_api with confirm: a snapshot task, waited on, tracked and audited; read back with read_api", async () => {
    const { text, data } = await expectOk(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/snapshot",
      params: { snapname: "before_upgrade" },
      confirm: true,
    });
    expect(text).toMatch(
      /^POST \/nodes\/pve1\/qemu\/101\/snapshot: done \(task UPID:pve1:.*:qmsnapshot:101:/,
    );
    expect(data).toMatchObject({ done: true, status: "stopped", ok: true });
    expect(await changesSent()).toEqual(["POST /nodes/pve1/qemu/101/snapshot"]);
    const snapshots = await expectOk(client, "read_api", { path: "/nodes/pve1/qemu/101/snapshot" });
    expect(snapshots.text).toContain("before_upgrade");
    const tracked = await session().getTask(data.upid);
    expect(tracked).toMatchObject({
      tool: "write_api",
      target: "VM 101 'web-01' on pve1 (running)",
      ok: true,
    });
    const [entry] = await session().listAudit(1);
    expect(entry).toMatchObject({ tool: "write_api", outcome: "OK" });
    expect(entry?.args).toEqual({
      method: "POST",
      path: "/nodes/pve1/qemu/101/snapshot",
      params: { snapname: "before_upgrade" },
    });
  });

  it("write_api: a change without a task (a pool, a config value), secrets masked in preview and audit", async () => {
    const pool = await expectOk(client, "write_api", {
      method: "POST",
      path: "/pools",
      params: { poolid: "lab2", comment: "made through the API" },
      confirm: true,
    });
    expect(pool.text).toBe("POST /pools: done.");
    const pools = await expectOk(client, "read_api", { path: "/pools" });
    expect(pools.text).toMatch(/\nlab2 \| made through the API/);

    const preview = await expectOk(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { cipassword: "hunter2-secret", ciuser: "admin" },
    });
    expect(preview.text).toContain("with cipassword=******** ciuser=admin.");
    expect(preview.text).not.toContain("hunter2");
    await expectOk(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { cipassword: "hunter2-secret", ciuser: "admin" },
      confirm: true,
    });
    const [request] = (await sim.requests()).filter((r) => r.method === "PUT");
    expect(request?.body).toMatchObject({ cipassword: "hunter2-secret", ciuser: "admin" });
    const [entry] = await session().listAudit(1);
    expect(JSON.stringify(entry)).not.toContain("hunter2");
    expect(entry?.args).toMatchObject({ params: { cipassword: "********", ciuser: "admin" } });
  });

  it("write_api on the guest agent (exec scope): a command, then its status through read_api", async () => {
    const started = await expectOk(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/agent/exec",
      params: { command: ["echo", "hello"] },
      confirm: true,
    });
    const pid = started.data.result.values.pid;
    expect(typeof pid).toBe("number");
    const sent = (await sim.requests()).find((r) => r.method === "POST");
    expect(sent?.body).toMatchObject({ command: ["echo", "hello"] });
    let status = await expectOk(client, "read_api", {
      path: "/nodes/pve1/qemu/101/agent/exec-status",
      params: { pid },
    });
    for (let i = 0; i < 20 && status.data.values.exited !== 1 && status.data.values.exited !== true; i++) {
      await sleep(100);
      status = await expectOk(client, "read_api", {
        path: "/nodes/pve1/qemu/101/agent/exec-status",
        params: { pid },
      });
    }
    expect(status.text).toContain("out-data: hello");
  });

  it("a task started by write_api is followed to its end by the Session, across an eviction", async () => {
    await sim.settings({ taskDurationMs: 1500 });
    const started = await expectOk(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/103/status/start",
      confirm: true,
      wait_seconds: 1,
    });
    expect(started.text).toMatch(/^POST \/nodes\/pve1\/qemu\/103\/status\/start: still running after 1 s/);
    expect(started.data).toMatchObject({ done: false, status: "running" });
    const upid = UPID.exec(started.text)?.[0] as string;
    expect((await session().getTask(upid))?.status).toBe("running");
    await sleep(1600);
    await evictDurableObject(sessionStub());
    await runDurableObjectAlarm(sessionStub());
    expect(await session().getTask(upid)).toMatchObject({ status: "stopped", ok: true, tool: "write_api" });
    const waited = await expectOk(client, "wait_for_task", { upid });
    expect(waited.data).toMatchObject({ status: "stopped", ok: true });
  });
});

describe("refusals: nothing reaches Proxmox", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.clearRequests();
  });

  it("an unknown path, with the nearest operations", async () => {
    const message = await expectError(client, "read_api", { path: "/nodes/pve1/qemu/101/firewal/rules" });
    expect(message).toContain(
      "GET /nodes/pve1/qemu/101/firewal/rules is not an operation of the Proxmox VE API.",
    );
    expect(message).toContain("Nearest operations: GET /nodes/{node}/qemu/{vmid}/");
    expect(message).toContain("search_api");
    const wrongMethod = await expectError(client, "write_api", {
      method: "POST",
      path: "/cluster/resources",
    });
    expect(wrongMethod).toContain("The path exists for GET (read it with read_api).");
    await expectNoRequest();
  });

  it.each([
    [{ snapname: "bad name!" }, "snapname: invalid format - invalid configuration ID 'bad name!'"],
    [{ snapname: "ok", vmstate: "true" }, "vmstate: must be true or false (or 1/0), got 'true'"],
    [
      { snapname: "ok", nonsense: 1 },
      "nonsense: not a parameter of POST /nodes/{node}/qemu/{vmid}/snapshot (it takes: description, snapname, vmstate)",
    ],
    [{ snapname: ["a"] }, "snapname: must be a single value, got a list"],
    [{}, "snapname: property is missing and it is not optional"],
  ])("bad parameters %j", async (params, expected) => {
    const message = await expectError(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/snapshot",
      params,
      confirm: true,
    });
    expect(message).toContain(
      "Invalid request for POST /nodes/{node}/qemu/{vmid}/snapshot, nothing was sent:",
    );
    expect(message).toContain(expected);
    await expectNoRequest();
  });

  it("numbers are checked, never converted; path values too", async () => {
    for (const [value, expected] of [
      ["1e2", "must be a whole number, got '1e2'"],
      [true, "must be a whole number, got true"],
      [[100], "must be a single value, got a list"],
      [null, "must be a single value, got null"],
    ] as const) {
      const message = await expectError(client, "read_api", {
        path: "/nodes/pve1/tasks",
        params: { limit: value },
      });
      expect(message, String(value)).toContain(`limit: ${expected}`);
    }
    expect(await expectError(client, "read_api", { path: "/nodes/pve1/qemu/abc/config" })).toContain(
      "vmid: type check ('integer') failed - got 'abc'",
    );
    expect(await expectError(client, "read_api", { path: "/nodes/{node}/qemu/101/config" })).toContain(
      "node: fill in the path parameter {node}",
    );
    // Every key of a property string is checked against its format: nothing can be slipped in.
    const injected = await expectError(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { net1: "virtio,bridge=vmbr0,hookscript=local:snippets/x.sh" },
    });
    expect(injected).toContain(
      "net1: invalid format - invalid key in comma-separated list property: hookscript",
    );
    await expectNoRequest();
  });

  it("operations never sent: shells, consoles, node execute, password logins", async () => {
    for (const [method, path, why] of [
      ["POST", "/nodes/pve1/termproxy", "it opens a shell or console"],
      ["POST", "/nodes/pve1/qemu/101/vncproxy", "it opens a shell or console"],
      ["POST", "/nodes/pve1/execute", "bypass these checks"],
      ["POST", "/access/ticket", "password or browser sign-in"],
    ] as const) {
      const message = await expectError(client, "write_api", { method, path, params: {}, confirm: true });
      expect(message, path).toContain("is never sent by this server");
      expect(message, path).toContain(why);
    }
    expect(await expectError(client, "read_api", { path: "/nodes/pve1/vncwebsocket" })).toContain(
      "is never sent by this server",
    );
    await expectNoRequest();
  });

  it("host-level options need PVE_ALLOW_HOST_OPTIONS", async () => {
    const message = await expectError(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { args: "-no-reboot", hostpci0: "0000:01:00.0" },
      confirm: true,
    });
    expect(message).toContain("args, hostpci0 are host-level options");
    expect(message).toContain("PVE_ALLOW_HOST_OPTIONS=true");
    // A serial socket (cloud images' console) and SPICE USB stay inside the guest.
    const guestOnly = await expectOk(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { serial0: "socket", usb0: "spice" },
    });
    expect(guestOnly.text).toMatch(
      /^Not done: this would send PUT \/nodes\/pve1\/qemu\/101\/config with serial0=socket usb0=spice\./,
    );
    expect(
      await expectError(client, "write_api", {
        method: "PUT",
        path: "/nodes/pve1/qemu/101/config",
        params: { usb1: "host=1234:5678" },
      }),
    ).toContain("usb1 is a host-level option");
    expect(await changesSent()).toEqual([]);
    const allowed = await asGrant(["read", "write"], { ...env, PVE_ALLOW_HOST_OPTIONS: "true" } as Env);
    const preview = await expectOk(allowed, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { args: "-no-reboot" },
    });
    await allowed.close();
    expect(preview.text).toContain(
      "Not done: this would send PUT /nodes/pve1/qemu/101/config with args=-no-reboot.",
    );
  });

  it("a protected guest: no hard stop, delete, rollback or removing protection", async () => {
    for (const [method, path, params] of [
      ["DELETE", "/nodes/pve1/qemu/102", {}],
      ["POST", "/nodes/pve1/qemu/102/status/stop", {}],
      ["PUT", "/nodes/pve1/qemu/102/config", { delete: "protection" }],
    ] as const) {
      const message = await expectError(client, "write_api", { method, path, params, confirm: true });
      expect(message, path).toContain("VM 102 'db-01' is protected");
    }
    expect(await changesSent()).toEqual([]);
  });

  it("the scope of the operation: admin operations need admin, guest ones write", async () => {
    const writer = await asGrant(["read", "write"]);
    const admin = await expectError(writer, "write_api", {
      method: "POST",
      path: "/access/users",
      params: { userid: "eve@pve" },
    });
    expect(admin).toContain(
      "POST /access/users needs the admin scope, and this connection was not granted it. Sign in again and allow it on the consent page.",
    );
    await writer.close();
    const administrator = await asGrant(["read", "admin"]);
    const guest = await expectError(administrator, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/status/start",
    });
    expect(guest).toContain("POST /nodes/{node}/qemu/{vmid}/status/start needs the write scope");
    const agent = await expectError(administrator, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/agent/exec",
      params: { command: ["id"] },
    });
    expect(agent).toContain("needs the exec scope");
    await administrator.close();
    await expectNoRequest();
  });

  it("PVE_READ_ONLY: write_api is not offered, and reads still work", async () => {
    const readOnly = await asGrant(["read", "write", "exec", "admin"], {
      ...env,
      PVE_READ_ONLY: "true",
    } as Env);
    const names = (await readOnly.listTools()).map((t) => t.name);
    expect(names).toContain("read_api");
    expect(names).not.toContain("write_api");
    const error = await readOnly
      .call("write_api", { method: "POST", path: "/pools", params: { poolid: "x" } })
      .catch((e: Error) => e);
    expect(String(error instanceof Error ? error.message : textOf(error))).toContain("read-only");
    await readOnly.close();
    await expectNoRequest();
  });

  it("PVE_TOOLSETS=api keeps just the three tools", async () => {
    const narrow = await asGrant(["read", "write", "exec", "admin"], { ...env, PVE_TOOLSETS: "api" } as Env);
    expect((await narrow.listTools()).map((t) => t.name).sort()).toEqual([
      "read_api",
      "search_api",
      "write_api",
    ]);
    await narrow.close();
  });

  it("allowlists: guests and nodes outside PVE_ALLOWED_VMIDS / PVE_ALLOWED_NODES", async () => {
    const guarded = await asGrant(["read", "write"], {
      ...env,
      PVE_ALLOWED_VMIDS: "100-101",
      PVE_ALLOWED_NODES: "pve1",
    } as Env);
    expect(
      await expectError(guarded, "write_api", { method: "POST", path: "/nodes/pve1/qemu/103/status/start" }),
    ).toContain("Guest 103 is outside PVE_ALLOWED_VMIDS");
    expect(
      await expectError(guarded, "write_api", {
        method: "POST",
        path: "/nodes/pve1/vzdump",
        params: { vmid: "100,104", storage: "local" },
      }),
    ).toContain("Guest 104 is outside PVE_ALLOWED_VMIDS");
    expect(
      await expectError(guarded, "write_api", {
        method: "POST",
        path: "/nodes/pve2/qemu/100/migrate",
        params: { target: "pve1" },
      }),
    ).toContain("Node pve2 is outside PVE_ALLOWED_NODES");
    await guarded.close();
    await expectNoRequest();
  });
});
