import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, expectOk, type TestClient, tableRows } from "./helpers/mcp";
import { data } from "./helpers/pve";
import { sim } from "./helpers/sim";

/**
 * What a big answer costs a model (issue 7's budget): on a 500-guest cluster, text plus structured
 * content must be at least 3 times smaller than the raw Proxmox JSON for the same rows, and still
 * carry every row.
 */
describe("answers on a 500-guest cluster", () => {
  let client: TestClient;
  let raw: Record<string, unknown>[];

  beforeAll(async () => {
    await sim.reset({ nodes: 3, guests: 500 });
    client = await connect("2025-11-25");
    raw = await data<Record<string, unknown>[]>("/cluster/resources");
  });
  afterAll(async () => {
    await client.close();
    await sim.reset();
  });

  const size = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;
  const answerSize = (answer: { text: string; data: unknown }) =>
    new TextEncoder().encode(answer.text).length + size(answer.data);

  it("get_vms: every VM, at least 3 times smaller than Proxmox's rows", async () => {
    const vms = raw.filter((row) => row.type === "qemu");
    const answer = await expectOk(client, "get_vms", { limit: 5000 });
    const rows = tableRows(answer.data as never);
    expect(rows.map((row) => row.vmid)).toEqual(
      vms.map((vm) => vm.vmid).sort((a, b) => Number(a) - Number(b)),
    );
    const first = vms[0] as { vmid: number; name: string; node: string; maxmem: number };
    expect(rows.find((row) => row.vmid === first.vmid)).toMatchObject({
      name: first.name,
      node: first.node,
      maxmem_gib: Math.round((first.maxmem / 2 ** 30) * 100) / 100,
    });
    expect(
      answer.text
        .split("\n")
        .slice(1)
        .filter((line) => /^\d+ /.test(line)),
    ).toHaveLength(vms.length);
    expect(size({ data: vms }) / answerSize(answer)).toBeGreaterThanOrEqual(3);
  });

  it("get_cluster_resources: every resource, at least 3 times smaller than Proxmox's rows", async () => {
    const answer = await expectOk(client, "get_cluster_resources", { limit: 5000 });
    expect(answer.data.total).toBe(raw.length);
    const shown = ["nodes", "vms", "containers", "storages", "other"].reduce(
      (sum, section) => sum + tableRows(answer.data[section]).length,
      0,
    );
    expect(shown).toBe(raw.length);
    expect(size({ data: raw }) / answerSize(answer)).toBeGreaterThanOrEqual(3);
  });
});
