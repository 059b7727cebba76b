import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

let client: TestClient;

const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
const fails = (name: string, args: Record<string, unknown>) => expectError(client, name, args);

beforeAll(async () => {
  client = await connect("2026-07-28");
});
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.settings({ taskDurationMs: 200 });
});

describe("snapshots", () => {
  it("create_snapshot, then it is listed and rollback returns to it", async () => {
    const created = await ok("create_snapshot", {
      vmid: 100,
      snapname: "before-test",
      description: "test run",
    });
    expect(created.text).toMatch(
      /^Snapshot 'before-test' of VM 100 'pihole': done\.\ntask: UPID:pve1:.*:qmsnapshot:100:/,
    );
    const list = await ok("get_snapshots", { vmid: 100 });
    expect(list.data).toMatchObject({
      current: "before-test",
      snapshots: [{ name: "before-test", description: "test run" }],
    });
    const rolled = await ok("rollback_snapshot", { vmid: 100, snapname: "before-test", confirm: true });
    expect(rolled.text).toMatch(/^Roll VM 100 'pihole' back to 'before-test': done/);
  });

  it("snapshots of containers, and RAM only for VMs", async () => {
    await ok("create_snapshot", { vmid: 200, snapname: "ct-snap" });
    expect((await ok("get_snapshots", { vmid: 200 })).data.snapshots[0].name).toBe("ct-snap");
    expect(await fails("create_snapshot", { vmid: 200, snapname: "x", vmstate: true })).toBe(
      "vmstate (saving RAM) exists only for VMs.",
    );
  });

  it("refuses an existing name, a missing snapshot, a bad name, a locked guest", async () => {
    expect(await fails("create_snapshot", { vmid: 101, snapname: "pre-upgrade" })).toBe(
      "VM 101 'web-01' already has a snapshot 'pre-upgrade'. Pick another name or delete that one first.",
    );
    expect(await fails("delete_snapshot", { vmid: 101, snapname: "nope", confirm: true })).toBe(
      "VM 101 'web-01' has no snapshot 'nope'. Its snapshots: pre-upgrade, before-nginx.",
    );
    expect(await fails("rollback_snapshot", { vmid: 100, snapname: "nope", confirm: true })).toBe(
      "VM 100 'pihole' has no snapshot 'nope'. It has no snapshots.",
    );
    expect(await fails("create_snapshot", { vmid: 101, snapname: "1-bad name" })).toContain(
      "snapname must start with a letter",
    );
    expect(await fails("create_snapshot", { vmid: 106, snapname: "x" })).toContain("is locked (backup)");
    expect(await changesSent()).toEqual([]);
  });

  it("delete and rollback need confirm; rollback refuses a protected guest", async () => {
    const preview = await ok("delete_snapshot", { vmid: 101, snapname: "pre-upgrade" });
    expect(preview.text).toMatch(
      /^Not done: This deletes snapshot 'pre-upgrade' of VM 101 'web-01' \(taken \d{4}-.* UTC\); it cannot be rolled back to afterwards\. Call delete_snapshot again with confirm: true to go ahead\.$/,
    );
    const rollback = await ok("rollback_snapshot", { vmid: 109, snapname: "stable" });
    expect(rollback.text).toContain("and it resumes running from the saved RAM");
    expect(await changesSent()).toEqual([]);
    expect(await fails("rollback_snapshot", { vmid: 201, snapname: "x", confirm: true })).toContain(
      "is protected",
    );
    const deleted = await ok("delete_snapshot", { vmid: 101, snapname: "pre-upgrade", confirm: true });
    expect(deleted.text).toMatch(/^Delete snapshot 'pre-upgrade' of VM 101 'web-01': done/);
    expect(
      (await ok("get_snapshots", { vmid: 101 })).data.snapshots.map((s: { name: string }) => s.name),
    ).toEqual(["before-nginx"]);
  });
});

describe("pools and IDs", () => {
  it("create_pool, then delete_pool with confirm", async () => {
    expect((await ok("create_pool", { poolid: "staging", comment: "Staging" })).text).toBe(
      "Created pool staging.",
    );
    expect((await ok("get_pools")).data.pools.map((p: { poolid: string }) => p.poolid)).toContain("staging");
    expect((await ok("delete_pool", { poolid: "staging" })).text).toBe(
      'Not done: This deletes the empty pool staging ("Staging") and the permissions granted on it. Call delete_pool again with confirm: true to go ahead.',
    );
    expect((await ok("delete_pool", { poolid: "staging", confirm: true })).text).toBe(
      "Deleted pool staging.",
    );
    expect((await ok("get_pools")).data.pools.map((p: { poolid: string }) => p.poolid)).toEqual([
      "lab",
      "prod",
    ]);
  });

  it("refuses a pool that exists, one that is missing, and one with members", async () => {
    expect(await fails("create_pool", { poolid: "prod" })).toContain("already exists");
    expect(await fails("delete_pool", { poolid: "nope", confirm: true })).toBe(
      "There is no pool 'nope'. get_pools lists the pools.",
    );
    expect(await fails("delete_pool", { poolid: "lab", confirm: true })).toMatch(
      /^Pool lab still has 3 members \(vm 104 k8s-master on pve2.*\)\. Proxmox deletes only empty pools/,
    );
  });

  it("get_next_vmid", async () => {
    const next = await ok("get_next_vmid");
    expect(next.data).toEqual({ vmid: 112 });
    expect(next.text).toBe("Next free VM ID: 112");
  });
});
