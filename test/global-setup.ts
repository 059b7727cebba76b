import { fileURLToPath } from "node:url";
import { build } from "esbuild";
// @ts-expect-error: a plain ES module script without type declarations.
import { buildView } from "../scripts/build-view.mjs";

/** Where the simulator Worker is bundled for the test runtime. */
export const SIM_BUNDLE = fileURLToPath(new URL("../sim/dist/index.js", import.meta.url));

/** Bundles the simulator once per test run, the way wrangler would. */
export default async function setup(): Promise<void> {
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
