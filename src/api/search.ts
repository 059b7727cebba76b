import { allOperations, type Operation } from "./index";
import type { HttpMethod } from "./schema";

/**
 * Ranks the operations of the index for a few natural words. Each query word, with the words
 * Proxmox uses for it (VM = qemu, container = lxc, backup = vzdump, ...), scores against the path
 * segments (most), the summary, then the parameter names. Words like "create" or "list" hint at
 * the method instead. Operations that miss most of the query are left out.
 */

/** Everyday words and the words the API uses for them. */
const SYNONYMS: Record<string, readonly string[]> = {
  vm: ["qemu"],
  vms: ["qemu"],
  virtual: ["qemu"],
  machine: ["qemu"],
  kvm: ["qemu"],
  guest: ["qemu", "lxc"],
  guests: ["qemu", "lxc"],
  container: ["lxc"],
  containers: ["lxc"],
  ct: ["lxc"],
  backup: ["vzdump", "backup"],
  backups: ["vzdump", "backup"],
  restore: ["archive", "restore"],
  ha: ["ha"],
  availability: ["ha"],
  failover: ["ha"],
  user: ["users", "userid"],
  token: ["token", "tokenid"],
  tokens: ["token", "tokenid"],
  permission: ["acl", "permissions"],
  permissions: ["acl", "permissions"],
  acl: ["acl"],
  group: ["groups"],
  role: ["roles"],
  realm: ["domains", "realm"],
  ldap: ["domains", "ldap"],
  login: ["domains", "ticket"],
  network: ["network", "iface", "sdn", "vnets"],
  interface: ["network", "iface"],
  bridge: ["network", "bridge", "vnets"],
  vlan: ["network", "vlan", "vnets"],
  update: ["apt", "update"],
  updates: ["apt", "update"],
  upgrade: ["apt", "update"],
  package: ["apt"],
  packages: ["apt"],
  repository: ["apt", "repositories"],
  repositories: ["apt", "repositories"],
  service: ["services"],
  daemon: ["services"],
  iso: ["iso", "download-url", "content"],
  image: ["download-url", "content", "iso"],
  download: ["download-url", "aplinfo"],
  template: ["template", "vztmpl", "aplinfo"],
  storage: ["storage"],
  rrd: ["rrd", "rrddata"],
  graph: ["rrd", "rrddata"],
  metrics: ["rrddata", "metrics"],
  statistics: ["rrddata", "rrd"],
  usage: ["rrddata", "status"],
  history: ["rrddata"],
  disk: ["disks", "disk"],
  disks: ["disks", "disk"],
  certificate: ["certificates"],
  certificates: ["certificates"],
  cert: ["certificates"],
  tls: ["certificates"],
  ssl: ["certificates"],
  acme: ["acme"],
  dns: ["dns"],
  time: ["time"],
  timezone: ["time"],
  host: ["hosts", "nodes"],
  hosts: ["hosts"],
  node: ["nodes"],
  reboot: ["reboot", "status"],
  shutdown: ["shutdown", "status"],
  power: ["status", "wakeonlan"],
  log: ["log", "syslog", "journal"],
  logs: ["log", "syslog", "journal"],
  firewall: ["firewall"],
  rule: ["rules"],
  rules: ["rules"],
  snapshot: ["snapshot"],
  snapshots: ["snapshot"],
  replication: ["replication"],
  job: ["jobs", "backup"],
  jobs: ["jobs", "backup"],
  schedule: ["schedule", "jobs", "backup"],
  task: ["tasks"],
  migrate: ["migrate"],
  migration: ["migrate"],
  clone: ["clone"],
  pool: ["pools"],
  cluster: ["cluster"],
  ceph: ["ceph"],
  zfs: ["zfs"],
  subscription: ["subscription"],
  notification: ["notifications"],
  notifications: ["notifications"],
  console: ["vncproxy", "termproxy"],
  shell: ["termproxy", "vncshell"],
  agent: ["agent"],
  sdn: ["sdn"],
  zone: ["zones"],
  vnet: ["vnets"],
  subnet: ["subnets"],
  ipset: ["ipset"],
  alias: ["aliases"],
  option: ["options"],
  options: ["options"],
  config: ["config"],
  configuration: ["config"],
  status: ["status"],
};

/** Verbs that say which method is meant. */
const METHOD_WORDS: Record<string, HttpMethod> = {
  list: "GET",
  show: "GET",
  get: "GET",
  read: "GET",
  view: "GET",
  create: "POST",
  add: "POST",
  new: "POST",
  start: "POST",
  run: "POST",
  trigger: "POST",
  change: "PUT",
  modify: "PUT",
  edit: "PUT",
  set: "PUT",
  delete: "DELETE",
  remove: "DELETE",
  destroy: "DELETE",
};

const STOP = new Set([
  "a",
  "an",
  "the",
  "of",
  "for",
  "to",
  "on",
  "in",
  "and",
  "or",
  "with",
  "my",
  "all",
  "from",
  "by",
  "at",
  "is",
  "what",
  "which",
  "how",
  "do",
  "i",
]);

function stem(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

interface Doc {
  op: Operation;
  /** Path segments (not the `{param}` ones). */
  segments: Set<string>;
  /** Words of hyphenated segments ("network-get-interfaces"): they say less than a segment. */
  parts: Set<string>;
  summary: Set<string>;
  params: Set<string>;
}

let docs: Doc[] | undefined;

function stems(list: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const w of list) {
    out.add(w);
    out.add(stem(w));
  }
  return out;
}

function allDocs(): Doc[] {
  docs ??= allOperations().map((op) => {
    const segs: string[] = [];
    const parts: string[] = [];
    for (const seg of op.path.split("/").filter(Boolean)) {
      if (seg.startsWith("{")) continue;
      segs.push(seg.toLowerCase());
      parts.push(...words(seg));
    }
    const paramWords: string[] = [];
    for (const name of Object.keys(op.params)) paramWords.push(name.toLowerCase(), ...words(name));
    return {
      op,
      segments: stems(segs),
      parts: stems(parts),
      summary: stems(words(op.summary)),
      params: stems(paramWords),
    };
  });
  return docs;
}

export interface SearchOptions {
  method?: HttpMethod;
  /** Only operations whose template (or a concrete form of it) starts with this. */
  pathPrefix?: string;
  limit: number;
}

export interface Hit {
  op: Operation;
  score: number;
}

function scoreTerm(doc: Doc, alternatives: readonly string[]): number {
  let best = 0;
  for (const [i, term] of alternatives.entries()) {
    // The word itself counts a little more than a synonym.
    const weight = i === 0 ? 1 : 0.9;
    let s = 0;
    if (doc.segments.has(term)) s = 12;
    else if (doc.parts.has(term)) s = 8;
    else if (doc.summary.has(term)) s = 5;
    else if (doc.params.has(term)) s = 2;
    else if (term.length >= 4 && [...doc.segments].some((seg) => seg.startsWith(term))) s = 4;
    best = Math.max(best, s * weight);
  }
  return best;
}

/** Does a concrete or template prefix match this operation's template? */
export function matchesPrefix(template: string, prefix: string): boolean {
  const tpl = template.split("/").filter(Boolean);
  const given = prefix.split("/").filter(Boolean);
  if (given.length > tpl.length) return false;
  return given.every((g, i) => {
    const t = tpl[i] as string;
    if (t === g) return true;
    if (t.startsWith("{")) return true;
    // The last given segment may be a partial word ("/nodes/{node}/fire").
    return i === given.length - 1 && t.startsWith(g);
  });
}

export function searchOperations(query: string, options: SearchOptions): { hits: Hit[]; total: number } {
  const raw = words(query).filter((w) => !STOP.has(w));
  let methodHint: HttpMethod | undefined;
  const terms: string[][] = [];
  for (const w of raw) {
    const verb = METHOD_WORDS[w];
    if (verb) {
      methodHint ??= verb;
      // "start", "set" and "delete" are also path words (status/start, ...).
      if (!["start", "delete", "set"].includes(w)) continue;
    }
    const alt = [w, stem(w), ...(SYNONYMS[w] ?? SYNONYMS[stem(w)] ?? [])];
    terms.push([...new Set(alt)]);
  }
  const hits: Hit[] = [];
  for (const doc of allDocs()) {
    const op = doc.op;
    if (options.method && op.method !== options.method) continue;
    if (options.pathPrefix && !matchesPrefix(op.path, options.pathPrefix)) continue;
    let score = 0;
    let matched = 0;
    for (const alternatives of terms) {
      const s = scoreTerm(doc, alternatives);
      if (s > 0) matched++;
      score += s;
    }
    if (terms.length > 0) {
      // One or two words must all match; longer queries need most of them.
      const needed = terms.length <= 2 ? terms.length : Math.ceil(terms.length * 0.6);
      if (matched < needed) continue;
      if (matched === terms.length) score += 6;
    }
    if (methodHint && op.method === methodHint) score += 3;
    // Shorter paths are the more general operation; denied operations sink.
    score -= op.path.split("/").length * 0.3;
    if (op.class.denied) score -= 8;
    hits.push({ op, score });
  }
  hits.sort(
    (a, b) =>
      b.score - a.score || a.op.path.localeCompare(b.op.path) || a.op.method.localeCompare(b.op.method),
  );
  return { hits: hits.slice(0, options.limit), total: hits.length };
}

/** Operations whose path is closest to an unknown one, for "did you mean". */
export function nearestOperations(method: HttpMethod | undefined, path: string, limit = 5): Operation[] {
  const given = path.split("/").filter(Boolean);
  const scored = allOperations()
    .filter((op) => !method || op.method === method)
    .map((op) => {
      const tpl = op.path.split("/").filter(Boolean);
      let same = 0;
      for (let i = 0; i < Math.min(tpl.length, given.length); i++) {
        const t = tpl[i] as string;
        const g = given[i] as string;
        if (t === g) same += 2;
        else if (t.startsWith("{")) same += 1;
        else break;
      }
      const words = new Set(given.flatMap((g) => g.toLowerCase().split(/[^a-z0-9]+/)));
      const shared = tpl.filter((t) => !t.startsWith("{") && words.has(t.toLowerCase())).length;
      return { op, score: same + shared - Math.abs(tpl.length - given.length) * 0.5 };
    })
    .sort((a, b) => b.score - a.score || a.op.path.localeCompare(b.op.path));
  return scored.slice(0, limit).map((s) => s.op);
}
