// The words search_api finds operations by, beyond what the API index already holds
// (src/api/generated/search-index.json, read by src/api/search.ts):
//   docs   per operation, in the API index's order: its full description (when the index's
//          one-line summary cuts it) and the everyday phrases of its areas (search-aliases.json)
//   verbs, act, join, steer, stop   the word lists of search-aliases.json, as they are
//
// The phrases are data beside this generator (scripts/search-aliases.json) so that a word people
// use is added in one place, for every operation of an area, and reviewed as data.
//
// Called by scripts/gen-pve-schema.mjs, so `npm run gen:pve` writes it and `--check` covers it.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { shorten } from "./gen-api-index.mjs";

const ALIASES = resolve(dirname(fileURLToPath(import.meta.url)), "search-aliases.json");
const SUMMARY_MAX = 140;

/** "a, b c, d" → ["a", "b c", "d"] */
function phrases(list) {
  return String(list)
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
}

function clean(text) {
  return String(text ?? "")
    .replace(/\s+/g, " ")
    .trim();
}

export function genSearchIndex(byPath) {
  const table = JSON.parse(readFileSync(ALIASES, "utf8"));
  const areas = table.areas.map((a) => ({ match: new RegExp(a.match), say: phrases(a.say) }));
  const used = new Set();
  const docs = [];
  for (const path of [...byPath.keys()].sort()) {
    const info = byPath.get(path).info ?? {};
    for (const method of Object.keys(info).sort()) {
      const key = `${method} ${path}`;
      const description = clean(info[method].description);
      const say = new Set();
      for (const [i, area] of areas.entries()) {
        if (!area.match.test(key)) continue;
        used.add(i);
        for (const p of area.say) say.add(p);
      }
      // The index already holds the summary: only a description it cuts adds words.
      const full = description === shorten(description, SUMMARY_MAX) ? "" : description;
      docs.push(JSON.stringify([full, [...say].join(", ")]));
    }
  }
  const unused = table.areas.filter((_, i) => !used.has(i)).map((a) => a.match);
  if (unused.length)
    throw new Error(`search-aliases.json: areas that match no operation: ${unused.join("; ")}`);
  const words = (list) => JSON.stringify(phrases(list));
  const verbs = Object.entries(table.verbs).map(
    ([method, list]) => `${JSON.stringify(method)}: ${words(list)}`,
  );
  const steer = Object.entries(table.steer).map(([kind, list]) => `${JSON.stringify(kind)}: ${words(list)}`);
  return `{
"verbs": {
${verbs.join(",\n")}
},
"act": ${words(table.act)},
"join": {"first": ${words(table.join.first)}, "then": ${words(table.join.then)}},
"steer": {
${steer.join(",\n")}
},
"stop": ${words(table.stop)},
"docs": [
${docs.join(",\n")}
]
}
`;
}
