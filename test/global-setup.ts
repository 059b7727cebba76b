import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
// @ts-expect-error: a plain ES module script without type declarations.
import { buildView } from "../scripts/build-view.mjs";
import type { Recording, SearchIntent } from "./helpers/recording.ts";

/** Where the simulator Worker is bundled for the test runtime. */
export const SIM_BUNDLE = fileURLToPath(new URL("../sim/dist/index.js", import.meta.url));

/** Bundles the simulator once per test run, the way wrangler would. */
export default async function setup(project: {
  provide(key: "recorded", value: Recording[] | null): void;
  provide(key: "searchIntents", value: SearchIntent[] | null): void;
  provide(key: "toolsnaps", value: string[]): void;
}): Promise<void> {
  project.provide("recorded", readRecordings());
  project.provide("searchIntents", readSearchIntents());
  project.provide("toolsnaps", toolSnapshots());
  // The Worker serves the dashboard view as a string built from src/app/view.
  await buildView({ quiet: true });
  await build({
    entryPoints: [fileURLToPath(new URL("../sim/src/index.ts", import.meta.url))],
    outfile: SIM_BUNDLE,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    external: ["cloudflare:*", "node:*"],
    logLevel: "warning",
  });
}

/** The workerd test runtime cannot read the host's files, so the recordings are handed over here. */
function readRecordings(): Recording[] | null {
  const dir = fileURLToPath(new URL("../../shared/proxmox/recorded/", import.meta.url));
  if (!existsSync(`${dir}index.json`)) return null;
  const index = JSON.parse(readFileSync(`${dir}index.json`, "utf8")) as (Omit<Recording, "body"> & {
    envelope: boolean;
  })[];
  return index.map(({ method, path, query, status, file, pve_version, envelope }) => {
    const text = readFileSync(dir + file, "utf8");
    return { method, path, query, status, file, pve_version, body: envelope ? text : `{"data":${text}}` };
  });
}

/** The development set of everyday search intents (../shared/search/intents-dev.json). */
function readSearchIntents(): SearchIntent[] | null {
  const file = fileURLToPath(new URL("../../shared/search/intents-dev.json", import.meta.url));
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SearchIntent[]) : null;
}

/** The tools with a listing snapshot: the test that compares them cannot list a directory. */
function toolSnapshots(): string[] {
  const dir = fileURLToPath(new URL("./__toolsnaps__/", import.meta.url));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length));
}
