// The simulator's storage configuration (/storage), as pve-storage answers it.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, form, post, put, type Row, refused } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

describe("storage configuration", () => {
  it("lists storage.cfg with one digest and filters by type", async () => {
    const list = await data<Row[]>("/storage");
    expect(list.map((s) => s.storage)).toEqual(["local", "local-lvm", "nas", "local-zfs"]);
    expect(new Set(list.map((s) => s.digest)).size).toBe(1);
    expect(list.find((s) => s.storage === "nas")).toMatchObject({
      type: "nfs",
      server: "192.168.1.50",
      export: "/mnt/tank/pve",
      path: "/mnt/pve/nas",
      content: "backup,iso",
      shared: 1,
    });
    expect(list.find((s) => s.storage === "local-lvm")).toMatchObject({ vgname: "pve", thinpool: "data" });
    expect(await data<Row>("/storage/local-zfs")).toMatchObject({
      type: "zfspool",
      pool: "rpool/data",
      sparse: 1,
      nodes: "pve2,pve3",
      content: "images,rootdir",
    });
    expect((await data<Row[]>("/storage?type=zfspool")).map((s) => s.storage)).toEqual(["local-zfs"]);
    expect(await refused("/storage/nope")).toMatchObject({
      status: 500,
      message: "storage 'nope' does not exist\n",
    });
  });

  it("creates a directory storage that shows up on the nodes and in the cluster resources", async () => {
    const made = await post<Row>("/storage", {
      storage: "usb",
      type: "dir",
      path: "/mnt/usb",
      content: "backup,iso,images",
      nodes: "pve1",
    });
    expect(made).toEqual({ storage: "usb", type: "dir" });
    expect(await data<Row>("/storage/usb")).toMatchObject({
      path: "/mnt/usb",
      content: "backup,images,iso",
      nodes: "pve1",
    });
    const onNode = await data<Row[]>("/nodes/pve1/storage");
    expect(onNode.find((s) => s.storage === "usb")).toMatchObject({
      type: "dir",
      active: 1,
      total: expect.any(Number),
    });
    expect((await data<Row[]>("/nodes/pve2/storage")).some((s) => s.storage === "usb")).toBe(false);
    const resources = await data<Row[]>("/cluster/resources?type=storage");
    expect(resources.filter((r) => r.storage === "usb").map((r) => r.id)).toEqual(["storage/pve1/usb"]);
    expect(await refused("/storage", form({ storage: "usb", type: "dir", path: "/x" }))).toMatchObject({
      status: 500,
      message: "create storage failed: storage ID 'usb' already defined\n",
    });
  });

  it("fills in defaults and refuses options the type does not take", async () => {
    await post("/storage", { storage: "nas2", type: "nfs", server: "192.168.1.51", export: "/export/pve" });
    expect(await data<Row>("/storage/nas2")).toMatchObject({
      path: "/mnt/pve/nas2",
      content: "images",
      shared: 1,
    });
    expect(await refused("/storage", form({ storage: "d1", type: "dir" }))).toMatchObject({
      status: 500,
      message: "missing value for required option 'path'\n",
    });
    expect(
      (await refused("/storage", form({ storage: "d2", type: "dir", path: "/d", server: "1.2.3.4" })))
        .message,
    ).toBe("unexpected property 'server'\n");
    expect(
      (
        await refused(
          "/storage",
          form({ storage: "t1", type: "lvmthin", vgname: "pve", thinpool: "x", content: "iso" }),
        )
      ).message,
    ).toBe("storage does not support content type 'none'\n");
    // Content types a plugin does not support are dropped, the rest is kept.
    await post("/storage", { storage: "t2", type: "zfspool", pool: "tank/vm", content: "images,iso" });
    expect(await data<Row>("/storage/t2")).toMatchObject({ content: "images" });
    expect((await refused("/storage", form({ storage: "9bad", type: "dir", path: "/d" }))).errors).toEqual({
      storage: "invalid format - storage ID '9bad' contains illegal characters\n",
    });
    expect(await refused("/storage", form({ storage: "c1", type: "cephfs" }))).toMatchObject({ status: 501 });
  });

  it("updates with digests, fixed options and deletions", async () => {
    const digest = String((await data<Row>("/storage/nas")).digest);
    await put<Row>("/storage/nas", { content: "backup,iso,vztmpl", digest });
    expect(await data<Row>("/storage/nas")).toMatchObject({ content: "backup,iso,vztmpl" });
    expect(await refused("/storage/nas", form({ disable: 1, digest }, "PUT"))).toMatchObject({
      status: 500,
      message:
        "update storage failed: detected modified configuration - file changed by other user? Try again.\n",
    });
    expect((await refused("/storage/nas", form({ server: "10.0.0.1" }, "PUT"))).message).toBe(
      "update storage failed: can't change value of fixed parameter 'server'\n",
    );
    expect((await refused("/storage/nas", form({ sparse: 1 }, "PUT"))).message).toBe(
      "update storage failed: unexpected property 'sparse'\n",
    );
    expect((await refused("/storage/local", form({ path: "/srv" }, "PUT"))).errors).toMatchObject({
      path: "property is not defined in schema and the schema does not allow additional properties",
    });
    expect((await refused("/storage/local", form({ delete: "path" }, "PUT"))).message).toBe(
      "update storage failed: unable to delete required option 'path'\n",
    );
    expect((await refused("/storage/nas", form({ delete: "content", content: "iso" }, "PUT"))).message).toBe(
      "update storage failed: cannot set and delete property 'content' at the same time!\n",
    );
    const answer = await put<Row>("/storage/nas", { disable: 1 });
    expect(answer).toEqual({ storage: "nas", type: "nfs" });
    expect((await data<Row[]>("/nodes/pve1/storage")).find((s) => s.storage === "nas")).toMatchObject({
      enabled: 0,
      active: 0,
    });
    await put("/storage/nas", { delete: "disable,content" });
    expect(await data<Row>("/storage/nas")).toMatchObject({ content: "images" });
    expect(await data<Row>("/storage/nas")).not.toHaveProperty("disable");
  });

  it("keeps a backup server's password to itself and hands out a generated key once", async () => {
    const fingerprint = Array.from({ length: 32 }, (_, i) =>
      (i * 7).toString(16).padStart(2, "0").slice(-2),
    ).join(":");
    const made = await post<Row>("/storage", {
      storage: "pbs",
      type: "pbs",
      server: "192.168.1.60",
      datastore: "homelab",
      username: "backup@pbs",
      password: "s3cret-pass",
      fingerprint,
      "encryption-key": "autogen",
    });
    const key = (made.config as Row)["encryption-key"] as string;
    expect(JSON.parse(key)).toMatchObject({
      fingerprint: expect.stringMatching(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/),
    });
    const stored = await data<Row>("/storage/pbs");
    expect(stored).toMatchObject({
      type: "pbs",
      datastore: "homelab",
      username: "backup@pbs",
      fingerprint,
      shared: 1,
      content: "backup",
    });
    expect(stored["encryption-key"]).toBe(JSON.parse(key).fingerprint);
    const text = JSON.stringify(await data<Row[]>("/storage"));
    expect(text).not.toContain("s3cret-pass");
    expect(text).not.toContain(JSON.parse(key).data);
    await put("/storage/pbs", { password: "another-pass" });
    expect(JSON.stringify(await data<Row>("/storage/pbs"))).not.toContain("another-pass");
  });

  it("deletes a storage even while guests use it, as Proxmox does, and drops it from pools", async () => {
    await data("/storage/nas", { method: "DELETE" });
    expect(await refused("/storage/nas")).toMatchObject({ message: "storage 'nas' does not exist\n" });
    expect((await data<Row[]>("/nodes/pve1/storage")).map((s) => s.storage)).toEqual(["local", "local-lvm"]);
    expect((await data<Row>("/pools/prod")).members).not.toContainEqual(
      expect.objectContaining({ storage: "nas" }),
    );
    expect(await refused("/storage/nas", { method: "DELETE" })).toMatchObject({
      status: 500,
      message: "delete storage failed: storage 'nas' does not exist\n",
    });
  });
});

describe("storage configuration permissions", () => {
  it("needs Datastore.Allocate to change or read a section, and Audit to list", async () => {
    await control("settings", { deniedPrivileges: ["Datastore.Allocate"] });
    expect(await refused("/storage", form({ storage: "x1", type: "dir", path: "/x" }))).toMatchObject({
      status: 403,
      message: "Permission check failed (/storage, Datastore.Allocate)\n",
    });
    expect((await refused("/storage/local")).message).toBe(
      "Permission check failed (/storage/local, Datastore.Allocate)\n",
    );
    expect((await refused("/storage/local", { method: "DELETE" })).status).toBe(403);
    expect(await data<Row[]>("/storage")).toHaveLength(4);
    await control("settings", { deniedPrivileges: ["Datastore.Audit", "Datastore.AllocateSpace"] });
    expect(await data<Row[]>("/storage")).toEqual([]);
    const res = await api("/storage/local");
    expect(res.status).toBe(200);
  });
});
