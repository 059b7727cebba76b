import MiniSearch, { type SearchResult } from "minisearch";
import SEARCH from "./generated/search-index.json";
import { allOperations, type Operation } from "./index";
import { type Lexicon, type ParsedQuery, parseQuery, processTerm, stem, tokenize } from "./query";
import type { HttpMethod } from "./schema";

/**
 * Ranked retrieval over every operation of the API index, with MiniSearch (BM25, prefix and
 * fuzzy matching, field boosts). Each operation is a document of its path words, summary, full
 * description, parameter names and descriptions, and the everyday phrases of its areas
 * (scripts/search-aliases.json). The ranking then leans toward what the query points at (guests
 * or hosts, the method its verb hints at) and toward operations that match more of its words.
 * A query always has an answer: the best partial matches, with how well they match.
 */

/** [full description when the summary cuts it, everyday phrases] per operation, in index order. */
const DOCS = (SEARCH as unknown as { docs: readonly (readonly [string, string])[] }).docs;

/** Field weights: what an operation is (its last path words, its phrases) over what it mentions. */
const BOOST = { leaf: 3, say: 2.5, path: 1.5, summary: 2, description: 1, params: 0.4 };

interface Doc {
  id: number;
  leaf: string;
  path: string;
  summary: string;
  description: string;
  params: string;
  say: string;
}

let engine: MiniSearch<Doc> | undefined;

function literalSegments(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0 && !s.startsWith("{"));
}

function toDoc(op: Operation, id: number): Doc {
  const segments = literalSegments(op.path);
  // Which words the parameters use, not how often: a VM's config has hundreds of them.
  const params = new Set<string>();
  for (const [name, schema] of Object.entries(op.params)) {
    // Short enums name what an operation works on ("cifs", "nfs"; "reboot", "shutdown").
    const values = schema.enum && schema.enum.length <= 30 ? schema.enum.join(" ") : "";
    for (const word of tokenize(`${name} ${schema.description ?? ""} ${values}`)) params.add(word);
  }
  const [description, say] = DOCS[id] ?? ["", ""];
  return {
    id,
    leaf: segments.slice(-1).join(" "),
    path: segments.slice(0, -1).join(" "),
    summary: op.summary,
    description,
    params: [...params].join(" "),
    say,
  };
}

/** Every term of the index: a query word outside it is a name (or a typo), not a meaning. */
let vocabulary: Set<string> | undefined;
/** First words of the last segment of paths without a GET: what the API does rather than shows. */
let actions: Set<string> | undefined;

/** Built once per isolate, on the first search (the benchmark measures what that costs). */
export function searchEngine(): MiniSearch<Doc> {
  if (engine) return engine;
  const ops = allOperations();
  if (ops.length !== DOCS.length) {
    throw new Error(
      `search-index.json holds ${DOCS.length} operations, the API index ${ops.length}: run npm run gen:pve`,
    );
  }
  const terms = new Set<string>();
  const built = new MiniSearch<Doc>({
    fields: ["leaf", "path", "summary", "description", "params", "say"],
    tokenize,
    processTerm: (term) => {
      const t = processTerm(term);
      if (t) terms.add(t);
      return t;
    },
    searchOptions: { processTerm },
  });
  built.addAll(ops.map(toDoc));
  const read = new Set(ops.filter((op) => op.method === "GET").map((op) => op.path));
  actions = new Set();
  for (const op of ops) {
    const leaf = op.path.split("/").pop() as string;
    const first = tokenize(leaf)[0];
    if (!read.has(op.path) && !leaf.startsWith("{") && first) actions.add(stem(first));
  }
  vocabulary = terms;
  engine = built;
  return built;
}

const lexicon: Lexicon = {
  known: (term) => {
    searchEngine();
    return vocabulary?.has(term) ?? false;
  },
  action: (term) => {
    searchEngine();
    return actions?.has(term) ?? false;
  },
};

const QEMU = /^\/nodes\/\{node\}\/qemu(\/|$)/;
const LXC = /^\/nodes\/\{node\}\/lxc(\/|$)/;

/** How much the query's pointing (guests, hosts, datacenter) and verb favour an operation. */
function lean(op: Operation, { steer, method, acts }: ParsedQuery): number {
  let factor = 1;
  const qemu = QEMU.test(op.path);
  const lxc = LXC.test(op.path);
  const guest = qemu || lxc;
  const guestWords = steer.vm || steer.container;
  if (steer.vm && !steer.container) factor *= qemu ? 1.4 : lxc ? 0.6 : 1;
  if (steer.container && !steer.vm) factor *= lxc ? 1.4 : qemu ? 0.6 : 1;
  if (steer.node && !guestWords) factor *= guest ? 0.5 : op.path.startsWith("/nodes") ? 1.25 : 1;
  if (steer.datacenter && !guestWords && !steer.node) {
    factor *= op.path.startsWith("/nodes/") ? (guest ? 0.6 : 0.8) : 1.25;
  }
  if (method && op.method === method) factor *= 1.3;
  // A query without a verb names a thing: show it (a list before one item of it).
  if (!acts && op.method === "GET") factor *= 1.15;
  if (op.path.endsWith("}")) factor *= 0.95;
  if (op.class.denied) factor *= 0.3;
  return factor;
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
  /** Share of the query's words this operation matches, 0..1. */
  match: number;
  /** The query's words it matches, as written. */
  matched: string[];
  /** Path parameter values the query names, for an example call. */
  values: Record<string, string>;
}

export interface SearchAnswer {
  hits: Hit[];
  /** Operations that match at least one word (or, with no word matching, those listed). */
  total: number;
  query: ParsedQuery;
  /** The path prefix matched no operation, so the whole API was searched. */
  prefixIgnored?: boolean;
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

/**
 * How many of the query's words an operation matches: a word found only among its parameters
 * (every change has a `delete` and a `digest`) counts half.
 */
function coverage(result: SearchResult, matched: readonly string[]): number {
  let sum = 0;
  for (const term of matched) {
    const fields = Object.entries(result.match)
      .filter(([docTerm]) => docTerm.startsWith(term))
      .flatMap(([, f]) => f);
    // A verb matched by the operation's method has no field: it counts whole.
    sum += fields.length === 0 || fields.some((f) => f !== "params") ? 1 : 0.5;
  }
  return sum;
}

function rank(
  parsed: ParsedQuery,
  accept: (op: Operation) => boolean,
  extra?: (op: Operation) => number,
): Hit[] {
  const ops = allOperations();
  if (parsed.words.length === 0) return [];
  const results: SearchResult[] = searchEngine().search(parsed.words.join(" "), {
    combineWith: "OR",
    boost: BOOST,
    boostTerm: (term) => (parsed.pointers.includes(term) ? 0.75 : 1),
    prefix: (term) => term.length >= 4,
    fuzzy: (term) => (term.length >= 6 ? 0.2 : false),
    filter: (result) => accept(ops[result.id as number] as Operation),
  });
  const hits: Hit[] = [];
  for (const result of results) {
    const op = ops[result.id as number] as Operation;
    const matched = parsed.terms.filter(
      (t) => result.queryTerms.includes(t) || (t === parsed.verb && op.method === parsed.method),
    );
    const match = parsed.terms.length ? coverage(result, matched) / parsed.terms.length : 0;
    const words = parsed.words.filter((w) => matched.includes(stem(w)));
    // BM25 adds up the words; matching more of them counts beyond their sum.
    const score = result.score * lean(op, parsed) * (0.35 + 0.65 * match) * (extra ? extra(op) : 1);
    hits.push({ op, score, match, matched: words, values: valuesFor(op, parsed) });
  }
  return hits.sort(
    (a, b) =>
      b.score - a.score || a.op.path.localeCompare(b.op.path) || a.op.method.localeCompare(b.op.method),
  );
}

/**
 * What the query names for this operation's path: its IDs ("VM 101"), an HA resource by its
 * guest, and a value a path parameter's enum knows ("restart pveproxy").
 */
function valuesFor(op: Operation, parsed: ParsedQuery): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of op.pathParams) {
    const given = parsed.values[name] ?? (name === "sid" ? parsed.values.vmid : undefined);
    const choices = op.params[name]?.enum;
    const named = choices ? [...parsed.words, ...parsed.ignored].find((w) => choices.includes(w)) : undefined;
    const value = given ?? named;
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** When no word matches: what the query points at, general operations (short paths) first. */
function fallback(parsed: ParsedQuery, accept: (op: Operation) => boolean): Hit[] {
  return allOperations()
    .filter(accept)
    .map((op) => ({
      op,
      score: lean(op, parsed) / op.path.split("/").length,
      match: 0,
      matched: [],
      values: valuesFor(op, parsed),
    }))
    .sort((a, b) => b.score - a.score || a.op.path.localeCompare(b.op.path));
}

export function searchOperations(query: string, options: SearchOptions): SearchAnswer {
  const parsed = parseQuery(query, lexicon);
  const filter = (prefix: string | undefined) => (op: Operation) =>
    (!options.method || op.method === options.method) && (!prefix || matchesPrefix(op.path, prefix));
  let accept = filter(options.pathPrefix);
  let prefixIgnored = false;
  if (options.pathPrefix && !allOperations().some(accept)) {
    accept = filter(undefined);
    prefixIgnored = true;
  }
  let hits = rank(parsed, accept);
  const total = hits.length;
  if (hits.length === 0) hits = fallback(parsed, accept);
  return {
    hits: hits.slice(0, options.limit),
    total: total || hits.length,
    query: parsed,
    ...(prefixIgnored ? { prefixIgnored } : {}),
  };
}

/** How many leading segments of a concrete path agree with a template. */
function sharedPrefix(template: string, given: readonly string[]): number {
  const tpl = template.split("/").filter(Boolean);
  let same = 0;
  for (let i = 0; i < Math.min(tpl.length, given.length); i++) {
    const t = tpl[i] as string;
    if (t !== given[i] && !t.startsWith("{")) break;
    same++;
  }
  return same;
}

/**
 * Operations closest to an unknown path, for "nearest operations": the same engine, searched by
 * the path's words, favouring templates that agree with the path's first segments.
 */
export function nearestOperations(method: HttpMethod | undefined, path: string, limit = 5): Operation[] {
  const given = path
    .replace(/^\/?(api2\/json\/?)?/, "")
    .split("/")
    .filter(Boolean);
  const parsed = parseQuery(given.join(" "), lexicon);
  const accept = (op: Operation) => !method || op.method === method;
  const depth = (op: Operation) => {
    const length = op.path.split("/").filter(Boolean).length;
    return (1 + 0.25 * sharedPrefix(op.path, given)) / (1 + 0.2 * Math.abs(length - given.length));
  };
  const found = rank(parsed, accept, depth).map((h) => h.op);
  if (found.length < limit) {
    const seen = new Set(found);
    const near = allOperations()
      .filter((op) => accept(op) && !seen.has(op))
      .map((op) => ({ op, same: sharedPrefix(op.path, given) }))
      .sort((a, b) => b.same - a.same || a.op.path.length - b.op.path.length);
    found.push(...near.map((n) => n.op));
  }
  return found.slice(0, limit);
}
