import { beforeEach, describe, expect, it } from "vitest";
import { RRD_SETUP } from "../sim/src/state/rrd";
import { control, data, type Row, refused } from "./helpers/pve";

beforeEach(async () => {
  await control("reset");
  await control("settings", { authFailureDelayMs: 0, taskDurationMs: 0 });
});

const rrd = (path: string, query = "timeframe=hour") => data<Row[]>(`${path}/rrddata?${query}`);

const VM_RUNNING_KEYS = [
  "cpu",
  "disk",
  "diskread",
  "diskwrite",
  "maxcpu",
  "maxdisk",
  "maxmem",
  "mem",
  "memhost",
  "netin",
  "netout",
  "pressurecpufull",
  "pressurecpusome",
  "pressureiofull",
  "pressureiosome",
  "pressurememoryfull",
  "pressurememorysome",
  "time",
];

describe("rrddata", () => {
  it("answers each timeframe with Proxmox 9's point count and step, ending at the last full step", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [timeframe, [step, count]] of Object.entries(RRD_SETUP)) {
      if (timeframe === "decade") continue;
      const points = await rrd("/nodes/pve1/qemu/101", `timeframe=${timeframe}`);
      expect(points.length, timeframe).toBe(count);
      const times = points.map((p) => p.time as number);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(step);
      expect(times.at(-1)! % step).toBe(0);
      expect(now - times.at(-1)!).toBeLessThan(step + 2);
    }
    // Only the node's RRD keeps ten years (weekly points).
    expect((await rrd("/nodes/pve1", "timeframe=decade")).length).toBe(570);
    expect((await refused("/nodes/pve1/qemu/101/rrddata?timeframe=decade")).status).toBe(400);
  });

  it("gives a running VM every pve-vm-9.0 column, in Proxmox's units", async () => {
    const points = await rrd("/nodes/pve1/qemu/101");
    for (const p of points) expect(Object.keys(p).sort()).toEqual(VM_RUNNING_KEYS);
    const last = points.at(-1)!;
    expect(last.cpu as number).toBeGreaterThan(0);
    expect(last.cpu as number).toBeLessThanOrEqual(1);
    expect(last.mem as number).toBeLessThan(last.maxmem as number);
    expect(last.maxcpu).toBe(2);
    // A VM's disk usage is unknown without the agent: Proxmox reports 0.
    expect(last.disk).toBe(0);
  });

  it("gives a stopped VM only its sizes and a zero disk, like a real stopped VM's file", async () => {
    const points = await rrd("/nodes/pve1/qemu/103", "timeframe=day");
    for (const p of points)
      expect(Object.keys(p).sort()).toEqual(["disk", "maxcpu", "maxdisk", "maxmem", "time"]);
    expect(new Set(points.map((p) => p.disk))).toEqual(new Set([0]));
  });

  it("draws a daily rhythm with bursts, and MAX at or above AVERAGE", async () => {
    const avg = await rrd("/nodes/pve1/qemu/102", "timeframe=week");
    const max = await rrd("/nodes/pve1/qemu/102", "timeframe=week&cf=MAX");
    const cpu = avg.map((p) => p.cpu as number);
    expect(Math.max(...cpu)).toBeGreaterThan(Math.min(...cpu) * 2);
    avg.forEach((p, i) => {
      expect(max[i]!.time).toBe(p.time);
      expect(max[i]!.cpu as number).toBeGreaterThanOrEqual(p.cpu as number);
    });
  });

  it("is deterministic: the same seed draws the same points", async () => {
    const a = await rrd("/nodes/pve2", "timeframe=week");
    await control("reset");
    const b = await rrd("/nodes/pve2", "timeframe=week");
    const byTime = new Map(b.map((p) => [p.time, p]));
    const shared = a.filter((p) => byTime.has(p.time)).slice(0, -1);
    expect(shared.length).toBeGreaterThan(300);
    for (const p of shared) expect(byTime.get(p.time)).toEqual(p);
  });

  it("gives nodes load, memory, pressure and network columns, and storages total and used", async () => {
    const node = (await rrd("/nodes/pve1")).at(-1)!;
    for (const key of [
      "loadavg",
      "cpu",
      "iowait",
      "memtotal",
      "memused",
      "memavailable",
      "rootused",
      "netin",
      "pressurecpusome",
    ])
      expect(node, key).toHaveProperty(key);
    expect(node.memused as number).toBeLessThan(node.memtotal as number);
    const storage = await rrd("/nodes/pve1/storage/local", "timeframe=month");
    expect(storage.length).toBe(1440);
    const status = await data<Row>("/nodes/pve1/storage/local/status");
    expect(storage.at(-1)).toMatchObject({ total: status.total, used: status.used });
    expect(storage[0]!.used as number).toBeLessThanOrEqual(status.used as number);
  });

  it("keeps a guest's series when it migrates (one file per vmid), and refuses unknown ones", async () => {
    const before = await rrd("/nodes/pve3/qemu/108", "timeframe=week");
    const res = await data<string>("/nodes/pve3/qemu/108/migrate", {
      method: "POST",
      body: "target=pve1&online=1&with-local-disks=1",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(res).toMatch(/^UPID:pve3:/);
    const after = await rrd("/nodes/pve1/qemu/108", "timeframe=week");
    const byTime = new Map(after.map((p) => [p.time, p]));
    for (const p of before.slice(0, -1)) if (byTime.has(p.time)) expect(byTime.get(p.time)).toEqual(p);
    const missing = await refused("/nodes/pve1/qemu/999/rrddata?timeframe=hour");
    expect(missing.message).toMatch(/RRD error: opening '.*pve-vm-9\.0\/999': No such file or directory/);
  });
});
