// Node network configuration in the simulator: interfaces with pending changes kept as
// /etc/network/interfaces.new, their diff, revert, and apply as a `srvreload` task.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
  api,
  control,
  data,
  form,
  post,
  put,
  type Row,
  refused,
  SIM_TOKEN,
  taskFinished,
} from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

/** The list with its envelope (`changes` sits beside `data`). */
async function listing(node = "pve1", query = ""): Promise<{ data: Row[]; changes?: string }> {
  const res = await env.PVE!.fetch(`http://pve/api2/json/nodes/${node}/network${query}`, {
    headers: { Authorization: SIM_TOKEN },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { data: Row[]; changes?: string };
}

describe("node network", () => {
  it("lists NICs, a bond, two bridges and a VLAN, with no pending changes", async () => {
    const { data: ifaces, changes } = await listing();
    expect(changes).toBeUndefined();
    expect(ifaces.map((i) => [i.iface, i.type])).toEqual([
      ["bond0", "bond"],
      ["eno1", "eth"],
      ["eno2", "eth"],
      ["enp1s0f0", "eth"],
      ["enp1s0f1", "eth"],
      ["vmbr0", "bridge"],
      ["vmbr1", "bridge"],
      ["vmbr1.50", "vlan"],
    ]);
    const byName = new Map(ifaces.map((i) => [i.iface, i]));
    expect(byName.get("vmbr0")).toMatchObject({
      method: "static",
      address: "192.168.1.11",
      netmask: "24",
      cidr: "192.168.1.11/24",
      gateway: "192.168.1.1",
      bridge_ports: "eno1",
      autostart: 1,
      active: 1,
      families: ["inet"],
    });
    expect(byName.get("bond0")).toMatchObject({
      slaves: "enp1s0f0 enp1s0f1",
      bond_mode: "802.3ad",
      bond_xmit_hash_policy: "layer3+4",
      active: 1,
    });
    expect(byName.get("vmbr1")).toMatchObject({
      bridge_vlan_aware: 1,
      bridge_vids: "2-4094",
      bridge_ports: "bond0",
    });
    expect(byName.get("vmbr1.50")).toMatchObject({
      "vlan-raw-device": "vmbr1",
      "vlan-id": 50,
      cidr: "10.10.50.11/24",
    });
    expect(byName.get("eno1")).toMatchObject({ exists: 1, active: 1, method: "manual" });
    expect(byName.get("eno2")).toMatchObject({ exists: 1 });
    expect(byName.get("eno2")?.active).toBeUndefined();
    expect((await listing("pve1", "?type=bridge")).data.map((i) => i.iface)).toEqual(["vmbr0", "vmbr1"]);
    expect((await listing("pve1", "?type=any_bridge")).data.map((i) => i.iface)).toEqual(["vmbr0", "vmbr1"]);
    expect((await listing("pve1", "?type=bond")).data.map((i) => i.iface)).toEqual(["bond0"]);
    expect(await data("/nodes/pve2/network/vmbr0")).toMatchObject({
      type: "bridge",
      address: "192.168.1.12",
    });
  });

  it("keeps a new bridge pending with its diff, then applies it in a srvreload task", async () => {
    await post("/nodes/pve1/network", {
      iface: "vmbr2",
      type: "bridge",
      bridge_ports: "eno2",
      cidr: "10.20.0.1/24",
      autostart: 1,
      comments: "Lab",
    });
    const pending = await listing();
    expect(pending.data.find((i) => i.iface === "vmbr2")).toMatchObject({
      type: "bridge",
      method: "static",
      address: "10.20.0.1",
      netmask: "24",
      autostart: 1,
    });
    // Not running yet: the kernel still has the old configuration.
    expect(pending.data.find((i) => i.iface === "vmbr2")?.active).toBeUndefined();
    expect(pending.changes).toMatch(
      /^--- \/etc\/network\/interfaces\t\d{4}-\d\d-\d\d .*\n\+\+\+ \/etc\/network\/interfaces\.new\t/,
    );
    expect(pending.changes).toContain(
      "\n+auto vmbr2\n+iface vmbr2 inet static\n+\taddress 10.20.0.1/24\n+\tbridge-ports eno2\n",
    );
    expect(pending.changes).toMatch(/\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);

    const upid = await put<string>("/nodes/pve1/network", {});
    expect(upid).toMatch(
      /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:srvreload:networking:root@pam!mcp:$/,
    );
    expect(await taskFinished(upid)).toMatchObject({ exitstatus: "OK", type: "srvreload", id: "networking" });
    const applied = await listing();
    expect(applied.changes).toBeUndefined();
    expect(applied.data.find((i) => i.iface === "vmbr2")).toMatchObject({ active: 1 });
  });

  it("reverts pending changes", async () => {
    await put("/nodes/pve1/network/vmbr0", { type: "bridge", mtu: 9000 });
    await data("/nodes/pve1/network/vmbr1.50", { method: "DELETE" });
    let pending = await listing();
    expect(pending.changes).toContain("+\tmtu 9000");
    expect(pending.changes).toContain("-iface vmbr1.50 inet static");
    expect(pending.data.some((i) => i.iface === "vmbr1.50")).toBe(false);
    await data("/nodes/pve1/network", { method: "DELETE" });
    pending = await listing();
    expect(pending.changes).toBeUndefined();
    expect(pending.data.find((i) => i.iface === "vmbr0")?.mtu).toBeUndefined();
    expect(pending.data.some((i) => i.iface === "vmbr1.50")).toBe(true);
  });

  it("creates a bond and a VLAN, and updates and deletes settings", async () => {
    await post("/nodes/pve3/network", {
      iface: "bond1",
      type: "bond",
      slaves: "eno2",
      bond_mode: "active-backup",
      "bond-primary": "eno2",
    });
    await post("/nodes/pve3/network", {
      iface: "vlan30",
      type: "vlan",
      "vlan-raw-device": "bond1",
      cidr: "10.30.0.3/24",
    });
    expect(await data("/nodes/pve3/network/bond1")).toMatchObject({
      type: "bond",
      slaves: "eno2",
      bond_mode: "active-backup",
      "bond-primary": "eno2",
    });
    expect(await data("/nodes/pve3/network/vlan30")).toMatchObject({
      type: "vlan",
      "vlan-id": 30,
      "vlan-raw-device": "bond1",
    });
    await put("/nodes/pve3/network/vlan30", { type: "vlan", delete: "cidr", comments: "no address" });
    expect(await data("/nodes/pve3/network/vlan30")).toMatchObject({
      method: "manual",
      comments: "no address\n",
    });
    expect((await data<Row>("/nodes/pve3/network/vlan30")).address).toBeUndefined();
  });

  it("refuses what Proxmox refuses", async () => {
    expect(await refused("/nodes/pve1/network", form({ iface: "vmbr0", type: "bridge" }))).toMatchObject({
      status: 400,
      errors: { iface: "interface already exists" },
    });
    expect(
      await refused("/nodes/pve1/network", form({ iface: "vmbr5", type: "bridge", bridge_ports: "eno1" })),
    ).toMatchObject({
      errors: { bridge_ports: "eno1 is already used on interface 'vmbr0'." },
    });
    expect(
      await refused(
        "/nodes/pve1/network",
        form({ iface: "vmbr5", type: "bridge", gateway: "10.0.0.1", cidr: "10.0.0.2/24" }),
      ),
    ).toMatchObject({
      errors: { gateway: "Default gateway already exists on interface 'vmbr0'." },
    });
    expect(
      await refused(
        "/nodes/pve1/network",
        form({
          iface: "vmbr5",
          type: "bridge",
          cidr: "10.0.0.2/24",
          address: "10.0.0.3",
          netmask: "255.255.255.0",
        }),
      ),
    ).toMatchObject({
      errors: { address: "address conflicts with cidr" },
    });
    expect(await refused("/nodes/pve1/network/vmbr9")).toMatchObject({
      status: 400,
      errors: { iface: "interface does not exist" },
    });
    expect(
      await refused("/nodes/pve1/network/vmbr9", form({ type: "bridge", mtu: 9000 }, "PUT")),
    ).toMatchObject({
      errors: { iface: "interface does not exist" },
    });
    // A bridge a guest's netN uses cannot go.
    expect(await refused("/nodes/pve1/network/vmbr0", { method: "DELETE" })).toMatchObject({
      status: 400,
      errors: { iface: "bridge 'vmbr0' is used by VM 100 (net0)" },
    });
    // vmbr1 is unused, so it can.
    await data("/nodes/pve1/network/vmbr1", { method: "DELETE" });
  });

  it("needs Sys.Modify on the node to change it, and hides bridges from callers without SDN rights", async () => {
    await post("/access/users", { userid: "net@pve" });
    const token = await post<Row>("/access/users/net@pve/token/ro", { privsep: 0 });
    const auth = `PVEAPIToken=net@pve!ro=${token.value}`;
    await put("/access/acl", { path: "/nodes/pve1", users: "net@pve", roles: "PVEAuditor" });
    const res = await api("/nodes/pve1/network", form({ iface: "vmbr7", type: "bridge" }), auth);
    expect(res.status).toBe(403);
    expect(((await res.json()) as Row).message).toBe("Permission check failed (/nodes/pve1, Sys.Modify)\n");
    const listed = (await (await api("/nodes/pve1/network", {}, auth)).json()) as { data: Row[] };
    expect(listed.data.map((i) => i.iface)).not.toContain("vmbr0");
    expect(listed.data.map((i) => i.iface)).toContain("bond0");
    const apply = await api("/nodes/pve1/network", { method: "PUT" }, auth);
    expect(apply.status).toBe(403);
  });
});

describe("network at scale", () => {
  it("gives every generated node its bond and bridges", async () => {
    await control("reset", { nodes: 6, guests: 50 });
    for (const node of ["pve1", "pve6"]) {
      const { data: ifaces } = await listing(node, "?type=any_bridge");
      expect(ifaces.map((i) => i.iface)).toEqual(["vmbr0", "vmbr1"]);
    }
    expect(await data("/nodes/pve6/network/vmbr0")).toMatchObject({ address: "192.168.1.16" });
  });
});
