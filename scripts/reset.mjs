#!/usr/bin/env node
// `npm run reset`: forget the local demo cluster and the local Sessions (tracked tasks, audit
// log) and OAuth grants kept by `npm run dev` in .wrangler/state. The next `npm run dev` starts
// from the simulator's seeded three-node homelab. Stop `npm run dev` first.

import { existsSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const folders = [join(ROOT, ".wrangler", "state"), join(ROOT, "sim", ".wrangler", "state")];
const found = folders.filter((folder) => existsSync(folder));
for (const folder of found) rmSync(folder, { recursive: true, force: true });
console.log(
  found.length
    ? "Cleared the local state: the next npm run dev starts from the seeded demo cluster with a fresh Session."
    : "Nothing to clear: there is no local state yet.",
);
