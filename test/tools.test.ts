import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PRODUCT } from "../src/version";
import { connect, type TestClient, TOOL_ERA, type ToolCallResult, tableRows, textOf } from "./helpers/mcp";
import { sim } from "./helpers/sim";

const READ_TOOLS = [
  "get_cluster_status",
  "get_cluster_resources",
  "get_nodes",
  "get_node_status",
  "get_vms",
  "get_vm",
  "get_vm_config",
  "get_containers",
  "get_container",
  "get_storages",
  "get_storage_content",
  "get_snapshots",
  "get_backups",
  "get_tasks",
  "get_task_status",
  "get_pools",
  "get_pool",
  "wait_for_task",
  "get_task_log",
  "get_tracked_tasks",
  "get_next_vmid",
  "guest_exec_status",
  "guest_file_read",
  "guest_get",
  "guest_ping",
  "check_connection",
  "get_audit_log",
  "search_api",
  "read_api",
  "get_metrics",
  "show_dashboard",
  "dashboard_refresh",
];

/** Every answer of the run, checked at the end for leaked credentials. */
const answers: string[] = [];

async function call(
  client: TestClient,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolCallResult> {
  const result = await client.call(name, args);
  answers.push(JSON.stringify(result));
  return result;
}

async function ok(client: TestClient, name: string, args: Record<string, unknown> = {}) {
  const result = await call(client, name, args);
  expect(result.isError ?? false, textOf(result)).toBe(false);
  return { text: textOf(result), data: result.structuredContent as Record<string, any> };
}

async function fails(client: TestClient, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, textOf(result)).toBe(true);
  return textOf(result);
}

/** API requests the simulator received since the last reset (control calls are not logged). */
async function upstream() {
  return (await sim.requests()).map((r) => `${r.method} ${r.path}`);
}

describe("read tools", () => {
  let client: TestClient;

  beforeAll(async () => {
    client = await connect(TOOL_ERA);
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
  });

  it("names the product and lists every read tool with annotations and schemas", async () => {
    expect(client.serverInfo()).toMatchObject({ name: PRODUCT.name, version: PRODUCT.version });
    const tools = (await client.listTools()).filter((t) => t.annotations?.readOnlyHint === true);
    expect(tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS].sort());
    for (const tool of tools) {
      expect(tool.annotations, tool.name).toMatchObject({ readOnlyHint: true, openWorldHint: false });
      expect(tool.inputSchema, tool.name).toMatchObject({ type: "object" });
      expect(JSON.stringify(tool.inputSchema), tool.name).not.toMatch(/"anyOf"|"oneOf"|"\$schema"/);
      expect(tool.outputSchema, tool.name).toMatchObject({ type: "object" });
      expect(tool.description?.length, tool.name).toBeGreaterThan(15);
    }
  });

  it("keeps tools/list within its 46 KiB budget", async () => {
    const tools = await client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(56);
    expect(JSON.stringify({ tools }).length).toBeLessThan(46 * 1024);
  });

  it("every tool, read or change, declares an output schema", async () => {
    const tools = await client.listTools();
    const without = tools.filter((t) => (t.outputSchema as { type?: string } | undefined)?.type !== "object");
    expect(without.map((t) => t.name)).toEqual([]);
    // Changes share one shape: what happened, to what, and the task behind it.
    for (const tool of tools.filter((t) => t.annotations?.readOnlyHint !== true && t.name !== "guest_exec")) {
      expect(Object.keys((tool.outputSchema as { properties: object }).properties), tool.name).toEqual(
        expect.arrayContaining(["state", "action", "target", "upid", "exitstatus"]),
      );
    }
  });

  it("a call builds only the tool it names, and a name no tool has is still answered as such", async () => {
    // Same answer with the full list built (tools/list) and with only get_nodes built (tools/call).
    expect((await client.listTools()).length).toBeGreaterThanOrEqual(56);
    expect((await ok(client, "get_nodes")).data.nodes).toHaveLength(3);
    const unknown = await client.call("get_everything", {}).catch((error: Error) => error);
    const message = unknown instanceof Error ? unknown.message : textOf(unknown);
    expect(message).toMatch(/get_everything/);
    expect(message).toMatch(/not found/i);
  });

  it("get_cluster_status: quorum and nodes", async () => {
    const { text, data } = await ok(client, "get_cluster_status");
    expect(text.split("\n")[0]).toBe("Cluster homelab: quorate, 3 of 3 nodes online");
    expect(data.cluster).toMatchObject({ name: "homelab", quorate: true, nodes: 3 });
    expect(data.nodes.map((n: { name: string }) => n.name)).toEqual(["pve1", "pve2", "pve3"]);
    expect(text).toMatch(/^pve1: online, \d+\.\d+\.\d+\.\d+/m);
  });

  it("get_cluster_resources: everything, or one type, in one upstream call", async () => {
    const all = await ok(client, "get_cluster_resources");
    expect(all.text.split("\n")[0]).toMatch(/^\d+ resources: 3 nodes, 12 VMs, 6 containers, \d+ storages/);
    const nodes = tableRows(all.data.nodes);
    expect(nodes.map((n) => n.node)).toEqual(["pve1", "pve2", "pve3"]);
    expect(nodes[0]).toMatchObject({ status: "online", cores: 32, maxmem_gib: 128 });
    expect(tableRows(all.data.storages).find((s) => s.storage === "nas")).toMatchObject({
      type: "nfs",
      shared: true,
      status: "available",
    });
    expect(all.text).toMatch(/^pool prod$/m);
    expect(tableRows(all.data.other).filter((row) => row.type === "pool")).toEqual([
      { type: "pool", name: "lab", node: null, status: null },
      { type: "pool", name: "prod", node: null, status: null },
    ]);
    const vms = await ok(client, "get_cluster_resources", { type: "vm" });
    expect(vms.data.total).toBe(18);
    expect(vms.data.nodes).toBeUndefined();
    expect(vms.text).toMatch(
      /^VMs on pve1, running \(\d+\): vmid name cpu\/cores mem_GiB used\/max uptime$/m,
    );
    expect(vms.text).toMatch(/^101 web-01 [\d.]+%\/\d+ [\d.]+\/[\d.]+ \d+d\d+h .*\[prod, web\]$/m);
    expect(vms.text).toMatch(/^containers on pve1, running \(\d+\): vmid name/m);
    expect(vms.text).toMatch(/^201 monitoring /m);
    const web01 = tableRows(vms.data.vms).find((row) => row.vmid === 101);
    expect(web01).toMatchObject({ name: "web-01", node: "pve1", status: "running", tags: "prod;web" });
    expect(web01?.cpu_pct).toEqual(expect.any(Number));
    expect(web01?.uptime_h).toEqual(expect.any(Number));
    expect(tableRows(vms.data.containers).map((row) => row.vmid)).toContain(201);
    expect(await upstream()).toEqual(["GET /cluster/resources", "GET /cluster/resources"]);
    const limited = await ok(client, "get_cluster_resources", { type: "vm", limit: 5 });
    expect(limited.data.vms.rows).toHaveLength(5);
    expect(limited.data.containers).toBeUndefined();
    expect(limited.text).toContain("13 more resources not shown");
  });

  it("get_nodes and get_node_status", async () => {
    const nodes = await ok(client, "get_nodes");
    expect(nodes.data.nodes).toHaveLength(3);
    expect(nodes.text).toMatch(/^pve2: online, cpu [\d.]+% of 20, mem [\d.]+\/64\.0 GiB, up \d+d \d+h$/m);
    const status = await ok(client, "get_node_status", { node: "pve1" });
    expect(status.data).toMatchObject({
      node: "pve1",
      cpus: 32,
      cpuModel: "AMD Ryzen 9 5950X 16-Core Processor",
    });
    expect(status.data.pveversion).toContain("pve-manager/9.2");
    expect(status.text).toMatch(/^memory [\d.]+\/128\.0 GiB/m);
    expect(await upstream()).toEqual(["GET /nodes", "GET /nodes/pve1/status"]);
  });

  it("get_vms: the whole cluster from one call, or one node, with filters and limit", async () => {
    const all = await ok(client, "get_vms");
    expect(all.data.total).toBe(12);
    expect(all.text.split("\n")[0]).toMatch(/^12 VMs: /);
    expect(all.text).toMatch(
      /^VMs on pve2, paused \(1\): vmid name cpu\/cores mem_GiB used\/max uptime\n105 k8s-worker-1 [\d.]+%\/2 [\d.]+\/4\.0 \d+d\d+h/m,
    );
    expect(all.text).toMatch(
      /^VMs on pve1, stopped \(1\): vmid name cores mem_GiB\n103 win11 4 8\.0 \[desktop\]$/m,
    );
    expect(all.text).toMatch(
      /^VMs on pve2, template \(1\): vmid name cores mem_GiB\n107 ubuntu-2404-template /m,
    );
    expect(all.text).toMatch(/^106 k8s-worker-2 .* locked:backup/m);
    expect(all.text).toMatch(/^101 web-01 [\d.]+%\/\d+ .* \[prod, web\]$/m);
    const rows = tableRows(all.data as never);
    const vmids = rows.map((row) => row.vmid as number);
    expect(vmids).toEqual([...vmids].sort((a, b) => a - b));
    expect(rows.find((row) => row.vmid === 101)).toMatchObject({
      name: "web-01",
      node: "pve1",
      status: "running",
      tags: "prod;web",
    });
    expect(rows.find((row) => row.vmid === 103)).toMatchObject({
      status: "stopped",
      cores: 4,
      maxmem_gib: 8,
      cpu_pct: null,
      uptime_h: null,
    });
    expect(rows.find((row) => row.vmid === 107)?.status).toBe("template");
    expect(rows.find((row) => row.vmid === 106)?.lock).toBe("backup");
    const onNode = await ok(client, "get_vms", { node: "pve3" });
    expect(onNode.data.rows.map((row: number[]) => row[0])).toEqual([108, 109, 110, 111]);
    // One node's list shows the same pool labels as the whole cluster's.
    const pve1 = await ok(client, "get_vms", { node: "pve1" });
    const poolOf = (answer: { data: Record<string, any> }, vmid: number) =>
      tableRows(answer.data as never).find((row) => row.vmid === vmid)?.pool;
    expect(poolOf(pve1, 101)).toBe("prod");
    expect(poolOf(pve1, 101)).toBe(poolOf(all, 101));
    expect(pve1.text).toMatch(/^101 web-01 .* pool:prod/m);
    const stopped = await ok(client, "get_vms", { status: "stopped" });
    expect(stopped.data.rows.map((row: number[]) => row[0])).toEqual([103, 110]);
    const tagged = await ok(client, "get_vms", { tag: "prod", limit: 1 });
    expect(tagged.data).toMatchObject({ total: 3 });
    expect(tagged.text).toContain("2 more VMs not shown");
    expect(await upstream()).toEqual([
      "GET /cluster/resources",
      "GET /cluster/resources",
      "GET /cluster/resources",
      "GET /cluster/resources",
      "GET /cluster/resources",
    ]);
  });

  it("get_vm: one request with node, a cached lookup without", async () => {
    const withNode = await ok(client, "get_vm", { vmid: 101, node: "pve1" });
    expect(withNode.data).toMatchObject({
      vmid: 101,
      name: "web-01",
      node: "pve1",
      status: "running",
      type: "qemu",
      agent: true,
    });
    expect(withNode.text).toMatch(/^VM 101 web-01 on pve1: running, cpu/);
    expect(withNode.text).toContain("guest agent enabled");
    expect(await upstream()).toEqual(["GET /nodes/pve1/qemu/101/status/current"]);
    await sim.clearRequests();
    await ok(client, "get_vm", { vmid: 104 });
    await ok(client, "get_vm", { vmid: "108" });
    expect(await upstream()).toEqual([
      "GET /cluster/resources",
      "GET /nodes/pve2/qemu/104/status/current",
      "GET /nodes/pve3/qemu/108/status/current",
    ]);
  });

  it("get_vm explains the wrong node and the wrong kind of guest", async () => {
    expect(await fails(client, "get_vm", { vmid: 101, node: "pve2" })).toBe(
      "VM 101 'web-01' is on node pve1, not pve2. Omit node or pass node=pve1.",
    );
    expect(await fails(client, "get_vm", { vmid: 200 })).toContain(
      "200 is a container ('proxy') on pve1, not a VM",
    );
    expect(await fails(client, "get_vm", { vmid: 999 })).toContain("There is no VM or container with ID 999");
  });

  it("get_vm_config: current config and pending changes", async () => {
    const { text, data } = await ok(client, "get_vm_config", { vmid: 101 });
    expect(data.config.name).toBe("web-01");
    expect(typeof data.config.memory).toBe("string");
    expect(typeof data.config.cores).toBe("number");
    expect(data.digest).toMatch(/^[0-9a-f]{40}$/);
    expect(text.split("\n").slice(0, 2)).toEqual(["VM 101 config (node pve1):", "name: web-01"]);
    expect(text).toMatch(/^scsi0: local-lvm:vm-101-disk-0,.*size=\d+G/m);
    const pending = await ok(client, "get_vm_config", { vmid: 101, pending: true });
    expect(pending.text).toBe("VM 101 has no pending changes.");
  });

  it("get_containers and get_container", async () => {
    const list = await ok(client, "get_containers");
    expect(list.data.rows.map((row: number[]) => row[0])).toEqual([200, 201, 202, 203, 204, 205]);
    expect(list.data.columns).toEqual([
      "vmid",
      "name",
      "node",
      "status",
      "cores",
      "maxmem_gib",
      "tags",
      "cpu_pct",
      "mem_gib",
      "uptime_h",
      "pool",
      "lock",
      "hastate",
    ]);
    expect(list.text.split("\n")[0]).toBe("6 containers: 4 running, 2 stopped");
    expect(list.text.split("\n")[1]).toMatch(/^containers on pve1, running \(\d\): vmid name/);
    const one = await ok(client, "get_container", { vmid: 201 });
    expect(one.data).toMatchObject({
      vmid: 201,
      name: "monitoring",
      node: "pve1",
      type: "lxc",
      status: "running",
    });
    expect(one.text).toMatch(/^Container 201 monitoring on pve1: running/);
    expect(await fails(client, "get_container", { vmid: 101 })).toContain(
      "101 is a VM ('web-01') on pve1, not a container",
    );
  });

  it("get_storages and get_storage_content", async () => {
    const all = await ok(client, "get_storages");
    const nas = all.data.storages.filter((s: { storage: string }) => s.storage === "nas");
    expect(nas).toHaveLength(3);
    expect(nas[0]).toMatchObject({ type: "nfs", shared: true, status: "available" });
    const onNode = await ok(client, "get_storages", { node: "pve1" });
    expect(onNode.data.storages.map((s: { storage: string }) => s.storage)).toEqual([
      "local",
      "local-lvm",
      "nas",
    ]);
    expect(onNode.text).toMatch(
      /^local-lvm on pve1: lvmthin, available, [\d.]+\/[\d.]+ [GT]iB \(\d+(\.\d)?%\), content images,rootdir$/m,
    );
    const isos = await ok(client, "get_storage_content", { storage: "nas", content: "iso" });
    const isoRows = tableRows(isos.data as never);
    expect(isoRows.length).toBeGreaterThan(0);
    for (const v of isoRows) {
      expect(v.volid).toMatch(/^nas:iso\/.+\.iso$/);
      expect(v).toMatchObject({ content: "iso", format: "iso", size_bytes: expect.any(Number) });
    }
    expect(isos.text).not.toMatch(/\.iso iso iso /);
    const images = await ok(client, "get_storage_content", { storage: "local-lvm", node: "pve1", vmid: 101 });
    expect(tableRows(images.data as never).map((v) => v.volid)).toContain("local-lvm:vm-101-disk-0");
    // A disk image's volume ID does not say its content or format, so the line does.
    expect(images.text).toMatch(/^local-lvm:vm-101-disk-0 images raw /m);
    expect(await fails(client, "get_storage_content", { storage: "local" })).toBe(
      "Storage 'local' is local to each of pve1, pve2, pve3: pass node to say which one.",
    );
    expect(await fails(client, "get_storage_content", { storage: "nope" })).toContain(
      "There is no storage 'nope'",
    );
  });

  it("get_snapshots for a VM and a container", async () => {
    const vm = await ok(client, "get_snapshots", { vmid: 101 });
    expect(vm.data).toMatchObject({ vmid: 101, type: "qemu", current: "before-nginx" });
    expect(vm.data.snapshots.map((s: { name: string }) => s.name)).toEqual(["pre-upgrade", "before-nginx"]);
    expect(vm.text).toMatch(
      /^before-nginx: \d{4}-\d\d-\d\d \d\d:\d\d UTC, parent pre-upgrade \(current state derives from it\) "Before nginx config rewrite"$/m,
    );
    const withRam = await ok(client, "get_snapshots", { vmid: 109, node: "pve3" });
    expect(withRam.data.snapshots[0]).toMatchObject({ name: "stable", vmstate: true });
    const ct = await ok(client, "get_snapshots", { vmid: 202, node: "pve2" });
    expect(ct.data).toMatchObject({ type: "lxc", snapshots: [{ name: "initial" }] });
    const none = await ok(client, "get_snapshots", { vmid: 100 });
    expect(none.text).toBe("VM 100 on pve1 has no snapshots.");
  });

  it("get_backups: newest first, across backup storages or one", async () => {
    const all = await ok(client, "get_backups");
    expect(all.data.total).toBe(9);
    const backups = tableRows(all.data as never);
    const times = backups.map((b) => b.ctime as number);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(backups.find((b) => b.storage === "nas" && b.vmid === 101 && b.protected)).toMatchObject({
      content: "backup",
      notes: "web-01 before 24.04 upgrade",
    });
    expect(all.data.searched).toContain("nas@pve1");
    const web = await ok(client, "get_backups", { storage: "nas", vmid: 101 });
    expect(web.data.total).toBe(3);
    expect(web.text).toMatch(/^nas:backup\/vzdump-qemu-101-.*protected "web-01 before 24\.04 upgrade"$/m);
  });

  it("get_tasks and get_task_status, including a failure with its log", async () => {
    const tasks = await ok(client, "get_tasks", { node: "pve2" });
    const rows = tableRows(tasks.data as never);
    expect(rows.length).toBeGreaterThan(3);
    const failed = rows.find((t) => t.type === "qmshutdown") as Record<string, any>;
    expect(failed).toMatchObject({ status: "VM quit/powerdown failed - got timeout", ok: false, id: "105" });
    const running = rows.find((t) => t.status === "running") as Record<string, any>;
    expect(running).toMatchObject({ type: "vzdump", id: "106", endtime: null, ok: null });
    expect(tasks.text).toMatch(
      / qmshutdown 105 on pve2: FAILED: VM quit\/powerdown failed - got timeout after 3m 0s, by root@pam \| UPID:pve2:/,
    );
    const errorsOnly = await ok(client, "get_tasks", { node: "pve2", errors: true });
    expect(tableRows(errorsOnly.data as never).every((t) => t.ok === false)).toBe(true);

    const status = await ok(client, "get_task_status", { upid: failed.upid });
    expect(status.data).toMatchObject({ status: "stopped", ok: false, type: "qmshutdown", node: "pve2" });
    expect(status.text).toContain("FAILED: VM quit/powerdown failed - got timeout.");
    expect(status.data.lastLog.at(-1)).toBe("TASK ERROR: VM quit/powerdown failed - got timeout");
    const stillRunning = await ok(client, "get_task_status", { upid: running.upid });
    expect(stillRunning.text).toContain("is still running after");
    expect(stillRunning.data.ok).toBeUndefined();

    const cluster = await ok(client, "get_tasks", { vmid: 110 });
    expect(tableRows(cluster.data as never)[0]).toMatchObject({ type: "qmigrate", ok: false });
  });

  it("get_pools and get_pool", async () => {
    const pools = await ok(client, "get_pools");
    expect(pools.data.pools.map((p: { poolid: string }) => p.poolid)).toEqual(["lab", "prod"]);
    const prod = await ok(client, "get_pool", { poolid: "prod" });
    const guests = prod.data.members.filter((m: { type: string }) => m.type !== "storage");
    expect(guests.map((m: { vmid: number }) => m.vmid)).toEqual([201, 101, 102, 109]);
    expect(prod.text.split("\n")[0]).toBe('Pool prod "Production services": 5 members');
    expect(prod.text).toMatch(/^storage nas on /m);
    expect(await fails(client, "get_pool", { poolid: "nope" })).toBe(
      "There is no pool 'nope'. get_pools lists the pools.",
    );
  });
});

describe("bad input is refused before any upstream request", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-11-25");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
  });

  it.each([
    ["get_vm", { vmid: "abc" }, "vmid must be a number"],
    ["get_vm", { vmid: 12 }, "vmid must be between 100 and 999999999"],
    ["get_vm", { vmid: 101.5 }, "vmid must be a whole number"],
    ["get_vm", {}, "vmid"],
    ["get_vms", { node: "10.0.0.1" }, "not an IP address"],
    ["get_node_status", { node: "pve1.example.com" }, "not an IP address or FQDN"],
    ["get_storage_content", { storage: "../etc" }, "storage must be a storage ID"],
    ["get_task_status", { upid: "qmstart-101" }, "starting with 'UPID:'"],
    ["get_task_status", { upid: "UPID:pve1:zz" }, "is not a valid Proxmox task ID"],
    ["get_pool", { poolid: "a b" }, "poolid must be a pool name"],
    ["get_vms", { limit: 0 }, "limit must be at least 1"],
    ["get_cluster_resources", { type: "disk" }, "type"],
  ])("%s %j", async (tool, args, message) => {
    expect(await fails(client, tool, args)).toContain(message);
    expect(await upstream()).toEqual([]);
  });

  it("an unknown but well-formed node gets the list of real nodes", async () => {
    expect(await fails(client, "get_node_status", { node: "pve9" })).toBe(
      "There is no node 'pve9' in this cluster. Nodes: pve1, pve2, pve3. Node names are case-sensitive and are not IP addresses.",
    );
  });
});

describe("upstream failures become error results a person can act on", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
  });

  it("an offline node", async () => {
    await sim.setNodeOnline("pve3", false);
    const status = await ok(client, "get_cluster_status");
    expect(status.text.split("\n")[0]).toBe("Cluster homelab: quorate, 2 of 3 nodes online");
    expect(status.text).toMatch(/^pve3: OFFLINE/m);
    const message = await fails(client, "get_node_status", { node: "pve3" });
    expect(message).toContain("could not reach the node");
    expect(message).toContain("No route to host");
    const vms = await ok(client, "get_vms");
    expect(vms.text).toMatch(
      /^VMs on pve3, unknown \(4\): vmid name cores mem_GiB\n108 media 2 4\.0 \[media\]$/m,
    );
  });

  it("a Cloudflare Access sign-in page", async () => {
    await sim.fail({ count: 1, kind: "access-login" });
    expect(await fails(client, "get_vms", {})).toContain("Cloudflare Access answered with its sign-in page");
  });

  it("a tunnel that is down, and a bad gateway (each read is tried twice)", async () => {
    await sim.fail({ count: 2, kind: "tunnel-error", status: 530 });
    expect(await fails(client, "get_nodes", {})).toContain(
      "Cloudflare Tunnel to Proxmox is not connected (HTTP 530, error 1033)",
    );
    await sim.fail({ count: 2, kind: "tunnel-error", status: 502 });
    expect(await fails(client, "get_nodes", {})).toContain(
      "Cloudflare reached the tunnel but not Proxmox (HTTP 502",
    );
  });

  it("TLS to an origin with a self-signed certificate", async () => {
    await sim.fail({ count: 1, kind: "tunnel-error", status: 526 });
    expect(await fails(client, "get_nodes", {})).toContain(
      "TLS between Cloudflare and Proxmox failed (HTTP 526",
    );
  });

  it("a missing privilege", async () => {
    await sim.fail({
      count: 1,
      status: 403,
      kind: "json",
      message: "Permission check failed (/vms/101, VM.Audit)",
    });
    expect(await fails(client, "get_vm", { vmid: 101, node: "pve1" })).toContain(
      "The API token needs the privilege VM.Audit on /vms/101",
    );
  });

  it("a rejected token", async () => {
    await sim.fail({ count: 1, status: 401, kind: "empty", message: "Authentication failed!" });
    expect(await fails(client, "get_nodes", {})).toContain("Proxmox does not accept the API token");
  });

  it("an upstream that does not answer in time", async () => {
    await sim.fail({ count: 1, kind: "hang" });
    const message = await fails(client, "get_pools", {});
    expect(message).toContain("Proxmox did not answer GET /pools within");
  });

  it("a Proxmox 500", async () => {
    await sim.fail({
      count: 1,
      status: 500,
      kind: "json",
      message: "cfs-lock 'file-user_cfg' error: got lock request timeout",
    });
    expect(await fails(client, "get_pools", {})).toBe(
      "Proxmox: cfs-lock 'file-user_cfg' error: got lock request timeout",
    );
  });
});

describe("secrets", () => {
  it("never appear in any answer of this run", () => {
    const secret = env.PROXMOX_TOKEN_SECRET;
    expect(secret && secret.length > 8).toBe(true);
    expect(answers.length).toBeGreaterThan(50);
    for (const answer of answers) expect(answer).not.toContain(secret as string);
  });
});
