// What tools/list sends, one snapshot per tool in test/__toolsnaps__ with its size in bytes: every
// change to a tool's name, title, description, schemas or annotations shows up as a reviewed diff,
// and the cost of the listing (paid in every conversation) is visible tool by tool.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type TestClient, TOOL_ERA } from "./helpers/mcp";

const UPDATE = "run `npm run test:update-toolsnaps` and review the diff in test/__toolsnaps__";
/** Set by `npm run test:update-toolsnaps`, which writes every snapshot afresh. */
const updating = (env as unknown as { TOOLSNAPS_UPDATE?: string }).TOOLSNAPS_UPDATE === "1";

describe("tools/list snapshots", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect(TOOL_ERA);
  });
  afterAll(async () => {
    await client.close();
  });

  it("each tool's listing is what its snapshot says, byte for byte", async () => {
    const tools = await client.listTools();
    const snapshots = new Set(inject("toolsnaps"));
    const names = tools.map((tool) => tool.name);
    expect
      .soft(
        names.filter((name) => !snapshots.has(name) && !updating),
        `tools without a snapshot: ${UPDATE}`,
      )
      .toEqual([]);
    expect
      .soft(
        [...snapshots].filter((name) => !names.includes(name)),
        `snapshots of tools no longer listed: ${UPDATE}`,
      )
      .toEqual([]);
    for (const tool of tools) {
      const listing = JSON.stringify(tool);
      const snapshot = { bytes: new TextEncoder().encode(listing).byteLength, listing: tool };
      await expect
        .soft(`${JSON.stringify(snapshot, null, 2)}\n`)
        .toMatchFileSnapshot(
          `./__toolsnaps__/${tool.name}.json`,
          `${tool.name}'s listing changed: ${UPDATE}`,
        );
    }
  });
});
