import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_SESSION } from "../src/server/server";
import type { Session, SessionApi } from "../src/session/session";
import { connect, expectOk, type TestClient } from "./helpers/mcp";
import { sim } from "./helpers/sim";

const sessionStub = () =>
  env.SESSION.get(env.SESSION.idFromName(LOCAL_SESSION)) as DurableObjectStub<Session>;
const session = () => sessionStub() as unknown as SessionApi;

const alarmOf = () => runInDurableObject(sessionStub(), (_instance, state) => state.storage.getAlarm());

/** Ends the Session's object as an eviction or a restart would: its next call wakes a new one. */
async function evict(): Promise<void> {
  await runInDurableObject(sessionStub(), (_instance, state) => {
    state.abort("evicted by the test");
  }).catch(() => undefined);
}

describe("the Session re-arms its alarm when it wakes", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-06-18");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: 1000 });
  });

  it("a running task whose alarm was lost gets one again on the next wake, and is followed to its end", async () => {
    const started = await expectOk(client, "start_vm", { vmid: 103, wait: false });
    const upid = started.data.upid as string;
    expect(await alarmOf()).not.toBeNull();

    await runInDurableObject(sessionStub(), (_instance, state) => state.storage.deleteAlarm());
    expect(await alarmOf()).toBeNull();
    await evict();

    // Any call wakes it: here a plain read of the task, which never asks Proxmox itself.
    expect((await session().getTask(upid))?.status).toBe("running");
    expect(await alarmOf()).not.toBeNull();

    // The alarm, not a tool, follows the task to its end.
    const deadline = Date.now() + 15_000;
    let task = await session().getTask(upid);
    while (task?.status === "running" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      task = await session().getTask(upid);
    }
    expect(task).toMatchObject({ status: "stopped", exitstatus: "OK", ok: true });
    const audit = await session().listAudit({ limit: 5, tool: "start_vm" });
    expect(audit.find((e) => e.upid === upid)?.outcome).toBe("OK");
  });

  it("a Session with nothing running sets no alarm when it wakes", async () => {
    const started = await expectOk(client, "start_vm", { vmid: 103, wait_seconds: 30 });
    expect(started.data.state).toBe("done");
    await runInDurableObject(sessionStub(), (_instance, state) => state.storage.deleteAlarm());
    await evict();
    await session().listTasks({ limit: 1 });
    expect(await alarmOf()).toBeNull();
  });
});
