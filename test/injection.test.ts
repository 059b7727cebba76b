import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveMcp } from "../src/server/endpoint";
import { LOCAL_GRANT } from "../src/server/server";
import { connect, expectError, expectOk, type TestClient } from "./helpers/mcp";
import { sim } from "./helpers/sim";

/**
 * Values the server splices into Proxmox property strings (net0, ipconfig0, ide2, ostemplate,
 * ...) are checked against their schema format, so none can add a key; `extra` takes only the
 * guest's own options with valid values, and never an option that reaches the Proxmox host
 * unless the owner set PVE_ALLOW_HOST_OPTIONS=true. Nothing refused reaches Proxmox.
 */

let client: TestClient;

beforeAll(async () => {
  client = await connect("2025-11-25");
}, 60_000);
afterAll(async () => {
  await client.close();
});
beforeEach(async () => {
  await sim.reset();
  await sim.clearRequests();
});

async function refused(tool: string, args: Record<string, unknown>): Promise<string> {
  const message = await expectError(client, tool, args);
  expect(await sim.requests(), `${tool} ${JSON.stringify(args)} reached Proxmox`).toEqual([]);
  return message;
}

describe("values spliced into property strings", () => {
  it("create_vm bridge 'v,tag=9' cannot add a tag to net0", async () => {
    expect(await refused("create_vm", { bridge: "v,tag=9" })).toContain(
      "bridge must be a bridge name such as vmbr0",
    );
  });

  it("an ISO outside the ISO folder", async () => {
    expect(await refused("create_vm", { iso: "local:iso/../../../etc/passwd" })).toContain(
      "iso must be a volume ID such as local:iso/debian-13.iso: no '..' or '.' path segments",
    );
    expect(await refused("create_vm", { iso: "local:iso/x.iso,media=disk" })).toContain("no ','");
    expect(await refused("create_vm", { iso: "local:vztmpl/x.tar.zst" })).toContain(
      "iso must be a volume ID such as local:iso/debian-13.iso",
    );
  });

  it("a template with '..', '?' and '#'", async () => {
    expect(await refused("create_container", { template: "local:vztmpl/../../x?y#z" })).toContain(
      "template must be a volume ID such as local:vztmpl/",
    );
  });

  it("names with a newline or NUL", async () => {
    expect(await refused("create_vm", { name: "web\nmemory: 1" })).toContain(
      "name must be one line without control characters",
    );
    expect(
      await refused("create_container", { template: "local:vztmpl/d.tar.zst", hostname: "ct\u0000" }),
    ).toContain("hostname must be one line");
    expect(await refused("create_vm", { name: "web,cores=64" })).toContain("name must be a DNS name");
  });

  it("an address cannot carry other keys into ipconfig0 or net0", async () => {
    expect(await refused("create_vm", { ip: "10.0.0.5/24,gw=10.0.0.1,bridge=evil" })).toContain(
      "'bridge' is not one of ip, gw, ip6, gw6",
    );
    expect(
      await refused("create_container", { template: "local:vztmpl/d.tar.zst", ip: "dhcp,firewall=0" }),
    ).toContain("'firewall' is not one of ip, gw, ip6, gw6");
    expect(await refused("create_vm", { ip: "10.0.0.500/24" })).toContain(
      "'10.0.0.500/24' is not a valid ip",
    );
  });

  it("tags, a backup volume and a pool", async () => {
    expect(await refused("update_vm", { vmid: 100, tags: "a,b=c" })).toContain("'b=c' is not a tag");
    expect(await refused("restore_backup", { volid: "local:backup/../../etc/shadow" })).toContain(
      "volid must be a volume ID",
    );
    expect(await refused("create_vm", { pool: "prod/../x" })).toContain("pool must be a pool name");
  });

  it("a checked address is sent as the property string Proxmox expects", async () => {
    await expectOk(client, "create_vm", {
      vmid: 150,
      ip: "10.0.0.5/24,gw=10.0.0.1",
      bridge: "vmbr0",
      wait: false,
    });
    const create = (await sim.requests()).find((r) => r.method === "POST" && r.path === "/nodes/pve1/qemu");
    expect(create?.body).toMatchObject({
      net0: "virtio,bridge=vmbr0",
      ipconfig0: "ip=10.0.0.5/24,gw=10.0.0.1",
    });
  });
});

describe("extra options", () => {
  it.each([
    ["create_vm", "hookscript=local:snippets/hook.sh", "hookscript runs a script on the Proxmox host"],
    ["update_vm", "args=-monitor stdio", "args passes raw arguments to QEMU on the host"],
    ["update_vm", "hostpci0=0000:01:00.0", "hostpci0 passes a host PCI device through"],
    ["update_vm", "usb0=host=1234:5678", "usb0 passes a host USB device through"],
    ["update_vm", "serial0=/dev/ttyS0", "serial0 passes a host serial device through"],
    ["update_vm", "parallel0=/dev/parport0", "parallel0 passes a host parallel port through"],
    ["update_vm", "scsi1=/dev/sdb", "scsi1 uses a host device or file as a disk"],
    ["update_vm", "scsi1=local-lvm:0,import-from=/etc/shadow", "scsi1 reads a host file into a disk"],
    ["update_vm", "virtiofs0=share", "virtiofs0 shares a host directory"],
    ["update_container", "mp0=/srv/data,mp=/data", "mp0 mounts a host path into the container"],
    ["update_container", "dev0=/dev/kvm", "dev0 passes a host device through"],
    ["update_container", "hookscript=local:snippets/hook.sh", "hookscript runs a script on the Proxmox host"],
  ])("%s refuses %s", async (tool, extra, reason) => {
    const vmid = tool === "update_container" ? 200 : 100;
    const message = await refused(tool, tool === "create_vm" ? { extra } : { vmid, extra });
    expect(message).toContain(`extra: ${reason}`);
    expect(message).toContain(
      "so it is refused. The server's owner can allow such options with PVE_ALLOW_HOST_OPTIONS=true.",
    );
  });

  it("takes only options of that kind of guest, with valid values", async () => {
    expect(
      await refused("update_container", { vmid: 200, extra: "lxc.apparmor.profile=unconfined" }),
    ).toContain("raw LXC keys (lxc.apparmor.profile) are not API options");
    expect(await refused("update_vm", { vmid: 100, extra: "bogus=1" })).toContain(
      "extra: bogus is not a VM option of Proxmox VE 9",
    );
    expect(await refused("update_container", { vmid: 200, extra: "bios=ovmf" })).toContain(
      "extra: bios is not a container option",
    );
    expect(await refused("update_vm", { vmid: 100, extra: "cores=abc" })).toContain(
      "extra: cores=abc: must be a whole number",
    );
    expect(await refused("update_vm", { vmid: 100, extra: "net1=virtio,bridge=vmbr0,evil=1" })).toContain(
      "extra: net1=virtio,bridge=vmbr0,evil=1: evil is not a key of this option",
    );
    expect(await refused("update_vm", { vmid: 100, extra: "bios=efi" })).toContain(
      "must be one of seabios, ovmf",
    );
    expect(await refused("update_vm", { vmid: 100, delete: "tags,bogus" })).toContain(
      "delete: bogus is not a VM option",
    );
    expect(await refused("update_vm", { vmid: 100, extra: "bios=ovmf\nbios=seabios" })).toContain(
      "extra: bios is given twice",
    );
  });

  it("valid options go through: a second NIC with a VLAN tag, and a serial socket", async () => {
    await expectOk(client, "update_vm", {
      vmid: 103,
      extra: "net1=virtio,bridge=vmbr0,tag=9\nserial0=socket\nbios=ovmf",
    });
    const put = (await sim.requests()).find((r) => r.method === "PUT" && r.path.endsWith("/qemu/103/config"));
    expect(put?.body).toMatchObject({ net1: "virtio,bridge=vmbr0,tag=9", serial0: "socket", bios: "ovmf" });
  });

  it("with PVE_ALLOW_HOST_OPTIONS=true the owner's host device is sent, and Proxmox judges the token", async () => {
    const allowed = { ...env, PVE_ALLOW_HOST_OPTIONS: "true" } as Env;
    const owner = await connect("2025-11-25", (request) => serveMcp(request, allowed, LOCAL_GRANT));
    // A real host refuses a serial device from any API token (root@pam's own included).
    expect(await expectError(owner, "update_vm", { vmid: 103, extra: "serial0=/dev/ttyS0" })).toContain(
      "only root can modify 'serial0' config for real devices",
    );
    await owner.close();
    const put = (await sim.requests()).find((r) => r.method === "PUT" && r.path.endsWith("/qemu/103/config"));
    expect(put?.body).toMatchObject({ serial0: "/dev/ttyS0" });
  });
});
