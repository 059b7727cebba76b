// Downloads in the simulator: download-url (a task with wget's progress, checksum checks, refusals
// for storages and file names), the appliance index and its download, and query-url-metadata.
// The simulated internet never resolves names under .invalid, and its known mirrors answer 404
// for files they do not have.
import { beforeEach, describe, expect, it } from "vitest";
import { control, data, post, type Row, refused, taskFinished, taskLog } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const DEBIAN_ISO =
  "https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-13.2.0-amd64-netinst.iso";
const form = (fields: Record<string, string | number>) => ({
  method: "POST",
  body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString(),
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
});

const content = (node: string, storage: string, kind: string) =>
  data<Row[]>(`/nodes/${node}/storage/${storage}/content?content=${kind}`);

describe("download-url", () => {
  it("downloads an ISO in a task with wget's progress, and the volume appears on the node's storage", async () => {
    const upid = await post("/nodes/pve2/storage/local/download-url", {
      url: DEBIAN_ISO,
      content: "iso",
      filename: "debian-13.2.0-amd64-netinst.iso",
    });
    expect(upid).toMatch(
      /^UPID:pve2:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:download:debian-13\.2\.0-amd64-netinst\.iso:root@pam!mcp:$/,
    );
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    const log = await taskLog(upid);
    const dest = "/var/lib/vz/template/iso/debian-13.2.0-amd64-netinst.iso";
    expect(log[0]).toBe(`downloading ${DEBIAN_ISO} to ${dest}`);
    expect(log).toContain("HTTP request sent, awaiting response... 200 OK");
    expect(log).toContain("Length: 754974720 (720M) [application/x-iso9660-image]");
    expect(log.some((l) => /^ {5}0K \.{8} \.{8} \.{8} \.{8}\s+4% [\d.]+M \d+s$/.test(l))).toBe(true);
    expect(log.some((l) => / 100% [\d.]+M=\d+s$/.test(l))).toBe(true);
    expect(log.at(-2)).toBe(`download of '${DEBIAN_ISO}' to '${dest}' finished`);
    expect(log.at(-1)).toBe("TASK OK");

    const isos = await content("pve2", "local", "iso");
    expect(isos.find((v) => v.volid === "local:iso/debian-13.2.0-amd64-netinst.iso")).toMatchObject({
      content: "iso",
      format: "iso",
      size: 754974720,
    });
    // local is node-local: the other nodes do not see it.
    expect((await content("pve3", "local", "iso")).map((v) => v.volid)).not.toContain(
      "local:iso/debian-13.2.0-amd64-netinst.iso",
    );
    // A second download of the same file is refused inside the task.
    const again = await post("/nodes/pve2/storage/local/download-url", {
      url: DEBIAN_ISO,
      content: "iso",
      filename: "debian-13.2.0-amd64-netinst.iso",
    });
    expect((await taskFinished(again)).exitstatus).toBe(`refusing to override existing file '${dest}'`);
  });

  it("verifies a checksum: a wrong one fails the task with Proxmox's message and leaves no file", async () => {
    const good = "0".repeat(64);
    const upid = await post("/nodes/pve1/storage/nas/download-url", {
      url: "https://mirror.example.org/isos/rescue-1.2.iso",
      content: "iso",
      filename: "rescue-1.2.iso",
      checksum: good,
      "checksum-algorithm": "sha256",
    });
    const s = await taskFinished(upid);
    expect(s.exitstatus).toMatch(new RegExp(`^checksum mismatch: got '[0-9a-f]{64}' != expect '${good}'$`));
    const log = await taskLog(upid);
    expect(log.at(-2)).toBe("calculating checksum...");
    expect((await content("pve1", "nas", "iso")).map((v) => v.volid)).not.toContain("nas:iso/rescue-1.2.iso");
  });

  it("accepts the checksum the publisher lists (an appliance's SHA-512) and puts the template on shared storage", async () => {
    const apl = (await data<Row[]>("/nodes/pve1/aplinfo")).find(
      (a) => a.package === "alpine-3.22-default",
    ) as Row;
    const upid = await post("/nodes/pve1/storage/local/download-url", {
      url: apl.location as string,
      content: "vztmpl",
      filename: apl.template as string,
      checksum: (apl.sha512sum as string).toUpperCase(),
      "checksum-algorithm": "sha512",
    });
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    expect(await taskLog(upid)).toContain("calculating checksum...OK, checksum verified");
    const tmpl = (await content("pve1", "local", "vztmpl")).find(
      (v) => v.volid === `local:vztmpl/${apl.template}`,
    );
    expect(tmpl).toMatchObject({ format: "txz", content: "vztmpl" });
  });

  it("fails the task for a host that does not resolve and for a file a mirror does not have", async () => {
    const dns = await post("/nodes/pve1/storage/local/download-url", {
      url: "http://downloads.homelab.invalid/debian.iso",
      content: "iso",
      filename: "debian.iso",
    });
    expect((await taskFinished(dns)).exitstatus).toBe(
      "download failed: command 'wget --progress=dot:giga -O /var/lib/vz/template/iso/debian.iso.tmp_dwnl." +
        `${Number.parseInt(dns.split(":")[2] as string, 16)} http://downloads.homelab.invalid/debian.iso' failed: exit code 4`,
    );
    expect(await taskLog(dns)).toContain("wget: unable to resolve host address 'downloads.homelab.invalid'");

    const gone = await post("/nodes/pve1/storage/local/download-url", {
      url: "https://releases.ubuntu.com/22.04/ubuntu-22.04.1-live-server-amd64.iso",
      content: "iso",
      filename: "ubuntu-22.04.1-live-server-amd64.iso",
      "verify-certificates": 0,
    });
    const s = await taskFinished(gone);
    expect(s.exitstatus).toMatch(/ --no-check-certificate' failed: exit code 8$/);
    expect(await taskLog(gone)).toContain("HTTP request sent, awaiting response... 404 Not Found");
  });

  it("refuses content the storage does not allow, non-file storages, and bad file names", async () => {
    const wrongContent = await refused(
      "/nodes/pve1/storage/nas/download-url",
      form({ url: DEBIAN_ISO, content: "vztmpl", filename: "x.tar.zst" }),
    );
    expect(wrongContent).toMatchObject({
      status: 500,
      message: "storage 'nas' is not configured for content-type 'vztmpl'\n",
    });
    const lvm = await refused(
      "/nodes/pve1/storage/local-lvm/download-url",
      form({ url: DEBIAN_ISO, content: "iso", filename: "x.iso" }),
    );
    expect(lvm.message).toBe("can't upload to storage type 'lvmthin', not a file based storage!\n");
    const ext = await refused(
      "/nodes/pve1/storage/local/download-url",
      form({ url: DEBIAN_ISO, content: "iso", filename: "debian.exe" }),
    );
    expect(ext).toMatchObject({ status: 400, errors: { filename: "wrong file extension" } });
    const missing = await refused(
      "/nodes/pve1/storage/nope/download-url",
      form({ url: DEBIAN_ISO, content: "iso", filename: "x.iso" }),
    );
    expect(missing.message).toBe("storage 'nope' does not exist\n");
    const url = await refused(
      "/nodes/pve1/storage/local/download-url",
      form({ url: "ftp://x/y.iso", content: "iso", filename: "y.iso" }),
    );
    expect(url.errors?.url).toBe("value does not match the regex pattern");
    const alone = await refused(
      "/nodes/pve1/storage/local/download-url",
      form({ url: DEBIAN_ISO, content: "iso", filename: "x.iso", checksum: "abc" }),
    );
    expect(alone.errors?.["checksum-algorithm"]).toBe("missing property - 'checksum' requires this property");
  });

  it("normalizes the file name as Proxmox does", async () => {
    const upid = await post("/nodes/pve1/storage/local/download-url", {
      url: "https://files.example.net/My Rescue (v2).iso",
      content: "iso",
      filename: "../My Rescue (v2).iso",
    });
    expect(upid).toContain(":download:My_Rescue__v2_.iso:");
    await taskFinished(upid);
    expect((await content("pve1", "local", "iso")).map((v) => v.volid)).toContain(
      "local:iso/My_Rescue__v2_.iso",
    );
  });

  it("needs Datastore.AllocateTemplate and network access", async () => {
    await control("settings", { deniedPrivileges: ["Datastore.AllocateTemplate"] });
    const denied = await refused(
      "/nodes/pve1/storage/local/download-url",
      form({ url: DEBIAN_ISO, content: "iso", filename: "x.iso" }),
    );
    expect(denied).toMatchObject({
      status: 403,
      message: "Permission check failed (/storage/local, Datastore.AllocateTemplate)\n",
    });
    await control("settings", { deniedPrivileges: ["Sys.Modify", "Sys.AccessNetwork"] });
    expect(
      (
        await refused(
          "/nodes/pve1/storage/local/download-url",
          form({ url: DEBIAN_ISO, content: "iso", filename: "x.iso" }),
        )
      ).status,
    ).toBe(403);
  });
});

describe("appliance templates", () => {
  it("lists the appliance index with Proxmox's fields", async () => {
    const list = await data<Row[]>("/nodes/pve1/aplinfo");
    expect(list.length).toBeGreaterThan(20);
    const debian = list.find((a) => a.package === "debian-13-standard");
    expect(debian).toMatchObject({
      type: "lxc",
      os: "debian-13",
      section: "system",
      template: expect.stringMatching(/^debian-13-standard_[\d.]+-\d+_amd64\.tar\.zst$/),
      location: expect.stringMatching(
        /^http:\/\/download\.proxmox\.com\/images\/system\/debian-13-standard_/,
      ),
      source: "http://download.proxmox.com/images",
      sha512sum: expect.stringMatching(/^[0-9a-f]{128}$/),
      headline: expect.any(String),
      infopage: expect.any(String),
      maintainer: "Proxmox Support Team <support@proxmox.com>",
    });
    expect(list.some((a) => a.section === "turnkeylinux")).toBe(true);
    expect(list.map((a) => a.package)).toContain("alpine-3.22-default");
  });

  it("downloads a template in a download task named after it; it appears in the storage content", async () => {
    const apl = (await data<Row[]>("/nodes/pve1/aplinfo")).find(
      (a) => a.package === "debian-13-standard",
    ) as Row;
    const upid = await post("/nodes/pve3/aplinfo", { storage: "local", template: apl.template as string });
    expect(upid).toContain(`:download:${apl.template}:`);
    expect((await taskFinished(upid)).exitstatus).toBe("OK");
    const log = await taskLog(upid);
    expect(log[0]).toBe(`downloading ${apl.location} to /var/lib/vz/template/cache/${apl.template}`);
    expect(log).toContain("calculating checksum...OK, checksum verified");
    expect((await content("pve3", "local", "vztmpl")).map((v) => v.volid)).toContain(
      `local:vztmpl/${apl.template}`,
    );
    // Already there with the right checksum: nothing to do.
    const again = await post("/nodes/pve3/aplinfo", { storage: "local", template: apl.template as string });
    expect((await taskFinished(again)).exitstatus).toBe("OK");
    expect(await taskLog(again)).toContain(
      "calculating checksum of existing file...OK, got correct file already, no need to download",
    );
  });

  it("refuses an unknown template and a storage without templates", async () => {
    const unknown = await refused("/nodes/pve1/aplinfo", form({ storage: "local", template: "nope.tar.gz" }));
    expect(unknown).toMatchObject({ status: 400, errors: { template: "no such template" } });
    const apl = (await data<Row[]>("/nodes/pve1/aplinfo"))[0] as Row;
    const nas = await refused(
      "/nodes/pve1/aplinfo",
      form({ storage: "nas", template: apl.template as string }),
    );
    expect(nas.message).toBe("storage 'nas' does not support templates\n");
    await control("settings", { deniedPrivileges: ["Datastore.AllocateTemplate"] });
    expect(
      (await refused("/nodes/pve1/aplinfo", form({ storage: "local", template: apl.template as string })))
        .status,
    ).toBe(403);
    // Reading the index needs no privilege.
    expect((await data<Row[]>("/nodes/pve1/aplinfo")).length).toBeGreaterThan(20);
  });
});

describe("query-url-metadata", () => {
  it("reports a file's name, size and type, or the server's error", async () => {
    expect(await data<Row>(`/nodes/pve1/query-url-metadata?url=${encodeURIComponent(DEBIAN_ISO)}`)).toEqual({
      filename: "debian-13.2.0-amd64-netinst.iso",
      size: 754974720,
      mimetype: "application/x-iso9660-image",
    });
    const gone = await refused(
      `/nodes/pve1/query-url-metadata?url=${encodeURIComponent("https://releases.ubuntu.com/20.04/old.iso")}`,
    );
    expect(gone.message).toBe("invalid server response: '404 Not Found'\n");
  });
});
