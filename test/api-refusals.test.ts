import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveMcp } from "../src/server/endpoint";
import type { Grant } from "../src/server/server";
import { connect, expectError, expectOk, type TestClient, textOf } from "./helpers/mcp";
import { changesSent, sim } from "./helpers/sim";

/**
 * Every refusal of read_api and write_api (unknown path, bad parameter, operation never sent,
 * host-level option, protected guest, scope, read-only, allowlists) happens before any change
 * reaches Proxmox; most before any request at all.
 */

/** A client served for `grant` under `e` (the OAuth layer is tested in auth*.test.ts). */
function asGrant(scopes: string[], e: Env = env): Promise<TestClient> {
  const grant: Grant = { user: "dana@example.com", clientId: "client-api", scopes };
  return connect("2025-11-25", (request) => serveMcp(request, e, grant));
}

/** Nothing at all reached the simulator since the log was cleared. */
async function expectNoRequest(): Promise<void> {
  expect(await sim.requests()).toEqual([]);
}

describe("refusals: nothing reaches Proxmox", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2026-07-28");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.clearRequests();
  });

  it("an unknown path, with the nearest operations", async () => {
    const message = await expectError(client, "read_api", { path: "/nodes/pve1/qemu/101/firewal/rules" });
    expect(message).toContain(
      "GET /nodes/pve1/qemu/101/firewal/rules is not an operation of the Proxmox VE API.",
    );
    expect(message).toContain("Nearest operations: GET /nodes/{node}/qemu/{vmid}/");
    expect(message).toContain("search_api");
    const wrongMethod = await expectError(client, "write_api", {
      method: "POST",
      path: "/cluster/resources",
    });
    expect(wrongMethod).toContain("The path exists for GET (read it with read_api).");
    await expectNoRequest();
  });

  it.each([
    [{ snapname: "bad name!" }, "snapname: invalid format - invalid configuration ID 'bad name!'"],
    [{ snapname: "ok", vmstate: "true" }, "vmstate: must be true or false (or 1/0), got 'true'"],
    [
      { snapname: "ok", nonsense: 1 },
      "nonsense: not a parameter of POST /nodes/{node}/qemu/{vmid}/snapshot (it takes: description, snapname, vmstate)",
    ],
    [{ snapname: ["a"] }, "snapname: must be a single value, got a list"],
    [{}, "snapname: property is missing and it is not optional"],
  ])("bad parameters %j", async (params, expected) => {
    const message = await expectError(client, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/snapshot",
      params,
      confirm: true,
    });
    expect(message).toContain(
      "Invalid request for POST /nodes/{node}/qemu/{vmid}/snapshot, nothing was sent:",
    );
    expect(message).toContain(expected);
    await expectNoRequest();
  });

  it("numbers are checked, never converted; path values too", async () => {
    for (const [value, expected] of [
      ["1e2", "must be a whole number, got '1e2'"],
      [true, "must be a whole number, got true"],
      [[100], "must be a single value, got a list"],
      [null, "must be a single value, got null"],
    ] as const) {
      const message = await expectError(client, "read_api", {
        path: "/nodes/pve1/tasks",
        params: { limit: value },
      });
      expect(message, String(value)).toContain(`limit: ${expected}`);
    }
    expect(await expectError(client, "read_api", { path: "/nodes/pve1/qemu/abc/config" })).toContain(
      "vmid: type check ('integer') failed - got 'abc'",
    );
    expect(await expectError(client, "read_api", { path: "/nodes/{node}/qemu/101/config" })).toContain(
      "node: fill in the path parameter {node}",
    );
    // Every key of a property string is checked against its format: nothing can be slipped in.
    const injected = await expectError(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { net1: "virtio,bridge=vmbr0,hookscript=local:snippets/x.sh" },
    });
    expect(injected).toContain(
      "net1: invalid format - invalid key in comma-separated list property: hookscript",
    );
    await expectNoRequest();
  });

  it("operations never sent: shells, consoles, node execute, password logins", async () => {
    for (const [method, path, why] of [
      ["POST", "/nodes/pve1/termproxy", "it opens a shell or console"],
      ["POST", "/nodes/pve1/qemu/101/vncproxy", "it opens a shell or console"],
      ["POST", "/nodes/pve1/execute", "bypass these checks"],
      ["POST", "/access/ticket", "password or browser sign-in"],
    ] as const) {
      const message = await expectError(client, "write_api", { method, path, params: {}, confirm: true });
      expect(message, path).toContain("is never sent by this server");
      expect(message, path).toContain(why);
    }
    expect(await expectError(client, "read_api", { path: "/nodes/pve1/vncwebsocket" })).toContain(
      "is never sent by this server",
    );
    await expectNoRequest();
  });

  it("host-level options need PVE_ALLOW_HOST_OPTIONS", async () => {
    const message = await expectError(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { args: "-no-reboot", hostpci0: "0000:01:00.0" },
      confirm: true,
    });
    expect(message).toContain(
      "args passes raw arguments to QEMU on the host; hostpci0 passes a host PCI device through: each gives whoever can change guests a way onto the Proxmox host itself",
    );
    expect(message).toContain("PVE_ALLOW_HOST_OPTIONS=true");
    // A serial socket (cloud images' console) and SPICE USB stay inside the guest.
    const guestOnly = await expectOk(client, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { serial0: "socket", usb0: "spice" },
    });
    expect(guestOnly.text).toMatch(
      /^Not done: this would send PUT \/nodes\/pve1\/qemu\/101\/config with serial0=socket usb0=spice\./,
    );
    expect(
      await expectError(client, "write_api", {
        method: "PUT",
        path: "/nodes/pve1/qemu/101/config",
        params: { usb1: "host=1234:5678" },
      }),
    ).toContain("usb1 passes a host USB device through, which gives whoever can change guests a way onto");
    expect(await changesSent()).toEqual([]);
    const allowed = await asGrant(["read", "write"], { ...env, PVE_ALLOW_HOST_OPTIONS: "true" } as Env);
    const preview = await expectOk(allowed, "write_api", {
      method: "PUT",
      path: "/nodes/pve1/qemu/101/config",
      params: { args: "-no-reboot" },
    });
    await allowed.close();
    expect(preview.text).toContain(
      "Not done: this would send PUT /nodes/pve1/qemu/101/config with args=-no-reboot.",
    );
  });

  it("a protected guest: no hard stop, delete, rollback or removing protection", async () => {
    for (const [method, path, params] of [
      ["DELETE", "/nodes/pve1/qemu/102", {}],
      ["POST", "/nodes/pve1/qemu/102/status/stop", {}],
      ["PUT", "/nodes/pve1/qemu/102/config", { delete: "protection" }],
    ] as const) {
      const message = await expectError(client, "write_api", { method, path, params, confirm: true });
      expect(message, path).toContain("VM 102 'db-01' is protected");
    }
    expect(await changesSent()).toEqual([]);
  });

  it("the scope of the operation: admin operations need admin, guest ones write", async () => {
    const writer = await asGrant(["read", "write"]);
    const admin = await expectError(writer, "write_api", {
      method: "POST",
      path: "/access/users",
      params: { userid: "eve@pve" },
    });
    expect(admin).toContain(
      "POST /access/users needs the admin scope, and this connection was not granted it. Sign in again and allow it on the consent page.",
    );
    await writer.close();
    const administrator = await asGrant(["read", "admin"]);
    const guest = await expectError(administrator, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/status/start",
    });
    expect(guest).toContain("POST /nodes/{node}/qemu/{vmid}/status/start needs the write scope");
    const agent = await expectError(administrator, "write_api", {
      method: "POST",
      path: "/nodes/pve1/qemu/101/agent/exec",
      params: { command: ["id"] },
    });
    expect(agent).toContain("needs the exec scope");
    await administrator.close();
    await expectNoRequest();
  });

  it("PVE_READ_ONLY: write_api is not offered, and reads still work", async () => {
    const readOnly = await asGrant(["read", "write", "exec", "admin"], {
      ...env,
      PVE_READ_ONLY: "true",
    } as Env);
    const names = (await readOnly.listTools()).map((t) => t.name);
    expect(names).toContain("read_api");
    expect(names).not.toContain("write_api");
    const error = await readOnly
      .call("write_api", { method: "POST", path: "/pools", params: { poolid: "x" } })
      .catch((e: Error) => e);
    expect(String(error instanceof Error ? error.message : textOf(error))).toContain("read-only");
    await readOnly.close();
    await expectNoRequest();
  });

  it("PVE_TOOLSETS=api keeps just the three tools", async () => {
    const narrow = await asGrant(["read", "write", "exec", "admin"], { ...env, PVE_TOOLSETS: "api" } as Env);
    expect((await narrow.listTools()).map((t) => t.name).sort()).toEqual([
      "read_api",
      "search_api",
      "write_api",
    ]);
    await narrow.close();
  });

  it("allowlists: guests and nodes outside PVE_ALLOWED_VMIDS / PVE_ALLOWED_NODES", async () => {
    const guarded = await asGrant(["read", "write"], {
      ...env,
      PVE_ALLOWED_VMIDS: "100-101",
      PVE_ALLOWED_NODES: "pve1",
    } as Env);
    expect(
      await expectError(guarded, "write_api", { method: "POST", path: "/nodes/pve1/qemu/103/status/start" }),
    ).toContain("Guest 103 is outside PVE_ALLOWED_VMIDS");
    expect(
      await expectError(guarded, "write_api", {
        method: "POST",
        path: "/nodes/pve1/vzdump",
        params: { vmid: "100,104", storage: "local" },
      }),
    ).toContain("Guest 104 is outside PVE_ALLOWED_VMIDS");
    expect(
      await expectError(guarded, "write_api", {
        method: "POST",
        path: "/nodes/pve2/qemu/100/migrate",
        params: { target: "pve1" },
      }),
    ).toContain("Node pve2 is outside PVE_ALLOWED_NODES");
    await guarded.close();
    await expectNoRequest();
  });
});
