// /storage: the cluster's storage.cfg (pve-storage PVE/API2/Storage/Config.pm and the plugins'
// options()). The same StorageState rows back /nodes/{node}/storage and /cluster/resources, so a
// storage made here shows up there at once.

import type { Ctx, Route } from "../api/context";
import { splitList } from "../api/formats";
import { PveError } from "../api/respond";
import type { StorageState, StorageType } from "../state/model";
import { digestOf } from "../state/random";

const GiB = 1024 ** 3;

interface OptionDef {
  fixed?: boolean;
  optional?: boolean;
}

const opt: OptionDef = { optional: true };
const fixed: OptionDef = { fixed: true };
const fixedOpt: OptionDef = { fixed: true, optional: true };

const COMMON = { nodes: opt, disable: opt, content: opt };
const FILE_OPTS = {
  "content-dirs": opt,
  "prune-backups": opt,
  "max-protected-backups": opt,
  format: opt,
  mkdir: opt,
  "create-base-path": opt,
  "create-subdirs": opt,
  bwlimit: opt,
  preallocation: opt,
  "snapshot-as-volume-chain": opt,
};

/** Each plugin's options() in pve-storage 9: which keys a type takes, fixed or optional. */
const TYPE_OPTIONS: Record<StorageType, Record<string, OptionDef>> = {
  dir: { path: fixed, shared: opt, is_mountpoint: opt, ...COMMON, ...FILE_OPTS },
  nfs: { path: fixedOpt, server: fixed, export: fixed, options: opt, ...COMMON, ...FILE_OPTS },
  lvmthin: { vgname: fixed, thinpool: fixed, bwlimit: opt, ...COMMON },
  zfspool: { pool: fixed, blocksize: opt, sparse: opt, mountpoint: opt, bwlimit: opt, ...COMMON },
  pbs: {
    server: fixed,
    datastore: fixed,
    namespace: opt,
    port: opt,
    username: opt,
    password: opt,
    "encryption-key": opt,
    "master-pubkey": opt,
    fingerprint: opt,
    "prune-backups": opt,
    "max-protected-backups": opt,
    ...COMMON,
  },
};

/** The plugins' `content` definitions: what a type may hold, and its default. */
const CONTENT: Record<StorageType, { valid: string[]; default: string[] }> = {
  dir: {
    valid: ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none"],
    default: ["images", "rootdir"],
  },
  nfs: {
    valid: ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none"],
    default: ["images"],
  },
  lvmthin: { valid: ["images", "rootdir"], default: ["images", "rootdir"] },
  zfspool: { valid: ["images", "rootdir"], default: ["images", "rootdir"] },
  pbs: { valid: ["backup", "none"], default: ["backup"] },
};

/** Secrets the API takes but never writes to storage.cfg (sensitive_properties). */
const SENSITIVE = new Set(["password", "encryption-key", "master-pubkey"]);
const MODELLED = new Set<string>(Object.keys(TYPE_OPTIONS));
/** Request parameters that are not storage options. */
const CONTROL = new Set(["storage", "type", "digest", "delete"]);

/** storage.cfg's digest: one value for the whole file. */
export function storageConfigDigest(storages: Iterable<StorageState>): string {
  return digestOf(JSON.stringify([...storages].map((s) => configOf(s, "", false))));
}

/** $api_storage_config: the section as the API returns it (content and nodes encoded as lists). */
function configOf(s: StorageState, digest: string, withDigest = true): Record<string, unknown> {
  const out: Record<string, unknown> = { storage: s.storage, type: s.type };
  if (withDigest) out.digest = digest;
  out.content = [...s.content].sort().join(",");
  if (s.nodes) out.nodes = [...s.nodes].sort().join(",");
  if (s.shared) out.shared = 1;
  if (!s.enabled) out.disable = 1;
  for (const key of ["path", "server", "export", "vgname", "thinpool"] as const) {
    const v = s[key];
    if (v !== undefined) out[key] = v;
  }
  for (const [k, v] of Object.entries(s.options ?? {})) out[k] = v;
  return out;
}

function lookupType(type: string): StorageType {
  if (!MODELLED.has(type))
    throw new PveError(
      `storage type '${type}' is not modelled by the simulator (dir, nfs, lvmthin, zfspool, pbs)`,
      501,
    );
  return type as StorageType;
}

/** check_value + decode_value for the keys of one request. */
function checkOptions(
  type: StorageType,
  params: Record<string, unknown>,
  create: boolean,
): Record<string, unknown> {
  const defs = TYPE_OPTIONS[type];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (CONTROL.has(k) || v === undefined || v === null) continue;
    const def = defs[k];
    if (!def) throw new Error(`unexpected property '${k}'`);
    if (!create && def.fixed) throw new Error(`can't change value of fixed parameter '${k}'`);
    if (typeof v === "string" && /[\n\r]/.test(v)) throw new Error("property contains a line feed");
    out[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  }
  if (out.content !== undefined) {
    const { valid } = CONTENT[type];
    // decode_value: unsupported types are dropped with a warning; nothing left is an error.
    const kept = splitList(String(out.content)).filter((c) => valid.includes(c));
    if (kept.includes("none") && kept.length > 1)
      throw new Error("unable to combine 'none' with other content types");
    if (kept.length === 0 && !valid.includes("none"))
      throw new Error("storage does not support content type 'none'");
    out.content = kept;
  }
  if (create) {
    for (const [k, def] of Object.entries(defs)) {
      if (!def.optional && out[k] === undefined) throw new Error(`missing value for required option '${k}'`);
    }
  }
  return out;
}

/** Applies decoded options to a storage row. */
function applyOptions(s: StorageState, opts: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(opts)) {
    if (SENSITIVE.has(k)) continue;
    switch (k) {
      case "content":
        s.content = (v as string[]).filter((c) => c !== "none");
        break;
      case "nodes":
        s.nodes = splitList(String(v));
        break;
      case "disable":
        s.enabled = !v;
        break;
      case "shared":
        s.shared = Boolean(v);
        break;
      case "path":
      case "server":
      case "export":
      case "vgname":
      case "thinpool":
        s[k] = String(v);
        break;
      default:
        s.options = { ...(s.options ?? {}), [k]: v as string | number };
    }
  }
}

/** Size figures for a new storage: stable per name, plausible per type. */
function capacity(type: StorageType, id: string): { total: number; baseUsed: number } {
  const h = Number.parseInt(digestOf(id).slice(0, 6), 16) / 0xffffff;
  const totalGiB = { dir: 94, nfs: 4096, lvmthin: 512, zfspool: 1800, pbs: 8192 }[type];
  const total = Math.round(totalGiB * (0.75 + h / 2)) * GiB;
  return {
    total,
    baseUsed: Math.floor(total * (type === "lvmthin" || type === "zfspool" ? 0.02 : 0.1 + h / 4)),
  };
}

/** lock_storage_config: errors inside the locked section carry the operation's prefix. */
function locked<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PveError) throw e;
    throw new PveError(`${what}: ${(e as Error).message}`);
  }
}

function findStorage(ctx: Ctx): StorageState {
  const id = ctx.str("storage");
  const s = ctx.store.storages.get(id);
  if (!s) throw new Error(`storage '${id}' does not exist`);
  return s;
}

/** PBS: an "autogen" encryption key is made here and handed back once; only its fingerprint stays. */
function pbsKey(ctx: Ctx, s: StorageState): Record<string, unknown> | undefined {
  const key = ctx.optStr("encryption-key");
  if (s.type !== "pbs" || !key) return undefined;
  const seed = `${s.storage}|${key}|${ctx.now}`;
  // A SHA-256 fingerprint: 32 bytes as colon-separated hex.
  const fp = (digestOf(seed) + digestOf(`${seed}|2`)).slice(0, 64);
  const fingerprint = (fp.match(/../g) ?? []).join(":");
  s.options = { ...(s.options ?? {}), "encryption-key": fingerprint };
  if (key !== "autogen") return undefined;
  const raw = digestOf(`key|${fp}`) + digestOf(`key2|${fp}`);
  return {
    "encryption-key": JSON.stringify({
      kdf: null,
      created: new Date(ctx.now).toISOString(),
      modified: new Date(ctx.now).toISOString(),
      data: btoa(raw.slice(0, 48)),
      fingerprint,
    }),
  };
}

function create(ctx: Ctx): Record<string, unknown> {
  const type = lookupType(ctx.str("type"));
  const id = ctx.str("storage");
  const params = { ...ctx.params };
  if (!params.nodes) delete params.nodes;
  // NFSPlugin::check_config: the mount point defaults to /mnt/pve/<storage>.
  if (type === "nfs" && !params.path) params.path = `/mnt/pve/${id}`;
  let opts: Record<string, unknown>;
  try {
    opts = checkOptions(type, params, true);
  } catch (e) {
    throw new PveError((e as Error).message);
  }
  return locked("create storage failed", () => {
    if (ctx.store.storages.has(id)) throw new Error(`storage ID '${id}' already defined`);
    const s: StorageState = {
      storage: id,
      type,
      content: [...CONTENT[type].default],
      shared: type === "nfs" || type === "pbs",
      enabled: true,
      ...capacity(type, id),
    };
    applyOptions(s, opts);
    const returned = pbsKey(ctx, s);
    ctx.store.storages.put(s);
    return { storage: id, type, ...(returned ? { config: returned } : {}) };
  });
}

function update(ctx: Ctx): Record<string, unknown> {
  const del = ctx.optStr("delete");
  const deletes = del ? splitList(del) : [];
  return locked("update storage failed", () => {
    const current = storageConfigDigest(ctx.store.storages.values());
    const digest = ctx.optStr("digest");
    if (digest && digest !== current)
      throw new Error("detected modified configuration - file changed by other user? Try again.");
    const s = structuredClone(findStorage(ctx));
    const opts = checkOptions(s.type, ctx.params, false);
    const defs = TYPE_OPTIONS[s.type];
    for (const k of deletes) {
      const d = defs[k];
      if (!d) throw new Error(`no such option '${k}'`);
      if (!d.optional) throw new Error(`unable to delete required option '${k}'`);
      if (d.fixed) throw new Error(`unable to delete fixed option '${k}'`);
      if (opts[k] !== undefined) throw new Error(`cannot set and delete property '${k}' at the same time!`);
    }
    for (const k of deletes) {
      if (k === "content") s.content = [...CONTENT[s.type].default];
      else if (k === "nodes") delete s.nodes;
      else if (k === "disable") s.enabled = true;
      else if (k === "shared") s.shared = false;
      else if (s.options) delete s.options[k];
    }
    applyOptions(s, opts);
    const returned = pbsKey(ctx, s);
    ctx.store.storages.put(s);
    return { storage: s.storage, type: s.type, ...(returned ? { config: returned } : {}) };
  });
}

/**
 * Deleting only drops the section: Proxmox does not look for guests that still use the storage
 * (their disks stay in their configs and fail on use); it refuses only a storage that is the base
 * of another one (LVM on iSCSI, not modelled). The storage also leaves every pool.
 */
function remove(ctx: Ctx): null {
  const id = ctx.str("storage");
  locked("delete storage failed", () => {
    findStorage(ctx);
    ctx.store.storages.delete(id);
  });
  for (const pool of ctx.store.pools.values()) {
    if (!pool.storages.includes(id)) continue;
    pool.storages = pool.storages.filter((x) => x !== id);
    ctx.store.pools.put(pool);
  }
  return null;
}

const lacks = (ctx: Ctx, priv: string) => ctx.store.settings.deniedPrivileges.includes(priv);

export const storageConfigRoutes: Route[] = [
  {
    method: "GET",
    path: "/storage",
    handler: (ctx) => {
      // Only storages the caller may see (Datastore.Audit or Datastore.AllocateSpace).
      if (lacks(ctx, "Datastore.Audit") && lacks(ctx, "Datastore.AllocateSpace")) return [];
      const type = ctx.optStr("type");
      const digest = storageConfigDigest(ctx.store.storages.values());
      return [...ctx.store.storages.values()]
        .filter((s) => !type || s.type === type)
        .map((s) => configOf(s, digest));
    },
  },
  { method: "POST", path: "/storage", handler: create },
  {
    method: "GET",
    path: "/storage/{storage}",
    handler: (ctx) => {
      const s = ctx.store.storages.get(ctx.str("storage"));
      if (!s) throw new PveError(`storage '${ctx.str("storage")}' does not exist`);
      return configOf(s, storageConfigDigest(ctx.store.storages.values()));
    },
  },
  { method: "PUT", path: "/storage/{storage}", handler: update },
  { method: "DELETE", path: "/storage/{storage}", handler: remove },
];
