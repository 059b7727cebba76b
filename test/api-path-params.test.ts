import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { operationByKey } from "../src/api/index";
import { prepare } from "../src/api/validate";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { sim } from "./helpers/sim";

/**
 * Path parameters come from the path template, not from the operation's schema: 9.2's
 * /cluster/sdn/prefix-lists/{id}/entries/{url_seq} declares no url_seq, and every call to it was
 * refused as "not a parameter" whatever the values.
 */

const ENTRY = "/cluster/sdn/prefix-lists/{id}/entries/{url_seq}";

describe("path parameters the schema omits", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-11-25");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.clearRequests();
  });

  it("the index gives url_seq a schema of its own, beside the declared id", () => {
    const op = operationByKey(`GET ${ENTRY}`);
    expect(op?.pathParams).toEqual(["id", "url_seq"]);
    expect(op?.params.url_seq).toMatchObject({ type: "string" });
    expect(op?.params.id).toMatchObject({ format: "pve-sdn-prefix-list-id" });
    const put = operationByKey(`PUT ${ENTRY}`) as NonNullable<ReturnType<typeof operationByKey>>;
    expect(prepare(put, { id: "pl1", url_seq: "10" }, { action: "permit" })).toEqual({
      wire: { id: "pl1", url_seq: "10", action: "permit" },
      errors: [],
    });
  });

  it("read_api sends the request instead of refusing url_seq", async () => {
    await client.call("read_api", { path: "/cluster/sdn/prefix-lists/pl1/entries/10" });
    const sent = (await sim.requests()).map((r) => `${r.method} ${r.path}`);
    expect(sent).toContain("GET /cluster/sdn/prefix-lists/pl1/entries/10");
  });

  it("write_api previews the change; the declared parameters are still checked", async () => {
    const preview = await expectOk(client, "write_api", {
      method: "PUT",
      path: "/cluster/sdn/prefix-lists/pl1/entries/10",
      params: { action: "permit" },
    });
    expect(preview.data.state).toBe("needs_confirm");
    expect(preview.text).not.toContain("url_seq: not a parameter");
    const bad = await expectError(client, "write_api", {
      method: "PUT",
      path: "/cluster/sdn/prefix-lists/pl1/entries/10",
      params: { action: "allow" },
    });
    expect(bad).toContain("action: value 'allow' does not have a value in the enumeration 'permit, deny'");
    const badId = await expectError(client, "read_api", { path: "/cluster/sdn/prefix-lists/-x/entries/10" });
    expect(badId).toContain("invalid prefix list id '-x'");
    const changed = (await sim.requests()).filter((r) => r.method !== "GET");
    expect(changed).toEqual([]);
  });
});
