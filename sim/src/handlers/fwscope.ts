// Which firewall file a request addresses: cluster.fw, a node's host.fw or a guest's <vmid>.fw
// (pve-firewall PVE::API2::Firewall::{Cluster,Host,VM,CT} load_config/save_config).

import type { Ctx } from "../api/context";
import { emptyFirewall, type FirewallConfig } from "../state/firewall";
import type { Store } from "../state/store";
import type { RuleEnv } from "./fwrules";
import { loadGuest } from "./guests";

export type FwLevel = "cluster" | "node" | "qemu" | "lxc";

/** URL prefix of each level's firewall endpoints, as schema templates. */
export const FW_BASE: Record<FwLevel, string> = {
  cluster: "/cluster/firewall",
  node: "/nodes/{node}/firewall",
  qemu: "/nodes/{node}/qemu/{vmid}/firewall",
  lxc: "/nodes/{node}/lxc/{vmid}/firewall",
};

export const RULE_ENV: Record<FwLevel, RuleEnv> = { cluster: "cluster", node: "host", qemu: "vm", lxc: "ct" };

export function clusterFirewall(store: Store): FirewallConfig {
  return store.firewall.get("cluster") ?? emptyFirewall("cluster");
}

/** The file of this request; guests must exist on the node named in the URL. */
export function loadFirewall(ctx: Ctx, level: FwLevel): FirewallConfig {
  let scope = "cluster";
  if (level === "node") scope = `node/${ctx.str("node")}`;
  if (level === "qemu" || level === "lxc") scope = `vm/${loadGuest(ctx, level).vmid}`;
  return structuredClone(ctx.store.firewall.get(scope) ?? emptyFirewall(scope));
}

/** The file is written back with IP set entries in address order (as the writer sorts them). */
export function saveFirewall(store: Store, config: FirewallConfig): void {
  for (const set of config.ipsets)
    set.entries.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
  store.firewall.put(config);
}

/** Whether a file's rules are in force: the cluster switch, then the file's own `enable`. */
export function firewallActive(store: Store, scope: string): boolean {
  const cluster = Number(clusterFirewall(store).options.enable ?? 0);
  if (!cluster) return false;
  if (scope === "cluster") return true;
  const own = store.firewall.get(scope)?.options.enable;
  // host.fw defaults to enabled, a guest's firewall to disabled.
  return Number(own ?? (scope.startsWith("node/") ? 1 : 0)) > 0;
}

/** PVE::Firewall::clone_vmfw_conf: a clone gets a copy of its source's firewall file. */
export function cloneGuestFirewall(store: Store, from: number, to: number): void {
  const source = store.firewall.get(`vm/${from}`);
  if (source) store.firewall.put({ ...structuredClone(source), scope: `vm/${to}` });
}
