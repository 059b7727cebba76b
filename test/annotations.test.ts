import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, ERAS, type TestClient } from "./helpers/mcp";

/**
 * What a connector directory and a host that asks before acting read from tools/list: a title in
 * people's words on every tool (top level and `annotations.title`), and hints that are true.
 */

type Hints = { destructive: boolean; idempotent: boolean; openWorld?: boolean };

/** Every tool that changes something, with the hints it must carry. */
const CHANGES: Record<string, Hints> = {
  start_vm: { destructive: false, idempotent: true },
  shutdown_vm: { destructive: false, idempotent: true },
  reboot_vm: { destructive: false, idempotent: true },
  stop_vm: { destructive: true, idempotent: true },
  start_container: { destructive: false, idempotent: true },
  shutdown_container: { destructive: false, idempotent: true },
  reboot_container: { destructive: false, idempotent: true },
  stop_container: { destructive: true, idempotent: true },
  create_vm: { destructive: false, idempotent: false },
  create_container: { destructive: false, idempotent: false },
  // Overwrites settings, and `delete` removes them.
  update_vm: { destructive: true, idempotent: true },
  update_container: { destructive: true, idempotent: true },
  delete_vm: { destructive: true, idempotent: true },
  delete_container: { destructive: true, idempotent: true },
  clone_vm: { destructive: false, idempotent: false },
  migrate_vm: { destructive: false, idempotent: false },
  resize_vm_disk: { destructive: false, idempotent: false },
  create_snapshot: { destructive: false, idempotent: false },
  delete_snapshot: { destructive: true, idempotent: true },
  rollback_snapshot: { destructive: true, idempotent: false },
  create_backup: { destructive: false, idempotent: false },
  restore_backup: { destructive: true, idempotent: false },
  create_pool: { destructive: false, idempotent: false },
  delete_pool: { destructive: true, idempotent: true },
  stop_task: { destructive: true, idempotent: true },
  // A command reaches whatever the VM can reach.
  guest_exec: { destructive: true, idempotent: false, openWorld: true },
  guest_file_write: { destructive: true, idempotent: true },
  guest_set_user_password: { destructive: true, idempotent: true },
  guest_fsfreeze: { destructive: true, idempotent: true },
  guest_fstrim: { destructive: false, idempotent: true },
  guest_power: { destructive: true, idempotent: true },
  // Any operation of the schema, download-url (the node fetches from anywhere) included.
  write_api: { destructive: true, idempotent: false, openWorld: true },
};

describe.each(ERAS)("titles and hints in tools/list (%s)", (era) => {
  let client: TestClient;
  let tools: Awaited<ReturnType<TestClient["listTools"]>>;
  beforeAll(async () => {
    client = await connect(era);
    tools = await client.listTools();
  });
  afterAll(() => client.close());

  it("every tool has a short title in words, the same at the top level and in its annotations", () => {
    expect(tools.length).toBeGreaterThanOrEqual(60);
    const titles = new Set<string>();
    for (const tool of tools) {
      const { title } = tool as { title?: string };
      expect(title, tool.name).toMatch(/^[A-Z][^_]{2,38}$/);
      expect(tool.annotations?.title, tool.name).toBe(title);
      expect(titles.has(String(title)), `${tool.name}: title "${title}" used twice`).toBe(false);
      titles.add(String(title));
    }
  });

  it("tools that look say so; tools that change say how, every hint explicit", () => {
    for (const tool of tools) {
      const a = tool.annotations ?? {};
      const expected = CHANGES[tool.name];
      if (a.readOnlyHint === true) {
        expect(expected, `${tool.name} changes something but is marked read-only`).toBeUndefined();
        // destructiveHint and idempotentHint mean nothing on a read-only tool (MCP spec).
        expect(a, tool.name).toEqual({ title: a.title, readOnlyHint: true, openWorldHint: false });
        continue;
      }
      expect(a.readOnlyHint, tool.name).toBe(false);
      expect(typeof a.destructiveHint, tool.name).toBe("boolean");
      expect(typeof a.idempotentHint, tool.name).toBe("boolean");
      expect(typeof a.openWorldHint, tool.name).toBe("boolean");
      if (expected) {
        expect(a, tool.name).toEqual({
          title: a.title,
          readOnlyHint: false,
          destructiveHint: expected.destructive,
          idempotentHint: expected.idempotent,
          openWorldHint: expected.openWorld ?? false,
        });
      }
    }
    const listed = new Set(tools.map((t) => t.name));
    for (const name of Object.keys(CHANGES)) expect(listed, name).toContain(name);
  });
});
