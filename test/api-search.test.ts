import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";

/** search_api over MCP: everyday intents find the right operation, in a short answer. */

interface Found {
  method: string;
  path: string;
  scope?: string;
  required?: string[];
  example?: { tool: string; args: Record<string, unknown> };
  match?: number;
}

const keysOf = (data: Record<string, unknown>) =>
  (data.operations as Found[]).map((o) => `${o.method} ${o.path}`);

/** ../shared/search/intents-dev.json, handed over by the global setup; null when absent. */
const intents = inject("searchIntents");

describe("search_api", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });

  it.each([
    ["firewall rules of a VM", "GET /nodes/{node}/qemu/{vmid}/firewall/rules"],
    ["add a firewall rule to a container", "POST /nodes/{node}/lxc/{vmid}/firewall/rules"],
    ["HA resources", "GET /cluster/ha/resources"],
    ["node network interfaces", "GET /nodes/{node}/network"],
    ["create an API token for a user", "POST /access/users/{userid}/token/{tokenid}"],
    ["users", "GET /access/users"],
    ["storage configuration", "GET /storage/{storage}"],
    ["change the storage configuration", "PUT /storage/{storage}"],
    ["backup jobs", "GET /cluster/backup"],
    ["download an ISO", "POST /nodes/{node}/storage/{storage}/download-url"],
    ["restart a service", "POST /nodes/{node}/services/{service}/restart"],
    ["available package updates", "GET /nodes/{node}/apt/update"],
    ["RRD statistics of a VM", "GET /nodes/{node}/qemu/{vmid}/rrddata"],
  ])("%s → %s, in a short answer", async (query, expected) => {
    const { text, data } = await expectOk(client, "search_api", { query });
    const keys = data.operations.map((o: { method: string; path: string }) => `${o.method} ${o.path}`);
    expect(keys.slice(0, 3)).toContain(expected);
    expect(text).toContain(expected);
    expect(text.length).toBeLessThan(2 * 1024);
    expect(JSON.stringify(data).length).toBeLessThan(2 * 1024);
  });

  it.each([
    // A node, the host, the datacenter: their own operations, not a guest's.
    ["restart the host", "POST /nodes/{node}/status", /\/(qemu|lxc)\//],
    ["firewall log of the node", "GET /nodes/{node}/firewall/log", /\/(qemu|lxc)\//],
    ["datacenter firewall rules", "GET /cluster/firewall/rules", /^\w+ \/nodes\//],
    // A VM or a container: its own kind of guest first.
    ["reboot VM 101", "POST /nodes/{node}/qemu/{vmid}/status/reboot", /\/lxc\//],
    ["reboot container 101", "POST /nodes/{node}/lxc/{vmid}/status/reboot", /\/qemu\//],
  ])("%s steers to %s", async (query, expected, otherKind) => {
    const { data } = await expectOk(client, "search_api", { query });
    const keys = keysOf(data);
    expect(keys[0]).toBe(expected);
    const other = keys.findIndex((k) => otherKind.test(k));
    if (/host|node|datacenter/.test(query)) expect(other === -1 || other >= 3, keys.join("; ")).toBe(true);
  });

  it("each hit: scope from the classification, required parameters, an example call with the query's IDs", async () => {
    const { text, data } = await expectOk(client, "search_api", { query: "allow port 8443 into VM 130" });
    const rule = data.operations[0] as Found;
    expect(`${rule.method} ${rule.path}`).toBe("POST /nodes/{node}/qemu/{vmid}/firewall/rules");
    expect(rule).toMatchObject({
      scope: "write",
      required: ["action", "type"],
      match: 1,
      example: {
        tool: "write_api",
        args: {
          method: "POST",
          path: "/nodes/{node}/qemu/130/firewall/rules",
          params: { action: "<action>", type: "<in|out|forward|group>" },
        },
      },
    });
    expect(text).toContain("8443, 130 left out: numbers, IDs and names carry no weight");
    expect(text).toContain(
      'POST /nodes/{node}/qemu/{vmid}/firewall/rules (write scope) Create new rule. Required: action, type (+13 optional).\n  write_api {"method":"POST","path":"/nodes/{node}/qemu/130/firewall/rules","params":{"action":"<action>","type":"<in|out|forward|group>"}}',
    );
    const list = await expectOk(client, "search_api", { query: "firewall rules of VM 130" });
    expect(list.data.operations[0]).toMatchObject({
      method: "GET",
      path: "/nodes/{node}/qemu/{vmid}/firewall/rules",
      example: { tool: "read_api", args: { path: "/nodes/{node}/qemu/130/firewall/rules" } },
    });

    // Admin operations say so; a node named in the query and an enum value fill the path.
    const service = await expectOk(client, "search_api", { query: "restart pveproxy on node pve2" });
    expect(service.data.operations[0]).toMatchObject({
      method: "POST",
      path: "/nodes/{node}/services/{service}/restart",
      scope: "admin",
      example: { tool: "write_api", args: { method: "POST", path: "/nodes/pve2/services/pveproxy/restart" } },
    });
    // An HA resource is named by its guest.
    const ha = await expectOk(client, "search_api", { query: "stop managing VM 120 with HA" });
    expect(ha.data.operations[0]).toMatchObject({
      path: "/cluster/ha/resources/{sid}",
      example: { args: { method: "DELETE", path: "/cluster/ha/resources/120" } },
    });
  });

  it("numbers, IDs, addresses and names carry no weight", async () => {
    const plain = await expectOk(client, "search_api", { query: "allow port into VM" });
    for (const query of ["allow port 8443 into VM 130", "allow port 22 from 10.0.0.5 into VM 9001"]) {
      const { data } = await expectOk(client, "search_api", { query });
      expect(keysOf(data).slice(0, 3)).toEqual(keysOf(plain.data).slice(0, 3));
    }
  });

  it("never an empty answer: the best partial matches, and how well they match", async () => {
    const partial = await expectOk(client, "search_api", { query: "firewall rules of a hovercraft" });
    expect(partial.text).toMatch(
      /^No operation matches all of firewall, rules, hovercraft; best partial matches:/,
    );
    expect(partial.text).toContain("[matches firewall, rules: 2 of 3 words]");
    expect(partial.data.operations[0].match).toBeLessThan(1);
    expect(partial.data.operations[0].path).toMatch(/firewall\/rules/);

    const nothing = await expectOk(client, "search_api", { query: "xyzzy frobnicate" });
    expect(nothing.text).toMatch(/^No operation matches xyzzy, frobnicate; general operations:/);
    expect(nothing.data.operations.length).toBeGreaterThan(0);
    expect(nothing.data.operations[0].match).toBe(0);

    const numbers = await expectOk(client, "search_api", { query: "VM 101" });
    expect(numbers.text).toMatch(/^Matches for vm \(101 left out/);
    expect(numbers.data.operations[0].path).toMatch(/\/qemu/);
    expect(numbers.data.operations[0].example.args.path).toContain("/qemu/101");

    const onlyNumber = await expectOk(client, "search_api", { query: "101" });
    expect(onlyNumber.text).toMatch(/^No words to search by \(101 left out/);
    expect(onlyNumber.data.operations.length).toBeGreaterThan(0);

    // A path prefix nothing lives under: the whole API is searched, and the answer says so.
    const elsewhere = await expectOk(client, "search_api", { query: "firewall rules", path: "/nowhere" });
    expect(elsewhere.text).toMatch(/^No operation under \/nowhere: searched the whole API\./);
    expect(elsewhere.data.operations.length).toBeGreaterThan(0);
  });

  it("read_api and write_api name the nearest operations of an unknown path from the same engine", async () => {
    const typo = await expectError(client, "read_api", { path: "/nodes/pve1/qemu/101/firewall/rule" });
    expect(typo).toContain("Nearest operations: GET /nodes/{node}/qemu/{vmid}/firewall/rules;");
    const plural = await expectError(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/lxc/200/snapshots",
    });
    expect(plural).toContain("Nearest operations: POST /nodes/{node}/lxc/{vmid}/snapshot;");
    // search_api with a path alone that nothing lives under: refused, with the nearest ones.
    const under = await expectError(client, "search_api", { path: "/nodes/{node}/qemu/{vmid}/firwall" });
    expect(under).toContain("No operation under /nodes/{node}/qemu/{vmid}/firwall. Nearest operations: GET ");
    expect(under).toContain("/nodes/{node}/qemu/{vmid}/firewall");
  });

  it.skipIf(!intents)("the development set of everyday intents: at least 42 of 45 in the top 3", async () => {
    const misses: string[] = [];
    let top1 = 0;
    for (const { q, want } of intents ?? []) {
      const { data } = await expectOk(client, "search_api", { query: q });
      const keys = keysOf(data);
      if (want.includes(keys[0] as string)) top1++;
      if (!keys.slice(0, 3).some((k) => want.includes(k)))
        misses.push(`${q} → ${keys.slice(0, 3).join("; ")}`);
    }
    const total = intents?.length ?? 0;
    // The score is in the test's output; the misses say what to improve.
    console.log(`search intents: ${total - misses.length}/${total} in the top 3, ${top1}/${total} first`);
    expect(misses.length, misses.join("\n")).toBeLessThanOrEqual(3);
  });

  it("method and path prefix narrow the search", async () => {
    const { data } = await expectOk(client, "search_api", {
      query: "rules",
      method: "DELETE",
      path: "/cluster/firewall",
    });
    for (const op of data.operations) {
      expect(op.method).toBe("DELETE");
      expect(op.path.startsWith("/cluster/firewall")).toBe(true);
    }
    expect(data.operations.map((o: { path: string }) => o.path)).toContain("/cluster/firewall/rules/{pos}");
  });

  it("path alone gives one operation's full detail: parameters, privileges, scope", async () => {
    const { text, data } = await expectOk(client, "search_api", {
      path: "/nodes/{node}/qemu/{vmid}/firewall/rules",
      method: "POST",
    });
    expect(text).toMatch(/^POST \/nodes\/\{node\}\/qemu\/\{vmid\}\/firewall\/rules: Create new rule\./);
    expect(text).toContain("Scope: write (write_api). Proxmox checks: VM.Config.Network on /vms/{vmid}.");
    expect(text).toMatch(/\n {2}action\* \(string, 2\.\.20\) Rule action/);
    expect(text).toMatch(/\n {2}type\* \(in\|out\|forward\|group\) Rule type\./);
    const op = data.operations[0];
    expect(op).toMatchObject({
      method: "POST",
      scope: "write",
      privileges: "VM.Config.Network on /vms/{vmid}",
    });
    expect(op.params.find((p: { name: string }) => p.name === "log")).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["nolog", "info"]),
    });
  });

  it("a concrete path works too, and shows every method of it; denied operations say why", async () => {
    const { data } = await expectOk(client, "search_api", { path: "/nodes/pve1/qemu/101/snapshot" });
    expect(data.operations.map((o: { method: string }) => o.method)).toEqual(["GET", "POST"]);
    expect(data.operations.find((o: { method: string }) => o.method === "POST")).toMatchObject({
      task: true,
    });
    const shell = await expectOk(client, "search_api", { path: "/nodes/{node}/termproxy" });
    expect(shell.text).toContain("Never sent by this server: it opens a shell or console");
  });
});
