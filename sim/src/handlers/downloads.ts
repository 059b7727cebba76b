// Downloads onto a node's storage: POST .../storage/{storage}/download-url (pve-storage
// PVE/API2/Storage/Status.pm download_url), the appliance index and its download
// (pve-manager PVE/API2/Nodes.pm aplinfo / apl_download), and query-url-metadata. The fetch itself
// is simulated (sim/src/host/internet.ts); the file then shows in the storage content.

import type { Ctx, Route } from "../api/context";
import { PveError, paramError } from "../api/respond";
import { APPLIANCES, applianceByTemplate } from "../host/aplinfo";
import { type DownloadJob, runDownload } from "../host/download";
import { type ChecksumAlgorithm, fetchUrl, fileByName } from "../host/internet";
import type { NodeState, StorageState, VolumeContent, VolumeState } from "../state/model";
import { startTask } from "../state/tasks";
import { hostOf } from "./services";

/** PVE::Storage::storage_check_enabled. */
function enabledStorage(ctx: Ctx, sid: string, node: string): StorageState {
  const s = ctx.store.storages.get(sid);
  if (!s) throw new PveError(`storage '${sid}' does not exist`);
  if (!s.enabled) throw new PveError(`storage '${sid}' is disabled`);
  if (s.nodes && !s.nodes.includes(node))
    throw new PveError(`storage '${sid}' is not available on node '${node}'`);
  return s;
}

/** PVE::Storage::normalize_content_filename: no directories, only [a-zA-Z0-9_.-]. */
export function normalizeFilename(name: string): string {
  return name
    .replace(/\n$/, "")
    .replace(/^.*[/\\]/, "")
    .replace(/[^a-zA-Z0-9_.-]/g, "_");
}

const SUBDIR: Record<string, string> = { iso: "template/iso", vztmpl: "template/cache", import: "import" };

/** The format pve-storage lists a file with: iso, tzst/tgz/txz/tbz2/tar, or the image format. */
function formatOf(content: VolumeContent, filename: string): string {
  if (content === "iso") return "iso";
  if (content === "vztmpl") {
    const m = /\.tar(?:\.(gz|xz|zst|bz2))?$/i.exec(filename);
    return m?.[1] ? `t${m[1].toLowerCase()}` : "tar";
  }
  return (/\.(ova|qcow2|raw|vmdk)$/.exec(filename)?.[1] as string) ?? "raw";
}

interface Target {
  node: NodeState;
  storage: StorageState;
  content: VolumeContent;
  filename: string;
}

/** Forks the `download` worker; on success the file appears as a volume of the storage. */
function download(
  ctx: Ctx,
  t: Target,
  url: string,
  opts: Pick<DownloadJob, "checksum" | "compression" | "verifyCertificates">,
  id: string,
): string {
  const { node, storage, content, filename } = t;
  const volid = `${storage.storage}:${content}/${filename}`;
  const existing = [...ctx.store.volumes.values()].find(
    (v) => v.volid === volid && (storage.shared || v.node === node.name),
  );
  const host = hostOf(ctx);
  const job: DownloadJob = {
    url,
    dest: `${storage.path}/${SUBDIR[content]}/${filename}`,
    pid: node.nextPid,
    startSec: ctx.nowSec,
    ...opts,
  };
  if (existing) {
    // What the file holds: what this node downloaded there, or the published file of that name.
    const source = [...ctx.store.hosts.values()].map((h) => h.downloads?.[volid]).find(Boolean);
    const fetched = source ? fetchUrl(source) : undefined;
    const file = fetched?.ok ? fetched.file : fileByName(filename);
    job.existing = { volid, ...(file ? { file } : {}) };
  }
  const result = runDownload(job);
  const volume: VolumeState = {
    volid,
    storage: storage.storage,
    ...(storage.shared ? {} : { node: node.name }),
    content,
    format: formatOf(content, filename),
    size: result.file?.size ?? 0,
    ctime: ctx.nowSec + Math.round(result.durationMs / 1000),
  };
  const ok = result.outcome.kind === "ok" && result.file !== undefined;
  const task = startTask(
    ctx.store,
    {
      node: node.name,
      type: "download",
      id,
      user: ctx.user,
      durationMs: result.durationMs,
      lines: result.lines,
      outcome: result.outcome,
      effects: ok ? [{ kind: "volume-put", volume }] : [],
    },
    ctx.now,
  );
  if (ok) {
    host.downloads = { ...(host.downloads ?? {}), [volid]: url };
    ctx.store.hosts.put(host);
  }
  return task.upid;
}

function downloadUrl(ctx: Ctx): string {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  const sid = ctx.str("storage");
  const storage = enabledStorage(ctx, sid, node.name);
  if (storage.path === undefined)
    throw new PveError(`can't upload to storage type '${storage.type}', not a file based storage!`);
  const content = ctx.str("content") as VolumeContent;
  if (!storage.content.includes(content))
    throw new PveError(`storage '${sid}' is not configured for content-type '${content}'`);
  const filename = normalizeFilename(ctx.str("filename"));
  if (content === "iso" && !/[^/]+\.(?:iso|img)$/i.test(filename))
    throw paramError({ filename: "wrong file extension" });
  if (content === "vztmpl" && !/[^/]+\.(?:tar(?!\.)|tar\.(?:gz|xz|zst|bz2))$/i.test(filename))
    throw paramError({ filename: "wrong file extension" });
  if (content === "import" && !/[a-zA-Z0-9\-.+=_]+\.(?:ova|qcow2|raw|vmdk)$/.test(filename))
    throw paramError({ filename: "invalid filename or wrong extension" });
  const algorithm = ctx.optStr("checksum-algorithm") as ChecksumAlgorithm | undefined;
  const checksum = ctx.optStr("checksum");
  const compression = ctx.optStr("compression");
  // Checked inside the worker: decompression is for ISO images only.
  if (compression && content !== "iso") {
    return startTask(
      ctx.store,
      {
        node: node.name,
        type: "download",
        id: filename,
        user: ctx.user,
        durationMs: 100,
        outcome: { kind: "error", message: `decompression not supported for ${content}` },
      },
      ctx.now,
    ).upid;
  }
  return download(
    ctx,
    { node, storage, content, filename },
    ctx.str("url"),
    {
      verifyCertificates: ctx.params["verify-certificates"] !== false,
      ...(checksum && algorithm ? { checksum: { algorithm, expected: checksum } } : {}),
      ...(compression ? { compression } : {}),
    },
    // encode_text: a normalized file name has nothing to escape.
    filename,
  );
}

function aplDownload(ctx: Ctx): string {
  const node = ctx.store.nodes.get(ctx.str("node")) as NodeState;
  const template = ctx.str("template");
  const appliance = applianceByTemplate(template);
  if (!appliance) throw paramError({ template: "no such template" });
  const sid = ctx.str("storage");
  const storage = enabledStorage(ctx, sid, node.name);
  if (!storage.content.includes("vztmpl")) throw new PveError(`storage '${sid}' does not support templates`);
  return download(
    ctx,
    { node, storage, content: "vztmpl", filename: template },
    appliance.location,
    // hash_required: the index's SHA-512 (preferred over its MD5).
    { verifyCertificates: true, checksum: { algorithm: "sha512", expected: appliance.sha512sum } },
    template,
  );
}

/** HEAD request: size, file name and type, or "invalid server response" (Nodes.pm). */
function queryUrlMetadata(ctx: Ctx): Record<string, unknown> {
  const url = ctx.str("url");
  const got = fetchUrl(url);
  if (!got.ok) {
    throw new PveError(
      got.reason === "resolve"
        ? `invalid server response: '500 Can't connect to ${got.host}:${url.startsWith("https:") ? 443 : 80} (Name or service not known)'`
        : "invalid server response: '404 Not Found'",
    );
  }
  const out: Record<string, unknown> = {};
  const name = /^[^?]+\/([^?/]*)(?:\?.*)?$/.exec(url)?.[1];
  if (name) out.filename = name;
  out.size = got.file.size;
  out.mimetype = got.file.mimetype;
  return out;
}

export const downloadRoutes: Route[] = [
  { method: "POST", path: "/nodes/{node}/storage/{storage}/download-url", handler: downloadUrl },
  { method: "GET", path: "/nodes/{node}/aplinfo", handler: () => APPLIANCES.map((a) => ({ ...a })) },
  { method: "POST", path: "/nodes/{node}/aplinfo", handler: aplDownload },
  { method: "GET", path: "/nodes/{node}/query-url-metadata", handler: queryUrlMetadata },
];
