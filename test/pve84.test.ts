// Proxmox VE 8.4, the release many homelabs still run: the simulator's `version` setting plays it
// (version strings, kernel 6.8, VM.Monitor instead of VM.GuestAgent.*, file-read without
// offset/count, no memhost), and the tools either work on it or say what 8.4 lacks.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { data, form, refused } from "./helpers/pve";
import { sim } from "./helpers/sim";

let client: TestClient;
const ok = (name: string, args: Record<string, unknown> = {}) => expectOk(client, name, args);
const fails = (name: string, args: Record<string, unknown>) => expectError(client, name, args);

beforeAll(async () => {
  client = await connect("2025-11-25");
});
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.agentSettings({ agentTimeoutMs: 100, execTimeScale: 0.1 });
  await sim.settings({ authFailureDelayMs: 0 });
  await sim.version("8.4");
});

describe("the simulator playing Proxmox VE 8.4", () => {
  it("reports 8.4 and its kernel, and 9.2 again once set back", async () => {
    expect(await data("/version")).toEqual({ version: "8.4.14", release: "8.4", repoid: "b502d23c55afcba1" });
    const status = await data("/nodes/pve1/status");
    expect(status.pveversion).toBe("pve-manager/8.4.14/b502d23c55afcba1");
    expect(status.kversion).toMatch(/^Linux 6\.8\.12-15-pve #1 SMP PREEMPT_DYNAMIC PMX/);
    expect(status["current-kernel"]).toMatchObject({ release: "6.8.12-15-pve" });
    await sim.version("9.2");
    expect(await data("/version")).toMatchObject({ version: "9.2.11", release: "9.2" });
  });

  it("has VM.Monitor where 9 has VM.GuestAgent.*, and guards the agent with it", async () => {
    const perms = await data<Record<string, Record<string, number>>>("/access/permissions");
    expect(perms["/vms"]).toHaveProperty("VM.Monitor", 1);
    expect(Object.keys(perms["/vms"] ?? {}).filter((p) => p.startsWith("VM.GuestAgent."))).toEqual([]);

    // Denying a 9.x privilege changes nothing on 8.4 ...
    await sim.agentSettings({ deniedPrivileges: ["VM.GuestAgent.Unrestricted"] });
    expect(await data("/nodes/pve1/qemu/100/agent/get-host-name")).toEqual({
      result: { "host-name": "pihole" },
    });
    // ... VM.Monitor is what every agent endpoint needs, shutdown included.
    await sim.agentSettings({ deniedPrivileges: ["VM.Monitor"] });
    for (const path of ["get-host-name", "exec-status?pid=1", "file-read?file=/etc/hostname"]) {
      const denied = await refused(`/nodes/pve1/qemu/100/agent/${path}`);
      expect(denied).toMatchObject({ status: 403 });
      expect(denied.message).toBe("Permission check failed (/vms/100, VM.Monitor)\n");
    }
    const shutdown = await refused("/nodes/pve1/qemu/100/agent/shutdown", { method: "POST" });
    expect(shutdown.message).toBe("Permission check failed (/vms/100, VM.Monitor)\n");
  });

  it("file-read takes only `file`; status answers have no memhost", async () => {
    const withOffset = await refused("/nodes/pve1/qemu/100/agent/file-read?file=/etc/hostname&offset=1");
    expect(withOffset.status).toBe(400);
    expect(withOffset.errors).toEqual({
      offset: "property is not defined in schema and the schema does not allow additional properties",
    });
    expect(await data("/nodes/pve1/qemu/100/agent/file-read?file=/etc/hostname")).toMatchObject({
      content: "pihole\n",
    });
    const current = await data("/nodes/pve1/qemu/100/status/current");
    expect(current.status).toBe("running");
    expect(current).not.toHaveProperty("memhost");
    expect(current["running-qemu"]).toBe("9.2.0");
    const rows = await data<Record<string, unknown>[]>("/cluster/resources?type=vm");
    expect(rows.some((r) => r.status === "running")).toBe(true);
    expect(rows.some((r) => "memhost" in r)).toBe(false);
  });

  it("vzdump still takes maxfiles and the notification options 9 removed", async () => {
    const upid = await data<string>(
      "/nodes/pve1/vzdump",
      form({ vmid: 100, storage: "nas", maxfiles: 2, "notification-policy": "failure" }),
    );
    expect(upid).toMatch(/^UPID:pve1:.*:vzdump:100:/);
    await sim.version("9.2");
    const refusedOn92 = await refused("/nodes/pve1/vzdump", form({ vmid: 100, storage: "nas", maxfiles: 2 }));
    expect(refusedOn92.status).toBe(400);
  });

  it("the control API refuses an unknown release and file-read params on 8.4", async () => {
    for (const body of [{ version: "7.4" }, { version: 8.4 }, { agentFileReadParams: true }]) {
      await expect(sim.settings(body as never)).rejects.toThrow(
        /version must be one of 9.2, 8.4|no file-read offset/,
      );
    }
  });
});

describe("the tools against Proxmox VE 8.4", () => {
  it("check_connection: ok, names 8.4 and what it lacks", async () => {
    const { text, data: d } = await ok("check_connection");
    expect(d.verdict).toBe("ok");
    expect(d.version).toBe("8.4.14 (release 8.4)");
    expect(text).toContain(
      "ok   reach: Proxmox VE 8.4.14 (release 8.4) answered with the token; Proxmox VE 8: the guest agent needs VM.Monitor",
    );
    expect(d.groups.find((g: { group: string }) => g.group === "guest_agent")).toEqual({
      group: "guest_agent",
      ok: true,
      missing: [],
    });
  });

  it("check_connection: a token without VM.Monitor will fail the guest agent tools", async () => {
    await sim.agentSettings({ deniedPrivileges: ["VM.Monitor"] });
    const { text, data: d } = await ok("check_connection");
    expect(d.verdict).toBe("degraded");
    expect(d.groups.filter((g: { ok: boolean }) => !g.ok)).toEqual([
      { group: "guest_agent", ok: false, missing: ["VM.Monitor"] },
    ]);
    expect(text).toContain("FAIL privileges: the token lacks guest_agent (VM.Monitor)");
  });

  it("guest agent tools work: exec, file read with paging, file write, guest_get", async () => {
    const exec = await ok("guest_exec", { vmid: 100, argv: ["uname", "-s"] });
    expect(exec.data).toMatchObject({ status: "exited", exitcode: 0, stdout: "Linux\n" });
    const first = await ok("guest_file_read", { vmid: 100, path: "/etc/os-release", max_bytes: 20 });
    expect(first.data).toMatchObject({ offset: 0, bytes: 20, next: 20 });
    const rest = await ok("guest_file_read", { vmid: 100, path: "/etc/os-release", offset: 20 });
    expect(`${first.data.content}${rest.data.content}`).toMatch(/^PRETTY_NAME="Debian GNU\/Linux 13/);
    await ok("guest_file_write", { vmid: 100, path: "/tmp/on84", content: "eight four" });
    expect((await ok("guest_file_read", { vmid: 100, path: "/tmp/on84" })).data.content).toBe("eight four");
    expect((await ok("guest_get", { vmid: 100, what: "host-name" })).text).toBe("VM 100 host-name:\npihole");
  });

  it("without VM.Monitor the agent tools say which privilege 8.4 needs", async () => {
    await sim.agentSettings({ deniedPrivileges: ["VM.Monitor"] });
    expect(await fails("guest_exec", { vmid: 100, argv: ["id"] })).toContain(
      "The API token needs the privilege VM.Monitor on /vms/100",
    );
    expect(await fails("guest_get", { vmid: 100, what: "osinfo" })).toContain("VM.Monitor");
  });

  it("get_cluster_status and get_vm read 8.4's answers", async () => {
    const cluster = await ok("get_cluster_status");
    expect(cluster.text.split("\n")[0]).toBe("Cluster homelab: quorate, 3 of 3 nodes online");
    const vm = await ok("get_vm", { vmid: 100 });
    expect(vm.data).toMatchObject({ vmid: 100, status: "running", node: "pve1" });
    const node = await ok("get_node_status", { node: "pve1" });
    expect(node.text).toContain("8.4.14");
  });
});
