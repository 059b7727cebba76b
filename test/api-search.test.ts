import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, expectOk, type TestClient } from "./helpers/mcp";

/** search_api over MCP: everyday intents find the right operation, in a short answer. */

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
    ["storage configuration", "PUT /storage/{storage}"],
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
