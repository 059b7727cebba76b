// The simulator against answers recorded from real Proxmox VE hosts (../shared/proxmox/recorded):
// for the endpoints both serve, every field a real host sends must come from the simulator too,
// with the same JSON type. Differences found and fixed (each asserted below):
//  - GET /nodes/{node}/lxc: `vmid` is a JSON string ("106"); status/current keeps a number.
//  - GET .../qemu/{vmid}/status/current of a running VM: `blockstat` (query-blockstats per drive)
//    was missing; `ballooninfo` lacked the balloon driver's page-fault/swap counters and
//    `last_update`; `nics` named only one tap device whatever the NICs; `balloon_min` and `shares`
//    (for a configured balloon minimum) and `spice` (QXL display) were missing.
//  - GET .../lxc/{vmid}/interfaces answered 501 (not modelled); now lo + one row per netN.
// Known and left (documented in KNOWN_ABSENT): raw `lxc.*` keys and bind mounts in an LXC config.
import { beforeAll, describe, expect, it } from "vitest";
import { data, post, put, taskFinished } from "./helpers/pve";
import { recordedData, recordings } from "./helpers/replay";
import { sim } from "./helpers/sim";

type Json = unknown;
const kind = (v: Json) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Fields of `recorded` that `simulated` lacks or types differently (objects compared deeply). */
function differences(recorded: Json, simulated: Json, path = ""): string[] {
  if (kind(recorded) !== kind(simulated))
    return [`${path || "."}: ${kind(recorded)} on a real host, ${kind(simulated)} in the simulator`];
  if (kind(recorded) !== "object") return [];
  const out: string[] = [];
  const real = recorded as Record<string, Json>;
  const ours = simulated as Record<string, Json>;
  for (const key of Object.keys(real)) {
    if (!(key in ours)) out.push(`${path}.${key}: missing in the simulator`);
    else out.push(...differences(real[key], ours[key], `${path}.${key}`));
  }
  return out;
}

/** Fields real hosts send that the simulator has no reason to (their config or ACLs differ). */
const KNOWN_ABSENT = [
  // The recorded container had raw lxc.* lines and a bind mount; the simulated ones have neither.
  "/nodes/pve1/lxc/200/config .lxc",
  "/nodes/pve1/lxc/200/config .mp0",
  // The recorded VM's tap device was renamed by the recording's authors (tap1001i0 for VM 101).
  "/nodes/pve1/qemu/101/status/current .nics.tap1001i0",
  // web-01 has no QXL display, so no SPICE (asserted on a VM that has one below).
  "/nodes/pve1/qemu/101/status/current .spice",
];

const FIRST = <T>(rows: T[]) => rows[0];
type Pick = (rows: any) => Json;

/** [recording, simulator path, the item to compare in each (lists: one of the same kind)]. */
const PAIRS: [string, string, Pick, Pick][] = [
  ["go-proxmox/pve7x/GET_cluster_status.json", "/cluster/status", (x) => x[0], (x) => x[0]],
  ["go-proxmox/pve7x/GET_cluster_status.json", "/cluster/status", (x) => x[1], (x) => x[1]],
  ["go-proxmox/pve7x/GET_nodes.json", "/nodes", FIRST, FIRST],
  ["go-proxmox/pve7x/GET_nodes_node1_status.json", "/nodes/pve1/status", (x) => x, (x) => x],
  [
    "go-proxmox/pve7x/GET_nodes_node1_qemu_101_status_current.json",
    "/nodes/pve1/qemu/101/status/current",
    (x) => x,
    (x) => x,
  ],
  [
    "go-proxmox/pve7x/GET_nodes_node1_lxc.json",
    "/nodes/pve1/lxc",
    (x) => x[0],
    (x) => x.find((c: any) => c.status === "running"),
  ],
  [
    "community.proxmox/GET_nodes_pve_lxc.json",
    "/nodes/pve2/lxc",
    (x) => x[0],
    (x) => x.find((c: any) => c.status === "stopped"),
  ],
  [
    "community.proxmox/GET_nodes_pve_qemu.json",
    "/nodes/pve1/qemu",
    (x) => x[1],
    (x) => x.find((c: any) => c.status === "running"),
  ],
  [
    "community.proxmox/GET_nodes_pve_qemu.json",
    "/nodes/pve1/qemu",
    (x) => x[0],
    (x) => x.find((c: any) => c.status === "stopped"),
  ],
  ...(
    [
      ["qemu", "running", 0],
      ["qemu", "stopped", 1],
      ["node", "online", 4],
      ["storage", "available", 8],
    ] as const
  ).map(([type, status, i]): [string, string, Pick, Pick] => [
    "go-proxmox/pve7x/GET_cluster_resources.json",
    "/cluster/resources",
    (x) => x[i],
    (x) => x.find((r: any) => r.type === type && r.status === status),
  ]),
  [
    "community.proxmox/GET_cluster_resources__type=vm.json",
    "/cluster/resources?type=vm",
    (x) => x[2],
    (x) => x.find((r: any) => r.type === "lxc" && r.status === "running"),
  ],
  ["go-proxmox/pve7x/GET_pools_test-pool.json", "/pools/prod", (x) => x, (x) => x],
  ["go-proxmox/pve7x/GET_pools__poolid=test-pool.json", "/pools?poolid=prod", FIRST, FIRST],
  ["community.proxmox/GET_nodes_iaclab-01-01_tasks.json", "/nodes/pve1/tasks", FIRST, FIRST],
  [
    "community.proxmox/pve6.2/GET_nodes_testnode_qemu_101_agent_network-get-interfaces.json",
    "/nodes/pve1/qemu/100/agent/network-get-interfaces",
    (x) => x.result[1],
    (x) => x.result[1],
  ],
  ["go-proxmox/pve7x/GET_nodes_node1_lxc_101_config.json", "/nodes/pve1/lxc/200/config", (x) => x, (x) => x],
  [
    "go-proxmox/pve7x/GET_nodes_node1_lxc_101_interfaces.json",
    "/nodes/pve1/lxc/200/interfaces",
    FIRST,
    FIRST,
  ],
  [
    "go-proxmox/pve7x/GET_nodes_node1_lxc_101_interfaces.json",
    "/nodes/pve1/lxc/200/interfaces",
    (x) => x[1],
    (x) => x[1],
  ],
];

describe.skipIf(!recordings)("the simulator answers like the recorded hosts", () => {
  beforeAll(async () => {
    await sim.reset();
  });

  it.each(PAIRS.map((p) => [`${p[1]} vs ${p[0]}`, ...p] as const))(
    "%s: every recorded field, with its JSON type",
    async (_, file, path, pickRecorded, pickSimulated) => {
      const real = pickRecorded(recordedData(file));
      const ours = pickSimulated(await data(path));
      expect(ours, `${path} has no comparable item`).toBeDefined();
      const found = differences(real, ours).filter(
        (d) => !KNOWN_ABSENT.includes(`${path} ${d.split(":")[0]}`),
      );
      expect(found).toEqual([]);
    },
  );

  it("/access/permissions: a PVE 7 token's privileges exist in the simulator playing 8.4", async () => {
    const recorded = recordedData<Record<string, Record<string, number>>>(
      "go-proxmox/pve7x/GET_access_permissions.json",
    );
    await sim.version("8.4");
    const ours = await data<Record<string, Record<string, number>>>("/access/permissions");
    await sim.version("9.2");
    // VM.Monitor included; nothing the simulator lacks (Permissions.Modify etc. are all there).
    expect(Object.keys(recorded["/"] ?? {}).filter((p) => ours["/"]?.[p] !== 1)).toEqual([]);
    expect(recorded["/"]).toHaveProperty("VM.Monitor", 1);
  });

  it("container lists send vmid as a string, status/current and VM lists as a number", async () => {
    const cts = await data<{ vmid: unknown }[]>("/nodes/pve1/lxc");
    expect(cts.map((c) => c.vmid)).toEqual(["200", "201"]);
    expect((await data<{ vmid: unknown }>("/nodes/pve1/lxc/200/status/current")).vmid).toBe(200);
    expect((await data<{ vmid: unknown }[]>("/nodes/pve1/qemu")).map((v) => v.vmid)).toEqual([
      100, 101, 102, 103,
    ]);
    const resources = await data<{ vmid?: unknown; type: string }[]>("/cluster/resources?type=vm");
    expect(resources.every((r) => typeof r.vmid === "number")).toBe(true);
  });

  it("a running VM's status/current: blockstat per drive, balloon statistics, a tap per NIC", async () => {
    const recorded = recordedData<Record<string, any>>(
      "go-proxmox/pve7x/GET_nodes_node1_qemu_101_status_current.json",
    );
    const status = await data<Record<string, any>>("/nodes/pve1/qemu/101/status/current");
    const config = await data<Record<string, string>>("/nodes/pve1/qemu/101/config");
    const drives = Object.keys(config).filter((k) => /^(ide|sata|scsi|virtio)\d+$/.test(k));
    expect(Object.keys(status.blockstat).sort()).toEqual(drives.sort());
    expect(Object.keys(status.blockstat.scsi0).sort()).toEqual(Object.keys(recorded.blockstat.scsi0).sort());
    expect(status.blockstat.scsi0.rd_bytes).toBe(status.diskread);
    expect(Object.keys(status.ballooninfo).sort()).toEqual(Object.keys(recorded.ballooninfo).sort());
    // web-01 has `balloon` set: its minimum and the default shares show.
    expect(config.balloon).toBe(2048);
    expect(status).toMatchObject({ balloon_min: 2048 * 1024 * 1024, shares: 1000 });
    expect(status.ha).toEqual({ managed: 0 });
    expect(Object.keys(status.nics)).toEqual(["tap101i0"]);

    // A second NIC is a second tap; `balloon: 0` removes the balloon device and its statistics;
    // a QXL display is SPICE. Set while stopped, seen once started.
    await put("/nodes/pve1/qemu/103/config", { net1: "virtio,bridge=vmbr0", balloon: 0, vga: "qxl" });
    await sim.settings({ taskDurationMs: 0 });
    expect((await taskFinished(await post("/nodes/pve1/qemu/103/status/start"))).exitstatus).toBe("OK");
    const other = await data<Record<string, any>>("/nodes/pve1/qemu/103/status/current");
    expect(other.status).toBe("running");
    expect(Object.keys(other.nics)).toEqual(["tap103i0", "tap103i1"]);
    expect(other).not.toHaveProperty("ballooninfo");
    expect(other).not.toHaveProperty("balloon_min");
    expect(other.spice).toBe(1);
  });
});
