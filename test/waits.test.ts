import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_OPEN_WAITS } from "../src/session/session";
import { connect, expectOk, type TestClient } from "./helpers/mcp";
import { sim } from "./helpers/sim";

/** The UPID of an answer: the rest of its `task: ` line. */
function upidOf(text: string): string {
  const line = text.split("\n").find((l) => l.startsWith("task: "));
  expect(line, text).toBeDefined();
  return (line as string).slice("task: ".length);
}

/** Requests about one task that reached the simulator since its log was cleared. */
async function requestsAbout(upid: string): Promise<{ status: number; log: number }> {
  const mine = (await sim.requests()).filter((r) => r.path.includes(upid));
  return {
    status: mine.filter((r) => r.path.endsWith("/status")).length,
    log: mine.filter((r) => r.path.endsWith("/log")).length,
  };
}

const TASK_MS = 5000;

describe("waits on one task share one poll, and a session's open waits are capped", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect("2025-06-18");
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await sim.reset();
    await sim.settings({ taskDurationMs: TASK_MS });
  });

  it("twenty concurrent wait_for_task calls cost about the status requests of one; those over the cap answer at once", async () => {
    // One waiter alone: the yardstick.
    const alone = upidOf((await expectOk(client, "start_vm", { vmid: 103, wait: false })).text);
    await sim.clearRequests();
    const single = await expectOk(client, "wait_for_task", { upid: alone, wait_seconds: 30 });
    expect(single.data).toMatchObject({ status: "stopped", ok: true });
    const one = await requestsAbout(alone);
    expect(one.status).toBeGreaterThanOrEqual(3);

    const upid = upidOf((await expectOk(client, "start_vm", { vmid: 110, wait: false })).text);
    await sim.clearRequests();
    const progress: number[] = [0, 0];
    const calls = Array.from({ length: 20 }, (_, i) =>
      i < 2
        ? client.callWithProgress("wait_for_task", { upid, wait_seconds: 30 }, () => {
            progress[i] = (progress[i] ?? 0) + 1;
          })
        : client.call("wait_for_task", { upid, wait_seconds: 30 }),
    );
    const answers = await Promise.all(calls);
    for (const answer of answers) expect(answer.isError, JSON.stringify(answer)).toBeFalsy();
    const twenty = await requestsAbout(upid);
    // Today each waiter polls on its own: twenty waiters made about twenty times the requests.
    expect(twenty.status).toBeLessThanOrEqual(one.status + 2);
    // Progress reads the log at most every 2 s, once for all waiters that want it.
    expect(twenty.log).toBeLessThanOrEqual(Math.ceil(TASK_MS / 2000) + 2);
    expect(progress.every((n) => n > 0)).toBe(true);

    const finished = answers.filter((a) => a.structuredContent?.status === "stopped");
    const refused = answers.filter((a) => a.structuredContent?.status === "running");
    expect(finished).toHaveLength(MAX_OPEN_WAITS);
    expect(refused).toHaveLength(20 - MAX_OPEN_WAITS);
    for (const answer of finished)
      expect(answer.structuredContent).toMatchObject({ ok: true, exitstatus: "OK" });
    for (const answer of refused) {
      const text = answer.content[0]?.text ?? "";
      expect(text).toContain(
        `Task qmstart 110 on pve3 is still running. Not waited for: this session already has ${MAX_OPEN_WAITS} waits open (at most ${MAX_OPEN_WAITS}).`,
      );
      expect(text).toContain("get_task_status");
      expect(upidOf(text)).toBe(upid);
      expect(answer.structuredContent).toEqual({
        upid,
        status: "running",
        note: expect.stringContaining("get_tracked_tasks"),
      });
    }

    // Ended waits no longer count: a tool that waits waits again.
    const again = await expectOk(client, "start_vm", { vmid: 105, wait_seconds: 30 });
    expect(again.data).toMatchObject({ state: "done", exitstatus: "OK" });
  });

  it("a tool that starts a task over the cap says it started, with the UPID and how to follow it", async () => {
    const upid = upidOf((await expectOk(client, "start_vm", { vmid: 110, wait: false })).text);
    const holding = Array.from({ length: MAX_OPEN_WAITS }, () =>
      client.call("wait_for_task", { upid, wait_seconds: 30 }),
    );
    // Let the holders open their waits before the next call asks.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = await expectOk(client, "start_vm", { vmid: 103, wait_seconds: 30 });
    expect(started.data).toMatchObject({ state: "started", upid: expect.stringMatching(/:qmstart:103:/) });
    expect(started.text).toMatch(/^Start VM 103 'win11' on pve1: started\. Not waited for: /);
    expect(upidOf(started.text)).toBe(started.data.upid);
    for (const answer of await Promise.all(holding)) expect(answer.structuredContent?.status).toBe("stopped");
  });
});
