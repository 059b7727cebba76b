// The simulator's root-only judgement on its own, for the caller HTTP cannot play: root@pam itself.
import { describe, expect, it } from "vitest";
import { Ctx } from "../../sim/src/api/context";
import {
  checkBackupOptions,
  checkLxcOptions,
  checkQemuCreate,
  checkQemuUpdate,
  checkQemuUpdateDevices,
} from "../../sim/src/handlers/root-only";
import type { GuestState } from "../../sim/src/state/model";
import type { Store } from "../../sim/src/state/store";

describe("the judgement alone", () => {
  // Only tokens reach the simulator over HTTP, so root@pam itself is shown here; none of these
  // checks touches the store for root.
  const caller = (user: string) => new Ctx(undefined as unknown as Store, 0, {}, user);
  const vm = (config: Record<string, string>) => ({ config, pending: {} }) as unknown as GuestState;

  it("lets root@pam itself do everything a token is refused", () => {
    const root = caller("root@pam");
    const host = {
      args: "-S",
      scsi1: "/dev/sda",
      usb0: "046d:c52b",
      serial0: "/dev/ttyS0",
      hostpci0: "01:00.0",
    };
    expect(() => checkQemuCreate(root, host, "/var/lib/vz/dump/x.vma")).not.toThrow();
    expect(() => checkQemuUpdate(root, host, ["hookscript"])).not.toThrow();
    expect(() => checkQemuUpdateDevices(root, vm({ usb0: "1-2" }), host, ["usb0"])).not.toThrow();
    expect(() =>
      checkLxcOptions(
        root,
        undefined,
        { mp0: "/srv,mp=/srv", dev0: "/dev/kvm", features: "keyctl=1" },
        [],
        false,
      ),
    ).not.toThrow();
    expect(() => checkBackupOptions(root, ["script", "dumpdir"])).not.toThrow();
    // A token of root@pam is not root@pam.
    expect(() => checkQemuUpdate(caller("root@pam!mcp"), { args: "-S" }, [])).toThrow(
      "only root can set 'args' config",
    );
  });

  it("judges a device's current value too: a token can neither remove nor swap root's passthrough", () => {
    const token = caller("root@pam!mcp");
    const g = vm({ usb0: "host=046d:c52b", serial0: "/dev/ttyS0", hostpci0: "0000:01:00.0" });
    expect(() => checkQemuUpdateDevices(token, g, {}, ["usb0"])).toThrow(
      "only root can set 'usb0' config for real devices",
    );
    expect(() => checkQemuUpdateDevices(token, g, { usb0: "spice" }, [])).toThrow(
      "only root can set 'usb0' config for real devices",
    );
    expect(() => checkQemuUpdateDevices(token, g, {}, ["serial0"])).toThrow(
      "only root can delete 'serial0' config for real devices",
    );
    expect(() => checkQemuUpdateDevices(token, g, { serial0: "socket" }, [])).toThrow(
      "only root can modify 'serial0' config for real devices",
    );
    expect(() => checkQemuUpdateDevices(token, g, { hostpci0: "mapping=gpu" }, [])).toThrow(
      "only root can set 'hostpci0' config for non-mapped devices",
    );
    expect(() =>
      checkQemuUpdateDevices(token, vm({ usb0: "spice" }), { usb0: "mapping=kbd" }, ["serial1"]),
    ).not.toThrow();
  });
});
