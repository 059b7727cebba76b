// The generator's --check, run by Node (the generator is a Node script; the vitest suites run in
// workerd, which has no file system): an unchanged tree passes, a changed or missing generated
// file fails and is named. Skipped when the official schema is absent (../shared is not in the repo).
// Run: node --test test/scripts/gen-pve.test.mjs

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_APIDOC, generate, loadApiDoc, stale } from "../../scripts/gen-pve.mjs";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const GEN = join(ROOT, "scripts/gen-pve.mjs");
const skip = existsSync(DEFAULT_APIDOC) ? false : "the official schema (../shared) is absent";

function run(...args) {
  return spawnSync(process.execPath, [GEN, ...args], { cwd: ROOT, encoding: "utf8" });
}

test("--check passes on the repository as committed", { skip }, () => {
  const result = run("--check");
  assert.equal(result.stderr, "");
  assert.equal(result.status, 0);
});

test("one load feeds every emitter, and the tree holds what they emit", { skip }, () => {
  const outputs = generate(loadApiDoc());
  assert.deepEqual(
    outputs.map((o) => o.file),
    [
      "sim/src/generated/api-schema.ts",
      "src/proxmox/generated/pve-api.ts",
      "src/api/generated/api-index.json",
      "src/api/generated/search-index.json",
      "src/proxmox/generated/guest-options.ts",
    ],
  );
  assert.deepEqual(stale(outputs, ROOT), []);
});

test("--check names a changed and a missing file and exits 1, writing nothing", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gen-pve-"));
  try {
    assert.equal(run("--out", dir).status, 0);
    assert.equal(run("--check", "--out", dir).status, 0);
    writeFileSync(join(dir, "src/proxmox/generated/guest-options.ts"), "// edited by hand\n");
    rmSync(join(dir, "src/api/generated/api-index.json"));
    const result = run("--check", "--out", dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /src\/proxmox\/generated\/guest-options\.ts is out of date/);
    assert.match(result.stderr, /src\/api\/generated\/api-index\.json is out of date/);
    assert.doesNotMatch(result.stderr, /pve-api\.ts/);
    assert.equal(existsSync(join(dir, "src/api/generated/api-index.json")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an unreadable schema is an error of its own (exit 2), not a stale file", () => {
  const result = run(join(tmpdir(), "no-such-apidoc.json"), "--check");
  assert.equal(result.status, 2);
  assert.match(result.stderr, /cannot read schema/);
});
