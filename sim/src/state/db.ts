// Persistence in the Durable Object's SQLite: one row per entity, so a mutation rewrites one row
// and never the whole world. Everything is loaded into memory once, when the object starts.

export class Db {
  constructor(private readonly storage: DurableObjectStorage) {
    const sql = storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS entity (kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, id))",
    );
    sql.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, json TEXT NOT NULL)");
  }

  rows(kind: string): unknown[] {
    const out: unknown[] = [];
    for (const row of this.storage.sql.exec<{ json: string }>(
      "SELECT json FROM entity WHERE kind = ?",
      kind,
    )) {
      out.push(JSON.parse(row.json));
    }
    return out;
  }

  /** Ids and values of one kind of row. */
  entries(kind: string): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const row of this.storage.sql.exec<{ id: string; json: string }>(
      "SELECT id, json FROM entity WHERE kind = ?",
      kind,
    )) {
      out.push([row.id, JSON.parse(row.json)]);
    }
    return out;
  }

  ids(kind: string): string[] {
    const out: string[] = [];
    for (const row of this.storage.sql.exec<{ id: string }>("SELECT id FROM entity WHERE kind = ?", kind))
      out.push(row.id);
    return out;
  }

  put(kind: string, id: string, value: unknown): void {
    this.storage.sql.exec(
      "INSERT OR REPLACE INTO entity (kind, id, json) VALUES (?, ?, ?)",
      kind,
      id,
      JSON.stringify(value),
    );
  }

  delete(kind: string, id: string): void {
    this.storage.sql.exec("DELETE FROM entity WHERE kind = ? AND id = ?", kind, id);
  }

  getKv<T>(key: string): T | undefined {
    for (const row of this.storage.sql.exec<{ json: string }>("SELECT json FROM kv WHERE k = ?", key)) {
      return JSON.parse(row.json) as T;
    }
    return undefined;
  }

  setKv(key: string, value: unknown): void {
    this.storage.sql.exec("INSERT OR REPLACE INTO kv (k, json) VALUES (?, ?)", key, JSON.stringify(value));
  }

  clear(): void {
    this.storage.sql.exec("DELETE FROM entity");
    this.storage.sql.exec("DELETE FROM kv");
  }

  transaction<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }
}

/** An in-memory map mirrored row by row into the entity table. */
export class Table<K extends string | number, V> {
  private readonly map = new Map<K, V>();

  constructor(
    private readonly db: Db,
    private readonly kind: string,
    private readonly keyOf: (value: V) => K,
  ) {}

  load(): void {
    this.map.clear();
    for (const row of this.db.rows(this.kind)) this.map.set(this.keyOf(row as V), row as V);
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }

  /** Stores (or re-stores after a mutation) one entity. */
  put(value: V): void {
    const key = this.keyOf(value);
    this.map.set(key, value);
    this.db.put(this.kind, String(key), value);
  }

  delete(key: K): void {
    this.map.delete(key);
    this.db.delete(this.kind, String(key));
  }

  /** Forgets the in-memory rows (the caller clears the database). */
  reset(): void {
    this.map.clear();
  }
}
