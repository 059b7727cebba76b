import { describe, expect, it } from "vitest";
import { checkTokenShape } from "../../src/proxmox/doctor";

describe("token shape", () => {
  it("accepts user@realm!name and explains the usual mistakes", () => {
    expect(checkTokenShape("mcp@pve!claude", "5f0e4b1c-8d2a-4c3e-9f10-2b3c4d5e6f70").ok).toBe(true);
    expect(checkTokenShape("mcp@pve!claude", undefined).detail).toBe("PROXMOX_TOKEN_SECRET is not set.");
    expect(checkTokenShape("mcp@pve!claude:5f0e4b1c", "x").detail).toContain(
      "Proxmox Backup Server token format",
    );
    expect(checkTokenShape("mcp@pve", "x").detail).toContain("does not look like user@realm!tokenname");
    expect(checkTokenShape("mcp@pve!claude", "not-a-uuid").detail).toContain("not a UUID");
    // .dev.vars.example's secret, copied but never filled in.
    const placeholder = checkTokenShape("mcp@pve!claude", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    expect(placeholder.ok).toBe(false);
    expect(placeholder.detail).toContain("placeholder");
  });
});
