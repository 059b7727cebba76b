import SEARCH from "./generated/search-index.json";
import type { HttpMethod } from "./schema";

/**
 * What a search query asks, before any ranking: the words that carry meaning, the method its verb
 * hints at, whether it points at guests or at hosts and the datacenter, and the IDs it names (to
 * fill into example calls). The word lists are data (scripts/search-aliases.json).
 */

const WORDS = SEARCH as unknown as {
  verbs: Record<HttpMethod, readonly string[]>;
  steer: Record<"vm" | "container" | "node" | "datacenter", readonly string[]>;
  act: readonly string[];
  join: { first: readonly string[]; then: readonly string[] };
  stop: readonly string[];
};

const STOP = new Set(WORDS.stop);
const VERB = new Map<string, HttpMethod>();
for (const [method, list] of Object.entries(WORDS.verbs)) {
  for (const word of list) if (!VERB.has(word)) VERB.set(word, method as HttpMethod);
}
const STEER = new Map<string, keyof typeof WORDS.steer>();
for (const [kind, list] of Object.entries(WORDS.steer)) {
  for (const word of list) STEER.set(word, kind as keyof typeof WORDS.steer);
}

const JOIN_FIRST = new Set(WORDS.join.first);
const JOIN_THEN = new Set(WORDS.join.then);

/**
 * Lower-case words of a text: letters and digits (the schema is ASCII), split at everything else.
 * A verb and its particle become one word ("shut down" is "shutdown", "roll back" "rollback"), so
 * "power on" and "power off" stay apart and meet the API's own words.
 */
export function tokenize(text: string): string[] {
  const words = text.toLowerCase().split(/[^a-z0-9]+/);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const next = words[i + 1];
    if (next !== undefined && JOIN_FIRST.has(word) && JOIN_THEN.has(next)) {
      out.push(word + next);
      i++;
    } else {
      out.push(word);
    }
  }
  return out;
}

/**
 * A light English stemmer, the same for the index and the query: plurals, -ing, -ed and a final
 * -e go, so "shares", "shared" and "sharing" meet "share". Not idempotent: apply it once.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith("ies")) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/** MiniSearch's term processing, at index and query time: stop words carry nothing. */
export function processTerm(term: string): string | null {
  if (term.length < 2 || STOP.has(term)) return null;
  return stem(term);
}

export interface Steer {
  vm: boolean;
  container: boolean;
  node: boolean;
  datacenter: boolean;
}

export interface ParsedQuery {
  /** Words to search by, as the user wrote them (stemmed by the engine). */
  words: string[];
  /** The stemmed form of each word, unique: how many a hit matches is its match quality. */
  terms: string[];
  /** Words left out: numbers, IDs, addresses and names. */
  ignored: string[];
  method?: HttpMethod;
  /** The stemmed verb that hinted at the method: an operation of that method matches it. */
  verb?: string;
  /** The query asks for something to be done (a verb or an action word), not only to show a thing. */
  acts: boolean;
  steer: Steer;
  /** Stemmed words that point (vm, node, cluster...): they steer more than they search. */
  pointers: string[];
  /** Values the query names for path parameters ("VM 101" → vmid 101). */
  values: Record<string, string>;
}

/** What the index knows of a word: whether it is one of its terms, and whether it names an action. */
export interface Lexicon {
  /** A word outside the index is a name (it says which thing, not what to do). */
  known(term: string): boolean;
  /** The last word of a path that has no GET ("reboot", "migrate", "wipedisk"). */
  action(term: string): boolean;
}

const ACT = new Set(WORDS.act);

const GUEST_WORD = /\b(?:vm|vms|vmid|virtual machine|container|ct|lxc|qemu|guest|kvm)\s*#?\s*(\d{2,9})\b/i;
const NODE_WORD = /\b(?:node|host|server|hypervisor)\s+([a-z0-9][a-z0-9.-]*)/i;
const STORAGE_WORD = /\bstorage\s+([a-z][a-z0-9._-]*)/i;
const USER_ID = /\b([a-z0-9][\w.-]*@[a-z0-9][\w.-]*)\b/i;

const EVERY_GUEST =
  /\b(?:all|every|each)\s+(?:the\s+|my\s+|of\s+)*(?:vms?|virtual machines?|containers?|cts?|guests?)\b/i;

export function parseQuery(query: string, lexicon: Lexicon): ParsedQuery {
  const { known } = lexicon;
  const values: Record<string, string> = {};
  const names = new Set<string>();
  const vmid = GUEST_WORD.exec(query)?.[1];
  if (vmid) values.vmid = vmid;
  const node = NODE_WORD.exec(query)?.[1]?.toLowerCase();
  if (node && !STOP.has(node) && (/\d/.test(node) || !known(stem(node)))) {
    values.node = node;
    names.add(node);
  }
  const storage = STORAGE_WORD.exec(query)?.[1]?.toLowerCase();
  if (storage && !STOP.has(storage) && (/\d/.test(storage) || !known(stem(storage)))) {
    values.storage = storage;
    names.add(storage);
  }
  const userid = USER_ID.exec(query)?.[1];
  if (userid) {
    values.userid = userid;
    for (const part of tokenize(userid)) names.add(part);
  }

  const steer: Steer = { vm: false, container: false, node: false, datacenter: false };
  const pointers = new Set<string>();
  const words: string[] = [];
  const ignored: string[] = [];
  let method: HttpMethod | undefined;
  let verb: string | undefined;
  for (const word of tokenize(query)) {
    // The first verb says what the query wants done ("list ... to download" is a GET).
    if (!method && VERB.has(word)) {
      method = VERB.get(word);
      verb = stem(word);
    }
    const kind = STEER.get(word);
    if (kind) {
      steer[kind] = true;
      pointers.add(stem(word));
    }
    if (STOP.has(word) || word.length < 2) continue;
    // Numbers, IPs, IDs and names ("pve2", "web01", "nas1") say which thing, not what to do.
    if (/\d/.test(word) && !known(stem(word))) {
      ignored.push(word);
      continue;
    }
    if (names.has(word)) {
      ignored.push(word);
      continue;
    }
    if (!words.includes(word)) words.push(word);
  }
  // "every VM" is all of them: the datacenter's rules or a node's bulk actions, not one guest's.
  if (EVERY_GUEST.test(query)) {
    steer.vm = false;
    steer.container = false;
  }
  const terms = [...new Set(words.map(stem))];
  const acts = Boolean(method) || words.some((w) => ACT.has(w) || lexicon.action(stem(w)));
  return {
    words,
    terms,
    ignored,
    ...(method ? { method } : {}),
    ...(verb && terms.includes(verb) ? { verb } : {}),
    acts,
    steer,
    pointers: [...pointers],
    values,
  };
}
