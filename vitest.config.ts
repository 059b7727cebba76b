import { readFile } from "node:fs/promises";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { SIM_BUNDLE } from "./test/global-setup.ts";

// The Worker under test runs with its `dev` environment (PVE bound to the simulator). The
// simulator runs beside it as an auxiliary Worker, bundled by the global setup.

/**
 * The SDK v1 ships source maps that name sources it does not ship, and Vite warns about each one
 * on every run. Its files are loaded without their source map comment instead: nothing to map.
 */
const sdkWithoutSourceMaps: Plugin = {
  name: "sdk-without-source-maps",
  enforce: "pre",
  async load(id) {
    const file = id.split("?")[0] ?? id;
    if (!/[/\\]node_modules[/\\]@modelcontextprotocol[/\\]sdk[/\\].*\.js$/.test(file)) return null;
    const code = await readFile(file, "utf8");
    return { code: code.replace(/^\/\/# sourceMappingURL=.*$/gm, ""), map: null };
  },
};

/** The integration tier's Worker: its `dev` environment, the simulator beside it. */
const workerd = cloudflareTest({
  remoteBindings: false,
  wrangler: { configPath: "./wrangler.toml", environment: "dev" },
  miniflare: {
    bindings: {
      // Short enough that the timeout tests stay quick.
      PROXMOX_TIMEOUT_MS: "1500",
      // Set by `npm run test:update-toolsnaps`: missing tool snapshots are written, not failed.
      TOOLSNAPS_UPDATE: process.env.TOOLSNAPS_UPDATE ?? "",
    },
    workers: [
      {
        name: "pve-sim",
        modules: true,
        scriptPath: SIM_BUNDLE,
        compatibilityDate: "2026-11-01",
        compatibilityFlags: ["nodejs_compat"],
        durableObjects: { SIM: { className: "PveSimulator", useSQLite: true } },
      },
    ],
  },
});

/**
 * Two tiers. `unit` runs pure modules in Node (formats, parsers, shell splitting, the client over a
 * fake fetch): no runtime to start, seconds in all. `integration` runs in workerd against the
 * simulator; its files share one runtime per worker instead of starting one each (isolate off,
 * about 2 s saved per file), so each file starts from a reseeded simulator and an empty local
 * Session (test/helpers/fresh-file.ts) and opens its own MCP session.
 */
export default defineConfig({
  test: {
    // Most of an integration file's time is spent waiting on simulated tasks, not on a core: more
    // runtimes than cores keep both cores busy (Vitest's default is one fewer than the cores).
    maxWorkers: 4,
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        plugins: [sdkWithoutSourceMaps, workerd],
        test: {
          name: "integration",
          globalSetup: ["./test/global-setup.ts"],
          setupFiles: ["./test/helpers/fresh-file.ts"],
          include: ["test/**/*.test.ts"],
          exclude: ["test/unit/**"],
          isolate: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
