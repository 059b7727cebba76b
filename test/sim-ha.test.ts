// HA in the simulator: resources, rules (PVE 9), groups (PVE 8.4, migrated to rules by 9), the
// manager status following guests and nodes, migrate/relocate through the CRM, arm and disarm.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, form, post, put, type Row, refused, taskFinished, taskLog } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const del = (path: string) => data(path, { method: "DELETE" });

/** The newest task for a guest on a node (the CRM's own workers). */
async function lastTask(node: string, vmid: number): Promise<Row | undefined> {
  const tasks = await data<Row[]>(`/nodes/${node}/tasks?vmid=${vmid}&source=all`);
  return tasks[0];
}

describe("HA resources", () => {
  it("lists the seeded resources and rules, and reports hastate on guests", async () => {
    const resources = await data<Row[]>("/cluster/ha/resources");
    expect(resources.map((r) => r.sid)).toEqual(["ct:202", "vm:102", "vm:111"]);
    expect(resources[1]).toMatchObject({
      sid: "vm:102",
      type: "vm",
      state: "started",
      digest: expect.any(String),
    });
    expect((await data<Row[]>("/cluster/ha/resources?type=ct")).map((r) => r.sid)).toEqual(["ct:202"]);
    const rules = await data<Row[]>("/cluster/ha/rules");
    expect(rules.map((r) => [r.rule, r.type, r.resources])).toEqual([
      ["prefer-pve1", "node-affinity", "vm:102"],
      ["prefer-pve2", "node-affinity", "ct:202"],
      ["prefer-pve3", "node-affinity", "vm:111"],
      ["keep-apart", "resource-affinity", "vm:102,vm:111"],
    ]);
    expect(rules[0]).toMatchObject({ nodes: "pve1:2,pve2:1", strict: 0, order: 1 });
    expect(rules[3]).toMatchObject({ affinity: "negative" });

    const vms = await data<Row[]>("/cluster/resources?type=vm");
    expect(vms.find((g) => g.vmid === 102)).toMatchObject({ hastate: "started" });
    expect(vms.find((g) => g.vmid === 100)?.hastate).toBeUndefined();
    expect((await data<Row>("/nodes/pve1/qemu/102/status/current")).ha).toEqual({
      managed: 1,
      state: "started",
    });
    expect((await data<Row>("/nodes/pve1/qemu/100/status/current")).ha).toEqual({ managed: 0 });
    expect((await data<Row>("/nodes/pve2/lxc/202/status/current")).ha).toEqual({
      managed: 1,
      state: "started",
    });
  });

  it("creates a resource from a bare VMID and the CRM starts the stopped guest", async () => {
    await post("/cluster/ha/resources", { sid: "110", comment: "test", max_restart: 2 });
    expect(await data("/cluster/ha/resources/vm:110")).toMatchObject({
      sid: "vm:110",
      type: "vm",
      comment: "test",
      max_restart: 2,
    });
    const task = await lastTask("pve3", 110);
    expect(task).toMatchObject({ type: "qmstart", user: "root@pam" });
    await taskFinished(String(task?.upid));
    expect((await data<Row>("/nodes/pve3/qemu/110/status/current")).status).toBe("running");

    expect(await refused("/cluster/ha/resources", form({ sid: "vm:110" }))).toMatchObject({
      status: 500,
      message: "create resource failed: resource ID 'vm:110' already defined\n",
    });
    expect(await refused("/cluster/ha/resources", form({ sid: "999" }))).toMatchObject({
      message: "unable to detect SID from VMID - VM/CT 999 does not exist\n",
    });
    expect(await refused("/cluster/ha/resources", form({ sid: "ct:100" }))).toMatchObject({
      message: "CT 100 does not exist\n",
    });
    expect(await refused("/cluster/ha/resources", form({ sid: "vm:100", group: "g1" }))).toMatchObject({
      message: "invalid parameter 'group': ha groups have been migrated to rules\n",
    });
    expect(await refused("/cluster/ha/resources", form({ sid: "vm-100" }))).toMatchObject({
      status: 400,
      errors: { sid: "invalid format - value does not look like a valid ha resource id\n" },
    });
  });

  it("stops the guest when the requested state becomes stopped, and checks the digest", async () => {
    const { digest } = await data<Row>("/cluster/ha/resources/vm:102");
    await put("/cluster/ha/resources/vm:102", { state: "stopped", digest: String(digest) });
    const task = await lastTask("pve1", 102);
    expect(task).toMatchObject({ type: "qmshutdown", user: "root@pam" });
    await taskFinished(String(task?.upid));
    expect((await data<Row>("/nodes/pve1/qemu/102/status/current")).status).toBe("stopped");
    const status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.find((r) => r.sid === "vm:102")).toMatchObject({
      crm_state: "stopped",
      state: "stopped",
      request_state: "stopped",
      status: "vm:102 (pve1, stopped)",
    });
    expect(
      await refused("/cluster/ha/resources/vm:102", form({ comment: "x", digest: String(digest) }, "PUT")),
    ).toMatchObject({
      status: 500,
      message: "detected modified configuration - file changed by other user? Try again.\n",
    });
  });

  it("deletes a resource and purges it from the rules that reference it", async () => {
    await del("/cluster/ha/resources/vm:111");
    const rules = await data<Row[]>("/cluster/ha/rules");
    expect(rules.map((r) => r.rule)).toEqual(["prefer-pve1", "prefer-pve2", "keep-apart"]);
    expect(rules[2]).toMatchObject({
      resources: "vm:102",
      errors: { resources: ["rule is ineffective as there are less than two resources"] },
    });
    expect(await refused("/cluster/ha/resources/vm:111", { method: "DELETE" })).toMatchObject({
      message: "cannot delete service 'vm:111', not HA managed!\n",
    });
    expect((await data<Row>("/nodes/pve3/qemu/111/status/current")).ha).toEqual({ managed: 0 });
  });

  it("migrates through the CRM, and refuses a target a negative affinity rule blocks", async () => {
    const res = await post<Row>("/cluster/ha/resources/vm:102/migrate", { node: "pve2" });
    expect(res).toEqual({ sid: "vm:102", "requested-node": "pve2" });
    const task = await lastTask("pve1", 102);
    expect(task).toMatchObject({ type: "qmigrate", user: "root@pam" });
    await taskFinished(String(task?.upid));
    expect((await data<Row[]>("/cluster/resources?type=vm")).find((g) => g.vmid === 102)).toMatchObject({
      node: "pve2",
      status: "running",
      hastate: "started",
    });
    // vm:111 on pve3 must stay apart from vm:102.
    expect(await post<Row>("/cluster/ha/resources/vm:102/relocate", { node: "pve3" })).toEqual({
      sid: "vm:102",
      "requested-node": "pve3",
      "blocking-resources": [{ sid: "vm:111", cause: "resource-affinity" }],
    });
    expect((await data<Row[]>("/cluster/resources?type=vm")).find((g) => g.vmid === 102)?.node).toBe("pve2");
    expect(await refused("/cluster/ha/resources/vm:100/migrate", form({ node: "pve2" }))).toMatchObject({
      message: "no such resource 'vm:100'\n",
    });
  });
});

describe("HA-managed guests", () => {
  it("start, stop and shutdown go through the HA stack", async () => {
    const stop = await post("/nodes/pve1/qemu/102/status/shutdown");
    expect(stop).toMatch(/:hastop:102:root@pam!mcp:$/);
    expect(await taskLog(stop)).toEqual(["Requesting HA stop for VM 102", "TASK OK"]);
    expect(await data("/cluster/ha/resources/vm:102")).toMatchObject({ state: "stopped" });
    const lrm = await lastTask("pve1", 102);
    expect(lrm).toMatchObject({ type: "qmshutdown", user: "root@pam" });
    await taskFinished(String(lrm?.upid));
    expect((await data<Row>("/nodes/pve1/qemu/102/status/current")).status).toBe("stopped");

    const start = await post("/nodes/pve1/qemu/102/status/start");
    expect(start).toMatch(/:hastart:102:root@pam!mcp:$/);
    expect(await data("/cluster/ha/resources/vm:102")).toMatchObject({ state: "started" });
    await taskFinished(String((await lastTask("pve1", 102))?.upid));
    expect((await data<Row>("/nodes/pve1/qemu/102/status/current")).status).toBe("running");

    expect(await refused("/nodes/pve1/qemu/102/status/stop", form({ "overrule-shutdown": 1 }))).toMatchObject(
      {
        status: 400,
        errors: { "overrule-shutdown": "Not applicable for HA resources." },
      },
    );
    const ct = await post("/nodes/pve2/lxc/202/status/stop");
    expect(ct).toMatch(/:hastop:202:root@pam!mcp:$/);
    expect(await taskLog(ct)).toContain("Requesting HA stop for CT 202");
  });
});

describe("HA-managed migration", () => {
  it("goes through the HA stack from the guest's own migrate endpoint", async () => {
    const upid = await post("/nodes/pve1/qemu/102/migrate", { target: "pve2", online: 1 });
    expect(upid).toMatch(/^UPID:pve1:.*:hamigrate:102:root@pam!mcp:$/);
    expect(await taskLog(upid)).toEqual(["Requesting HA migration for VM 102 to node pve2", "TASK OK"]);
    const crm = await lastTask("pve1", 102);
    expect(crm).toMatchObject({ type: "qmigrate", user: "root@pam" });
    await taskFinished(String(crm?.upid));
    expect((await data<Row[]>("/cluster/resources?type=vm")).find((g) => g.vmid === 102)).toMatchObject({
      node: "pve2",
      status: "running",
    });
  });
});

describe("HA rules", () => {
  it("creates, updates and deletes rules with Proxmox's feasibility checks", async () => {
    await post("/cluster/ha/resources", { sid: "vm:100" });
    await post("/cluster/ha/resources", { sid: "vm:104" });
    await post("/cluster/ha/rules", {
      rule: "db-together",
      type: "resource-affinity",
      resources: "vm:100,vm:104",
      affinity: "positive",
      comment: "dns and db",
    });
    expect(await data("/cluster/ha/rules/db-together")).toMatchObject({
      rule: "db-together",
      type: "resource-affinity",
      resources: "vm:100,vm:104",
      affinity: "positive",
      order: 5,
    });
    expect(
      await refused(
        "/cluster/ha/rules",
        form({ rule: "rx", type: "node-affinity", resources: "vm:102", nodes: "pve3" }),
      ),
    ).toMatchObject({
      status: 500,
      message:
        "create ha rule failed: 400 Rule 'rx' is invalid.\nresources: resource 'vm:102' is already used in another node affinity rule\n",
    });
    expect(
      await refused(
        "/cluster/ha/rules",
        form({ rule: "ry", type: "node-affinity", resources: "vm:106", nodes: "pve2" }),
      ),
    ).toMatchObject({
      message: "create ha rule failed: cannot use unmanaged resource(s) vm:106.\n",
    });
    expect(
      await refused(
        "/cluster/ha/rules",
        form({ rule: "rz", type: "node-affinity", resources: "vm:100", nodes: "pve9" }),
      ),
    ).toMatchObject({
      message: "create ha rule failed: cannot use non-existent node(s) pve9.\n",
    });
    expect(
      await refused(
        "/cluster/ha/rules",
        form({ rule: "rw", type: "resource-affinity", resources: "vm:100,vm:104" }),
      ),
    ).toMatchObject({
      status: 400,
      errors: { affinity: "property is missing and it is not optional" },
    });
    await put("/cluster/ha/rules/db-together", { type: "resource-affinity", disable: 1 });
    expect(await data("/cluster/ha/rules/db-together")).toMatchObject({ disable: 1 });
    await del("/cluster/ha/rules/db-together");
    expect(await refused("/cluster/ha/rules/db-together")).toMatchObject({
      message: "no such ha rule 'db-together'\n",
    });
    expect((await data<Row[]>("/cluster/ha/rules?resource=vm:111")).map((r) => r.rule)).toEqual([
      "prefer-pve3",
      "keep-apart",
    ]);
    expect((await data<Row[]>("/cluster/ha/rules?type=resource-affinity")).map((r) => r.rule)).toEqual([
      "keep-apart",
    ]);
  });

  it("answers the deprecated group endpoints as PVE 9 does after the migration", async () => {
    expect(await refused("/cluster/ha/groups")).toMatchObject({
      status: 500,
      message: "cannot index groups: ha groups have been migrated to rules\n",
    });
    expect(await refused("/cluster/ha/groups", form({ group: "g1", nodes: "pve1" }))).toMatchObject({
      message: "cannot create group: ha groups have been migrated to rules\n",
    });
  });
});

describe("HA status", () => {
  it("follows the nodes: a node going offline fences its resources", async () => {
    let status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.map((r) => r.id)).toEqual([
      "quorum",
      "master",
      "fencing",
      "lrm:pve1",
      "lrm:pve2",
      "lrm:pve3",
      "service:ct:202",
      "service:vm:102",
      "service:vm:111",
    ]);
    expect(status[0]).toMatchObject({ status: "OK", quorate: 1, node: "pve1" });
    expect(String(status[1]?.status)).toMatch(/^pve1 \(active, \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\)$/);
    expect(status[2]).toMatchObject({ "armed-state": "armed", status: "armed (CRM watchdog active)" });
    expect(String(status[3]?.status)).toMatch(/^pve1 \(active, watchdog active, /);
    expect(String(status[4]?.status)).toMatch(/^pve2 \(active, watchdog active, /);

    await control("nodes/pve3", { online: false });
    status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.find((r) => r.id === "service:vm:111")).toMatchObject({
      crm_state: "fence",
      state: "fence",
    });
    expect(String(status.find((r) => r.id === "lrm:pve3")?.status)).toMatch(
      /^pve3 \(old timestamp - dead\?, watchdog standby, /,
    );
    const manager = await data<{ manager_status: Row; lrm_status: Row; quorum: Row }>(
      "/cluster/ha/status/manager_status",
    );
    expect(manager.manager_status).toMatchObject({
      master_node: "pve1",
      node_status: { pve1: "online", pve2: "online", pve3: "fence" },
    });
    expect((manager.manager_status.service_status as Row)["vm:111"]).toMatchObject({
      node: "pve3",
      state: "fence",
    });
    expect(manager.quorum).toEqual({ node: "pve1", quorate: 1 });
    expect(Object.keys(manager.lrm_status)).toEqual(["pve1", "pve2", "pve3"]);
    expect((await data<Row[]>("/cluster/resources?type=vm")).find((g) => g.vmid === 111)?.hastate).toBe(
      "fence",
    );

    await control("nodes/pve2", { online: false });
    status = await data<Row[]>("/cluster/ha/status/current");
    expect(status[0]).toMatchObject({ quorate: 0, status: "No quorum on node 'pve1'!" });
  });

  it("disarms and re-arms the HA stack", async () => {
    await post("/cluster/ha/status/disarm-ha", { "resource-mode": "freeze" });
    let status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.find((r) => r.type === "fencing")).toMatchObject({
      "armed-state": "disarming",
      resource_mode: "freeze",
      status: "disarming, resource mode: freeze (CRM watchdog active)",
    });
    expect(String(status.find((r) => r.type === "master")?.status)).toMatch(
      / - disarming, resource mode: freeze$/,
    );
    await post("/cluster/ha/status/arm-ha");
    status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.find((r) => r.type === "fencing")).toMatchObject({ "armed-state": "armed" });
    expect(await refused("/cluster/ha/status/disarm-ha", form({ "resource-mode": "sleep" }))).toMatchObject({
      status: 400,
      errors: { "resource-mode": "value 'sleep' does not have a value in the enumeration 'freeze, ignore'" },
    });
  });

  it("needs Sys.Audit to read and Sys.Console to change", async () => {
    await post("/access/users", { userid: "ha@pve" });
    const token = await post<Row>("/access/users/ha@pve/token/ro", { privsep: 0 });
    const auth = `PVEAPIToken=ha@pve!ro=${token.value}`;
    await put("/access/acl", { path: "/", users: "ha@pve", roles: "PVEAuditor" });
    expect((await api("/cluster/ha/resources", {}, auth)).status).toBe(200);
    const res = await api("/cluster/ha/resources", form({ sid: "vm:100" }), auth);
    expect(res.status).toBe(403);
    expect(((await res.json()) as Row).message).toBe("Permission check failed (/, Sys.Console)\n");
  });
});

describe("HA on Proxmox VE 8.4", () => {
  it("has groups instead of rules, and resources take a group", async () => {
    await control("settings", { version: "8.4" });
    expect(await refused("/cluster/ha/rules")).toMatchObject({
      status: 501,
      message: "Method 'GET /cluster/ha/rules' not implemented\n",
    });
    expect(await refused("/cluster/ha/status/arm-ha", form({}))).toMatchObject({ status: 501 });
    expect(await data("/cluster/ha/groups")).toEqual([]);
    await post("/cluster/ha/groups", {
      group: "fast",
      nodes: "pve1:2,pve2",
      restricted: 1,
      comment: "Fast nodes",
    });
    expect(await data("/cluster/ha/groups/fast")).toMatchObject({
      group: "fast",
      type: "group",
      nodes: "pve1:2,pve2",
      restricted: 1,
      comment: "Fast nodes",
    });
    await post("/cluster/ha/resources", { sid: "vm:100", group: "fast" });
    expect(await data("/cluster/ha/resources/vm:100")).toMatchObject({ group: "fast" });
    expect(await refused("/cluster/ha/resources", form({ sid: "vm:102", group: "slow" }))).toMatchObject({
      message: "HA group 'slow' does not exist\n",
    });
    expect(await refused("/cluster/ha/resources", form({ sid: "vm:102", failback: 0 }))).toMatchObject({
      status: 400,
      errors: {
        failback: "property is not defined in schema and the schema does not allow additional properties",
      },
    });
    expect(await refused("/cluster/ha/groups/fast", { method: "DELETE" })).toMatchObject({
      message: "delete ha group failed: ha group is used by service 'vm:100'\n",
    });
    const status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.some((r) => r.type === "fencing")).toBe(false);
    expect(status.find((r) => r.sid === "vm:100")).toMatchObject({ group: "fast" });

    // Back on 9.2 the CRM migrates the group to a node-affinity rule.
    await control("settings", { version: "9.2" });
    const rules = await data<Row[]>("/cluster/ha/rules?type=node-affinity");
    expect(rules.find((r) => r.rule === "ha-group-fast")).toMatchObject({
      resources: "vm:100",
      nodes: "pve1:2,pve2",
      strict: 1,
      comment: "Fast nodes",
    });
    expect((await data<Row>("/cluster/ha/resources/vm:100")).group).toBeUndefined();
  });
});

describe("HA at scale", () => {
  it("keeps the HA setup proportional to a generated cluster", async () => {
    await control("reset", { nodes: 5, guests: 400 });
    const resources = await data<Row[]>("/cluster/ha/resources");
    expect(resources.length).toBeGreaterThan(5);
    expect(resources.length).toBeLessThan(40);
    const rules = await data<Row[]>("/cluster/ha/rules");
    expect(rules.every((r) => r.type === "node-affinity" && !r.errors)).toBe(true);
    const status = await data<Row[]>("/cluster/ha/status/current");
    expect(status.filter((r) => r.type === "lrm")).toHaveLength(5);
    expect(status.filter((r) => r.type === "service")).toHaveLength(resources.length);
  });
});
