import { describe, expect, it } from "vitest";
import type { GuestState, TaskState } from "../../sim/src/state/model";
import { guestHistory } from "../../sim/src/state/rrd";

describe("guest history from finished tasks", () => {
  const guest = { vmid: 108, node: "pve1", status: "running", startedAt: 5000 } as GuestState;
  const task = (node: string, endSec: number, effects: TaskState["effects"]) =>
    ({
      node,
      startMs: endSec * 1000,
      durationMs: 0,
      finished: true,
      outcome: { kind: "ok" },
      effects,
    }) as TaskState;

  it("places the guest on the migration's source before the task ended, and stopped before its start", () => {
    const segments = guestHistory(guest, [
      task("pve3", 5000, [{ kind: "guest-move", vmid: 108, node: "pve1" }]),
      task("pve3", 3000, [{ kind: "guest-running", vmid: 108 }]),
      task("pve3", 2000, [{ kind: "guest-running", vmid: 999 }]),
    ]);
    expect(segments.map((s) => [s.from, s.node, s.running])).toEqual([
      [-Infinity, "pve3", false],
      [3000, "pve3", true],
      [5000, "pve1", true],
    ]);
  });

  it("ignores failed and stopped tasks", () => {
    const failed = {
      ...task("pve3", 4000, [{ kind: "guest-move", vmid: 108, node: "pve1" }]),
      outcome: { kind: "error", message: "x" },
    } as TaskState;
    expect(guestHistory({ ...guest, startedAt: 100 }, [failed]).map((s) => s.node)).toEqual([
      "pve1",
      "pve1",
      "pve1",
    ]);
  });
});
