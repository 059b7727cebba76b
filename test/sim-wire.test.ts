// The simulator's wire behaviour: envelopes, HTTP-layer errors, authentication, parameter
// extraction and schema validation with Proxmox's exact texts.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { control } from "./helpers/pve";

const TOKEN = "PVEAPIToken=root@pam!mcp=00000000-0000-4000-8000-000000000000";

function api(path: string, init: RequestInit = {}, auth: string | null = TOKEN): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth !== null) headers.set("Authorization", auth);
  return env.PVE!.fetch(`http://pve/api2/json${path}`, { ...init, headers });
}

const form = (body: string, method = "POST"): RequestInit => ({
  method,
  body,
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});

async function paramErrors(res: Response): Promise<Record<string, string>> {
  expect(res.status).toBe(400);
  expect(res.statusText).toBe("Parameter verification failed.");
  const body = (await res.json()) as { data: null; errors: Record<string, string>; message: string };
  expect(body.data).toBeNull();
  expect(body.message).toBe("Parameter verification failed.\n");
  return body.errors;
}

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0 });
});

describe("envelope", () => {
  it("answers with {data}, Proxmox's content type and server header", async () => {
    const res = await api("/version");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json;charset=UTF-8");
    expect(res.headers.get("Server")).toBe("pve-api-daemon/3.0");
    expect(await res.json()).toEqual({
      data: { version: "9.2.11", release: "9.2", repoid: expect.stringMatching(/^[0-9a-f]{8,64}$/) },
    });
  });

  it("turns handler errors into a status line and a {data:null,message} body", async () => {
    const res = await api("/nodes/pve1/qemu/104/status/current");
    expect(res.status).toBe(500);
    expect(res.statusText).toBe("Configuration file 'nodes/pve1/qemu-server/104.conf' does not exist");
    expect(await res.json()).toEqual({
      data: null,
      message: "Configuration file 'nodes/pve1/qemu-server/104.conf' does not exist\n",
    });
  });
});

describe("HTTP layer", () => {
  it("refuses unknown paths and methods with 501", async () => {
    const unknown = await api("/nodes/pve1/nothing");
    expect(unknown.status).toBe(501);
    expect(unknown.statusText).toBe("Method 'GET /nodes/pve1/nothing' not implemented");
    expect(await unknown.json()).toEqual({
      data: null,
      message: "Method 'GET /nodes/pve1/nothing' not implemented\n",
    });
    const wrongMethod = await api("/version", { method: "DELETE" });
    expect(wrongMethod.status).toBe(501);
    expect(wrongMethod.statusText).toBe("Method 'DELETE /version' not implemented");
  });

  it("checks an operation of the schema that it does not model, then answers 501", async () => {
    // Ceph is outside what the simulator models; the request is still validated like Proxmox does.
    expect(await paramErrors(await api("/nodes/pve1/ceph/log?limit=many"))).toEqual({
      limit: "type check ('integer') failed - got 'many'",
    });
    const valid = await api("/nodes/pve1/ceph/log?limit=5");
    expect(valid.status).toBe(501);
    expect(valid.statusText).toBe("Method 'GET /nodes/pve1/ceph/log' not implemented");
  });

  it("answers 501 'no such uri' outside /api2/json", async () => {
    const res = await env.PVE!.fetch("http://pve/api2/extjs/version", { headers: { Authorization: TOKEN } });
    expect(res.status).toBe(501);
    expect(res.statusText).toBe("no such uri");
  });

  it("refuses a body on GET and DELETE", async () => {
    const res = await api(
      "/nodes/pve1/tasks/UPID:pve1:00000001:00000001:00000001:x::root@pam:",
      form("a=1", "DELETE"),
    );
    expect(res.status).toBe(501);
    expect(res.statusText).toBe("Unexpected content for method 'DELETE'");
  });
});

describe("authentication", () => {
  it("answers 401 'No ticket' with an empty body when credentials are missing", async () => {
    const res = await api("/version", {}, null);
    expect(res.status).toBe(401);
    expect(res.statusText).toBe("No ticket");
    expect(await res.text()).toBe("");
  });

  it("answers 401 'Authentication failed!' for a wrong secret, a PBS-style token or a bad token id", async () => {
    for (const auth of [
      "PVEAPIToken=root@pam!mcp=11111111-0000-4000-8000-000000000000",
      "PVEAPIToken=root@pam!mcp:00000000-0000-4000-8000-000000000000",
      "PVEAPIToken=root@pam!!mcp=00000000-0000-4000-8000-000000000000",
    ]) {
      const res = await api("/version", {}, auth);
      expect(res.status, auth).toBe(401);
      expect(res.statusText).toBe("Authentication failed!");
      expect(await res.text()).toBe("");
    }
  });

  it("accepts 'PVEAPIToken <id>=<secret>' with a space", async () => {
    const res = await api("/version", {}, "PVEAPIToken root@pam!mcp=00000000-0000-4000-8000-000000000000");
    expect(res.status).toBe(200);
  });

  it("delays failed authentication by authFailureDelayMs", async () => {
    await control("settings", { authFailureDelayMs: 400 });
    const order: string[] = [];
    await Promise.all([
      api("/version", {}, "PVEAPIToken=root@pam!mcp=wrong").then((r) => order.push(`denied ${r.status}`)),
      api("/version").then((r) => order.push(`allowed ${r.status}`)),
    ]);
    expect(order).toEqual(["allowed 200", "denied 401"]);
  });
});

describe("parameters", () => {
  it("reads form bodies, JSON bodies and lets the query string override the body", async () => {
    await control("settings", { taskDurationMs: 0 });
    const formRes = await api("/nodes/pve1/qemu/101/status/shutdown", form("timeout=abc"));
    expect(await paramErrors(formRes)).toEqual({ timeout: "type check ('integer') failed - got 'abc'" });
    const jsonRes = await api("/nodes/pve1/qemu/101/status/shutdown", {
      method: "POST",
      body: JSON.stringify({ timeout: "abc", forceStop: true }),
      headers: { "Content-Type": "application/json" },
    });
    expect(await paramErrors(jsonRes)).toEqual({ timeout: "type check ('integer') failed - got 'abc'" });
    const overridden = await api("/nodes/pve1/qemu/101/status/shutdown?timeout=30", form("timeout=abc"));
    expect(overridden.status).toBe(200);
  });

  it("accepts booleans only as 0/1 in forms and true/false in JSON", async () => {
    const bad = await api("/nodes/pve1/qemu?full=true");
    expect(await paramErrors(bad)).toEqual({ full: "type check ('boolean') failed - got 'true'" });
    expect((await api("/nodes/pve1/qemu?full=1")).status).toBe(200);
    const json = await api("/nodes/pve1/qemu/101/status/shutdown", {
      method: "POST",
      body: JSON.stringify({ forceStop: true }),
      headers: { "Content-Type": "application/json" },
    });
    expect(json.status).toBe(200);
  });

  it("reports missing required, unknown, enum, range, pattern and format errors together", async () => {
    const errors = await paramErrors(await api("/nodes/pve1/tasks?source=old&limit=-1&bogus=1&vmid=12"));
    expect(errors).toEqual({
      source: "value 'old' does not have a value in the enumeration 'archive, active, all'",
      limit: "value must have a minimum value of 0",
      bogus: "property is not defined in schema and the schema does not allow additional properties",
      vmid: "invalid format - value does not look like a valid VM ID\n",
    });
    const pool = await paramErrors(await api("/pools", form("comment=x")));
    expect(pool).toEqual({ poolid: "property is missing and it is not optional" });
    const badPool = await paramErrors(await api("/pools", form("poolid=a%20b")));
    expect(badPool).toEqual({ poolid: "invalid format - invalid characters in pool name 'a b'\n" });
  });

  it("validates path parameters: vmid range and node format", async () => {
    expect(await paramErrors(await api("/nodes/pve1/qemu/12/status/current"))).toEqual({
      vmid: "invalid format - value does not look like a valid VM ID\n",
    });
    expect(await paramErrors(await api("/nodes/pve1/qemu/1000000000/status/current"))).toEqual({
      vmid: "invalid format - value does not look like a valid VM ID\n",
    });
    expect(await paramErrors(await api("/nodes/pve_1/qemu"))).toEqual({
      node: "invalid format - value does not look like a valid node name\n",
    });
  });

  it("checks property strings with their sub-schema", async () => {
    const res = await api("/nodes/pve1/qemu/100/status/start", form("machine=q35,viommu=amd"));
    expect(await paramErrors(res)).toEqual({
      machine:
        "invalid format - format error\nmachine.viommu: value 'amd' does not have a value in the enumeration 'intel, virtio'\n",
    });
  });

  it("rejects a body value that conflicts with a path parameter", async () => {
    const res = await api("/nodes/pve1/qemu/100/status/stop", form("vmid=101"));
    expect(await paramErrors(res)).toEqual({
      vmid: "duplicate parameter (already defined in URI) with conflicting values!",
    });
    await control("settings", { taskDurationMs: 0 });
    expect((await api("/nodes/pve1/qemu/100/status/stop", form("vmid=100"))).status).toBe(200);
  });

  it("turns repeated keys into arrays, joining them for -list formats", async () => {
    const joined = await api("/nodes/pve1/storage?content=iso&content=backup");
    expect(joined.status).toBe(200);
    const { data } = (await joined.json()) as { data: { storage: string }[] };
    expect(data.map((s) => s.storage)).toEqual(["local", "nas"]);
    const array = await api("/nodes/pve1/tasks?typefilter=qmstart&typefilter=vzstart");
    expect(await paramErrors(array)).toEqual({ typefilter: "type check ('string') failed - got ARRAY" });
  });

  it("drops _dc", async () => {
    expect((await api("/version?_dc=1732272000000")).status).toBe(200);
  });
});
