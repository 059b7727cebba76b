import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { api, data, form, post, refused } from "./helpers/pve";
import { sim } from "./helpers/sim";

/**
 * Nested pools (prod/db, PVE 8.1+). The per-pool path /pools/{poolid} cannot name them: Proxmox
 * decodes the whole path before routing, so "team%2Fdb" is two segments. The tools use the query
 * forms (GET /pools?poolid=, PUT /pools, DELETE /pools?poolid=) for every pool.
 */

beforeEach(async () => {
  await sim.reset();
});

describe("the simulator routes like Proxmox", () => {
  it("decodes the whole path before splitting it: /pools/a%2Fb is /pools/a/b, which does not exist", async () => {
    expect(await post("/pools", { poolid: "team" })).toBeNull();
    expect(await post("/pools", { poolid: "team/db", comment: "Databases" })).toBeNull();
    const encoded = await api("/pools/team%2Fdb");
    expect(encoded.status).toBe(501);
    expect(((await encoded.json()) as { message: string }).message).toBe(
      "Method 'GET /pools/team/db' not implemented\n",
    );
    expect((await refused("/pools/team%2Fdb", form({ comment: "x" }, "PUT"))).status).toBe(501);
    expect((await refused("/pools/team%2Fdb", { method: "DELETE" })).status).toBe(501);
    // The query forms name the nested pool.
    expect(await data("/pools?poolid=team%2Fdb")).toEqual([
      { poolid: "team/db", comment: "Databases", members: [] },
    ]);
    expect(await data("/pools", form({ poolid: "team/db", comment: "DB" }, "PUT"))).toBeNull();
    expect(await data("/pools?poolid=team%2Fdb", { method: "DELETE" })).toBeNull();
    expect((await refused("/pools?poolid=team%2Fdb")).message).toBe("pool 'team/db' does not exist\n");
  });
});

describe("pool tools use the query forms", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-11-25");
  });
  afterAll(async () => {
    await client.close();
  });

  it("create, read and delete a nested pool", async () => {
    await expectOk(client, "create_pool", { poolid: "team" });
    await expectOk(client, "create_pool", { poolid: "team/db", comment: "Databases" });
    await sim.clearRequests();
    const pool = await expectOk(client, "get_pool", { poolid: "team/db" });
    expect(pool.text).toBe('Pool team/db "Databases": 0 members');
    expect(pool.data).toEqual({ poolid: "team/db", comment: "Databases", members: [] });
    expect((await expectOk(client, "delete_pool", { poolid: "team/db", confirm: true })).text).toBe(
      "Deleted pool team/db.",
    );
    const sent = (await sim.requests()).map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`);
    expect(sent).toEqual([
      'GET /pools {"poolid":"team/db"}',
      'GET /pools {"poolid":"team/db"}',
      'DELETE /pools {"poolid":"team/db"}',
    ]);
    expect(await expectError(client, "get_pool", { poolid: "team/db" })).toBe(
      "There is no pool 'team/db'. get_pools lists the pools.",
    );
  });

  it("refuses '.' and '..' segments and more than three levels before any request", async () => {
    await sim.clearRequests();
    for (const poolid of ["prod/..", "../prod", "a/./b", "a/b/c/d", "team%2Fdb", "prod/"]) {
      expect(await expectError(client, "get_pool", { poolid })).toContain("poolid must be a pool name");
    }
    expect(await sim.requests()).toEqual([]);
  });
});
