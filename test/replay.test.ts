// Real answers: bodies recorded from real Proxmox VE hosts (../shared/proxmox/recorded) served as
// the server's upstream, byte for byte, and read through the tools by an MCP client. Each test
// checks that the tool answers without error and shows the facts the recording holds.
//
// What the recordings showed that the simulator or the tools got wrong (fixed, each asserted here
// or in sim-fidelity.test.ts):
//  - LXC lists carry `vmid` as a JSON string ("106"); QEMU lists and /cluster/resources as a
//    number. The tools' output schemas refused the string (get_containers with a node failed);
//    the simulator sent numbers.
//  - A guest-agent command the guest does not support answers 200 with {result: {error: {class,
//    desc}}} (PVE relays QGA's error); guest_get crashed rendering it.
//  - Backups on a Proxmox Backup Server storage are named `store:backup/vm/931/2023-12-14T04:34:34Z`,
//    not vzdump-qemu-931-...; restore_backup refused them.
import { afterEach, describe, expect, it } from "vitest";
import { connect, textOf } from "./helpers/mcp";
import { type Replay, recordedData, recording, recordings, replay } from "./helpers/replay";
import { sim } from "./helpers/sim";

const GO = "go-proxmox/pve7x";
const CP = "community.proxmox";

let current: Replay | undefined;
async function serve(...args: Parameters<typeof replay>): Promise<Replay> {
  current = await replay(...args);
  return current;
}
afterEach(async () => {
  await current?.client.close();
  current = undefined;
});

/** Calls a tool that must succeed over the replayed upstream; every request was answered. */
async function read(r: Replay, name: string, args: Record<string, unknown> = {}) {
  const result = await r.client.call(name, args);
  const text = textOf(result);
  expect(result.isError ?? false, text).toBe(false);
  expect(r.unanswered).toEqual([]);
  return { text, data: result.structuredContent as Record<string, any> };
}

describe.skipIf(!recordings)("tools read real Proxmox VE answers", () => {
  it("get_cluster_status: a four-node cluster (GET /cluster/status)", async () => {
    const r = await serve([`${GO}/GET_cluster_status.json`]);
    const { text, data } = await read(r, "get_cluster_status");
    expect(text.split("\n")).toEqual([
      "Cluster clustername: quorate, 4 of 4 nodes online",
      "node1: online, 192.168.1.1, node id 1",
      "node2: online, 192.168.1.2, node id 2",
      "node3: online, 192.168.1.3, node id 3",
      "node4: online, 192.168.1.4, node id 4",
    ]);
    expect(data.cluster).toEqual({ name: "clustername", quorate: true, nodes: 4, version: 4 });
    expect(data.nodes[0]).toEqual({ name: "node1", online: true, ip: "192.168.1.1", nodeid: 1, local: true });
  });

  it("get_cluster_resources: nodes, VMs, a template, storages (GET /cluster/resources)", async () => {
    const r = await serve([`${GO}/GET_cluster_resources.json`]);
    const { text, data } = await read(r, "get_cluster_resources");
    expect(text.split("\n")[0]).toBe("20 resources: 4 nodes, 4 VMs, 12 storages");
    expect(text).toContain("node node1: online, cpu 0.3% of 8, mem 2.0/61.4 GiB, up 10d 2h");
    expect(text).toContain("102 machine-test 4 7.8 [go-proxmox+cloud-init]");
    expect(text).toContain("VMs on node1, template (1): vmid name cores mem_GiB\n101 leap154 4 16");
    expect(text).toContain("\n100 server1 2.5%/1 0.78/1.0 10d2h");
    expect(text).toContain(
      "storage local-zfs on node1: zfspool, available, 13.5/889.4 GiB (1.5%), content images,rootdir",
    );
    expect(data.total).toBe(20);
    expect(data.vms.rows.map((row: unknown[]) => row[0])).toEqual([100, 101, 102, 200]);
    expect(data.storages.rows).toHaveLength(12);
  });

  it("get_vms and get_containers over /cluster/resources?type=vm: pools, names, states", async () => {
    const r = await serve([`${CP}/GET_cluster_resources__type=vm.json`]);
    const vms = await read(r, "get_vms");
    expect(vms.text.split("\n")[0]).toBe("2 VMs: 1 running, 1 stopped");
    expect(vms.text).toContain(
      "VMs on pve, running (1): vmid name cpu/cores mem_GiB used/max uptime\n100 pxe.home.arpa 17%/1 0.03/4.0 11m9s",
    );
    expect(vms.text).toContain(
      "VMs on pve2, stopped (1): vmid name cores mem_GiB\n101 test1 1 0.50 pool:pool1",
    );
    const cts = await read(r, "get_containers");
    expect(cts.text.split("\n")[0]).toBe("4 containers: 3 stopped, 1 running");
    expect(cts.text).toMatch(/running \(1\): .*\n102 test-lxc\.home\.arpa /);
    const columns: string[] = cts.data.columns;
    const pool = columns.indexOf("pool");
    expect(pool).toBeGreaterThan(-1);
    expect(cts.data.rows.map((row: unknown[]) => [row[0], row[pool] ?? null])).toEqual([
      [102, null],
      [103, "pool1"],
      [104, "pool1"],
      [105, "pool1"],
    ]);
  });

  it("get_nodes: four nodes with memory and uptime (GET /nodes)", async () => {
    const r = await serve([`${GO}/GET_nodes.json`]);
    const { text } = await read(r, "get_nodes");
    for (const node of ["node1", "node2", "node3", "node4"]) expect(text).toContain(node);
    expect(text).toMatch(/node1.*online/);
    expect(text).toContain("10.7/31.3 GiB");
  });

  it("get_node_status: PVE 7.4 with load averages as strings (GET /nodes/node1/status)", async () => {
    const r = await serve([`${GO}/GET_nodes_node1_status.json`]);
    const { text } = await read(r, "get_node_status", { node: "node1" });
    expect(text).toContain("pve-manager/7.4-16/0f39f621");
    expect(text).toContain("Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz");
    expect(text).toContain("7.5/61.4 GiB");
    expect(text).toContain("load 0 0 0");
    expect(text).toContain("kernel Linux 5.15.108-1-pve");
  });

  it("get_vm: a running VM with blockstat, ballooninfo, nics, nested ha (GET .../qemu/101/status/current)", async () => {
    const r = await serve([`${GO}/GET_nodes_node1_qemu_101_status_current.json`]);
    const { text, data } = await read(r, "get_vm", { vmid: 101, node: "node1" });
    expect(data).toMatchObject({ vmid: 101, name: "matt", node: "node1", status: "running" });
    expect(text).toContain("101 matt on node1: running");
    expect(text).toContain("1.1/2.0 GiB");
    expect(r.requests).toEqual(["GET /nodes/node1/qemu/101/status/current"]);
  });

  it("get_vm without a node finds it in /cluster/resources, also were vmids strings there", async () => {
    const r = await serve([
      `${GO}/GET_cluster_resources.json`,
      `${GO}/GET_nodes_node1_qemu_101_status_current.json`,
    ]);
    expect((await read(r, "get_vm", { vmid: 101 })).data).toMatchObject({ vmid: 101, node: "node1" });
    // Real hosts send numbers in this list; the locator reads a string of digits the same way.
    const rows = recordedData<{ vmid?: number }[]>(`${GO}/GET_cluster_resources.json`).map((row) =>
      row.vmid === undefined ? row : { ...row, vmid: String(row.vmid) },
    );
    const strings = await serve(
      [`${GO}/GET_nodes_node1_qemu_101_status_current.json`],
      [{ path: "/cluster/resources", body: JSON.stringify({ data: rows }) }],
    );
    expect((await read(strings, "get_vm", { vmid: 101 })).data).toMatchObject({ vmid: 101, node: "node1" });
    await strings.client.close();
  });

  it("get_vms on one node: numeric vmids (GET /nodes/pve/qemu)", async () => {
    const r = await serve([`${CP}/GET_nodes_pve_qemu.json`], [NO_GUESTS_IN_CLUSTER_VIEW]);
    const { text, data } = await read(r, "get_vms", { node: "pve" });
    expect(text.split("\n")[0]).toBe("2 VMs: 1 running, 1 stopped on pve");
    expect(data.rows.map((row: unknown[]) => row[0])).toEqual([100, 101]);
  });

  it.each([
    [`${GO}/GET_nodes_node1_lxc.json`, "node1", [101, 105, 106], /running \(2\): .*\n105 zort .*\n106 test /],
    [
      `${CP}/GET_nodes_pve_lxc.json`,
      "pve",
      [102, 103, 104, 105],
      /running \(1\): .*\n102 test-lxc\.home\.arpa /,
    ],
  ])("get_containers on one node: vmids sent as strings (%s)", async (file, node, vmids, lines) => {
    const r = await serve([file], [NO_GUESTS_IN_CLUSTER_VIEW]);
    const { text, data } = await read(r, "get_containers", { node });
    expect(data.rows.map((row: unknown[]) => row[0])).toEqual(vmids);
    expect(text).toMatch(lines);
    // Stopped and template containers keep their numbers too.
    const raw = recordedData<{ vmid: unknown }[]>(file);
    expect(raw.every((c) => typeof c.vmid === "string")).toBe(true);
  });

  it("get_pool and get_pools: members of a pool, a storage among them (GET /pools/test-pool, /pools)", async () => {
    const r = await serve(
      [`${GO}/GET_pools_test-pool.json`],
      // The recorded listing was filtered by ?poolid=; the tool asks for all pools.
      [{ path: "/pools", body: recording(`${GO}/GET_pools__poolid=test-pool.json`).body }],
    );
    const pool = await read(r, "get_pool", { poolid: "test-pool" });
    expect(pool.text.split("\n")[0]).toBe('Pool test-pool "Test pool": 3 members');
    expect(pool.text).toContain("test-vm");
    expect(pool.text).toContain("test-vm2");
    expect(pool.text).toContain("local");
    const pools = await read(r, "get_pools");
    expect(pools.text).toBe('1 pools\ntest-pool: 2 guests, 1 storage "Test pool"');
  });

  it("get_tasks: finished tasks with a failure (GET /nodes/iaclab-01-01/tasks)", async () => {
    const r = await serve([`${CP}/GET_nodes_iaclab-01-01_tasks.json`]);
    const { text, data } = await read(r, "get_tasks", { node: "iaclab-01-01" });
    expect(text).toContain("srvreload");
    expect(text).toContain("command 'ifreload -a' failed: exit code 1");
    expect(data.total ?? data.rows.length).toBe(3);
  });

  it("get_task_log: a vzdump log excerpt (GET .../tasks/{upid}/log)", async () => {
    const r = await serve([
      `${CP}/GET_nodes_node1_tasks_UPID-node1-003F8C63-1E7FB79C-67449780-vzdump-100-root@pam-_log.json`,
    ]);
    const { text } = await read(r, "get_task_log", {
      upid: "UPID:node1:003F8C63:1E7FB79C:67449780:vzdump:100:root@pam:",
    });
    expect(text).toContain("INFO: Starting Backup of VM 100 (lxc)");
    expect(text).toContain("INFO: Backup job finished successfully");
    expect(text).toContain("TASK OK");
  });

  it("get_storage_content and get_backups: backups on a Proxmox Backup Server store", async () => {
    const r = await serve([`${CP}/GET_nodes_pve_storage_datastore_content.json`]);
    const content = await read(r, "get_storage_content", { storage: "datastore", node: "pve" });
    expect(content.text).toContain("datastore:backup/vm/931/2023-12-14T04:34:34Z");
    expect(content.text).toContain("255.0 GiB");
    const backups = await read(r, "get_backups", { storage: "datastore", node: "pve" });
    expect(backups.text.split("\n")[0]).toBe("2 backups, 510.0 GiB in all (searched datastore@pve)");
    // Newest first.
    expect(backups.text.split("\n")[1]).toContain("2023-12-14T19:36:00Z");
  });

  it("restore_backup recognises a Proxmox Backup Server backup of a VM and restores it", async () => {
    const upid = "UPID:node1:0000A1B2:01234567:6119FB65:qmrestore:105:root@pam!mcp:";
    const r = await serve(
      [`${GO}/GET_cluster_resources.json`],
      [
        { path: "/cluster/nextid", body: '{"data":"105"}' },
        { method: "POST", path: "/nodes/node1/qemu", body: JSON.stringify({ data: upid }) },
      ],
    );
    const volid = "datastore:backup/vm/931/2023-12-14T04:34:34Z";
    const { text } = await read(r, "restore_backup", { volid, node: "node1", wait: false });
    expect(text).toBe(
      `Restore ${volid} to new VM 105 on node1: started. Follow it with wait_for_task or get_task_status.\ntask: ${upid}`,
    );
    expect(r.requests).toContain(`POST /nodes/node1/qemu archive=${encodeURIComponent(volid)}&vmid=105`);
  });

  it.each([
    [
      101,
      [
        "lo 00:00:00:00:00:00: 127.0.0.1/8, ::1/128",
        "eth0 ff:ff:ff:ff:ff:ff: 10.1.2.3/24, fd8c:4687:e88d:1be3:5b70:7b88:c79c:293/64",
        "docker0 ff:ff:ff:ff:ff:ff: 10.10.2.3/16",
      ],
    ],
    [103, ["lo ff:ff:ff:ff:ff:ff: 127.0.0.1/8", "eth0 ff:ff:ff:ff:ff:ff: 172.16.0.143/24"]],
  ])("guest_get network-interfaces: addresses of VM %i (PVE 6.2)", async (vmid, lines) => {
    const r = await serve([`${CP}/pve6.2/GET_nodes_testnode_qemu_${vmid}_agent_network-get-interfaces.json`]);
    const { text } = await read(r, "guest_get", { vmid, node: "testnode", what: "network-interfaces" });
    for (const line of lines) expect(text).toContain(line);
  });

  it("guest_get: a command the guest agent does not support is an error result that says so", async () => {
    const r = await serve([`${CP}/pve6.2/GET_nodes_testnode_qemu_102_agent_network-get-interfaces.json`]);
    const result = await r.client.call("guest_get", {
      vmid: 102,
      node: "testnode",
      what: "network-interfaces",
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      "The guest agent of VM 102 cannot answer network-interfaces: this feature or command is not currently supported (Unsupported).",
    );
  });

  it("check_connection: privileges from a real /access/permissions, cluster from /cluster/status", async () => {
    // /version was not recorded; the same hosts' node status says pve-manager/7.4-16.
    const r = await serve(
      [`${GO}/GET_access_permissions.json`, `${GO}/GET_cluster_status.json`],
      [{ path: "/version", body: '{"data":{"version":"7.4-16","release":"7.4","repoid":"0f39f621"}}' }],
    );
    const { text, data } = await read(r, "check_connection");
    expect(text).toContain("ok   cluster: cluster clustername: 4 of 4 nodes online, quorate");
    expect(text).toContain("Proxmox VE 7.4-16 (release 7.4)");
    // A PVE 7 token with VM.Monitor has what the guest agent needed before 9.0.
    const groups = Object.fromEntries(data.groups.map((g: { group: string }) => [g.group, g]));
    expect(groups.read).toMatchObject({ ok: true });
    expect(groups.guest_agent).toEqual({ group: "guest_agent", ok: true, missing: [] });
  });
});

/**
 * Hand-written: a cluster view that lists no guest on the node. A node's guest list comes from
 * /cluster/resources (it carries pools), and the tool asks the node itself only when that view
 * shows none there, which is the answer these recordings hold.
 */
const NO_GUESTS_IN_CLUSTER_VIEW = { path: "/cluster/resources", body: '{"data":[]}' };

describe("the simulator answers the same way", () => {
  it("guest_get on a command the Windows agent lacks: the same error result as the recorded host", async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 50 });
    const client = await connect("2026-07-28");
    try {
      await client.call("start_vm", { vmid: 103 });
      const result = await client.call("guest_get", { vmid: 103, what: "memory-blocks" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(
        "The guest agent of VM 103 cannot answer memory-blocks: Command guest-get-memory-blocks has been disabled (CommandNotFound).",
      );
    } finally {
      await client.close();
    }
  });
});
