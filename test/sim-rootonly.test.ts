// What real Proxmox lets only the root@pam user do, refused for API tokens (root@pam!mcp is not
// root@pam): raw paths, hook scripts, `args`, host devices, bind mounts, vzdump's script and
// directories. Nothing changes after a refusal, and the ordinary options still work.
import { beforeEach, describe, expect, it } from "vitest";
import {
  api,
  control,
  data,
  form,
  post,
  put,
  type Row,
  refused,
  type TaskStatus,
  taskFinished,
} from "./helpers/pve";

const PATHS = "Only root can pass arbitrary filesystem paths. at /usr/share/perl5/PVE/Storage.pm line 651.\n";
const perm = (what: string) => ({ status: 403, message: `Permission check failed (${what})\n` });
const died = (message: string) => ({ status: 500, message: `${message}\n` });

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const conf = (type: "qemu" | "lxc", vmid: number) => data<Row>(`/nodes/pve1/${type}/${vmid}/config`);
const pending = (type: "qemu" | "lxc", vmid: number) => data<Row[]>(`/nodes/pve1/${type}/${vmid}/pending`);
const vmids = async () => (await data<Row[]>("/cluster/resources?type=vm")).map((r) => r.vmid);
const taskCount = async () => (await data<Row[]>("/nodes/pve1/tasks?limit=500")).length;

/** A refused request whose target stays as it was: config, pending changes and the guest list. */
async function refusedUnchanged(
  type: "qemu" | "lxc",
  vmid: number,
  path: string,
  init: RequestInit,
): Promise<{ status: number; message: string; errors?: Row }> {
  const before = [await conf(type, vmid), await pending(type, vmid), await vmids()];
  const answer = await refused(path, init);
  expect([await conf(type, vmid), await pending(type, vmid), await vmids()]).toEqual(before);
  return answer;
}

describe("qemu create", () => {
  const createVm = async (fields: Record<string, string | number>) => {
    const tasks = await taskCount();
    const answer = await refused("/nodes/pve1/qemu", form({ vmid: 150, ...fields }));
    // Refused before anything is locked or forked: no VM 150, no task.
    expect(await vmids()).not.toContain(150);
    expect(await taskCount()).toBe(tasks);
    return answer;
  };

  it("refuses options that fall through every privilege to 'only root'", async () => {
    for (const [opt, value] of [
      ["args", "-device virtio-rng-pci"],
      ["hookscript", "local:snippets/hook.pl"],
      ["ivshmem", "size=32"],
      ["parallel0", "/dev/parport0"],
      ["lock", "backup"],
      ["vmgenid", "1"],
    ]) {
      expect(await createVm({ [opt as string]: value as string }), opt).toEqual(
        died(`only root can set '${opt}' config`),
      );
    }
  });

  it("refuses raw paths as disks, import sources and restore archives", async () => {
    for (const [opt, value] of [
      ["scsi0", "/dev/sda"],
      ["sata3", "/dev/disk/by-id/ata-ST4000VN008-2DR166_ZDH1234"],
      ["efidisk0", "/dev/sdb"],
      ["tpmstate0", "/dev/tpm0"],
      ["virtio1", "/srv/x.img"],
      ["scsi1", "local-lvm:0,import-from=/etc/pve/priv/authkey.key"],
      // Without media=cdrom, `cdrom` is not the CD drive but a file called so.
      ["ide2", "cdrom"],
    ]) {
      expect(await createVm({ [opt as string]: value as string }), opt).toEqual({
        status: 500,
        message: PATHS,
      });
    }
    expect(await createVm({ archive: "/var/lib/vz/dump/vzdump-qemu-101.vma.zst" })).toEqual({
      status: 500,
      message: PATHS,
    });
    // unused[n] must name a volume at all (its format, before any root question).
    const unused = await createVm({ unused0: "/dev/sdc" });
    expect(unused.status).toBe(400);
    expect(String(unused.errors?.unused0)).toContain("unable to parse volume ID '/dev/sdc'");
  });

  it("refuses host devices: USB by id or port, serial devices, unmapped PCI, ROM files", async () => {
    expect(await createVm({ usb0: "046d:c52b" })).toEqual(
      died("only root can set 'usb0' config for real devices"),
    );
    expect(await createVm({ usb1: "host=1-2.3" })).toEqual(
      died("only root can set 'usb1' config for real devices"),
    );
    expect(await createVm({ serial0: "/dev/ttyS0" })).toEqual(
      died("only root can set 'serial0' config for real devices"),
    );
    expect(await createVm({ hostpci0: "0000:01:00.0,pcie=1" })).toEqual(
      died("only root can set 'hostpci0' config for non-mapped devices"),
    );
    // A mapping does not launder an explicit host address.
    expect(await createVm({ hostpci0: "host=0000:01:00.0,mapping=gpu" })).toEqual(
      died("only root can set 'hostpci0' config for non-mapped devices"),
    );
    expect(await createVm({ hostpci0: "mapping=gpu,romfile=vbios.rom" })).toMatchObject({
      status: 400,
      errors: { hostpci0: "only root@pam can set 'romfile' option" },
    });
  });

  it("creates a VM with ordinary volumes, spice USB, a serial socket and mapped devices", async () => {
    const upid = await post("/nodes/pve1/qemu", {
      vmid: 150,
      scsi0: "local-lvm:8",
      cdrom: "cdrom",
      usb0: "spice",
      usb1: "mapping=keyboard",
      serial0: "socket",
      hostpci0: "mapping=gpu,pcie=1",
      virtiofs0: "dirid=share,cache=always",
      net0: "virtio,bridge=vmbr0",
    });
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    expect(await conf("qemu", 150)).toMatchObject({
      ide2: "cdrom,media=cdrom",
      usb0: "spice",
      usb1: "mapping=keyboard",
      serial0: "socket",
      hostpci0: "mapping=gpu,pcie=1",
      virtiofs0: "dirid=share,cache=always",
    });
  });

  it("the host's CD drive needs Sys.Console, not root", async () => {
    await control("settings", { deniedPrivileges: ["Sys.Console"] });
    expect(await createVm({ ide2: "cdrom,media=cdrom" })).toEqual(perm("/, Sys.Console"));
  });
});

describe("qemu config update", () => {
  const path = "/nodes/pve1/qemu/100/config";

  it("refuses root-only options, set or deleted, over PUT and POST", async () => {
    for (const [opt, value] of [
      ["args", "-device virtio-rng-pci"],
      ["hookscript", "local:snippets/hook.pl"],
      ["ivshmem", "size=32,name=shm"],
      ["affinity", "0-3"],
    ]) {
      for (const method of ["PUT", "POST"]) {
        expect(
          await refusedUnchanged("qemu", 100, path, form({ [opt as string]: value as string }, method)),
        ).toEqual(died(`only root can set '${opt}' config`));
      }
    }
    expect(await refusedUnchanged("qemu", 100, path, form({ delete: "args" }, "PUT"))).toEqual(
      died("only root can set 'args' config"),
    );
  });

  it("refuses device paths; a file path must lie in a storage", async () => {
    for (const [opt, value] of [
      ["scsi5", "/dev/sda"],
      ["efidisk0", "/dev/sdb"],
      ["tpmstate0", "/dev/tpm0"],
      ["sata3", "/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S64ANS0T123456"],
      ["scsi6", "local-lvm:0,import-from=/etc/pve/priv/authkey.key"],
    ]) {
      expect(
        await refusedUnchanged("qemu", 100, path, form({ [opt as string]: value as string }, "PUT")),
        opt,
      ).toEqual({
        status: 500,
        message: PATHS,
      });
    }
    // cleanup_drive_path runs first on an update and turns a file path into a volume or refuses it.
    expect(await refusedUnchanged("qemu", 100, path, form({ scsi5: "/srv/x.img" }, "PUT"))).toMatchObject({
      status: 400,
      errors: { scsi5: "unable to associate path '/srv/x.img' to any storage" },
    });
    await put(path, { ide3: "/var/lib/vz/template/iso/virtio-win-0.1.271.iso" });
    expect((await conf("qemu", 100)).ide3).toMatch(/^local:iso\/virtio-win-0\.1\.271\.iso,media=cdrom\b/);
  });

  it("refuses host devices synchronously over PUT and in the task over POST", async () => {
    const cases: [string, string, string][] = [
      ["usb0", "046d:c52b", "only root can set 'usb0' config for real devices"],
      ["serial0", "/dev/ttyUSB0", "only root can modify 'serial0' config for real devices"],
      ["hostpci0", "0000:01:00.0", "only root can set 'hostpci0' config for non-mapped devices"],
    ];
    for (const [opt, value, message] of cases) {
      expect(await refusedUnchanged("qemu", 100, path, form({ [opt]: value }, "PUT"))).toEqual(died(message));
      const before = [await conf("qemu", 100), await pending("qemu", 100)];
      const upid = await post(path, { [opt]: value });
      const s: TaskStatus = await taskFinished(upid);
      expect(s).toMatchObject({ type: "qmconfig", exitstatus: message });
      expect([await conf("qemu", 100), await pending("qemu", 100)]).toEqual(before);
    }
  });

  it("takes ordinary options: spice USB, serial socket, mapped PCI, virtiofs, a volume", async () => {
    await put(path, {
      usb0: "spice",
      serial0: "socket",
      hostpci0: "mapping=gpu",
      virtiofs0: "share",
      scsi1: "local-lvm:4",
      ide2: "cdrom,media=cdrom",
    });
    const c = await conf("qemu", 100);
    expect(c).toMatchObject({
      usb0: "spice",
      serial0: "socket",
      hostpci0: "mapping=gpu",
      virtiofs0: "share",
      ide2: "cdrom,media=cdrom",
    });
    expect(String(c.scsi1)).toMatch(/^local-lvm:vm-100-disk-\d+,size=4G$/);
    // ... and removes them again (the device checks judge the current value too).
    await put(path, { delete: "usb0,serial0,hostpci0,virtiofs0" });
    expect(Object.keys(await conf("qemu", 100))).not.toContain("usb0");
  });
});

describe("lxc", () => {
  const tmpl = "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst";
  const createCt = async (fields: Record<string, string | number>) => {
    const tasks = await taskCount();
    const answer = await refused(
      "/nodes/pve1/lxc",
      form({ vmid: 250, ostemplate: tmpl, storage: "local-lvm", ...fields }),
    );
    expect(await vmids()).not.toContain(250);
    expect(await taskCount()).toBe(tasks);
    return answer;
  };

  it("refuses bind and device mounts, device passthrough, hook scripts and features on create", async () => {
    expect(await createCt({ rootfs: "/srv/ct" })).toEqual(
      perm("mount point type bind is only allowed for root@pam"),
    );
    expect(await createCt({ rootfs: "local-lvm:8", mp0: "/,mp=/mnt/host" })).toEqual(
      perm("mount point type bind is only allowed for root@pam"),
    );
    expect(await createCt({ rootfs: "local-lvm:8", mp0: "/dev/sdb1,mp=/mnt/disk" })).toEqual(
      perm("mount point type device is only allowed for root@pam"),
    );
    expect(await createCt({ dev0: "/dev/ttyUSB0" })).toEqual(
      perm("configuring device passthrough is only allowed for root@pam"),
    );
    expect(await createCt({ hookscript: "local:snippets/hook.pl" })).toEqual(
      perm("changing the hookscript is only allowed for root@pam"),
    );
    expect(await createCt({ features: "nesting=1,keyctl=1" })).toEqual(
      perm("changing feature flags (except nesting) is only allowed for root@pam"),
    );
    expect(await createCt({ unprivileged: 0, features: "nesting=1" })).toEqual(
      perm("changing feature flags for privileged container is only allowed for root@pam"),
    );
    // A bare size is not pve-container's new-disk syntax when permissions are judged.
    expect(await createCt({ rootfs: "8" })).toEqual({ status: 500, message: PATHS });
    expect(await createCt({ ostemplate: "/var/lib/vz/template/cache/evil.tar.zst" })).toEqual({
      status: 500,
      message: PATHS,
    });
    // Raw lxc.* keys are not API options at all.
    expect((await createCt({ "lxc.apparmor.profile": "unconfined" })).status).toBe(400);
  });

  it("creates an unprivileged container with a volume and nesting", async () => {
    const upid = await post("/nodes/pve1/lxc", {
      vmid: 250,
      ostemplate: tmpl,
      rootfs: "local-lvm:4",
      mp0: "local-lvm:1,mp=/srv/data",
      features: "nesting=1",
    });
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    expect(await conf("lxc", 250)).toMatchObject({ features: "nesting=1", unprivileged: 1 });
  });

  it("refuses the same on a config update and leaves the container as it was", async () => {
    const path = "/nodes/pve1/lxc/200/config";
    const cases: [Record<string, string>, string][] = [
      [{ mp0: "/,mp=/mnt/host" }, "mount point type bind is only allowed for root@pam"],
      [{ mp1: "volume=/etc/pve,mp=/mnt/pve" }, "mount point type bind is only allowed for root@pam"],
      [{ rootfs: "/srv/x" }, "mount point type bind is only allowed for root@pam"],
      [{ mp2: "/dev/sda,mp=/mnt/sda" }, "mount point type device is only allowed for root@pam"],
      [{ dev0: "/dev/dri/renderD128" }, "configuring device passthrough is only allowed for root@pam"],
      [{ hookscript: "local:snippets/hook.pl" }, "changing the hookscript is only allowed for root@pam"],
      [{ delete: "hookscript" }, "changing the hookscript is only allowed for root@pam"],
      [
        { features: "nesting=1,mount=nfs" },
        "changing feature flags (except nesting) is only allowed for root@pam",
      ],
    ];
    for (const [fields, what] of cases) {
      expect(await refusedUnchanged("lxc", 200, path, form(fields, "PUT")), JSON.stringify(fields)).toEqual(
        perm(what),
      );
    }
    // Nesting alone is a VM.Allocate matter; a volume on storage is ordinary.
    await put(path, { features: "nesting=0", mp0: "local-lvm:1,mp=/srv/data" });
    expect(await conf("lxc", 200)).toMatchObject({ features: "nesting=0" });
  });
});

describe("vzdump and backup jobs", () => {
  it("refuses script, dumpdir, tmpdir and job-id from a token", async () => {
    for (const key of ["script", "dumpdir", "tmpdir"]) {
      const value = key === "script" ? "/root/hook.sh" : "/mnt/usb";
      const tasks = await taskCount();
      expect(await refused("/nodes/pve1/vzdump", form({ vmid: 100, [key]: value }))).toMatchObject({
        status: 400,
        errors: { [key]: "Only root may set this option." },
      });
      expect(await taskCount()).toBe(tasks);
      expect(
        await refused(
          "/cluster/backup",
          form({ id: "extra-job", schedule: "daily", vmid: "100", [key]: value }),
        ),
      ).toMatchObject({ status: 400, errors: { [key]: "Only root may set this option." } });
      expect(await refused("/cluster/backup/backup-nightly", form({ [key]: value }, "PUT"))).toMatchObject({
        status: 400,
        errors: { [key]: "Only root may set this option." },
      });
      expect(await refused("/cluster/backup/backup-nightly", form({ delete: key }, "PUT"))).toMatchObject({
        status: 400,
        errors: { [key]: "Only root may set this option." },
      });
    }
    expect(
      await refused("/nodes/pve1/vzdump", form({ vmid: 100, "job-id": "backup-nightly" })),
    ).toMatchObject({
      status: 400,
      errors: { "job-id": "Only root may set this option." },
    });
    expect((await data<Row[]>("/cluster/backup")).map((j) => j.id)).toEqual(["backup-nightly"]);
    expect(await data("/cluster/backup/backup-nightly")).not.toHaveProperty("script");
  });

  it("still backs up with ordinary options", async () => {
    const upid = await post("/nodes/pve1/vzdump", { vmid: 100, storage: "nas", mode: "snapshot" });
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    const res = await api("/cluster/backup/backup-nightly", form({ comment: "nightly" }, "PUT"));
    expect(res.status).toBe(200);
  });
});
