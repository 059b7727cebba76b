import { describe, expect, it } from "vitest";
import { connect, ERAS, textOf } from "./helpers/mcp";

describe.each(ERAS)("MCP %s", (era) => {
  it("lists tools and calls one", async () => {
    const client = await connect(era);
    const tools = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("get_vms");
    const result = await client.call("get_cluster_status");
    console.log(era, textOf(result));
    console.log(JSON.stringify(result.structuredContent));
    await client.close();
  });
});
