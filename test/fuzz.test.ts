import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzCall, fuzzCalls } from "../bench/fuzz-cases";
import { connect, type TestClient, textOf } from "./helpers/mcp";
import { post } from "./helpers/pve";
import { sim } from "./helpers/sim";

/**
 * Every tool of every scope, every argument, fed what no valid call contains: wrong types,
 * missing required arguments, a 1 MiB string, "../", "%2F", "?", "#", newline, NUL, unicode,
 * arrays, null and objects. Each call must be refused with an error result, and none may cause
 * a single request to Proxmox (the simulator's request log stays empty).
 */

let client: TestClient;
let tools: { name: string; inputSchema: unknown }[];

beforeAll(async () => {
  await sim.reset();
  // Sign-in is off locally: this client has every scope (read, write, exec).
  client = await connect("2026-07-28");
  tools = await client.listTools();
}, 60_000);
afterAll(async () => {
  await client.close();
});

describe("fuzzing every tool's arguments", () => {
  it("lists the tools of every scope", () => {
    const names = tools.map((t) => t.name);
    for (const name of ["get_vm", "create_vm", "update_container", "guest_exec", "guest_file_write"]) {
      expect(names).toContain(name);
    }
    expect(names.length).toBeGreaterThan(50);
  });

  it("refuses every invalid call without a request to Proxmox", { timeout: 240_000 }, async () => {
    const { calls, unknownRequired } = fuzzCalls(tools);
    expect(unknownRequired, "required arguments without a valid value in BASELINE").toEqual([]);
    expect(calls.length).toBeGreaterThan(1500);
    await sim.clearRequests();
    const accepted: string[] = [];
    const caused: string[] = [];
    const describeCall = (call: FuzzCall) => `${call.tool} ${call.arg} (${call.label})`;
    // A few calls at a time: the log is read after each batch so a request names its culprit.
    const BATCH = 16;
    const started = Date.now();
    for (let i = 0; i < calls.length; i += BATCH) {
      const batch = calls.slice(i, i + BATCH);
      const results = await Promise.all(
        batch.map((call) =>
          client.call(call.tool, call.args).catch((error: Error) => ({
            isError: true,
            content: [{ type: "text", text: `protocol error: ${error.message}` }],
          })),
        ),
      );
      for (const [j, result] of results.entries()) {
        const call = batch[j] as FuzzCall;
        if (!result.isError) accepted.push(`${describeCall(call)}: ${textOf(result).slice(0, 120)}`);
      }
      const requests = await sim.requests();
      if (requests.length > 0) {
        caused.push(
          `${batch.map(describeCall).join(", ")} -> ${requests.map((r) => `${r.method} ${r.path}`).join(", ")}`,
        );
        await sim.clearRequests();
      }
    }
    console.log(`fuzz: ${calls.length} invalid calls in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(caused, "invalid calls that reached Proxmox").toEqual([]);
    expect(accepted, "invalid calls that were not refused").toEqual([]);
  });

  it("says what is missing, and what a number or a time must look like", async () => {
    const message = async (tool: string, args: Record<string, unknown>) => {
      const result = await client.call(tool, args);
      expect(result.isError).toBe(true);
      return textOf(result);
    };
    expect(await message("shutdown_vm", {})).toContain("vmid is required (the guest's numeric ID, e.g. 101)");
    for (const vmid of [[100], true, null, "1e2", "", " 1"]) {
      expect(await message("shutdown_vm", { vmid })).toContain(
        "vmid must be a number or a string of digits (the guest's numeric ID, e.g. 101)",
      );
    }
    expect(await message("update_container", { vmid: 200, swap: null })).toContain(
      "swap must be a number or a string of digits",
    );
    expect(await message("update_vm", { vmid: 100, cores: [1] })).toContain(
      "cores must be a number or a string of digits",
    );
    expect(await message("get_tasks", { since: "yesterday" })).toContain(
      "since must be a number or a string of digits (Unix time in seconds, e.g. 1767225600; not a date or a word like 'yesterday')",
    );
    expect(await message("get_audit_log", { since: "2026-01-01" })).toContain("Unix time in seconds");
    expect(await message("get_vm", { vmid: "101x" })).toContain("not '101x'");
    expect(await sim.requests()).toEqual([]);
  });

  it("accepts a string of digits, and a UPID with surrounding spaces or a trailing period", async () => {
    const vm = await client.call("get_vm", { vmid: "100" });
    expect(vm.isError ?? false, textOf(vm)).toBe(false);
    const upid = await post("/nodes/pve1/qemu/103/status/start");
    expect(upid).toMatch(/^UPID:pve1:/);
    for (const written of [` ${upid} `, `${upid}.`, `\n${upid}.\n`]) {
      const status = await client.call("get_task_status", { upid: written });
      expect(status.isError ?? false, textOf(status)).toBe(false);
      expect((status.structuredContent as { upid: string }).upid).toBe(upid);
    }
  });
});
