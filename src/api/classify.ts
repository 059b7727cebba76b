import type { Scope } from "../mcp/surface";
import type { HttpMethod } from "./schema";

/**
 * The one table that puts every operation of the schema in a scope, or refuses it with a reason.
 * First matching rule wins. Every GET is `read` unless denied; writes fall through to `admin`,
 * so an operation a newer schema adds lands in the strictest scope until the table names it.
 */

export type Classification = { scope: Scope; denied?: undefined } | { scope?: undefined; denied: string };

interface Rule {
  /** Methods the rule applies to; all when absent. "write" means POST, PUT and DELETE. */
  methods?: "write" | HttpMethod;
  path: RegExp;
  scope?: Scope;
  denied?: string;
  /** One line for the README's table. */
  covers: string;
}

const SHELL =
  "it opens a shell or console on the host or guest; use the Proxmox web UI for that, never an assistant";

export const RULES: readonly Rule[] = [
  // Never reachable, whatever the scope.
  {
    path: /\/(termproxy|vncshell|spiceshell|vncproxy|spiceproxy|vncwebsocket)$/,
    denied: SHELL,
    covers: "termproxy, vncshell, spiceshell, vncproxy, spiceproxy, vncwebsocket",
  },
  {
    path: /\/(mtunnel|mtunnelwebsocket)$/,
    denied: "it opens a migration tunnel socket into the cluster",
    covers: "mtunnel, mtunnelwebsocket",
  },
  {
    path: /^\/nodes\/\{node\}\/execute$/,
    denied: "it runs a batch of further API calls that would bypass these checks",
    covers: "POST /nodes/{node}/execute",
  },
  {
    methods: "POST",
    path: /^\/access\/(ticket|openid\/(auth-url|login))$/,
    denied: "it is a password or browser sign-in; this server signs in with its API token only",
    covers: "POST /access/ticket, /access/openid/*",
  },
  {
    methods: "POST",
    path: /^\/access\/vncticket$/,
    denied: SHELL,
    covers: "POST /access/vncticket",
  },
  {
    path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/monitor$/,
    denied: "raw QEMU monitor commands act on the host's QEMU process past the API's checks",
    covers: "POST /nodes/{node}/qemu/{vmid}/monitor",
  },
  {
    methods: "POST",
    path: /^\/nodes\/\{node\}\/storage\/\{storage\}\/upload$/,
    denied: "an upload needs a multipart file body; use download-url to fetch a file onto storage",
    covers: "POST /nodes/{node}/storage/{storage}/upload",
  },
  {
    path: /\/file-restore\/download$/,
    denied: "it streams a file download rather than JSON",
    covers: "GET .../file-restore/download",
  },
  // Reads.
  { methods: "GET", path: /^/, scope: "read", covers: "every other GET" },
  // Inside guests, as guest_exec and guest_file_write.
  { path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/agent(\/|$)/, scope: "exec", covers: "writes under /agent/" },
  // Guests and their surroundings.
  {
    path: /^\/nodes\/\{node\}\/(qemu|lxc)(\/|$)/,
    scope: "write",
    covers: "guests: create, config, power, snapshots, clone, migrate, disks, guest firewall",
  },
  {
    path: /^\/nodes\/\{node\}\/(startall|stopall|suspendall|migrateall)$/,
    scope: "write",
    covers: "start/stop/suspend/migrate all guests of a node",
  },
  { path: /^\/cluster\/bulk-action\/guest\//, scope: "write", covers: "bulk guest actions" },
  {
    path: /^\/cluster\/ha\/(resources|groups|rules)(\/|$)/,
    scope: "write",
    covers: "HA resources, groups, rules",
  },
  { path: /^\/pools(\/|$)/, scope: "write", covers: "pools" },
  { path: /^\/nodes\/\{node\}\/vzdump$/, scope: "write", covers: "backups (vzdump)" },
  { path: /^\/cluster\/backup(\/|$)/, scope: "write", covers: "backup jobs" },
  { path: /^\/cluster\/replication(\/|$)/, scope: "write", covers: "replication jobs" },
  { path: /^\/nodes\/\{node\}\/replication\//, scope: "write", covers: "run a replication job now" },
  {
    path: /^\/nodes\/\{node\}\/storage\/\{storage\}\/(content|download-url|oci-registry-pull|prunebackups)(\/|$)/,
    scope: "write",
    covers: "storage content: volumes, backups, downloads, pruning",
  },
  { path: /^\/nodes\/\{node\}\/aplinfo$/, scope: "write", covers: "download a container template" },
  { path: /^\/nodes\/\{node\}\/tasks\//, scope: "write", covers: "stop a task" },
  // The hosts and who may do what.
  {
    path: /^/,
    scope: "admin",
    covers:
      "everything else: /access (users, tokens, groups, roles, ACLs, realms), node network, services, APT, node power, disks, certificates, DNS/hosts/time, /storage configuration, cluster and node firewall, SDN, Ceph, hardware mappings, notifications, cluster options and join",
  },
];

function applies(rule: Rule, method: HttpMethod): boolean {
  if (!rule.methods) return true;
  if (rule.methods === "write") return method !== "GET";
  return rule.methods === method;
}

export function classify(method: HttpMethod, path: string): Classification {
  for (const rule of RULES) {
    if (!applies(rule, method) || !rule.path.test(path)) continue;
    if (rule.denied) return { denied: rule.denied };
    return { scope: rule.scope as Scope };
  }
  return { scope: "admin" };
}
