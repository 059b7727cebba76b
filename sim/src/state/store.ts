import type { QgaRuntime } from "../guest/qga";
import { loadQga, saveQga } from "../guest/qga-store";
import type { HostState } from "../host/model";
import type { DatacenterConfig, ReplicationJob } from "./clusterconfig";
import { Db, Table } from "./db";
import type { FirewallConfig } from "./firewall";
import {
  type ConfigFile,
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
  configs: ConfigFile[];
  firewall: FirewallConfig[];
  datacenter: DatacenterConfig[];
  replication: ReplicationJob[];
  /** Each node's own system: services, apt cache, journal history, pending power action. */
  hosts: HostState[];
}

export const volumeKey = (v: Pick<VolumeState, "node" | "volid">) => `${v.node ?? "*"}|${v.volid}`;

/** The one state store: in-memory tables mirrored into SQLite. */
/** Version of the persisted state's shape; bump it whenever a stored entity gains a required field. */
export const STATE_FORMAT = 3;

export class Store {
  readonly db: Db;
  readonly nodes: Table<string, NodeState>;
  readonly guests: Table<number, GuestState>;
  readonly storages: Table<string, StorageState>;
  readonly volumes: Table<string, VolumeState>;
  readonly pools: Table<string, PoolState>;
  readonly tasks: Table<string, TaskState>;
  readonly configs: Table<string, ConfigFile>;
  /** Firewall files by scope: "cluster", "node/<name>", "vm/<vmid>". */
  readonly firewall: Table<string, FirewallConfig>;
  readonly datacenter: Table<string, DatacenterConfig>;
  readonly replication: Table<string, ReplicationJob>;
  readonly hosts: Table<string, HostState>;
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
    this.configs = new Table(this.db, "config", (c) => c.name);
    this.firewall = new Table(this.db, "firewall", (f) => f.scope);
    this.datacenter = new Table(this.db, "datacenter", (d) => d.file);
    this.replication = new Table(this.db, "replication", (j) => j.id);
    this.hosts = new Table(this.db, "host", (h) => h.node);
  }

  private get tables() {
    return [
      this.nodes,
      this.guests,
      this.storages,
      this.volumes,
      this.pools,
      this.tasks,
      this.configs,
      this.firewall,
      this.datacenter,
      this.replication,
      this.hosts,
    ] as const;
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
      for (const h of world.hosts) this.hosts.put(h);
      for (const t of world.tasks) {
        this.tasks.put(t);
        if (!t.finished) this.unfinished.add(t.upid);
      }
      for (const c of world.configs) this.configs.put(c);
      for (const f of world.firewall) this.firewall.put(f);
      for (const d of world.datacenter) this.datacenter.put(d);
      for (const j of world.replication) this.replication.put(j);
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

  /** A configuration file's document (see ConfigFile); `fallback` when the file does not exist. */
  config<T>(name: string, fallback: () => T): T {
    const file = this.configs.get(name);
    return file ? (file.data as T) : fallback();
  }

  /** Writes a configuration file's document back (after changing it in place or replacing it). */
  putConfig(name: string, data: unknown): void {
    this.configs.put({ name, data });
  }

  /** Storages configured on a node, in configuration order. */
  storagesOn(node: string): StorageState[] {
    return [...this.storages.values()].filter((s) => !s.nodes || s.nodes.includes(node));
  }
}
