// Runs before every integration test file. Files share one runtime (isolation is off), so each
// starts as if it had its own: a freshly seeded simulator with no faults, and an empty local
// Session (no tracked tasks, exec jobs, open waits, audit lines or alarm left by the file before),
// and no /healthz verdict cached from the upstream the file before set up.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { forgetHealth } from "../../src/index";
import { LOCAL_SESSION } from "../../src/server/server";
import { sim } from "./sim";

forgetHealth();
await sim.clearFaults();
await sim.reset();
await runInDurableObject(env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION)), async (_session, state) => {
  await state.storage.deleteAlarm();
  await state.storage.deleteAll();
  // The next request wakes a new object, which builds its tables again on the empty storage.
  state.abort("a new test file");
}).catch(() => undefined);
