import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, expectOk, type TestClient, textOf } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

/**
 * The whole-API tools on the areas the simulator models beyond the seed: the firewall, HA, node
 * networks, users and tokens, services, updates, backup jobs and downloads. Each change is
 * previewed first (nothing sent), then made with confirm and read back, as a user would.
 */

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

const read = (path: string, params: Record<string, unknown> = {}) =>
  expectOk(client, "read_api", { path, params, limit: 200 });

/** write_api without confirm sends nothing; with confirm it makes the change. */
async function write(method: "POST" | "PUT" | "DELETE", path: string, params: Record<string, unknown> = {}) {
  const preview = await expectOk(client, "write_api", { method, path, params });
  expect(preview.data.state).toBe("needs_confirm");
  expect(await changesSent()).toEqual([]);
  const done = await expectOk(client, "write_api", { method, path, params, confirm: true });
  expect(await changesSent()).toEqual([`${method} ${path}`]);
  await sim.clearRequests();
  return done;
}

/** The rows of a read_api table as objects; columns equal in every row stand once in `same`. */
const rowsOf = (data: { columns?: string[]; rows?: unknown[][]; same?: Record<string, unknown> }) =>
  (data.rows ?? []).map((row) => ({
    ...data.same,
    ...Object.fromEntries((data.columns ?? []).map((c, i) => [c, row[i]])),
  }));

describe("read_api and write_api on the simulator's other areas", () => {
  it("a guest's firewall: rules as a table, a new rule goes first", async () => {
    const before = rowsOf((await read("/nodes/pve1/qemu/101/firewall/rules")).data);
    expect(before.length).toBeGreaterThan(0);
    await write("POST", "/nodes/pve1/qemu/101/firewall/rules", {
      type: "in",
      action: "ACCEPT",
      proto: "tcp",
      dport: "8443",
      comment: "added through write_api",
      enable: 1,
    });
    const after = rowsOf((await read("/nodes/pve1/qemu/101/firewall/rules")).data);
    expect(after).toHaveLength(before.length + 1);
    expect(after[0]).toMatchObject({
      pos: 0,
      action: "ACCEPT",
      dport: "8443",
      comment: "added through write_api",
    });
  });

  it("HA: resources and their state, changed through the API", async () => {
    const resources = rowsOf((await read("/cluster/ha/resources")).data);
    expect(resources.map((r) => r.sid)).toContain("vm:102");
    await write("PUT", "/cluster/ha/resources/vm:102", { state: "stopped" });
    const one = await read("/cluster/ha/resources/vm:102");
    expect(one.text).toMatch(/state: stopped/);
  });

  it("node network: bridges, bonds and VLANs, filtered by type", async () => {
    const bridges = rowsOf((await read("/nodes/pve1/network", { type: "bridge" })).data);
    expect(bridges.map((b) => b.iface)).toEqual(expect.arrayContaining(["vmbr0", "vmbr1"]));
    expect(bridges.every((b) => b.type === "bridge")).toBe(true);
  });

  it("an API token: the secret is shown once, and kept nowhere", async () => {
    const made = await write("POST", "/access/users/ci@pve/token/nightly", { privsep: 1, comment: "CI" });
    const secret = /value: ([0-9a-f-]{36})/.exec(made.text)?.[1];
    expect(secret).toBeDefined();
    expect(made.text).toContain("shown only now");
    const tokens = await read("/access/users/ci@pve/token");
    expect(tokens.text).toContain("nightly");
    expect(tokens.text).not.toContain(secret as string);
    const audit = await client.call("get_audit_log", { tool: "write_api" });
    expect(textOf(audit)).toContain("/access/users/ci@pve/token/nightly");
    expect(JSON.stringify(audit)).not.toContain(secret as string);
  });

  it("services: a failed one is started as a task and reported running", async () => {
    const failed = rowsOf((await read("/nodes/pve3/services")).data).find((s) => s.name === "chrony");
    expect(failed).toMatchObject({ "active-state": "failed" });
    const started = await write("POST", "/nodes/pve3/services/chrony/start");
    expect(started.data).toMatchObject({ state: "done", exitstatus: "OK" });
    expect((await read("/nodes/pve3/services/chrony/state")).text).toMatch(/active-state: active/);
  });

  it("updates: pending packages are listed", async () => {
    const updates = rowsOf((await read("/nodes/pve1/apt/update")).data);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates[0]).toHaveProperty("Package");
  });

  it("a backup job: created with a schedule, then listed", async () => {
    await write("POST", "/cluster/backup", {
      id: "backup-web",
      schedule: "02:30",
      storage: "nas",
      vmid: "101",
      mode: "snapshot",
    });
    const jobs = rowsOf((await read("/cluster/backup")).data);
    expect(jobs.find((j) => j.id === "backup-web")).toMatchObject({ schedule: "02:30", vmid: "101" });
  });

  it("a download: the ISO is fetched by a task and appears in the storage", async () => {
    const done = await write("POST", "/nodes/pve1/storage/nas/download-url", {
      url: "https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-13.2.0-amd64-netinst.iso",
      content: "iso",
      filename: "debian-13.2.0-amd64-netinst.iso",
    });
    expect(done.data).toMatchObject({ state: "done", exitstatus: "OK" });
    const isos = rowsOf((await read("/nodes/pve1/storage/nas/content", { content: "iso" })).data);
    expect(isos.map((v) => v.volid)).toContain("nas:iso/debian-13.2.0-amd64-netinst.iso");
  });

  it("storage configuration: a new directory storage shows on the nodes", async () => {
    await write("POST", "/storage", {
      storage: "scratch",
      type: "dir",
      path: "/srv/scratch",
      content: "iso,backup",
    });
    expect((await read("/storage/scratch")).text).toMatch(/path: \/srv\/scratch/);
    const onNode = rowsOf((await read("/nodes/pve1/storage")).data);
    expect(onNode.map((s) => s.storage)).toContain("scratch");
  });

  it("cluster options, log and replication read back what was changed", async () => {
    await write("PUT", "/cluster/options", { keyboard: "de" });
    expect((await read("/cluster/options")).text).toMatch(/keyboard: de/);
    expect(rowsOf((await read("/cluster/log", { max: 20 })).data).length).toBeGreaterThan(0);
    expect(rowsOf((await read("/cluster/replication")).data).map((j) => j.id)).toContain("205-0");
  });

  it("node disks, SMART and the system log are read as tables", async () => {
    const disks = rowsOf((await read("/nodes/pve1/disks/list")).data);
    expect(disks.map((d) => d.devpath)).toContain("/dev/sdb");
    expect((await read("/nodes/pve1/disks/smart", { disk: "/dev/sdb" })).text).toMatch(/health: FAILED/);
    expect(rowsOf((await read("/nodes/pve1/syslog", { limit: 10 })).data).length).toBeGreaterThan(0);
  });

  it("HA on Proxmox VE 8.4: groups answer; on 9.2 they say they became rules", async () => {
    const rules = await client.call("read_api", { path: "/cluster/ha/groups" });
    expect(textOf(rules)).toMatch(/migrated to rules/);
    await sim.version("8.4");
    const groups = await client.call("read_api", { path: "/cluster/ha/groups" });
    expect(groups.isError ?? false).toBe(false);
    const onRules = await client.call("read_api", { path: "/cluster/ha/rules" });
    expect(onRules.isError).toBe(true);
    expect(textOf(onRules)).toMatch(/not implemented/);
  });
});
