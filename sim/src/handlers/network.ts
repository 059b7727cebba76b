// /nodes/{node}/network (pve-manager PVE/API2/Network.pm): interfaces are read from and written to
// /etc/network/interfaces.new while changes are pending; DELETE reverts them, PUT applies them in a
// `srvreload networking` task (the worker first renames interfaces.new, then runs ifreload -a).

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { checkPrivs } from "../api/permissions";
import { PveError, paramError } from "../api/respond";
import {
  type NetIface,
  type NodeNetwork,
  nodeNetwork,
  renderInterfaces,
  saveNetwork,
  unifiedDiff,
} from "../state/network";
import { startTask } from "../state/tasks";

/** The interfaces as the API reads them: interfaces.new when it exists, plus the node's NICs. */
function effective(net: NodeNetwork): Record<string, NetIface> {
  return net.pending ?? net.current;
}

function portsOf(d: NetIface): string[] {
  return splitList(`${d.bridge_ports ?? ""} ${d.slaves ?? ""}`);
}

/** Up in the kernel: configured in the running file and started at boot, or a port of such. */
function isActive(net: NodeNetwork, name: string): boolean {
  const running = net.current;
  if (!running[name]) return false;
  if (running[name]?.autostart) return true;
  return Object.values(running).some((d) => d.autostart && portsOf(d).includes(name));
}

/** What PVE::Network::Interfaces' reader reports for one interface. */
function view(net: NodeNetwork, name: string, d: NetIface): Record<string, unknown> {
  const out: Record<string, unknown> = {
    iface: name,
    type: d.type,
    method: d.method,
    method6: d.method6,
    families: d.families,
    priority: d.priority,
  };
  if (d.autostart) out.autostart = 1;
  if (isActive(net, name)) out.active = 1;
  if (d.type === "eth") out.exists = net.nics.includes(name) ? 1 : 0;
  if (d.address) {
    out.address = d.address;
    out.netmask = d.netmask ?? "32";
    out.cidr = `${d.address}/${d.netmask ?? "32"}`;
  }
  if (d.gateway) out.gateway = d.gateway;
  if (d.address6) {
    out.address6 = d.address6;
    out.netmask6 = d.netmask6 ?? "128";
    out.cidr6 = `${d.address6}/${d.netmask6 ?? "128"}`;
  }
  if (d.gateway6) out.gateway6 = d.gateway6;
  if (d.type === "bridge") {
    out.bridge_ports = d.bridge_ports ?? "";
    out.bridge_stp = "off";
    out.bridge_fd = "0";
    if (d.bridge_vlan_aware) {
      out.bridge_vlan_aware = 1;
      out.bridge_vids = d.bridge_vids || "2-4094";
    }
  }
  if (d.type === "bond") {
    out.slaves = d.slaves ?? "";
    out.bond_miimon = "100";
    out.bond_mode = d.bond_mode ?? "balance-rr";
    if (d.bond_xmit_hash_policy) out.bond_xmit_hash_policy = d.bond_xmit_hash_policy;
    if (d["bond-primary"]) out["bond-primary"] = d["bond-primary"];
  }
  if (d.type === "vlan") {
    const m = /^(\S+)\.(\d+)$/.exec(name);
    const raw = d["vlan-raw-device"] ?? m?.[1];
    if (raw) out["vlan-raw-device"] = raw;
    const id =
      d["vlan-id"] ?? (m ? Number(m[2]) : /^vlan(\d+)$/.test(name) ? Number(name.slice(4)) : undefined);
    if (id) out["vlan-id"] = id;
  }
  if (d.mtu) out.mtu = d.mtu;
  if (d.comments) out.comments = `${d.comments}\n`;
  if (d.comments6) out.comments6 = `${d.comments6}\n`;
  return out;
}

function allIfaces(net: NodeNetwork): [string, NetIface][] {
  const ifaces = { ...effective(net) };
  let prio = Math.max(1, ...Object.values(ifaces).map((d) => d.priority)) + 1;
  for (const nic of net.nics) {
    ifaces[nic] ??= {
      type: "eth",
      method: "manual",
      method6: "manual",
      families: ["inet"],
      priority: prio++,
    };
  }
  return Object.entries(ifaces).sort(([a], [b]) => (a < b ? -1 : 1));
}

function changes(net: NodeNetwork): string | undefined {
  if (!net.pending) return undefined;
  return unifiedDiff(
    renderInterfaces(net.current),
    renderInterfaces(net.pending),
    "/etc/network/interfaces",
    "/etc/network/interfaces.new",
    net.currentMtime,
    net.pendingMtime ?? net.currentMtime,
  );
}

function list(ctx: Ctx): Record<string, unknown>[] {
  const net = nodeNetwork(ctx.store, ctx.str("node"));
  const diff = changes(net);
  if (diff) ctx.changes = diff;
  const filter = ctx.optStr("type");
  const out: Record<string, unknown>[] = [];
  for (const [name, d] of allIfaces(net)) {
    const bridge = d.type === "bridge" || d.type === "OVSBridge";
    if (filter && filter !== "include_sdn") {
      const match = filter === d.type || (bridge && /^any(_local)?_bridge$/.test(filter));
      if (!match) continue;
    }
    // Bridges are listed only to callers that may see or use them (check_sdn_bridge).
    if (
      bridge &&
      ctx.perms &&
      !checkPrivs(ctx.perms, `/sdn/zones/localnetwork/${name}`, ["SDN.Audit", "SDN.Use"], true, true)
    ) {
      continue;
    }
    out.push(view(net, name, d));
  }
  return out;
}

const SETTABLE = [
  "autostart",
  "bridge_ports",
  "bridge_vlan_aware",
  "bridge_vids",
  "slaves",
  "bond_mode",
  "bond_xmit_hash_policy",
  "bond-primary",
  "mtu",
  "comments",
  "comments6",
  "vlan-id",
  "vlan-raw-device",
  "gateway",
  "gateway6",
  "address",
  "netmask",
  "address6",
  "netmask6",
] as const;

/** $map_cidr_to_address_netmask and the other parameter checks of create/update. */
function readParams(ctx: Ctx, name: string, ifaces: Record<string, NetIface>): Partial<NetIface> {
  const p: Record<string, unknown> = {};
  for (const k of SETTABLE) {
    const v = ctx.params[k];
    if (v === undefined) continue;
    p[k] = typeof v === "boolean" || k === "mtu" || k === "vlan-id" ? v : String(v);
  }
  for (const [c, a, m] of [
    ["cidr", "address", "netmask"],
    ["cidr6", "address6", "netmask6"],
  ] as const) {
    const cidr = ctx.optStr(c);
    if (!cidr) continue;
    if (p[a]) throw paramError({ [a]: `${a} conflicts with ${c}` });
    if (p[m]) throw paramError({ [m]: `${m} conflicts with ${c}` });
    const [addr, mask] = cidr.split("/");
    p[a] = addr;
    p[m] = mask;
  }
  if (typeof p.netmask === "string" && p.netmask.includes(".")) {
    p.netmask = String(
      p.netmask.split(".").reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, "").length, 0),
    );
  }
  for (const [key, label] of [
    ["gateway", "Default gateway"],
    ["gateway6", "Default ipv6 gateway"],
  ] as const) {
    if (!p[key]) continue;
    for (const [other, d] of Object.entries(ifaces)) {
      if (other !== name && d[key])
        throw paramError({ [key]: `${label} already exists on interface '${other}'.` });
    }
  }
  const portParam = (["bridge_ports", "slaves"] as const).find((k) => p[k]);
  if (portParam) {
    const wanted = new Set(splitList(`${p.bridge_ports ?? ""} ${p.slaves ?? ""}`));
    for (const [other, d] of Object.entries(ifaces)) {
      if (other === name) continue;
      for (const port of portsOf(d)) {
        if (wanted.has(port))
          throw paramError({ [portParam]: `${port} is already used on interface '${other}'.` });
      }
    }
  }
  if (p.bridge_vids !== undefined) {
    const vids = splitList(String(p.bridge_vids));
    if (!vids.length) throw paramError({ bridge_vids: "VLAN list items are empty" });
    p.bridge_vids = vids.join(" ");
  }
  return p as Partial<NetIface>;
}

function families(d: NetIface): void {
  const fam: string[] = [];
  if (d.address) fam.push("inet");
  if (d.address6) fam.push("inet6");
  d.families = fam.length ? fam : ["inet"];
  d.method = d.address ? "static" : "manual";
  d.method6 = d.address6 ? "static" : "manual";
}

/** Writes interfaces.new (PVE::INotify::write_file('interfaces')). */
function writePending(ctx: Ctx, net: NodeNetwork, ifaces: Record<string, NetIface>): null {
  net.pending = ifaces;
  net.pendingMtime = ctx.nowSec;
  saveNetwork(ctx.store, ctx.str("node"), net);
  return null;
}

function create(ctx: Ctx): null {
  const net = nodeNetwork(ctx.store, ctx.str("node"));
  const ifaces = structuredClone(effective(net));
  const name = ctx.str("iface");
  if (ifaces[name]) throw paramError({ iface: "interface already exists" });
  const type = ctx.str("type");
  if (/^OVS/.test(type))
    throw new PveError("Open VSwitch is not installed (need package 'openvswitch-switch')");
  const p = readParams(ctx, name, ifaces);
  const d: NetIface = {
    type,
    method: "manual",
    method6: "manual",
    families: ["inet"],
    priority: Math.max(1, ...Object.values(ifaces).map((x) => x.priority)) + 1,
    ...p,
  };
  families(d);
  ifaces[name] = d;
  return writePending(ctx, net, ifaces);
}

function update(ctx: Ctx): null {
  const net = nodeNetwork(ctx.store, ctx.str("node"));
  const ifaces = structuredClone(effective(net));
  const name = ctx.str("iface");
  const nic = net.nics.includes(name);
  // A NIC the file does not mention yet is still an interface of the node (the reader adds it).
  const d =
    ifaces[name] ??
    (nic
      ? {
          type: "eth",
          method: "manual",
          method6: "manual",
          families: ["inet"],
          priority: Object.keys(ifaces).length + 2,
        }
      : undefined);
  if (!d) throw paramError({ iface: "interface does not exist" });
  for (const k of ctx.has("delete") ? splitList(ctx.str("delete")) : []) {
    delete (d as unknown as Record<string, unknown>)[k];
    if (k === "cidr") {
      delete d.address;
      delete d.netmask;
    } else if (k === "cidr6") {
      delete d.address6;
      delete d.netmask6;
    }
  }
  Object.assign(d, readParams(ctx, name, ifaces));
  families(d);
  ifaces[name] = d;
  return writePending(ctx, net, ifaces);
}

/** Guests on this node whose netN uses the bridge (their config or their pending changes). */
function bridgeUsers(ctx: Ctx, bridge: string): string | undefined {
  for (const g of ctx.store.guestsOn(ctx.str("node"))) {
    for (const conf of [g.config, g.pending]) {
      for (const [k, v] of Object.entries(conf)) {
        if (
          /^net\d+$/.test(k) &&
          new RegExp(`(^|,)bridge=${bridge.replace(/[.]/g, "\\.")}(,|$)`).test(String(v))
        ) {
          return `${g.type === "qemu" ? "VM" : "CT"} ${g.vmid} (${k})`;
        }
      }
    }
  }
  return undefined;
}

function remove(ctx: Ctx): null {
  const net = nodeNetwork(ctx.store, ctx.str("node"));
  const ifaces = structuredClone(effective(net));
  const name = ctx.str("iface");
  const d = ifaces[name];
  if (!d) throw paramError({ iface: "interface does not exist" });
  // Network.pm itself does not look at guests; deleting a bridge they use would cut them off at
  // the next apply, so the simulator refuses it here (issue 13) with a parameter error.
  if (d.type === "bridge") {
    const user = bridgeUsers(ctx, name);
    if (user) throw paramError({ iface: `bridge '${name}' is used by ${user}` });
  }
  delete ifaces[name];
  return writePending(ctx, net, ifaces);
}

function revert(ctx: Ctx): null {
  const net = nodeNetwork(ctx.store, ctx.str("node"));
  delete net.pending;
  delete net.pendingMtime;
  saveNetwork(ctx.store, ctx.str("node"), net);
  return null;
}

function apply(ctx: Ctx): string {
  const node = ctx.str("node");
  const net = nodeNetwork(ctx.store, node);
  // The worker's first step: rename(interfaces.new, interfaces); then `ifreload -a`.
  if (net.pending) {
    net.current = net.pending;
    net.currentMtime = net.pendingMtime ?? ctx.nowSec;
    delete net.pending;
    delete net.pendingMtime;
    saveNetwork(ctx.store, node, net);
  }
  return startTask(
    ctx.store,
    { node, type: "srvreload", id: "networking", user: ctx.user, durationMs: 2500 },
    ctx.now,
  ).upid;
}

export const networkRoutes: Route[] = [
  { method: "GET", path: "/nodes/{node}/network", handler: list },
  { method: "POST", path: "/nodes/{node}/network", handler: create },
  { method: "PUT", path: "/nodes/{node}/network", handler: apply },
  { method: "DELETE", path: "/nodes/{node}/network", handler: revert },
  {
    method: "GET",
    path: "/nodes/{node}/network/{iface}",
    handler: (ctx) => {
      const net = nodeNetwork(ctx.store, ctx.str("node"));
      const name = ctx.str("iface");
      const found = allIfaces(net).find(([n]) => n === name);
      if (!found) throw paramError({ iface: "interface does not exist" });
      const { iface: _i, ...rest } = view(net, name, found[1]);
      return rest;
    },
  },
  { method: "PUT", path: "/nodes/{node}/network/{iface}", handler: update },
  { method: "DELETE", path: "/nodes/{node}/network/{iface}", handler: remove },
];
