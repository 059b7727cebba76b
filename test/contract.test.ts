// The protocol-era contract: what must hold for a client of each MCP revision the server serves.
// Tool behaviour is tested once, in TOOL_ERA, by the other files; here each era gets the paths
// whose wire form differs between revisions and SDKs: initialize, tools/list, a read, a change
// with progress notifications, a tool error and a protocol error, and a resource read.
import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DASHBOARD_URI } from "../src/tools/dashboard";
import { PRODUCT } from "../src/version";
import { connect, ERAS, type TestClient, textOf } from "./helpers/mcp";
import { sim } from "./helpers/sim";

/** The listing each era was sent, compared across eras at the end. */
const listings = new Map<string, string>();

describe.each(ERAS)("MCP %s", (era) => {
  let client: TestClient;
  /** The MCP-Protocol-Version header of every request after initialize. */
  const versionHeaders: (string | null)[] = [];

  beforeAll(async () => {
    let first = true;
    client = await connect(era, (request) => {
      if (!first) versionHeaders.push(request.headers.get("mcp-protocol-version"));
      first = false;
      return exports.default.fetch(request);
    });
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
  });

  it("initialize: the product answers, and the client goes on in the revision it asked for", async () => {
    expect(client.serverInfo()).toMatchObject({ name: PRODUCT.name, version: PRODUCT.version });
    await client.listTools();
    expect(versionHeaders.length).toBeGreaterThan(0);
    expect(new Set(versionHeaders)).toEqual(new Set([era]));
  });

  it("tools/list: every tool with a flat object input, an output schema and annotations", async () => {
    const tools = await client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(56);
    for (const tool of tools) {
      expect(tool.inputSchema, tool.name).toMatchObject({ type: "object" });
      expect(tool.outputSchema, tool.name).toMatchObject({ type: "object" });
      expect(tool.annotations, tool.name).toBeDefined();
    }
    listings.set(era, JSON.stringify(tools));
  });

  it("a read: text and structured content", async () => {
    const result = await client.call("get_nodes");
    expect(result.isError ?? false, textOf(result)).toBe(false);
    expect(textOf(result)).toMatch(/^pve1: online/m);
    expect((result.structuredContent as { nodes: unknown[] }).nodes).toHaveLength(3);
  });

  it("a change with progress: rising notifications, then the task's outcome", async () => {
    await sim.settings({ taskDurationMs: 1500 });
    const seen: { progress: number; message?: string }[] = [];
    const result = await client.callWithProgress("start_vm", { vmid: 103 }, (p) => seen.push(p));
    expect(result.isError ?? false, textOf(result)).toBe(false);
    expect(result.structuredContent).toMatchObject({
      state: "done",
      action: "Start VM 103 'win11' on pve1",
      exitstatus: "OK",
    });
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen[0]?.message).toMatch(/elapsed/);
    const vm = await client.call("get_vm", { vmid: 103 });
    expect(vm.structuredContent).toMatchObject({ status: "running" });
  });

  it("errors: a tool's error is a result; an unknown tool is refused by the protocol", async () => {
    const missing = await client.call("get_vm", { vmid: 999 });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/999/);
    const bad = await client.call("get_vm", { vmid: "not a number" });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/vmid/);
    const unknown = await client.call("get_everything", {}).catch((error: Error) => error);
    const message = unknown instanceof Error ? unknown.message : textOf(unknown);
    expect(message).toMatch(/get_everything/);
  });

  it("resources/read: the dashboard's view", async () => {
    const [view] = await client.readResource(DASHBOARD_URI);
    expect(view).toMatchObject({ uri: DASHBOARD_URI, mimeType: "text/html;profile=mcp-app" });
    expect(view?.text).toMatch(/^<!doctype html>/);
  });
});

describe("across eras", () => {
  it("every era is sent the same tool listing", () => {
    expect([...listings.keys()].sort()).toEqual([...ERAS].sort());
    const [first, ...rest] = [...listings.values()];
    for (const listing of rest) expect(listing).toBe(first);
  });
});
