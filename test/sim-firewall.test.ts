// The simulator's firewall at cluster, node and guest level, as pve-firewall answers it.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, form, post, put, type Row, refused, taskFinished } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const del = (path: string) => data(path, { method: "DELETE" });
const rulesOf = (path: string) => data<Row[]>(path);

describe("cluster firewall", () => {
  it("reads options with a digest and refuses a stale one", async () => {
    const opts = await data<Row>("/cluster/firewall/options");
    expect(opts).toMatchObject({ enable: 1, policy_in: "DROP", policy_out: "ACCEPT" });
    expect(opts.digest).toMatch(/^[0-9a-f]{40}$/);
    await put("/cluster/firewall/options", { policy_in: "REJECT", digest: String(opts.digest) });
    const after = await data<Row>("/cluster/firewall/options");
    expect(after.policy_in).toBe("REJECT");
    expect(after.digest).not.toBe(opts.digest);
    const stale = await refused(
      "/cluster/firewall/options",
      form({ ebtables: 0, digest: String(opts.digest) }, "PUT"),
    );
    expect(stale).toMatchObject({
      status: 500,
      message: "detected modified configuration - file changed by other user? Try again.\n",
    });
    const unknown = await refused("/cluster/firewall/options", form({ delete: "nosuch" }, "PUT"));
    expect(unknown).toMatchObject({ status: 400, errors: { delete: "no such option 'nosuch'" } });
    await put("/cluster/firewall/options", { delete: "policy_in" });
    expect(await data<Row>("/cluster/firewall/options")).not.toHaveProperty("policy_in");
  });

  it("lists rules by position with one list digest; a new rule goes first and starts disabled", async () => {
    const rules = await rulesOf("/cluster/firewall/rules");
    expect(rules.map((r) => r.pos)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(rules.map((r) => r.digest)).size).toBe(1);
    expect(rules[1]).toMatchObject({
      type: "in",
      action: "ACCEPT",
      proto: "tcp",
      dport: "8006",
      source: "+dc/management",
    });
    await post("/cluster/firewall/rules", { type: "in", action: "ACCEPT", macro: "https", source: "dc/lan" });
    const after = await rulesOf("/cluster/firewall/rules");
    expect(after).toHaveLength(6);
    // Macro names match case-insensitively and are stored as Proxmox spells them.
    expect(after[0]).toMatchObject({ pos: 0, macro: "HTTPS", enable: 0, source: "dc/lan", ipversion: 4 });
    expect(after[1]?.comment).toBe("Known bad");
    expect(await data<Row>("/cluster/firewall/rules/0")).toMatchObject({ pos: 0, macro: "HTTPS" });
    expect(await refused("/cluster/firewall/rules/17")).toMatchObject({
      status: 500,
      message: "no rule at position 17\n",
    });
  });

  it("moves rules with moveto (before the rule at that position) and checks digests on change", async () => {
    const before = await rulesOf("/cluster/firewall/rules");
    const comments = (rs: Row[]) => rs.map((r) => r.comment ?? r.macro);
    expect(comments(before)).toEqual(["Known bad", "Web GUI", "SSH", "Ping", "VNC consoles"]);
    await put("/cluster/firewall/rules/0", { moveto: 3, digest: String(before[0]?.digest) });
    expect(comments(await rulesOf("/cluster/firewall/rules"))).toEqual([
      "Web GUI",
      "SSH",
      "Known bad",
      "Ping",
      "VNC consoles",
    ]);
    await put("/cluster/firewall/rules/4", { moveto: 0 });
    expect(comments(await rulesOf("/cluster/firewall/rules"))).toEqual([
      "VNC consoles",
      "Web GUI",
      "SSH",
      "Known bad",
      "Ping",
    ]);
    await put("/cluster/firewall/rules/1", { moveto: 99 });
    expect(comments(await rulesOf("/cluster/firewall/rules")).at(-1)).toBe("Web GUI");
    const stale = await refused(
      "/cluster/firewall/rules/0",
      form({ enable: 1, digest: String(before[0]?.digest) }, "PUT"),
    );
    expect(stale.message).toBe("detected modified configuration - file changed by other user? Try again.\n");
    const staleDelete = await refused(`/cluster/firewall/rules/0?digest=${before[0]?.digest}`, {
      method: "DELETE",
    });
    expect(staleDelete.status).toBe(500);
    await put("/cluster/firewall/rules/0", { enable: 1, comment: "consoles", delete: "dport" });
    expect(await data<Row>("/cluster/firewall/rules/0")).toMatchObject({
      enable: 1,
      comment: "consoles",
      proto: "tcp",
    });
    expect(await data<Row>("/cluster/firewall/rules/0")).not.toHaveProperty("dport");
    expect((await refused("/cluster/firewall/rules/0", form({ delete: "action" }, "PUT"))).errors).toEqual({
      delete: "unable to delete required property 'action'",
    });
    expect((await refused("/cluster/firewall/rules/0", form({ delete: "color" }, "PUT"))).errors).toEqual({
      delete: "no such property ('color')",
    });
    await del("/cluster/firewall/rules/0");
    expect(await rulesOf("/cluster/firewall/rules")).toHaveLength(4);
  });

  it("validates rule fields as pve-firewall does", async () => {
    const make = (fields: Record<string, string>) => refused("/cluster/firewall/rules", form(fields));
    expect((await make({ type: "in", action: "ACCEPT", macro: "Nope" })).errors).toEqual({
      macro: "unknown macro 'Nope'",
    });
    expect((await make({ type: "in", action: "ACCEPT", dport: "22" })).errors).toEqual({
      proto: "missing property - 'dport' requires this property",
    });
    expect((await make({ type: "in", action: "ACCEPT", proto: "gre", dport: "22" })).errors).toEqual({
      dport: "protocol 'gre' does not support ports",
    });
    expect((await make({ type: "in", action: "ALLOW" })).errors).toEqual({
      action: "unknown action 'ALLOW'",
    });
    expect((await make({ type: "in", action: "ACCEPT", source: "nosuch" })).errors).toEqual({
      source: "no such alias 'nosuch'",
    });
    expect((await make({ type: "in", action: "ACCEPT", source: "+nosuch" })).errors).toEqual({
      source: "no such ipset 'nosuch'",
    });
    expect((await make({ type: "group", action: "nosuch" })).errors).toEqual({
      action: "security group 'nosuch' does not exist",
    });
    // Formats are checked before the handler runs, with the verifiers' messages.
    const badPort = await make({ type: "in", action: "ACCEPT", proto: "tcp", dport: "70000" });
    expect(badPort).toMatchObject({
      status: 400,
      errors: { dport: "invalid format - invalid port '70000'\n" },
    });
    const backwards = await make({ type: "in", action: "ACCEPT", proto: "tcp", dport: "90:80" });
    expect(backwards.errors?.dport).toBe(
      "invalid format - backwards range '90:80' not allowed, did you mean '80:90'?\n",
    );
    const mixed = await make({ type: "in", action: "ACCEPT", source: "10.0.0.1,fe80::1" });
    expect(mixed.errors?.source).toBe(
      "invalid format - detected mixed ipv4/ipv6 adresses in address list '10.0.0.1,fe80::1'\n",
    );
    expect((await make({ type: "sideways", action: "ACCEPT" })).errors?.type).toMatch(/enumeration/);
    expect((await rulesOf("/cluster/firewall/rules")).length).toBe(5);
  });
});

describe("security groups", () => {
  it("creates, renames, fills and deletes groups; a group cannot jump to a group", async () => {
    const groups = await data<Row[]>("/cluster/firewall/groups");
    expect(groups).toEqual([
      {
        group: "webserver",
        comment: "HTTP and HTTPS from anywhere",
        digest: expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    ]);
    await post("/cluster/firewall/groups", { group: "dns", comment: "resolvers" });
    expect((await refused("/cluster/firewall/groups", form({ group: "dns" }))).errors).toEqual({
      group: "Security group 'dns' already exists",
    });
    const digest = String((await data<Row[]>("/cluster/firewall/groups"))[0]?.digest);
    await post("/cluster/firewall/groups", { group: "resolver", rename: "dns", digest });
    expect((await data<Row[]>("/cluster/firewall/groups")).map((g) => g.group)).toEqual([
      "resolver",
      "webserver",
    ]);
    await post("/cluster/firewall/groups/resolver", {
      type: "in",
      action: "ACCEPT",
      macro: "DNS",
      enable: 1,
    });
    expect(await data<Row[]>("/cluster/firewall/groups/resolver")).toEqual([
      expect.objectContaining({ pos: 0, macro: "DNS", enable: 1, type: "in" }),
    ]);
    const nested = await refused(
      "/cluster/firewall/groups/resolver",
      form({ type: "group", action: "webserver" }),
    );
    expect(nested.errors).toEqual({ type: "security groups not allowed" });
    expect(await refused("/cluster/firewall/groups/resolver", { method: "DELETE" })).toMatchObject({
      status: 500,
      message: "Security group 'resolver' is not empty\n",
    });
    await del("/cluster/firewall/groups/resolver/0");
    await del("/cluster/firewall/groups/resolver");
    expect((await data<Row[]>("/cluster/firewall/groups")).map((g) => g.group)).toEqual(["webserver"]);
    expect(await refused("/cluster/firewall/groups/nosuch")).toMatchObject({
      message: "no such security group 'nosuch'\n",
    });
  });
});

describe("aliases, IP sets, refs and macros", () => {
  it("keeps aliases with digests, renames and refuses duplicates", async () => {
    const list = await data<Row[]>("/cluster/firewall/aliases");
    expect(list.map((a) => [a.name, a.cidr, a.ipversion])).toEqual([
      ["lan", "192.168.1.0/24", 4],
      ["nas", "192.168.1.50", 4],
    ]);
    await post("/cluster/firewall/aliases", { name: "ipv6lan", cidr: "fd00::/64", comment: "ULA" });
    expect(await data<Row>("/cluster/firewall/aliases/ipv6lan")).toMatchObject({
      cidr: "fd00::/64",
      ipversion: 6,
    });
    expect(
      (await refused("/cluster/firewall/aliases", form({ name: "LAN", cidr: "10.0.0.0/8" }))).errors,
    ).toEqual({
      name: "alias 'LAN' already exists",
    });
    expect(
      (await refused("/cluster/firewall/aliases", form({ name: "x1", cidr: "10.0.0.0/40" }))).errors,
    ).toEqual({
      cidr: "invalid format - value does not look like a valid IP address or CIDR network\n",
    });
    const digest = String(list[0]?.digest);
    const stale = await refused(
      "/cluster/firewall/aliases/nas",
      form({ cidr: "192.168.1.51", digest }, "PUT"),
    );
    expect(stale.status).toBe(500);
    await put("/cluster/firewall/aliases/nas", { cidr: "192.168.1.51", rename: "storage" });
    expect(await data<Row>("/cluster/firewall/aliases/storage")).toMatchObject({ cidr: "192.168.1.51" });
    expect((await refused("/cluster/firewall/aliases/nas")).errors).toEqual({ name: "no such alias" });
    await del("/cluster/firewall/aliases/storage");
    expect((await data<Row[]>("/cluster/firewall/aliases")).map((a) => a.name)).toEqual(["ipv6lan", "lan"]);
  });

  it("manages IP sets and their entries", async () => {
    expect((await data<Row[]>("/cluster/firewall/ipset")).map((s) => s.name)).toEqual([
      "blocklist",
      "management",
    ]);
    const entries = await data<Row[]>("/cluster/firewall/ipset/management");
    expect(entries.map((e) => e.cidr)).toEqual(["10.8.0.0/24", "192.168.1.20", "192.168.1.21"]);
    await post("/cluster/firewall/ipset/management", {
      cidr: "10.9.0.0/24",
      nomatch: 1,
      comment: "not these",
    });
    expect(await data<Row>("/cluster/firewall/ipset/management/10.9.0.0%2F24")).toMatchObject({
      nomatch: 1,
      comment: "not these",
    });
    expect((await data<Row[]>("/cluster/firewall/ipset/management")).map((e) => e.cidr)).toEqual([
      "10.8.0.0/24",
      "10.9.0.0/24",
      "192.168.1.20",
      "192.168.1.21",
    ]);
    expect(
      (await refused("/cluster/firewall/ipset/management", form({ cidr: "192.168.1.20" }))).errors,
    ).toEqual({
      cidr: "address '192.168.1.20' already exists",
    });
    await post("/cluster/firewall/ipset/management", { cidr: "dc/lan" });
    expect(await refused("/cluster/firewall/ipset/management", form({ cidr: "ghost" }))).toMatchObject({
      status: 500,
      message: "no such alias 'ghost'\n",
    });
    expect(await refused("/cluster/firewall/ipset/management", { method: "DELETE" })).toMatchObject({
      message: "IPSet 'management' is not empty\n",
    });
    await post("/cluster/firewall/ipset", { name: "admins", rename: "management" });
    expect((await data<Row[]>("/cluster/firewall/ipset")).map((s) => s.name)).toEqual([
      "admins",
      "blocklist",
    ]);
    await del("/cluster/firewall/ipset/admins?force=1");
    expect(await refused("/cluster/firewall/ipset/admins")).toMatchObject({
      message: "no such IPSet 'admins'\n",
    });
  });

  it("lists references and macros", async () => {
    const refs = await data<Row[]>("/cluster/firewall/refs");
    expect(refs).toContainEqual({
      type: "ipset",
      name: "management",
      ref: "+dc/management",
      scope: "dc",
      comment: "Admin workstations",
    });
    expect(refs).toContainEqual({
      type: "alias",
      name: "lan",
      ref: "dc/lan",
      scope: "dc",
      comment: "Home network",
    });
    expect((await data<Row[]>("/cluster/firewall/refs?type=alias")).every((r) => r.type === "alias")).toBe(
      true,
    );
    const guest = await data<Row[]>("/nodes/pve1/qemu/101/firewall/refs");
    expect(guest[0]).toMatchObject({
      type: "alias",
      name: "monitoring",
      ref: "guest/monitoring",
      scope: "guest",
    });
    const macros = await data<Row[]>("/cluster/firewall/macros");
    expect(macros.length).toBeGreaterThan(50);
    expect(macros).toContainEqual({ macro: "SSH", descr: "Secure shell traffic" });
  });
});

describe("node and guest firewalls", () => {
  it("keeps host options and rules per node and logs what the rules let in", async () => {
    expect(await data<Row>("/nodes/pve2/firewall/options")).toMatchObject({
      enable: 1,
      nf_conntrack_max: 262144,
    });
    await put("/nodes/pve2/firewall/options", { log_level_in: "info", nftables: 1 });
    expect(await data<Row>("/nodes/pve2/firewall/options")).toMatchObject({
      log_level_in: "info",
      nftables: 1,
    });
    expect(await data<Row>("/nodes/pve1/firewall/options")).toMatchObject({ log_level_in: "nolog" });
    await post("/nodes/pve2/firewall/rules", {
      type: "in",
      action: "ACCEPT",
      macro: "SSH",
      log: "info",
      enable: 1,
    });
    expect((await rulesOf("/nodes/pve2/firewall/rules"))[0]).toMatchObject({ macro: "SSH", log: "info" });
    const res = await api("/nodes/pve2/firewall/log?limit=0");
    const body = (await res.json()) as { data: { n: number; t: string }[]; total: number };
    const packets = body.data.filter((l) => /ACCEPT|DROP/.test(l.t));
    expect(packets.length).toBeGreaterThan(0);
    expect(packets[0]?.t).toMatch(
      /^0 6 PVEFW-HOST-IN \d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000 (ACCEPT|DROP|policy DROP): /,
    );
    expect(body.total).toBe(body.data.length);
    const page = await data<{ n: number }[]>("/nodes/pve2/firewall/log?start=2&limit=3");
    expect(page.map((l) => l.n)).toEqual([3, 4, 5]);
    const future = Math.floor(Date.now() / 1000) + 60;
    expect(await data(`/nodes/pve2/firewall/log?since=${future}`)).toEqual([{ n: 1, t: "no content" }]);
    // Switching the cluster firewall off keeps every rule but nothing is applied any more.
    await put("/cluster/firewall/options", { enable: 0 });
    const off = await data<{ t: string }[]>("/nodes/pve2/firewall/log?limit=0");
    expect(off.filter((l) => /ACCEPT|DROP/.test(l.t))).toEqual([]);
    expect(await rulesOf("/nodes/pve2/firewall/rules")).toHaveLength(2);
  });

  it("serves a VM's firewall: options, rules with the group, its log, and refuses other nodes and types", async () => {
    expect(await data<Row>("/nodes/pve1/qemu/101/firewall/options")).toMatchObject({
      enable: 1,
      policy_in: "DROP",
    });
    const rules = await rulesOf("/nodes/pve1/qemu/101/firewall/rules");
    expect(rules[0]).toMatchObject({ type: "group", action: "webserver" });
    expect(rules[2]).toMatchObject({ source: "guest/monitoring", dport: "9100" });
    const log = await data<{ t: string }[]>("/nodes/pve1/qemu/101/firewall/log?limit=0");
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((l) => l.t.startsWith("101 "))).toBe(true);
    expect(log.some((l) => / tap101i0-IN .* ACCEPT: .*DPT=22 /.test(l.t))).toBe(true);
    await put("/nodes/pve1/qemu/101/firewall/options", { enable: 0 });
    expect(await data("/nodes/pve1/qemu/101/firewall/log")).toEqual([{ n: 1, t: "no content" }]);
    expect(await rulesOf("/nodes/pve1/qemu/101/firewall/rules")).toHaveLength(4);
    // Guest rules may only name the guest's NICs and cannot be forward rules.
    const iface = await refused(
      "/nodes/pve1/qemu/101/firewall/rules",
      form({ type: "in", action: "DROP", iface: "eth0" }),
    );
    expect(iface.errors).toEqual({ iface: "iface name 'eth0' does not match 'net\\d+'" });
    await post("/nodes/pve1/qemu/101/firewall/rules", {
      type: "in",
      action: "DROP",
      iface: "net0",
      source: "guest/monitoring",
    });
    expect(await refused("/nodes/pve2/qemu/101/firewall/rules")).toMatchObject({
      status: 500,
      message: "Configuration file 'nodes/pve2/qemu-server/101.conf' does not exist\n",
    });
    expect((await refused("/nodes/pve1/lxc/101/firewall/options")).message).toBe(
      "Configuration file 'nodes/pve1/lxc/101.conf' does not exist\n",
    );
  });

  it("gives a container its own aliases and IP sets; a disabled container firewall keeps its rules", async () => {
    expect(await data<Row>("/nodes/pve1/lxc/200/firewall/options")).toMatchObject({ enable: 0 });
    expect(await rulesOf("/nodes/pve1/lxc/200/firewall/rules")).toHaveLength(1);
    expect(await data("/nodes/pve1/lxc/200/firewall/log")).toEqual([{ n: 1, t: "no content" }]);
    await post("/nodes/pve1/lxc/200/firewall/aliases", { name: "upstream", cidr: "192.168.1.60" });
    await post("/nodes/pve1/lxc/200/firewall/ipset", { name: "clients" });
    await post("/nodes/pve1/lxc/200/firewall/ipset/clients", { cidr: "guest/upstream" });
    expect(await data<Row[]>("/nodes/pve1/lxc/200/firewall/ipset/clients")).toEqual([
      expect.objectContaining({ cidr: "guest/upstream" }),
    ]);
    expect(await data<Row[]>("/cluster/firewall/aliases")).toHaveLength(2);
    await post("/nodes/pve1/lxc/200/firewall/rules", {
      type: "in",
      action: "ACCEPT",
      source: "+guest/clients",
      enable: 1,
    });
    // A guest alias is not visible from the cluster firewall.
    expect(
      (
        await refused(
          "/cluster/firewall/rules",
          form({ type: "in", action: "ACCEPT", source: "guest/upstream" }),
        )
      ).errors,
    ).toEqual({
      source: "no such alias 'upstream'",
    });
  });
});

describe("guest firewall files follow the guests", () => {
  it("copies the firewall with a clone and removes it with the guest", async () => {
    await taskFinished(await post("/nodes/pve1/qemu/101/clone", { newid: 150, name: "web-02" }));
    const copied = await rulesOf("/nodes/pve1/qemu/150/firewall/rules");
    expect(copied.map((r) => r.action)).toEqual(["webserver", "ACCEPT", "ACCEPT", "ACCEPT"]);
    expect(await data<Row>("/nodes/pve1/qemu/150/firewall/options")).toMatchObject({ enable: 1 });
    await taskFinished(await data<string>("/nodes/pve1/qemu/150", { method: "DELETE" }));
    await taskFinished(await post("/nodes/pve1/qemu/100/clone", { newid: 150, name: "dns-02" }));
    expect(await rulesOf("/nodes/pve1/qemu/150/firewall/rules")).toEqual([]);
  });
});

describe("firewall permissions", () => {
  it("answers 403 with the privilege the schema names", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Modify"] });
    expect(await refused("/cluster/firewall/rules", form({ type: "in", action: "ACCEPT" }))).toMatchObject({
      status: 403,
      message: "Permission check failed (/, Sys.Modify)\n",
    });
    expect(await refused("/nodes/pve1/firewall/options", form({ enable: 0 }, "PUT"))).toMatchObject({
      status: 403,
      message: "Permission check failed (/nodes/pve1, Sys.Modify)\n",
    });
    expect(await rulesOf("/cluster/firewall/rules")).toHaveLength(5);
    await control("settings", { deniedPrivileges: ["VM.Config.Network", "Sys.Audit"] });
    expect(await refused("/nodes/pve1/qemu/101/firewall/options", form({ enable: 0 }, "PUT"))).toMatchObject({
      status: 403,
      message: "Permission check failed (/vms/101, VM.Config.Network)\n",
    });
    expect((await refused("/cluster/firewall/options")).message).toBe(
      "Permission check failed (/, Sys.Audit)\n",
    );
    expect(await data<Row>("/nodes/pve1/qemu/101/firewall/options")).toMatchObject({ enable: 1 });
    await control("settings", { deniedPrivileges: ["Sys.Syslog"] });
    expect((await refused("/nodes/pve1/firewall/log")).message).toBe(
      "Permission check failed (/nodes/pve1, Sys.Syslog)\n",
    );
  });
});
