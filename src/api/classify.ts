import type { Scope } from "../mcp/surface";
import type { HttpMethod } from "./schema";

/**
 * The one table that puts every operation of the schema in a scope, or refuses it with a reason.
 * First matching rule wins. Operations are judged by what they do, not where their path sits:
 * - `read` looks at the cluster and nothing leaves it;
 * - `write` changes guests and their surroundings (power, config, snapshots, clones, migrations
 *   inside the cluster, backups, pools, HA, storage content);
 * - `exec` acts inside a guest or reads what is inside it (guest agent commands, file reads,
 *   exec results, keystrokes, files inside backups);
 * - `admin` changes the hosts or who may do what, makes a host connect to an address the caller
 *   names (scans, URL downloads, ACME directories, external IPAMs), or sends a guest out of the
 *   cluster;
 * - denied: shells, consoles, tunnels and anything that would bypass these checks.
 * Writes fall through to `admin`, so an operation a newer schema adds lands in the strictest
 * scope until the table names it.
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
    methods: "POST",
    path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/dbus-vmstate$/,
    denied: "it drives QEMU's internal D-Bus state helper, which only a migration uses",
    covers: "POST /nodes/{node}/qemu/{vmid}/dbus-vmstate",
  },
  {
    path: /\/file-restore\/download$/,
    denied: "it streams a file download rather than JSON",
    covers: "GET .../file-restore/download",
  },
  // Reads of what is inside a guest: a command's output, a file, a file inside a backup.
  {
    methods: "GET",
    path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/agent\/(exec-status|file-read)$/,
    scope: "exec",
    covers: "GET .../agent/exec-status, .../agent/file-read",
  },
  {
    methods: "GET",
    path: /^\/nodes\/\{node\}\/storage\/\{storage\}\/file-restore\/list$/,
    scope: "exec",
    covers: "GET .../file-restore/list (files inside a backup)",
  },
  // Reads that make a host connect to an address the caller names.
  {
    methods: "GET",
    path: /^\/nodes\/\{node\}\/(query-url-metadata|query-oci-repo-tags|scan\/(cifs|nfs|iscsi|pbs)|apt\/changelog|report)$/,
    scope: "admin",
    covers:
      "GET query-url-metadata, query-oci-repo-tags, scan/cifs|nfs|iscsi|pbs, apt/changelog (the host connects out), report (runs host diagnostics)",
  },
  {
    methods: "GET",
    path: /^\/cluster\/(acme\/(meta|tos)|sdn\/ipams\/\{ipam\}\/status)$/,
    scope: "admin",
    covers:
      "GET /cluster/acme/meta, /cluster/acme/tos, /cluster/sdn/ipams/{ipam}/status (the host connects out)",
  },
  // Reads.
  { methods: "GET", path: /^/, scope: "read", covers: "every other GET" },
  // Out of the cluster: the guest goes to a host this server knows nothing of, and may be deleted here.
  {
    path: /^\/nodes\/\{node\}\/(qemu|lxc)\/\{vmid\}\/remote_migrate$/,
    scope: "admin",
    covers: "remote_migrate (a guest leaves for another cluster)",
  },
  // Inside guests, as guest_exec and guest_file_write; keystrokes into a console run code too.
  { path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/agent(\/|$)/, scope: "exec", covers: "writes under /agent/" },
  { path: /^\/nodes\/\{node\}\/qemu\/\{vmid\}\/sendkey$/, scope: "exec", covers: "PUT .../sendkey" },
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
  // The host fetches whatever URL or registry it is given, internal addresses included.
  {
    path: /^\/nodes\/\{node\}\/storage\/\{storage\}\/(download-url|oci-registry-pull)$/,
    scope: "admin",
    covers: "download-url, oci-registry-pull (the host connects out)",
  },
  {
    path: /^\/nodes\/\{node\}\/storage\/\{storage\}\/(content|prunebackups)(\/|$)/,
    scope: "write",
    covers: "storage content: volumes, backups, pruning",
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
