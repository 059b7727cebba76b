#!/usr/bin/env node
// The one generator of what the repository derives from the official Proxmox VE API schema
// (pve-docs apidoc JSON). It reads the schema once and hands it to one emitter per file:
//   sim/src/generated/api-schema.ts          the simulator's request/response schema (gen-pve-schema.mjs)
//   src/proxmox/generated/pve-api.ts         types of the endpoints the server calls (gen-pve-schema.mjs)
//   src/api/generated/api-index.json         the index behind search_api/read_api/write_api (gen-api-index.mjs)
//   src/proxmox/generated/guest-options.ts   VM and container options for `extra` (gen-guest-options.mjs)
//   src/api/generated/search-index.json      descriptions and everyday phrases for search_api
//                                            (gen-search-index.mjs, search-aliases.json)
//
// Usage: node scripts/gen-pve.mjs [path/to/pve-apidoc.json] [--check] [--out <dir>]
//   The schema defaults to ../shared/proxmox/pve-9.2-apidoc.json (relative to the repo root): the
//   project targets Proxmox VE 9.2. --check writes nothing and exits 1 naming every file on disk
//   that differs from what would be written. --out writes (or checks) under another root than the
//   repository, which is how the generator's own test checks a changed file without touching the tree.
//
// Output is deterministic: object keys are sorted and nothing depends on time or environment.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { genApiIndex } from "./gen-api-index.mjs";
import { guestOptionsFile } from "./gen-guest-options.mjs";
import { simSchemaFile, typesFile } from "./gen-pve-schema.mjs";
import { genSearchIndex } from "./gen-search-index.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_APIDOC = resolve(ROOT, "../shared/proxmox/pve-9.2-apidoc.json");

/** Every generated file: its path under the repository root and the emitter of its content. */
const EMITTERS = [
  ["sim/src/generated/api-schema.ts", simSchemaFile],
  ["src/proxmox/generated/pve-api.ts", typesFile],
  ["src/api/generated/api-index.json", genApiIndex],
  ["src/api/generated/search-index.json", genSearchIndex],
  ["src/proxmox/generated/guest-options.ts", guestOptionsFile],
];

/** The schema tree, flattened to its nodes by path ("/nodes/{node}/qemu" -> {info, children}). */
export function loadApiDoc(path = DEFAULT_APIDOC) {
  let tree;
  try {
    tree = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read schema ${path}: ${e.message}`);
  }
  const byPath = new Map();
  const walk = (nodes) => {
    for (const n of nodes) {
      byPath.set(n.path, n);
      if (n.children) walk(n.children);
    }
  };
  walk(tree);
  return byPath;
}

/** Every generated file's path (relative to the root) and content. */
export function generate(byPath) {
  return EMITTERS.map(([file, emit]) => ({ file, content: emit(byPath) }));
}

/** Files under `root` whose content differs from the generated one (or that are missing). */
export function stale(outputs, root = ROOT) {
  return outputs
    .filter(({ file, content }) => {
      try {
        return readFileSync(resolve(root, file), "utf8") !== content;
      } catch {
        return true;
      }
    })
    .map(({ file }) => file);
}

function main(argv) {
  const check = argv.includes("--check");
  const outAt = argv.indexOf("--out");
  const root = outAt >= 0 ? resolve(process.cwd(), argv[outAt + 1] ?? ".") : ROOT;
  const schemaArg = argv.find((a, i) => !a.startsWith("--") && argv[i - 1] !== "--out");
  const outputs = generate(loadApiDoc(schemaArg ? resolve(process.cwd(), schemaArg) : DEFAULT_APIDOC));
  if (check) {
    const differ = stale(outputs, root);
    for (const file of differ) console.error(`gen-pve: ${file} is out of date; run npm run gen:pve`);
    return differ.length === 0 ? 0 : 1;
  }
  for (const { file, content } of outputs) {
    const target = resolve(root, file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    console.log(`wrote ${relative(process.cwd(), target) || target} (${content.length} bytes)`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`gen-pve: ${e.message}`);
    process.exitCode = 2;
  }
}
