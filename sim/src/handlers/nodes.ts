// /nodes and /nodes/{node}/status (pve-manager PVE/API2/Nodes.pm).

import type { Ctx, Route } from "../api/context";
import type { NodeState } from "../state/model";
import type { Store } from "../state/store";
import { profileOf } from "../state/version";
import { runtime } from "./guests";

export interface NodeFigures {
  uptime: number;
  cpu: number;
  memUsed: number;
}

/** Node load: its base usage plus what its running guests use. One pass over all guests. */
export function allNodeFigures(store: Store, nowSec: number): Map<string, NodeFigures> {
  const load = new Map<string, { mem: number; cpu: number }>();
  for (const g of store.guests.values()) {
    if (g.status !== "running") continue;
    const rt = runtime(g, store, nowSec);
    const l = load.get(g.node) ?? { mem: 0, cpu: 0 };
    l.mem += rt.mem;
    l.cpu += rt.cpu * rt.cpus;
    load.set(g.node, l);
  }
  const out = new Map<string, NodeFigures>();
  for (const node of store.nodes.values()) {
    const l = load.get(node.name) ?? { mem: 0, cpu: 0 };
    out.set(node.name, {
      uptime: Math.max(0, nowSec - node.bootTime),
      cpu: Math.min(1, Math.round((node.cpuUsage + l.cpu / node.cpus) * 1e6) / 1e6),
      memUsed: Math.min(node.memTotal, node.memUsedBase + l.mem),
    });
  }
  return out;
}

export function nodeFigures(store: Store, node: NodeState, nowSec: number): NodeFigures {
  return allNodeFigures(store, nowSec).get(node.name) as NodeFigures;
}

function nodeList(ctx: Ctx): Record<string, unknown>[] {
  const figures = allNodeFigures(ctx.store, ctx.nowSec);
  return [...ctx.store.nodes.values()].map((n) => {
    const row: Record<string, unknown> = {
      node: n.name,
      id: `node/${n.name}`,
      type: "node",
      status: n.online ? "online" : "offline",
      level: "",
      ssl_fingerprint: n.sslFingerprint,
    };
    const f = figures.get(n.name);
    if (n.online && f) {
      Object.assign(row, {
        cpu: f.cpu,
        maxcpu: n.cpus,
        mem: f.memUsed,
        maxmem: n.memTotal,
        disk: n.rootUsed,
        maxdisk: n.rootTotal,
        uptime: f.uptime,
      });
    }
    return row;
  });
}

function nodeStatus(ctx: Ctx): Record<string, unknown> {
  const n = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  const f = nodeFigures(ctx.store, n, ctx.nowSec);
  const free = n.memTotal - f.memUsed;
  const p = profileOf(ctx.store.settings);
  return {
    uptime: f.uptime,
    idle: 0,
    wait: 0.000412,
    cpu: f.cpu,
    cpuinfo: {
      model: n.cpuModel,
      sockets: n.sockets,
      cores: n.cores,
      cpus: n.cpus,
      mhz: "3400.000",
      hvm: "1",
      user_hz: 100,
      flags:
        "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm svm",
    },
    loadavg: n.loadavg.map((l) => l.toFixed(2)),
    kversion: `Linux ${p.kernelRelease} ${p.kernelVersion}`,
    "current-kernel": {
      sysname: "Linux",
      release: p.kernelRelease,
      version: p.kernelVersion,
      machine: "x86_64",
    },
    "boot-info": { mode: "efi", secureboot: 0 },
    pveversion: `pve-manager/${p.version}/${p.repoid}`,
    memory: { total: n.memTotal, used: f.memUsed, free, available: free },
    swap: { total: n.swapTotal, used: n.swapUsed, free: n.swapTotal - n.swapUsed },
    rootfs: {
      total: n.rootTotal,
      used: n.rootUsed,
      free: n.rootTotal - n.rootUsed,
      avail: n.rootTotal - n.rootUsed,
    },
    ksm: { shared: 0 },
  };
}

export const nodeRoutes: Route[] = [
  { method: "GET", path: "/nodes", handler: nodeList },
  { method: "GET", path: "/nodes/{node}/status", handler: nodeStatus },
];
