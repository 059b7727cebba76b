// Access control in the simulator: users, groups, roles, ACL, realms and API tokens, and the
// permission checks that follow the ACL for tokens created through /access.
import { beforeEach, describe, expect, it } from "vitest";
import { api, control, data, form, post, put, type Row, refused } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

/** Creates a user with a privilege-separated token and returns its Authorization header. */
async function tokenFor(userid: string, tokenid = "t1", privsep = 1): Promise<string> {
  const users = await data<Row[]>("/access/users");
  if (!users.some((u) => u.userid === userid)) await post("/access/users", { userid });
  const created = await post<{ value: string; "full-tokenid": string }>(
    `/access/users/${userid}/token/${tokenid}`,
    { privsep },
  );
  return `PVEAPIToken=${created["full-tokenid"]}=${created.value}`;
}

const as = (auth: string, path: string, init: RequestInit = {}) => api(path, init, auth);

async function failure(res: Response): Promise<{ status: number; message: string; errors?: Row }> {
  const body = (await res.json()) as { message: string; errors?: Row };
  return { status: res.status, message: body.message, ...(body.errors ? { errors: body.errors } : {}) };
}

describe("roles", () => {
  it("lists the built-in roles read-only with their privileges, beside custom ones", async () => {
    const roles = await data<Row[]>("/access/roles");
    const byId = new Map(roles.map((r) => [r.roleid, r]));
    expect(byId.get("PVEAuditor")).toMatchObject({ special: 1 });
    expect(String(byId.get("PVEAuditor")?.privs).split(",")).toEqual(
      expect.arrayContaining(["Sys.Audit", "VM.Audit", "Datastore.Audit", "VM.GuestAgent.Audit"]),
    );
    expect(String(byId.get("PVEAuditor")?.privs)).not.toContain("VM.PowerMgmt");
    expect(byId.get("NoAccess")).toMatchObject({ privs: "", special: 1 });
    expect(byId.get("LabOperator")).toMatchObject({ special: 0 });
    const admin = await data<Row>("/access/roles/Administrator");
    expect(admin).toMatchObject({ "Permissions.Modify": 1, "Sys.PowerMgmt": 1 });

    expect(await refused("/access/roles/PVEAdmin", form({ privs: "VM.Audit" }, "PUT"))).toMatchObject({
      status: 500,
      message: "auto-generated role 'PVEAdmin' cannot be modified\n",
    });
    expect(await refused("/access/roles/NoAccess", { method: "DELETE" })).toMatchObject({
      message: "auto-generated role 'NoAccess' cannot be deleted\n",
    });
  });

  it("creates, extends, replaces and deletes a custom role", async () => {
    await post("/access/roles", { roleid: "Backup", privs: "VM.Backup,Datastore.AllocateSpace" });
    expect(await data("/access/roles/Backup")).toEqual({ "Datastore.AllocateSpace": 1, "VM.Backup": 1 });
    await put("/access/roles/Backup", { privs: "VM.Audit", append: 1 });
    expect(Object.keys(await data("/access/roles/Backup")).sort()).toEqual([
      "Datastore.AllocateSpace",
      "VM.Audit",
      "VM.Backup",
    ]);
    await put("/access/roles/Backup", { privs: "VM.Audit" });
    expect(await data("/access/roles/Backup")).toEqual({ "VM.Audit": 1 });
    expect(await refused("/access/roles", form({ roleid: "Backup" }))).toMatchObject({
      status: 500,
      message: "creating role failed: role 'Backup' already exists\n",
    });
    expect(await refused("/access/roles", form({ roleid: "Other", privs: "VM.Fly" }))).toMatchObject({
      message: "creating role failed: invalid privilege 'VM.Fly'\n",
    });
    expect(await refused("/access/roles", form({ roleid: "pvething" }))).toMatchObject({
      status: 400,
      errors: { roleid: "cannot use role ID starting with the (case-insensitive) 'PVE' namespace" },
    });
    await data("/access/roles/Backup", { method: "DELETE" });
    expect(await refused("/access/roles/Backup")).toMatchObject({
      message: "role 'Backup' does not exist\n",
    });
  });
});

describe("users and groups", () => {
  it("lists the seeded users and groups, with tokens but never their secrets", async () => {
    const users = await data<Row[]>("/access/users?full=1");
    expect(users.map((u) => u.userid)).toEqual(["alice@pve", "ci@pve", "root@pam"]);
    const ci = users.find((u) => u.userid === "ci@pve") as Row;
    expect(ci).toMatchObject({ enable: 1, groups: "operators", "realm-type": "pve" });
    expect(ci.tokens).toEqual([expect.objectContaining({ tokenid: "deploy", privsep: 1 })]);
    expect(JSON.stringify(users)).not.toMatch(/value|secret/);
    const groups = await data<Row[]>("/access/groups");
    expect(groups).toEqual([
      { groupid: "admins", users: "alice@pve", comment: "Cluster administrators" },
      { groupid: "operators", users: "ci@pve", comment: "Day-to-day operations" },
    ]);
    expect((await data<Row[]>("/access")).map((r) => r.subdir)).toEqual([
      "users",
      "groups",
      "roles",
      "acl",
      "domains",
      "openid",
      "tfa",
      "ticket",
      "password",
    ]);
    const realms = await data<Row[]>("/access/domains");
    expect(realms.map((r) => [r.realm, r.type])).toEqual([
      ["pam", "pam"],
      ["pve", "pve"],
    ]);
  });

  it("creates a user in groups, updates and deletes it with its ACL entries", async () => {
    await post("/access/groups", { groupid: "devs", comment: "Developers" });
    await post("/access/users", { userid: "bob@pve", groups: "devs", firstname: "Bob", email: "bob@x.lan" });
    expect(await data("/access/users/bob@pve")).toMatchObject({
      enable: 1,
      firstname: "Bob",
      groups: ["devs"],
      tokens: {},
    });
    expect(await data("/access/groups/devs")).toEqual({ members: ["bob@pve"], comment: "Developers" });
    await put("/access/users/bob@pve", { groups: "admins", append: 1, enable: 0 });
    expect(await data("/access/users/bob@pve")).toMatchObject({ enable: 0, groups: ["admins", "devs"] });
    expect(await refused("/access/users", form({ userid: "bob@pve" }))).toMatchObject({
      status: 500,
      message: "create user failed: user 'bob@pve' already exists\n",
    });
    expect(await refused("/access/users", form({ userid: "eve@pve", groups: "nope" }))).toMatchObject({
      message: "create user failed: no such group 'nope'\n",
    });
    await put("/access/acl", { path: "/vms/100", users: "bob@pve", roles: "PVEVMUser" });
    await data("/access/users/bob@pve", { method: "DELETE" });
    expect(await refused("/access/users/bob@pve")).toMatchObject({
      status: 500,
      message: "no such user ('bob@pve')\n",
    });
    const acl = await data<Row[]>("/access/acl");
    expect(acl.some((e) => e.ugid === "bob@pve")).toBe(false);
    expect(await data("/access/groups/devs")).toEqual({ members: [], comment: "Developers" });
  });
});

describe("API tokens", () => {
  it("returns the secret once: list and read never show it, and the new token signs in", async () => {
    const created = await post<Row>("/access/users/alice@pve/token/cli", { comment: "laptop", privsep: 0 });
    expect(created["full-tokenid"]).toBe("alice@pve!cli");
    expect(created.value).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.info).toEqual({ privsep: 0, comment: "laptop" });
    const list = await data<Row[]>("/access/users/alice@pve/token");
    expect(list).toEqual([{ tokenid: "cli", privsep: 0, expire: 0, comment: "laptop" }]);
    expect(await data("/access/users/alice@pve/token/cli")).toEqual({
      privsep: 0,
      expire: 0,
      comment: "laptop",
    });
    expect(await refused("/access/users/alice@pve/token/cli", form({}))).toMatchObject({
      status: 400,
      errors: { tokenid: "Token already exists." },
    });

    const auth = `PVEAPIToken=alice@pve!cli=${created.value}`;
    // alice is an administrator through her group, and this token is not privilege-separated.
    expect((await as(auth, "/cluster/ha/resources")).status).toBe(200);
    expect((await as(`PVEAPIToken=alice@pve!cli=${"0".repeat(36)}`, "/version")).status).toBe(401);

    const regenerated = await put<Row>("/access/users/alice@pve/token/cli", { regenerate: 1 });
    expect(regenerated.value).not.toBe(created.value);
    expect((await as(auth, "/version")).status).toBe(401);
    await data("/access/users/alice@pve/token/cli", { method: "DELETE" });
    expect((await as(`PVEAPIToken=alice@pve!cli=${regenerated.value}`, "/version")).status).toBe(401);
    expect(await refused("/access/users/alice@pve/token/cli")).toMatchObject({
      message: "no such token 'cli' for user 'alice@pve'\n",
    });
  });

  it("refuses tokens of disabled users and expired tokens", async () => {
    const auth = await tokenFor("dave@pve", "tk", 0);
    expect((await as(auth, "/version")).status).toBe(200);
    await put("/access/users/dave@pve", { enable: 0 });
    expect((await as(auth, "/version")).status).toBe(401);
    await put("/access/users/dave@pve", { enable: 1 });
    await put("/access/users/dave@pve/token/tk", { expire: 1000 });
    expect((await as(auth, "/version")).status).toBe(401);
  });
});

describe("permissions follow the ACL", () => {
  it("gives a privilege-separated token the intersection of its ACL and its user's", async () => {
    const auth = await tokenFor("lowpriv@pve");
    // No ACL at all: nothing is allowed.
    expect(await failure(await as(auth, "/nodes/pve1/qemu/100/status/current"))).toEqual({
      status: 403,
      message: "Permission check failed (/vms/100, VM.Audit)\n",
    });
    await put("/access/acl", { path: "/vms/100", tokens: "lowpriv@pve!t1", roles: "PVEVMUser" });
    // The token's ACL alone is not enough: its user holds nothing.
    expect((await as(auth, "/nodes/pve1/qemu/100/status/current")).status).toBe(403);
    await put("/access/acl", { path: "/", users: "lowpriv@pve", roles: "PVEAuditor" });
    expect((await as(auth, "/nodes/pve1/qemu/100/status/current")).status).toBe(200);
    // PVEAuditor ∩ PVEVMUser on /vms/100 holds VM.Audit but not VM.PowerMgmt.
    expect(await failure(await as(auth, "/nodes/pve1/qemu/100/status/stop", form({})))).toEqual({
      status: 403,
      message: "Permission check failed (/vms/100, VM.PowerMgmt)\n",
    });
    expect(await failure(await as(auth, "/nodes/pve1/qemu/101/status/current"))).toEqual({
      status: 403,
      message: "Permission check failed (/vms/101, VM.Audit)\n",
    });
    const perms = await (await as(auth, "/access/permissions")).json();
    expect((perms as { data: Record<string, Row> }).data).toEqual({
      "/vms/100": { "VM.Audit": 1, "VM.GuestAgent.Audit": 1 },
    });
    // Deleting the entry takes the rights away again.
    await put("/access/acl", { path: "/vms/100", tokens: "lowpriv@pve!t1", roles: "PVEVMUser", delete: 1 });
    expect((await as(auth, "/nodes/pve1/qemu/100/status/current")).status).toBe(403);
  });

  it("lets pool ACLs reach their guests and NoAccess override inherited roles", async () => {
    const auth = await tokenFor("pooluser@pve", "t1", 0);
    await put("/access/acl", { path: "/pool/lab", users: "pooluser@pve", roles: "PVEVMUser" });
    expect((await as(auth, "/nodes/pve2/qemu/104/status/current")).status).toBe(200);
    expect((await as(auth, "/nodes/pve1/qemu/100/status/current")).status).toBe(403);
    await put("/access/acl", { path: "/", users: "pooluser@pve", roles: "PVEAuditor" });
    expect((await as(auth, "/nodes/pve1/qemu/100/status/current")).status).toBe(200);
    await put("/access/acl", { path: "/vms/100", users: "pooluser@pve", roles: "NoAccess" });
    expect((await as(auth, "/nodes/pve1/qemu/100/status/current")).status).toBe(403);
  });

  it("refuses access administration to a low-privilege token with Proxmox's texts", async () => {
    const auth = await tokenFor("viewer@pve", "t1", 0);
    await put("/access/acl", { path: "/", users: "viewer@pve", roles: "PVEAuditor" });
    expect(await failure(await as(auth, "/access/users", form({ userid: "x@pve" })))).toEqual({
      status: 403,
      message: "Permission check failed (/access/realm/pve, Realm.AllocateUser)\n",
    });
    expect(await failure(await as(auth, "/access/roles", form({ roleid: "X" })))).toEqual({
      status: 403,
      message: "Permission check failed (/access, Sys.Modify)\n",
    });
    expect(
      await failure(
        await as(
          auth,
          "/access/acl",
          form({ path: "/", users: "viewer@pve", roles: "Administrator" }, "PUT"),
        ),
      ),
    ).toEqual({
      status: 403,
      message: "Permission check failed (/, Permissions.Modify)\n",
    });
    // Its own tokens are its own business (userid-param self does not cover a token's user).
    expect((await as(auth, "/access/users/viewer@pve/token")).status).toBe(403);
    // The auditor sees every ACL entry (Sys.Audit on /access) and the user list through /access/groups.
    expect(((await (await as(auth, "/access/acl")).json()) as { data: Row[] }).data.length).toBeGreaterThan(
      3,
    );
  });

  it("answers /access/permissions for another token only with Sys.Audit, and for root's token in full", async () => {
    const perms = await data<Record<string, Row>>("/access/permissions?path=/vms/104&userid=ci@pve!deploy");
    // ci@pve: PVEAuditor on / and PVEVMAdmin on /pool/lab through its group; the token: LabOperator.
    expect(Object.keys(perms["/vms/104"] as Row).sort()).toEqual([
      "VM.Audit",
      "VM.Console",
      "VM.PowerMgmt",
      "VM.Snapshot",
    ]);
    const mine = await data<Record<string, Row>>("/access/permissions?path=/");
    expect(mine["/"]).toMatchObject({ "Sys.PowerMgmt": 1, "Permissions.Modify": 1 });
    const auth = await tokenFor("nobody@pve");
    expect(await failure(await as(auth, "/access/permissions?userid=root@pam"))).toEqual({
      status: 403,
      message: "Permission check failed (/access, Sys.Audit)\n",
    });
  });

  it("lists the realms to anyone, as the login form needs them, but nothing else", async () => {
    const res = await api("/access/domains", {}, null);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: Row[] }).data.map((r) => r.realm)).toEqual(["pam", "pve"]);
    const users = await api("/access/users", {}, null);
    expect([users.status, users.statusText]).toEqual([401, "No ticket"]);
  });

  it("refuses API tokens where Proxmox needs a ticket", async () => {
    const res = await api("/access/password", form({ userid: "ci@pve", password: "secret123" }, "PUT"));
    expect(res.status).toBe(403);
    expect(res.statusText).toBe(
      "Permission check failed (URI '/access/password' not available with API token, need proper ticket.",
    );
    expect(((await res.json()) as Row).message).toBe(
      "Permission check failed (URI '/access/password' not available with API token, need proper ticket.\n)\n",
    );
  });

  it("checks ACL updates: paths, roles, subjects", async () => {
    expect(
      await refused("/access/acl", form({ path: "/bogus", users: "ci@pve", roles: "PVEAuditor" }, "PUT")),
    ).toMatchObject({
      status: 400,
      errors: { path: "invalid ACL path '/bogus'" },
    });
    expect(await refused("/access/acl", form({ path: "/", roles: "PVEAuditor" }, "PUT"))).toMatchObject({
      status: 400,
      errors: { users: "either 'users', 'groups' or 'tokens' is required." },
    });
    expect(
      await refused("/access/acl", form({ path: "/", users: "ci@pve", roles: "Nope" }, "PUT")),
    ).toMatchObject({
      status: 500,
      message: "ACL update failed: role 'Nope' does not exist\n",
    });
    expect(
      await refused("/access/acl", form({ path: "/", tokens: "ci@pve!none", roles: "PVEAuditor" }, "PUT")),
    ).toMatchObject({
      message: "ACL update failed: no such token 'none' for user 'ci@pve'\n",
    });
    await put("/access/acl", {
      path: "/storage/nas",
      groups: "operators",
      roles: "PVEDatastoreUser",
      propagate: 0,
    });
    const acl = await data<Row[]>("/access/acl");
    expect(acl).toContainEqual({
      path: "/storage/nas",
      type: "group",
      ugid: "operators",
      roleid: "PVEDatastoreUser",
      propagate: 0,
    });
  });
});

describe("access at scale", () => {
  it("adds an operator per further node and leaves every tenth guest out of the nightly job", async () => {
    await control("reset", { nodes: 6, guests: 20 });
    const users = await data<Row[]>("/access/users");
    expect(users.map((u) => u.userid)).toEqual([
      "alice@pve",
      "ci@pve",
      "ops4@pve",
      "ops5@pve",
      "ops6@pve",
      "root@pam",
    ]);
    const jobs = await data<Row[]>("/cluster/backup");
    expect(jobs).toHaveLength(1);
    const missing = await data<Row[]>("/cluster/backup-info/not-backed-up");
    expect(missing.map((g) => g.vmid)).toEqual([109, 119]);
  });
});
