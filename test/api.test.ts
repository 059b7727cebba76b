import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_SESSION } from "../src/server/server";
import type { SessionApi } from "../src/session/session";
import { connect, expectOk, type TestClient, TOOL_ERA } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

/**
 * read_api and write_api over MCP against the simulator, on what it models (guests, config,
 * snapshots, pools, tasks, storage content, the guest agent): tables and key: value answers,
 * previews, changes with their tasks, audit and masking. Search: api-search.test.ts; refusals:
 * api-refusals.test.ts.
 */

const sessionStub = () => env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION));
const session = () => sessionStub() as unknown as SessionApi;
const UPID = /UPID:pve\d:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:\w+:\d*:[^:\s]+:/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the three API tools are listed", () => {
  it("with their annotations, under 3 KiB together", async () => {
    const client = await connect(TOOL_ERA);
    const tools = (await client.listTools()).filter((t) => t.name.endsWith("_api"));
    await client.close();
    expect(tools.map((t) => t.name).sort()).toEqual(["read_api", "search_api", "write_api"]);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.search_api?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.read_api?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.write_api?.annotations).toMatchObject({ destructiveHint: true });
    expect(byName.write_api?.annotations?.readOnlyHint).not.toBe(true);
    expect(JSON.stringify(tools).length).toBeLessThan(3 * 1024);
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
      state: "needs_confirm",
      action: "POST /nodes/pve1/qemu/101/snapshot",
      request: { method: "POST", path: "/nodes/pve1/qemu/101/snapshot", params: { vmstate: "1" } },
      target: { vmid: 101, node: "pve1", name: "web-01" },
      privileges: "VM.Snapshot on /vms/{vmid}",
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
    expect(text).toMatch(/^POST \/nodes\/pve1\/qemu\/101\/snapshot: done/);
    expect(text).toMatch(/\ntask: UPID:pve1:[^\s]*:qmsnapshot:101:[^\s]*$/);
    expect(data).toMatchObject({
      state: "done",
      exitstatus: "OK",
      upid: expect.stringMatching(/^UPID:pve1:/),
    });
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
    expect(started.data).toMatchObject({ state: "running", upid: expect.stringMatching(/^UPID:pve1:/) });
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
