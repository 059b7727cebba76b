import { describe, expect, it } from "vitest";
import { clientFromEnv, ProxmoxClient } from "../../src/proxmox/client";
import { encodeParams, fillPath } from "../../src/proxmox/encode";
import { ProxmoxError } from "../../src/proxmox/errors";
import { exitStatusIsError, parseUpid } from "../../src/proxmox/upid";

const SECRET = "5ecret-0000-4000-8000-123456789abc";
const ACCESS_SECRET = "access-secret-value-42";

interface Seen {
  request: Request;
  body: string;
}

/** A client whose upstream is a function, so each answer can be shaped exactly. */
function clientWith(answer: (seen: Seen) => Response | Promise<Response>, timeoutMs = 2000) {
  const seen: Seen[] = [];
  const client = new ProxmoxClient({
    fetch: async (request) => {
      // Read as bytes: workerd warns when .text() reads a form-encoded body.
      const body = request.body ? new TextDecoder().decode(await request.clone().arrayBuffer()) : "";
      const entry = { request, body };
      seen.push(entry);
      return answer(entry);
    },
    baseUrl: "https://pve.example.com:8006/api2/json/",
    tokenId: "root@pam!mcp",
    tokenSecret: SECRET,
    accessClientId: "access-id.access",
    accessClientSecret: ACCESS_SECRET,
    timeoutMs,
    upstreamLabel: "pve.example.com:8006",
  });
  return { client, seen };
}

const json = (body: unknown, status = 200, statusText = "OK") =>
  new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { "Content-Type": "application/json;charset=UTF-8" },
  });

async function failure(promise: Promise<unknown>): Promise<ProxmoxError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProxmoxError);
    const e = error as ProxmoxError;
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain(ACCESS_SECRET);
    return e;
  }
  throw new Error("expected the call to fail");
}

describe("request encoding", () => {
  it("puts GET parameters in the query string with 0/1 booleans and repeated keys", async () => {
    const { client, seen } = clientWith(() => json({ data: [] }));
    await client.call("GET /nodes/{node}/tasks", { node: "pve1", errors: true, vmid: 101, source: "all" });
    const url = new URL(seen[0]!.request.url);
    expect(url.pathname).toBe("/api2/json/nodes/pve1/tasks");
    expect(url.searchParams.get("errors")).toBe("1");
    expect(url.searchParams.get("vmid")).toBe("101");
    expect(seen[0]!.body).toBe("");
    expect(seen[0]!.request.method).toBe("GET");
  });

  it("sends POST parameters as a form body, booleans 0/1, arrays as repeated keys", async () => {
    const { client, seen } = clientWith(() => json({ data: { pid: 12 } }));
    await client.call("POST /nodes/{node}/qemu/{vmid}/agent/exec", {
      node: "pve1",
      vmid: 101,
      command: ["ls", "-la", "/tmp dir"],
    });
    const { request, body } = seen[0]!;
    expect(request.method).toBe("POST");
    expect(request.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(new URL(request.url).search).toBe("");
    expect(body).toBe("command=ls&command=-la&command=%2Ftmp+dir");
    const stop = clientWith(() =>
      json({ data: "UPID:pve1:00000001:00000001:00000001:qmstop:101:root@pam!mcp:" }),
    );
    await stop.client.call("POST /nodes/{node}/qemu/{vmid}/status/stop", {
      node: "pve1",
      vmid: 101,
      skiplock: false,
    });
    expect(stop.seen[0]!.body).toBe("skiplock=0");
  });

  it("encodes path segments exactly once (UPIDs keep working)", async () => {
    const upid = "UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam!mcp:";
    const { client, seen } = clientWith(() => json({ data: { status: "running" } }));
    await client.call("GET /nodes/{node}/tasks/{upid}/status", { node: "pve1", upid });
    const raw = seen[0]!.request.url;
    expect(raw).toContain(`/tasks/${encodeURIComponent(upid)}/status`);
    expect(raw).not.toContain("%25");
    expect(fillPath("/pools/{poolid}", { poolid: "a b/c" }).path).toBe("/pools/a%20b%2Fc");
  });

  it("sends the API token and the Access service token as headers", async () => {
    const { client, seen } = clientWith(() => json({ data: {} }));
    await client.call("GET /version", {});
    const headers = seen[0]!.request.headers;
    expect(headers.get("authorization")).toBe(`PVEAPIToken=root@pam!mcp=${SECRET}`);
    expect(headers.get("cf-access-client-id")).toBe("access-id.access");
    expect(headers.get("cf-access-client-secret")).toBe(ACCESS_SECRET);
  });

  it("leaves out undefined values and sorts keys for stable requests", () => {
    expect(encodeParams({ b: 2, a: undefined, c: [true, false], d: null }).toString()).toBe("b=2&c=1&c=0");
  });

  it("unwraps the envelope and keeps total", async () => {
    const { client } = clientWith(() => json({ data: [{ n: 1, t: "TASK OK" }], total: 1 }));
    const result = await client.callWithTotal("GET /nodes/{node}/tasks/{upid}/log", {
      node: "pve1",
      upid: "UPID:pve1:00000001:00000001:00000001:qmstart:101:root@pam:",
    });
    expect(result).toEqual({ data: [{ n: 1, t: "TASK OK" }], total: 1 });
  });
});

describe("error mapping", () => {
  it("turns a 400 errors object into per-parameter messages", async () => {
    const { client } = clientWith(() =>
      json(
        {
          data: null,
          errors: { vmid: "invalid format - value does not look like a valid VM ID\n" },
          message: "Parameter verification failed.\n",
        },
        400,
        "Parameter verification failed.",
      ),
    );
    const e = await failure(client.call("GET /nodes/{node}/qemu", { node: "pve1" }));
    expect(e.kind).toBe("invalid_params");
    expect(e.errors).toEqual({ vmid: "invalid format - value does not look like a valid VM ID" });
    expect(e.message).toContain("vmid: invalid format - value does not look like a valid VM ID");
  });

  it("reads a 500 message from the body (PVE 8.3+) or the status line (older)", async () => {
    const modern = clientWith(() =>
      json({ data: null, message: "VM 101 not running\n" }, 500, "VM 101 not running"),
    );
    const e1 = await failure(modern.client.call("GET /version", {}));
    expect(e1.kind).toBe("failed");
    expect(e1.message).toBe("Proxmox: VM 101 not running");
    const old = clientWith(() =>
      json({ data: null }, 500, "Configuration file 'nodes/pve1/qemu-server/150.conf' does not exist"),
    );
    const e2 = await failure(old.client.call("GET /version", {}));
    expect(e2.kind).toBe("not_found");
    expect(e2.pveMessage).toContain("150.conf' does not exist");
  });

  it("explains a 401 with an empty body for a missing and for a rejected token", async () => {
    const none = clientWith(() => new Response("", { status: 401, statusText: "No ticket" }));
    const e1 = await failure(none.client.call("GET /version", {}));
    expect(e1.kind).toBe("auth");
    expect(e1.message).toContain("PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET");
    const bad = clientWith(() => new Response("", { status: 401, statusText: "Authentication failed!" }));
    const e2 = await failure(bad.client.call("GET /version", {}));
    expect(e2.kind).toBe("auth");
    expect(e2.message).toContain("user@realm!tokenname");
  });

  it("names the missing privilege on a 403", async () => {
    const { client } = clientWith(() =>
      json(
        { data: null, message: "Permission check failed (/vms/101, VM.PowerMgmt)\n" },
        403,
        "Permission check failed (/vms/101, VM.PowerMgmt)",
      ),
    );
    const e = await failure(client.call("GET /version", {}));
    expect(e.kind).toBe("permission");
    expect(e.message).toContain("needs the privilege VM.PowerMgmt on /vms/101");
  });

  it("maps 595/596 to an unreachable node", async () => {
    const { client } = clientWith(
      () =>
        new Response("", {
          status: 595,
          statusText: "Errors during connection establishment, proxy handshake: No route to host",
        }),
    );
    const e = await failure(client.call("GET /nodes/{node}/status", { node: "pve3" }));
    expect(e.kind).toBe("node_unreachable");
    expect(e.message).toContain("No route to host");
    expect(e.message).toContain("get_cluster_status");
  });

  it("recognises the Cloudflare Access sign-in page, as a page or as a redirect", async () => {
    const page = clientWith(
      () =>
        new Response(
          "<!DOCTYPE html><html><head><title>Sign in ・ Cloudflare Access</title></head><body>myteam.cloudflareaccess.com</body></html>",
          {
            status: 200,
            headers: { "Content-Type": "text/html" },
          },
        ),
    );
    const e1 = await failure(page.client.call("GET /version", {}));
    expect(e1.kind).toBe("access_login");
    expect(e1.message).toContain("CF_ACCESS_CLIENT_ID");
    const redirect = clientWith(
      () =>
        new Response(null, {
          status: 302,
          headers: { Location: "https://myteam.cloudflareaccess.com/cdn-cgi/access/login/pve.example.com" },
        }),
    );
    expect((await failure(redirect.client.call("GET /version", {}))).kind).toBe("access_login");
  });

  it("recognises tunnel error pages and TLS failures", async () => {
    const html = (status: number, body: string) => () =>
      new Response(body, { status, headers: { "Content-Type": "text/html; charset=UTF-8" } });
    const down = clientWith(html(530, "<html><body>error code: 1033</body></html>"));
    const e1 = await failure(down.client.call("GET /version", {}));
    expect(e1.kind).toBe("tunnel");
    expect(e1.message).toContain("error 1033");
    expect(e1.message).toContain("cloudflared");
    const gateway = clientWith(html(502, "<html><title>502 Bad gateway</title></html>"));
    expect((await failure(gateway.client.call("GET /version", {}))).kind).toBe("tunnel");
    const tls = clientWith(html(526, "<html>Invalid SSL certificate</html>"));
    const e3 = await failure(tls.client.call("GET /version", {}));
    expect(e3.kind).toBe("tls");
    expect(e3.message).toContain("self-signed");
  });

  it("reports some other HTML page as the wrong upstream", async () => {
    const { client } = clientWith(
      () =>
        new Response("<html>nginx welcome</html>", { status: 200, headers: { "Content-Type": "text/html" } }),
    );
    const e = await failure(client.call("GET /version", {}));
    expect(e.kind).toBe("bad_response");
    expect(e.message).toContain("HTML page");
  });

  it("gives up after the configured timeout", async () => {
    const { client } = clientWith(
      ({ request }) =>
        new Promise<Response>((_resolve, reject) => {
          request.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
      150,
    );
    const e = await failure(client.call("GET /cluster/resources", {}));
    expect(e.kind).toBe("timeout");
    expect(e.message).toContain("within 0.2 s");
    expect(e.message).toContain("PROXMOX_TIMEOUT_MS");
  });

  it("reports a connection failure without leaking secrets", async () => {
    const { client } = clientWith(() => {
      throw new TypeError(`connect ECONNREFUSED (token ${SECRET})`);
    });
    const e = await failure(client.call("GET /version", {}));
    expect(e.kind).toBe("network");
    expect(e.message).toContain("***");
  });
});

describe("upstream selection", () => {
  it("says what to configure when there is no upstream", async () => {
    const e = await failure(clientFromEnv({}).call("GET /version", {}));
    expect(e.kind).toBe("config");
    expect(e.message).toContain("PROXMOX_URL");
  });

  it("prefers the PVE binding over PROXMOX_URL", async () => {
    const urls: string[] = [];
    const client = clientFromEnv({
      PVE: {
        fetch: async (r: Request) => {
          urls.push(r.url);
          return json({ data: { version: "9.1.2" } });
        },
      },
      PROXMOX_URL: "https://pve.example.com",
      PROXMOX_TIMEOUT_MS: "5000",
    });
    expect(await client.call("GET /version", {})).toEqual({ version: "9.1.2" });
    expect(urls).toEqual(["https://pve.example.com/api2/json/version"]);
  });
});

describe("UPIDs", () => {
  it("parses the Proxmox format, including token users and an empty id", () => {
    expect(parseUpid("UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam!mcp:")).toEqual({
      upid: "UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam!mcp:",
      node: "pve1",
      pid: 0xabcd,
      pstart: 0x12f00d,
      starttime: 0x6740a1b2,
      type: "qmstart",
      id: "101",
      user: "root@pam!mcp",
    });
    expect(parseUpid("UPID:pve2:00000001:123456789:6740A1B2:vzdump::root@pam:")?.id).toBe("");
    expect(parseUpid("UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam")).toBeUndefined();
    expect(parseUpid("not a upid")).toBeUndefined();
  });

  it("treats OK and WARNINGS as success", () => {
    expect(exitStatusIsError("OK")).toBe(false);
    expect(exitStatusIsError("WARNINGS: 2")).toBe(false);
    expect(exitStatusIsError("VM 100 already running")).toBe(true);
    expect(exitStatusIsError("unexpected status")).toBe(true);
  });
});
