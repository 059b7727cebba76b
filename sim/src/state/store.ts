import type { QgaRuntime } from "../guest/qga";
import { loadQga, saveQga } from "../guest/qga-store";
import { Db, Table } from "./db";
import {
  DEFAULT_SETTINGS,
  type Fault,
  type GuestState,
  type Meta,
  type NodeState,
  type PoolState,
  type Settings,
  type StorageState,
  type TaskState,
  type VolumeState,
} from "./model";

/** Everything a seed produces. */
export interface World {
  meta: Meta;
  nodes: NodeState[];
  guests: GuestState[];
  storages: StorageState[];
  volumes: VolumeState[];
  pools: PoolState[];
  tasks: TaskState[];
}

export const volumeKey = (v: Pick<VolumeState, "node" | "volid">) => `${v.node ?? "*"}|${v.volid}`;

/** The one state store: in-memory tables mirrored into SQLite. */
/** Version of the persisted state's shape; bump it whenever a stored entity gains a required field. */
export const STATE_FORMAT = 2;

export class Store {
  readonly db: Db;
  readonly nodes: Table<string, NodeState>;
  readonly guests: Table<number, GuestState>;
  readonly storages: Table<string, StorageState>;
  readonly volumes: Table<string, VolumeState>;
  readonly pools: Table<string, PoolState>;
  readonly tasks: Table<string, TaskState>;
  meta: Meta = { t0: 0, seed: { nodes: 3 } };
  settings: Settings = { ...DEFAULT_SETTINGS };
  faults: Fault[] = [];
  /** UPIDs of tasks not yet finished, so ticking is O(running tasks). */
  readonly unfinished = new Set<string>();
  /** qemu-ga state per VM (exec jobs, power changes in progress), saved on change (saveQga). */
  readonly qga = new Map<number, QgaRuntime>();

  constructor(storage: DurableObjectStorage) {
    this.db = new Db(storage);
    this.nodes = new Table(this.db, "node", (n) => n.name);
    this.guests = new Table(this.db, "guest", (g) => g.vmid);
    this.storages = new Table(this.db, "storage", (s) => s.storage);
    this.volumes = new Table<string, VolumeState>(this.db, "volume", volumeKey);
    this.pools = new Table(this.db, "pool", (p) => p.poolid);
    this.tasks = new Table(this.db, "task", (t) => t.upid);
  }

  private get tables() {
    return [this.nodes, this.guests, this.storages, this.volumes, this.pools, this.tasks] as const;
  }

  /** Loads persisted state; false when there is none yet. */
  load(): boolean {
    const meta = this.db.getKv<Meta>("meta");
    // State saved by an older simulator (e.g. a `wrangler dev` folder from before guests had an
    // agent) may lack fields this code relies on: start again from the seed instead of failing.
    if (!meta || this.db.getKv<number>("format") !== STATE_FORMAT) return false;
    this.meta = meta;
    this.settings = { ...DEFAULT_SETTINGS, ...(this.db.getKv<Settings>("settings") ?? {}) };
    this.faults = this.db.getKv<Fault[]>("faults") ?? [];
    for (const t of this.tables) t.load();
    this.unfinished.clear();
    for (const t of this.tasks.values()) if (!t.finished) this.unfinished.add(t.upid);
    this.qga.clear();
    for (const [vmid, rt] of loadQga(this.db)) this.qga.set(vmid, rt);
    return true;
  }

  /** Persists one VM's qemu-ga state after it changed (gone from `qga`: forgotten). */
  saveQga(vmid: number): void {
    saveQga(this.db, vmid, this.qga.get(vmid));
  }

  /** Replaces the whole world (reset), including settings and faults. */
  replace(world: World): void {
    this.db.transaction(() => {
      this.db.clear();
      for (const t of this.tables) t.reset();
      this.unfinished.clear();
      this.qga.clear();
      this.meta = world.meta;
      this.settings = { ...DEFAULT_SETTINGS };
      this.faults = [];
      this.db.setKv("meta", this.meta);
      this.db.setKv("format", STATE_FORMAT);
      this.db.setKv("settings", this.settings);
      this.db.setKv("faults", this.faults);
      for (const n of world.nodes) this.nodes.put(n);
      for (const g of world.guests) this.guests.put(g);
      for (const s of world.storages) this.storages.put(s);
      for (const v of world.volumes) this.volumes.put(v);
      for (const p of world.pools) this.pools.put(p);
      for (const t of world.tasks) {
        this.tasks.put(t);
        if (!t.finished) this.unfinished.add(t.upid);
      }
    });
  }

  saveSettings(): void {
    this.db.setKv("settings", this.settings);
  }

  saveFaults(): void {
    this.db.setKv("faults", this.faults);
  }

  guestsOn(node: string): GuestState[] {
    const out: GuestState[] = [];
    for (const g of this.guests.values()) if (g.node === node) out.push(g);
    return out.sort((a, b) => a.vmid - b.vmid);
  }

  /** Storages configured on a node, in configuration order. */
  storagesOn(node: string): StorageState[] {
    return [...this.storages.values()].filter((s) => !s.nodes || s.nodes.includes(node));
  }
}
