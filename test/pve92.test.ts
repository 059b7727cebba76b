// Requests that were valid on Proxmox VE 9.1 and that 9.2 changed, for the operations the tools
// call (the 9.1 -> 9.2 schema diff of scripts/gen-pve-schema.mjs ENDPOINTS), each handled on
// purpose: the tools never send what 9.2 dropped, and the simulator refuses it as 9.2 does.
//  - POST /nodes/{node}/vzdump: `maxfiles` removed (retention is prune-backups).
//  - qemu create/config `serial[n]`: the pattern became (/dev/[^,]+|socket): no commas.
//  - lxc create/config `entrypoint`, `env`: control characters 0x0a-0x0f (newlines) refused.
//  - GET .../storage/{storage}/content: `size` became optional; `approximate-size` replaces it
//    where the exact size is costly (Proxmox Backup Server). Answers, not requests: the tools
//    read either.
//  - GET /cluster/resources: node rows gained `host-arch` (additive).
// Additive request changes (qemu `cpu` level, lxc `idmap` on mount points) need nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { data, form, refused } from "./helpers/pve";
import { replay } from "./helpers/replay";
import { sim } from "./helpers/sim";

let client: TestClient;
beforeAll(async () => {
  client = await connect("2026-07-28");
});
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.settings({ taskDurationMs: 100, authFailureDelayMs: 0 });
});

const NOT_IN_SCHEMA = "property is not defined in schema and the schema does not allow additional properties";

describe("vzdump without maxfiles", () => {
  it("the simulator refuses maxfiles like 9.2", async () => {
    const res = await refused("/nodes/pve1/vzdump", form({ vmid: 100, storage: "nas", maxfiles: 2 }));
    expect(res).toMatchObject({ status: 400, errors: { maxfiles: NOT_IN_SCHEMA } });
  });

  it("create_backup never sends it, even when a client passes it", async () => {
    await sim.clearRequests();
    await expectOk(client, "create_backup", { vmid: 100, storage: "nas" });
    const sent = (await sim.requests()).filter((r) => r.method === "POST" && r.path === "/nodes/pve1/vzdump");
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0]?.body ?? {}).sort()).toEqual(["compress", "mode", "storage", "vmid"]);
    await sim.clearRequests();
    const result = await client.call("create_backup", { vmid: 100, storage: "nas", maxfiles: 2 });
    const vzdumps = (await sim.requests()).filter((r) => r.path.endsWith("/vzdump"));
    expect(vzdumps.every((r) => !("maxfiles" in r.body))).toBe(true);
    // An unknown argument is dropped by the tool's input schema, never forwarded.
    expect(result.isError ?? false).toBe(false);
    expect(vzdumps).toHaveLength(1);
  });
});

describe("serial ports without commas", () => {
  it("the simulator takes a device or socket and refuses a comma, as 9.2's pattern does", async () => {
    const put = (value: string) => form({ serial0: value }, "PUT");
    expect((await refused("/nodes/pve1/qemu/103/config", put("/dev/ttyS0,x"))).errors).toEqual({
      serial0: "value does not match the regex pattern",
    });
    await data("/nodes/pve1/qemu/103/config", put("socket"));
    expect((await data<Record<string, string>>("/nodes/pve1/qemu/103/config")).serial0).toBe("socket");
    // A device passes the pattern and then meets the root check: an API token is not root@pam.
    expect(await refused("/nodes/pve1/qemu/103/config", put("/dev/ttyS1"))).toEqual({
      status: 500,
      message: "only root can modify 'serial0' config for real devices\n",
    });
  });

  it("update_vm passes the refusal on with the key it is about", async () => {
    const message = await expectError(client, "update_vm", { vmid: 103, extra: "serial0=/dev/ttyS0,x" });
    expect(message).toContain("serial0");
    expect((await data<Record<string, string>>("/nodes/pve1/qemu/103/config")).serial0).toBeUndefined();
  });
});

describe("container entrypoint and env without newlines", () => {
  it("the simulator refuses a newline in env and entrypoint, and takes a tab", async () => {
    const put = (fields: Record<string, string>) => form(fields, "PUT");
    expect((await refused("/nodes/pve1/lxc/201/config", put({ env: "A=1\nB=2" }))).errors).toEqual({
      env: "value does not match the regex pattern",
    });
    expect((await refused("/nodes/pve1/lxc/201/config", put({ entrypoint: "/sbin/init\n" }))).errors).toEqual(
      {
        entrypoint: "value does not match the regex pattern",
      },
    );
    await data("/nodes/pve1/lxc/201/config", put({ env: "A=1\tx\u0000B=2" }));
  });
});

describe("answers 9.2 changed", () => {
  it("storage content with approximate-size instead of size (9.2 schema shape)", async () => {
    // Hand-written from the 9.2 schema: a Proxmox Backup Server backup without `size`.
    const body = JSON.stringify({
      data: [
        {
          volid: "pbs:backup/vm/101/2026-05-01T02:00:00Z",
          content: "backup",
          format: "pbs-vm",
          ctime: 1777600800,
          vmid: 101,
          subtype: "qemu",
          "approximate-size": 34359738368,
        },
      ],
    });
    const r = await replay([], [{ path: "/nodes/pve1/storage/pbs/content", body }]);
    const result = await r.client.call("get_storage_content", { storage: "pbs", node: "pve1" });
    await r.client.close();
    expect(result.isError ?? false).toBe(false);
    const text = result.content.map((c) => c.text).join("\n");
    expect(text).toContain("pbs:backup/vm/101/2026-05-01T02:00:00Z");
    expect(text).toContain("32.0 GiB");
  });

  it("node rows of /cluster/resources carry host-arch on 9.2, not on 8.4", async () => {
    const nodes = await data<Record<string, unknown>[]>("/cluster/resources?type=node");
    expect(nodes.map((n) => n["host-arch"])).toEqual(["x86_64", "x86_64", "x86_64"]);
    await sim.version("8.4");
    const old = await data<Record<string, unknown>[]>("/cluster/resources?type=node");
    expect(old.some((n) => "host-arch" in n)).toBe(false);
  });
});
