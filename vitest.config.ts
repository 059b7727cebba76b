import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { createLogger } from "vite";
import { defineConfig } from "vitest/config";
import { SIM_BUNDLE } from "./test/global-setup.ts";

// The Worker under test runs with its `dev` environment (PVE bound to the simulator). The
// simulator runs beside it as an auxiliary Worker, bundled by the global setup.
// The SDK v1 ships source maps that name sources it does not ship; Vite would warn about each on
// every run. Only that warning is dropped.
const logger = createLogger();
const warn = logger.warn.bind(logger);
logger.warn = (message, options) => {
  if (/Sourcemap for ".*" points to missing source files/.test(message)) return;
  warn(message, options);
};
logger.warnOnce = logger.warn;

export default defineConfig({
  customLogger: logger,
  plugins: [
    cloudflareTest({
      remoteBindings: false,
      wrangler: { configPath: "./wrangler.toml", environment: "dev" },
      miniflare: {
        // Short enough that the timeout tests stay quick.
        bindings: { PROXMOX_TIMEOUT_MS: "1500" },
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
    }),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
