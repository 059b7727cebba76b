import { describe, expect, it } from "vitest";
import { verifyFormat } from "../src/api/formats";
import { parseAddressList } from "../src/api/fwformats";
import { ipConfig, ipVersionOf, isCidr, isIp, isIpv4, isIpv6 } from "../src/proxmox/formats";
import { checkGuestOptions } from "../src/proxmox/options";

/**
 * One set of predicates behind every message: the curated tools' checks, the schema validator's
 * named formats (Perl's messages) and the firewall's address lists. The IPv6 cases are where the
 * old copies disagreed: the firewall's refused an IPv4 tail that Net::IP and the others accept.
 */

describe("IPv6, once", () => {
  const valid = [
    "::",
    "::1",
    "fe80::1",
    "2001:db8::",
    "2001:db8:0:0:0:0:0:1",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "::ffff:192.0.2.1",
    "64:ff9b::192.0.2.33",
    "1:2:3:4:5:6:192.0.2.1",
    "FD00:ABCD::1",
  ];
  const invalid = [
    "",
    "1.2.3.4",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "1::2::3",
    "1:2:3:4:5:6:7:8::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::1",
    "::ffff:192.0.2.256",
    "::192.0.2.1:1",
    "1:2:3:4:5:6:7:192.0.2.1",
    "fe80::1%eth0",
    "g::1",
  ];

  it.each(valid)("%s is an IPv6 address everywhere", (value) => {
    expect(isIpv6(value)).toBe(true);
    expect(isIp(value)).toBe(true);
    expect(verifyFormat("ipv6", value)).toBeNull();
    expect(verifyFormat("ip", value)).toBeNull();
    expect(verifyFormat("IPorCIDR", value)).toBeNull();
    expect(verifyFormat("CIDR", `${value}/64`)).toBeNull();
    expect(parseAddressList(value)).toBe(6);
    expect(ipConfig(`ip6=${value}/64,gw6=${value}`, "qemu")).toEqual({
      value: `ip6=${value}/64,gw6=${value}`,
    });
  });

  it.each(invalid)("%s is no IPv6 address anywhere", (value) => {
    expect(isIpv6(value)).toBe(false);
    expect(verifyFormat("ipv6", value)).toBe("value does not look like a valid IPv6 address\n");
    expect(verifyFormat("CIDR", `${value}/64`)).toBe("value does not look like a valid CIDR network\n");
    if (!isIpv4(value)) {
      expect(verifyFormat("IPorCIDR", value)).toBe(
        "value does not look like a valid IP address or CIDR network\n",
      );
      expect(ipConfig(`ip6=${value}/64`, "qemu").error).toContain(`'${value}/64' is not a valid ip6`);
    }
  });

  it("the firewall takes an IPv4-mapped address in a list and a range", () => {
    expect(parseAddressList("::ffff:192.0.2.1,2001:db8::/32")).toBe(6);
    expect(parseAddressList("::ffff:192.0.2.1-::ffff:192.0.2.9")).toBe(6);
    expect(() => parseAddressList("::ffff:192.0.2.1,192.0.2.1")).toThrow(
      "detected mixed ipv4/ipv6 adresses in address list",
    );
  });
});

describe("addresses and networks", () => {
  it("IPv4 octets stop at 255 and have no leading zeros", () => {
    expect(isIpv4("192.0.2.255")).toBe(true);
    expect(isIpv4("192.0.2.256")).toBe(false);
    expect(isIpv4("192.0.2.01")).toBe(false);
    expect(isIpv4("192.0.2")).toBe(false);
  });

  it("a prefix length is bounded by the family", () => {
    expect(ipVersionOf("10.0.0.0/32")).toBe(4);
    expect(ipVersionOf("10.0.0.0/33")).toBeNull();
    expect(ipVersionOf("fd00::/128")).toBe(6);
    expect(ipVersionOf("fd00::/129")).toBeNull();
    expect(ipVersionOf("10.0.0.1")).toBe(4);
    expect(isCidr("10.0.0.1")).toBe(false);
    expect(isCidr("10.0.0.0/8", 4)).toBe(true);
    expect(isCidr("10.0.0.0/8", 6)).toBe(false);
    expect(isCidr("fd00::/8", 6)).toBe(true);
  });
});

describe("the other named formats, with Perl's messages", () => {
  it.each([
    ["mac-addr", "BC:24:11:00:00:01", "bc:24:11:0:0:1", "value does not look like a valid MAC address\n"],
    ["pve-node", "pve-1", "pve_1", "value does not look like a valid node name\n"],
    ["pve-storage-id", "local-lvm", "1local", "storage ID '1local' contains illegal characters\n"],
    ["pve-poolid", "prod/web", "prod web", "invalid characters in pool name 'prod web'\n"],
    ["pve-configid", "snap_1", "1snap", "invalid configuration ID '1snap'\n"],
    ["pve-volume-id", "local:iso/a.iso", "local", "unable to parse volume ID 'local'\n"],
    ["urlencoded", "a%20b", "a b", "invalid urlencoded string: a b\n"],
    ["dns-name", "web-1.example.com", "web_1", "value does not look like a valid DNS name\n"],
    ["pve-ha-node", "pve1:2", "pve1:x", "value does not look like a valid ha node\n"],
    ["pve-sdn-subnet-id", "zone1-fd00::-64", "zone1-fd00:::-64", "invalid subnet id 'zone1-fd00:::-64'\n"],
  ])("%s: %s passes, %s does not", (format, good, bad, message) => {
    expect(verifyFormat(format, good)).toBeNull();
    expect(verifyFormat(format, bad)).toBe(message);
  });

  it("a pool nested four deep says so", () => {
    expect(verifyFormat("pve-poolid", "a/b/c/d")).toBe(
      "pool name 'a/b/c/d' nested too deeply (max levels = 3)\n",
    );
  });
});

describe("extra is judged by the same predicates, in the curated wording", () => {
  it("a bad MAC in a property string names the key", () => {
    expect(checkGuestOptions("qemu", { net1: "virtio=zz:24:11:00:00:01,bridge=vmbr0" }, false)).toBe(
      "extra: net1=virtio=zz:24:11:00:00:01,bridge=vmbr0: macaddr not a MAC address.",
    );
    expect(checkGuestOptions("qemu", { net1: "virtio=BC:24:11:00:00:01,bridge=vmbr0" }, false)).toBeNull();
  });

  it("a format only the schema validator knows is judged by it, in Perl's words", () => {
    expect(checkGuestOptions("lxc", { searchdomain: "example.com lab.example.com" }, false)).toBeNull();
    expect(checkGuestOptions("lxc", { searchdomain: "example.com lab_1.example.com" }, false)).toBe(
      "extra: searchdomain=example.com lab_1.example.com: value does not look like a valid DNS name.",
    );
  });

  it("a new disk is storage:size, any other value a volume ID", () => {
    expect(checkGuestOptions("qemu", { scsi1: "local-lvm:32" }, false)).toBeNull();
    expect(checkGuestOptions("qemu", { scsi1: "local-lvm:vm-101-disk-1" }, false)).toBeNull();
    expect(checkGuestOptions("qemu", { scsi1: "1local:32" }, false)).toContain(
      "volume must be a volume ID such as local:iso/debian-13.iso (storage:name)",
    );
  });

  it("an IPv4-mapped gateway is accepted in ipconfig, a broken one is not", () => {
    expect(checkGuestOptions("qemu", { ipconfig0: "ip6=fd00::5/64,gw6=::ffff:192.0.2.1" }, false)).toBeNull();
    expect(checkGuestOptions("qemu", { ipconfig0: "ip6=fd00::5/64,gw6=fd00:::1" }, false)).toContain(
      "'fd00:::1' is not a valid gw6",
    );
  });
});
