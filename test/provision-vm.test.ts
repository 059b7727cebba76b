import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveMcp } from "../src/server/endpoint";
import { LOCAL_GRANT } from "../src/server/server";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { api } from "./helpers/pve";
import { changesSent, sim } from "./helpers/sim";

let client: TestClient;

const ok = (args: Record<string, unknown>) => expectOk(client, "provision_vm", args);
const fails = (args: Record<string, unknown>) => expectError(client, "provision_vm", args);
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests me@laptop";
const KEY2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 other@desk";

beforeAll(async () => {
  client = await connect("2025-06-18");
});
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.settings({ taskDurationMs: 200 });
  // The template's guests boot in 12 s × execTimeScale; a missing agent costs agentTimeoutMs per ask.
  await sim.agentSettings({ agentTimeoutMs: 100, execTimeScale: 0.1 });
  await sim.clearRequests();
});

const outcomes = (data: Record<string, any>) =>
  Object.fromEntries((data.steps as { step: string; outcome: string }[]).map((s) => [s.step, s.outcome]));

describe("provision_vm", () => {
  it("clones, configures, grows, starts and answers with the DHCP address and the ssh line", async () => {
    const progress: string[] = [];
    const values: number[] = [];
    const result = await client.callWithProgress(
      "provision_vm",
      {
        template: "ubuntu-2404-template",
        name: "web-3",
        cores: 2,
        memory: 4096,
        disk_gb: 32,
        ciuser: "debian",
        sshkeys: `${KEY}\n${KEY2}\n`,
        cipassword: "s3cret-pass",
        ip: "dhcp",
      },
      (p) => {
        progress.push(p.message ?? "");
        values.push(p.progress);
      },
    );
    expect(result.isError ?? false).toBe(false);
    const data = result.structuredContent as Record<string, any>;
    const text = (result.content as { text: string }[]).map((c) => c.text).join("\n");
    expect(data).toMatchObject({
      vmid: 112,
      node: "pve2",
      name: "web-3",
      template: 107,
      state: "done",
      action: "Provision VM 112 'web-3' on pve2 from VM 107 'ubuntu-2404-template'",
      target: { vmid: 112, node: "pve2", name: "web-3" },
      upid: expect.stringMatching(/:qmstart:112:/),
      vm_state: "running",
      ready: true,
      addresses: [{ interface: "ens18", ipv4: ["192.168.1.212"], ipv6: [] }],
      ssh: "ssh debian@192.168.1.212",
    });
    expect(outcomes(data)).toEqual({
      clone: "done",
      config: "done",
      resize: "done",
      cloudinit: "skipped",
      start: "done",
      agent: "done",
    });
    expect(data.steps[0].upid).toMatch(/^UPID:pve2:.*:qmclone:107:/);
    expect(data.steps[2].upid).toMatch(/:resize:112:/);
    expect(data.steps[4].upid).toMatch(/:qmstart:112:/);
    expect(text).toMatch(
      /^VM 112 'web-3' is running on pve2 \(from VM 107 'ubuntu-2404-template'\)\. SSH: ssh debian@192\.168\.1\.212\n/,
    );
    expect(text).toContain("Addresses: ens18 192.168.1.212");
    expect(text).toMatch(/\ntask: UPID:pve2:\S+:qmstart:112:\S+\n/);
    expect(text).not.toContain("s3cret-pass");
    // One notification per step at least, and progress only grows.
    for (const step of ["clone", "config", "resize", "start", "agent"])
      expect(progress.some((m) => m.startsWith(`${step}:`))).toBe(true);
    for (const [i, v] of values.entries()) if (i > 0) expect(v).toBeGreaterThan(values[i - 1] as number);

    const sent = await sim.requests();
    const clone = sent.find((r) => r.method === "POST" && r.path === "/nodes/pve2/qemu/107/clone");
    expect(clone?.body).toMatchObject({ newid: "112", name: "web-3", full: "0" });
    const config = sent.find((r) => r.method === "PUT" && r.path === "/nodes/pve2/qemu/112/config");
    expect(config?.body).toMatchObject({
      cores: "2",
      memory: "4096",
      ciuser: "debian",
      cipassword: "s3cret-pass",
      sshkeys: encodeURIComponent(`${KEY}\n${KEY2}`),
      ipconfig0: "ip=dhcp",
      // The template has no cloud-init drive yet (its ide2 is an empty CD drive): one is added.
      ide0: "local-lvm:cloudinit",
    });
    expect(sent.find((r) => r.path === "/nodes/pve2/qemu/112/resize")?.body).toMatchObject({
      disk: "scsi0",
      size: "32G",
    });
    // The password never reaches the audit log.
    const audit = await expectOk(client, "get_audit_log", {});
    expect(audit.text).toContain("provision_vm");
    expect(JSON.stringify(audit)).not.toContain("s3cret-pass");
    // The clone and start tasks are tracked like every task.
    const tracked = await expectOk(client, "get_tracked_tasks", {});
    expect(tracked.text).toMatch(/qmclone:107/);
    expect(tracked.text).toMatch(/qmstart:112/);
  });

  it("a static address from cloud-init, disk already big enough, by template ID", async () => {
    const { data, text } = await ok({
      template: "107",
      name: "db-1",
      newid: 150,
      disk_gb: 10,
      ip: "10.0.0.50/24,gw=10.0.0.1",
      ip6: "auto",
    });
    expect(data).toMatchObject({ vmid: 150, ready: true, addresses: [{ ipv4: ["10.0.0.50"] }] });
    expect(outcomes(data).resize).toBe("skipped");
    expect(text).toContain("- resize: skipped: scsi0 is 20G already");
    // No ciuser anywhere: the ssh line says so rather than guess.
    expect(data.ssh).toBe("ssh <user>@10.0.0.50");
    const config = (await sim.requests()).find((r) => r.method === "PUT" && r.path.endsWith("/150/config"));
    expect(config?.body.ipconfig0).toBe("ip=10.0.0.50/24,gw=10.0.0.1,ip6=auto");
  });

  it("a full clone to a storage of choice", async () => {
    const { data } = await ok({
      template: "107",
      name: "full-1",
      full: true,
      storage: "local-lvm",
      start: false,
    });
    expect(data).toMatchObject({ state: "done", vm_state: "stopped" });
    const clone = (await sim.requests()).find((r) => r.method === "POST" && r.path.endsWith("/107/clone"));
    expect(clone?.body).toMatchObject({ full: "1", storage: "local-lvm" });
  });

  it("start=false leaves it stopped with the cloud-init drive regenerated", async () => {
    const { data, text } = await ok({ template: "107", name: "later", ciuser: "debian", start: false });
    expect(data).toMatchObject({ state: "done", vm_state: "stopped", ready: false, addresses: [] });
    expect(outcomes(data)).toMatchObject({ cloudinit: "done", start: "skipped", agent: "skipped" });
    expect(text).toContain("Next: start_vm vmid=112 starts it.");
    expect(await changesSent()).toContain("PUT /nodes/pve2/qemu/112/cloudinit");
  });

  it("a start that fails is an answer: the VM is kept, and what to call next", async () => {
    await sim.fail({
      count: 1,
      status: 500,
      message: "start failed: out of memory",
      pathPrefix: "/nodes/pve2/qemu/112/status/start",
    });
    const { data, text } = await ok({ template: "107", name: "web-4", ciuser: "debian" });
    expect(outcomes(data)).toEqual({
      clone: "done",
      config: "done",
      resize: "skipped",
      cloudinit: "skipped",
      start: "failed",
      agent: "not_done",
    });
    expect(data).toMatchObject({ state: "partial", vm_state: "stopped", ready: false });
    expect(text).toContain("- start: failed");
    expect(text).toContain("Next: VM 112 exists and is kept.");
    expect(text).toContain("start_vm vmid=112");
    // Never deleted behind the person's back.
    expect((await changesSent()).filter((c) => c.startsWith("DELETE"))).toEqual([]);
    expect((await expectOk(client, "get_vm", { vmid: 112 })).data.status).toBe("stopped");
  });

  it("a resize that fails is an answer, and the start is not attempted", async () => {
    await sim.fail({
      count: 1,
      status: 500,
      message: "no space left",
      pathPrefix: "/nodes/pve2/qemu/112/resize",
    });
    const { data, text } = await ok({ template: "107", name: "web-5", disk_gb: 64 });
    expect(outcomes(data)).toMatchObject({
      clone: "done",
      resize: "failed",
      start: "not_done",
      agent: "not_done",
    });
    expect(text).toContain("resize_vm_disk vmid=112 disk=scsi0 size=64G, then start_vm");
    expect(await changesSent()).not.toContain("POST /nodes/pve2/qemu/112/status/start");
  });

  it("a wait that runs out answers in time with the state so far and how to follow", async () => {
    // A 12 s boot against a 5 s budget.
    await sim.agentSettings({ execTimeScale: 1 });
    const began = Date.now();
    const { data, text } = await ok({ template: "107", name: "slow", wait_seconds: 5 });
    expect(Date.now() - began).toBeLessThan(9000);
    expect(data).toMatchObject({ state: "running", vm_state: "running", ready: false, addresses: [] });
    expect(outcomes(data).agent).toBe("running");
    expect(text).toContain("guest agent has not answered within 5 s");
    expect(text).toContain("guest_get vmid=112 what=network-interfaces");
    expect(data.ssh).toBeUndefined();
  });

  it("a clone that outlasts the wait: answered in time, tracked, and how to follow", async () => {
    await sim.settings({ taskDurationMs: 8000 });
    const { data, text } = await ok({ template: "107", name: "big", wait_seconds: 5 });
    expect(data).toMatchObject({ state: "running", vm_state: "cloning", ready: false });
    expect(outcomes(data)).toMatchObject({ clone: "running", config: "not_done", start: "not_done" });
    expect(data.upid).toMatch(/:qmclone:107:/);
    expect(text).toContain("wait_for_task with its upid");
    const tracked = await expectOk(client, "get_tracked_tasks", {});
    expect(tracked.text).toMatch(/qmclone:107/);
  });

  it("a template with the agent off: says so and how to fix the template, without waiting", async () => {
    const res = await api("/nodes/pve2/qemu/107/config", {
      method: "PUT",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "agent=0",
    });
    expect(res.status).toBe(200);
    await sim.clearRequests();
    const { data, text } = await ok({ template: "107", name: "noagent" });
    expect(data).toMatchObject({ state: "done", vm_state: "running", ready: false });
    expect(data.steps.at(-1)).toMatchObject({ step: "agent", outcome: "skipped" });
    expect(text).toContain("has the QEMU guest agent off");
    expect(text).toContain("install qemu-guest-agent");
    expect((await sim.requests()).some((r) => r.path.includes("/agent/"))).toBe(false);
  });

  it("bad arguments are refused with no request at all", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ template: "107", name: "x", sshkeys: "not a key" }, "sshkeys line 1 is not an OpenSSH public key"],
      [{ template: "107", name: "x", ip: "10.0.0.300/24" }, "ip must be dhcp"],
      [{ template: "107", name: "x", ip: "dhcp,ip6=auto" }, "ip may only hold ip and gw"],
      [{ template: "107", name: "x", memory: 8 }, "memory must be at least 16"],
      [{ template: "107", name: "bad_name" }, "name"],
      [{ template: "107", name: "x", cores: [2] }, "cores must be a number"],
    ];
    for (const [args, message] of cases) {
      expect(await fails(args)).toContain(message);
    }
    expect(await sim.requests()).toEqual([]);
  });

  it("unknown template, not a template, taken vmid, balloon above memory: refused before any change", async () => {
    expect(await fails({ template: "no-such", name: "x" })).toMatch(
      /^There is no VM named 'no-such'\. Templates: 107 'ubuntu-2404-template'\.$/,
    );
    expect(await fails({ template: "100", name: "x" })).toContain("is not a template");
    expect(await fails({ template: "999", name: "x" })).toContain("There is no VM or container with ID 999");
    expect(await fails({ template: "107", name: "x", storage: "nope" })).toContain(
      "Storage 'nope' does not hold VM disks on pve2",
    );
    expect(await fails({ template: "pihole", name: "x" })).toContain("is not a template");
    expect(await fails({ template: "107", name: "x", newid: 101 })).toContain("VM ID 101 is already taken");
    expect(await fails({ template: "107", name: "x", memory: 1024, balloon: 2048 })).toContain(
      "balloon (2048 MiB) must not exceed memory (1024 MiB)",
    );
    expect(await fails({ template: "107", name: "x", node: "pve1" })).toContain(
      "has disks on local storage (local-lvm), which pve1 cannot reach",
    );
    expect(await fails({ template: "107", name: "x", full: false, storage: "local-lvm" })).toContain(
      "storage applies to full clones only",
    );
    expect(await changesSent()).toEqual([]);
  });
});

describe("provision_vm under the allowlists", () => {
  it("refuses a template, a new ID or a node outside them, with no change sent", async () => {
    const fenced = { ...env, PVE_ALLOWED_VMIDS: "100-105,150-160", PVE_ALLOWED_NODES: "pve1,pve2" } as Env;
    const owner = await connect("2025-11-25", (request) => serveMcp(request, fenced, LOCAL_GRANT));
    const base = { name: "web-9", ciuser: "debian", sshkeys: KEY, ip: "dhcp" };
    expect(await expectError(owner, "provision_vm", { ...base, template: "107", newid: 150 })).toContain(
      "Guest 107 is outside PVE_ALLOWED_VMIDS",
    );
    // 107 lives on pve2; a new ID outside the list is refused too.
    const wide = { ...fenced, PVE_ALLOWED_VMIDS: "100-107" } as Env;
    const other = await connect("2025-11-25", (request) => serveMcp(request, wide, LOCAL_GRANT));
    expect(await expectError(other, "provision_vm", { ...base, template: "107", newid: 170 })).toContain(
      "Guest 170 is outside PVE_ALLOWED_VMIDS",
    );
    expect(
      await expectError(other, "provision_vm", { ...base, template: "107", newid: 106, node: "pve3" }),
    ).toMatch(/pve3 is outside PVE_ALLOWED_NODES|Node pve3/);
    await owner.close();
    await other.close();
    expect(await changesSent()).toEqual([]);
  });
});
