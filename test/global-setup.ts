import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** Where the simulator Worker is bundled for the test runtime. */
export const SIM_BUNDLE = fileURLToPath(new URL("../sim/dist/index.js", import.meta.url));

/** Bundles the simulator once per test run, the way wrangler would. */
export default async function setup(): Promise<void> {
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
