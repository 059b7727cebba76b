import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MIGRATIONS, migrate, type Session } from "../src/session/session";

const schemaOf = (storage: DurableObjectStorage) =>
  storage.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'schema'").one().value;

const columnsOf = (storage: DurableObjectStorage, table: string) =>
  storage.sql
    .exec<{ name: string }>(`PRAGMA table_info(${table})`)
    .toArray()
    .map((column) => column.name);

function stub(name: string) {
  return env.SESSION.get(env.SESSION.idFromName(name)) as DurableObjectStub<Session>;
}

describe("the Session's tables", () => {
  it("a new Session has every step applied and recorded", async () => {
    await runInDurableObject(stub("schema-new"), async (_instance, state) => {
      expect(schemaOf(state.storage)).toBe(MIGRATIONS.length);
      expect(columnsOf(state.storage, "tasks")).toContain("next_check_at");
      expect(columnsOf(state.storage, "audit")).toContain("outcome");
    });
  });

  it("a Session from an older version applies only the steps it lacks, keeping its rows", async () => {
    await runInDurableObject(stub("schema-old"), async (_instance, state) => {
      const { sql } = state.storage;
      sql.exec(
        "INSERT INTO audit (at, actor, tool, target, args, outcome) VALUES (1, 'local', 'start_vm', 'VM 101', '{}', 'done')",
      );
      // As a Session written before the step below existed would be.
      const next = [...MIGRATIONS, "ALTER TABLE audit ADD COLUMN note TEXT"];
      migrate(state.storage, next);
      expect(schemaOf(state.storage)).toBe(next.length);
      expect(columnsOf(state.storage, "audit")).toContain("note");
      // Applied once: running the same steps again would fail on the duplicate column if it re-ran.
      migrate(state.storage, next);
      expect(sql.exec("SELECT tool FROM audit").toArray()).toEqual([{ tool: "start_vm" }]);
    });
  });

  it("a failing step changes nothing and leaves the version where it was", async () => {
    await runInDurableObject(stub("schema-bad"), async (_instance, state) => {
      const bad = [...MIGRATIONS, "ALTER TABLE tasks ADD COLUMN extra TEXT", "ALTER TABLE nowhere ADD x"];
      expect(() => migrate(state.storage, bad)).toThrow();
      expect(schemaOf(state.storage)).toBe(MIGRATIONS.length + 1);
      expect(columnsOf(state.storage, "tasks")).toContain("extra");
    });
  });
});
