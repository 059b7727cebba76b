import { z } from "zod";
import { checkVolumeId, hasControl, NODE_NAME, POOL_ID, STORAGE_ID } from "../proxmox/formats";
import { parseUpid } from "../proxmox/upid";

/**
 * Arguments shared by every tool, named the same everywhere (`node`, `vmid`, `storage`, `upid`,
 * `poolid`, `limit`) with the checks Proxmox itself applies, so input that cannot be valid is
 * refused with a clear message before any upstream request.
 *
 * Arguments are checked, never converted: a number is a JSON number or a string of decimal
 * digits ("101", which models often send); `[100]`, `true`, `null`, "1e2", "" and " 1" are
 * refused. Formats are checked with refinements rather than JSON Schema patterns, so tools/list
 * (paid for in every conversation) does not carry them.
 */

/** No single argument needs more; anything longer is refused before any other check. */
export const MAX_STRING = 1024 * 1024;

/** What a refused value was, in words ("an array", "null"), for messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return value === "" ? "an empty string" : `'${preview(value)}'`;
  return `${typeof value === "boolean" ? "a boolean" : typeof value} ${preview(String(value))}`;
}

function preview(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  // Control characters would break the message's line; show them escaped.
  return JSON.stringify(shown).slice(1, -1);
}

// JSON numbers pass as they are; a string counts as a number only when it is all decimal digits.
const DIGITS = /^\d+$/;
const readNumber = (value: unknown) =>
  typeof value === "string" && value.length <= 32 && DIGITS.test(value) ? Number(value) : value;

/**
 * A whole number between min and max: a JSON number or a string of decimal digits. `hint` says
 * what the argument is, for the "is required" message and for wrong types.
 */
export function wholeNumber(
  name: string,
  options: { min: number; max: number; hint: string; outside?: string },
) {
  return z.preprocess(
    readNumber,
    z
      .number({
        error: (issue) =>
          issue.input === undefined
            ? `${name} is required (${options.hint})`
            : `${name} must be a number or a string of digits (${options.hint}), not ${kindOf(issue.input)}`,
      })
      .int({ error: `${name} must be a whole number` })
      .min(options.min, {
        error:
          options.outside ??
          (options.min === 0 ? `${name} must not be negative` : `${name} must be at least ${options.min}`),
      })
      .max(options.max, { error: options.outside ?? `${name} must be at most ${options.max}` }),
  );
}

/**
 * A single-line string with a format. `check` returns the message for a value of the wrong
 * format, or null. Control characters (newline, NUL, ...) never pass: nothing these arguments
 * name can contain them, and they are how a value breaks out of a property string or a log line.
 */
export function text(
  name: string,
  options: { hint: string; max: number; min?: number; check?: (value: string) => string | null },
) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `${name} is required (${options.hint})`
          : `${name} must be a string (${options.hint}), not ${kindOf(issue.input)}`,
    })
    .superRefine((value, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: "custom", message });
      if (value.length > options.max) return fail(`${name} may be at most ${options.max} characters`);
      if (value.length < (options.min ?? 1))
        return fail(
          options.min && options.min > 1
            ? `${name} must be at least ${options.min} characters`
            : `${name} must not be empty (${options.hint})`,
        );
      if (hasControl(value))
        return fail(`${name} must be one line without control characters (newline, tab, NUL)`);
      const problem = options.check?.(value);
      if (problem) fail(problem);
    });
}

/**
 * Free text (descriptions, notes, file content): any characters but NUL, up to `max`. NUL is
 * refused because Proxmox splits lists on it (PVE::Tools::split_list) and C strings end there.
 */
export function freeText(name: string, options: { hint: string; max: number; min?: number }) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `${name} is required (${options.hint})`
          : `${name} must be a string (${options.hint}), not ${kindOf(issue.input)}`,
    })
    .superRefine((value, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: "custom", message });
      if (value.length > options.max) return fail(`${name} may be at most ${options.max} characters`);
      if (value.length < (options.min ?? 0))
        return fail(`${name} must be at least ${options.min} characters`);
      if (value.includes("\0")) fail(`${name} must not contain NUL characters`);
    });
}

/** A yes/no flag: JSON true or false only ("true" and 1 are refused, not guessed). */
export function flag(name: string) {
  return z.boolean({
    error: (issue) => `${name} must be true or false, not ${kindOf(issue.input)}`,
  });
}

// pve-node: a hostname label (PVE::JSONSchema pve_verify_node_name), at most 63 characters.
export const node = text("node", {
  hint: "a cluster node name such as pve1",
  max: 63,
  check: (value) =>
    NODE_NAME.test(value)
      ? null
      : "node must be a cluster node name (letters, digits and '-'), not an IP address or FQDN",
});

/** pve-vmid: 100..999999999 (Proxmox reserves 0-99). */
export function guestId(name: string) {
  return wholeNumber(name, {
    min: 100,
    max: 999_999_999,
    hint: "the guest's numeric ID, e.g. 101",
    outside: `${name} must be between 100 and 999999999 (Proxmox reserves 0-99)`,
  });
}
export const vmid = guestId("vmid");

// pve-storage-id (PVE::JSONSchema pve_verify_storage_id); storage.cfg keeps IDs short.
export const storage = text("storage", {
  hint: "a storage ID such as local-lvm",
  max: 64,
  check: (value) => (STORAGE_ID.test(value) ? null : "storage must be a storage ID such as local-lvm or nas"),
});

// pve-poolid: nested pools (a/b/c, at most 3 levels) exist since PVE 8.1; "." and ".." are no pool.
export function poolId(name: string) {
  return text(name, {
    hint: "a pool name such as prod or prod/db",
    max: 192,
    check: (value) =>
      POOL_ID.test(value) && !value.split("/").some((part) => part === "." || part === "..")
        ? null
        : `${name} must be a pool name such as prod (letters, digits, '-', '_', '.'; nested as prod/db, at most 3 levels)`,
  });
}
export const poolid = poolId("poolid");

/**
 * A Proxmox task ID, checked against the UPID format (PVE::Tools::upid_decode). Surrounding
 * whitespace and a trailing "." are dropped: models quote a UPID at the end of a sentence.
 */
export const upid = z.preprocess(
  (value) => (typeof value === "string" && value.length <= 1024 ? value.trim().replace(/\.$/, "") : value),
  text("upid", {
    hint: "a Proxmox task ID, UPID:node:...",
    max: 512,
    check: (value) =>
      !value.startsWith("UPID:")
        ? "upid must be a Proxmox task ID starting with 'UPID:'"
        : parseUpid(value)
          ? null
          : `'${preview(value)}' is not a valid Proxmox task ID. A UPID looks like UPID:pve1:0000ABCD:0012F00D:6740A1B2:qmstart:101:root@pam: (with the trailing colon).`,
  }),
);

/** A volume ID (pve-volume-id): storage:name, checked so nothing can be appended to it. */
export function volume(name: string, options: { hint: string; content?: "iso" | "vztmpl" | "backup" }) {
  return text(name, {
    hint: options.hint,
    max: 512,
    check: (value) => checkVolumeId(name, value, options.content),
  });
}

// pve-tag: a filter on one of a guest's tags.
export const tag = text("tag", {
  hint: "one tag such as prod",
  max: 128,
  check: (value) =>
    /^[a-z0-9_][a-z0-9_\-+.]*$/i.test(value)
      ? null
      : "tag must be one tag (letters, digits, '_', '-', '+', '.')",
});

export function limit(defaultValue: number, max = 5000) {
  return wholeNumber("limit", { min: 1, max, hint: "how many rows at most" }).default(defaultValue);
}

/** Unix time in seconds, as `since` and `until` filters take it. */
export function unixTime(name: string) {
  return wholeNumber(name, {
    min: 0,
    max: 99_999_999_999,
    hint: "Unix time in seconds, e.g. 1767225600; not a date or a word like 'yesterday'",
  });
}

/**
 * `vmid`, `node` and `limit` carry no per-tool description: their names say it, and wherever a
 * vmid is given the node is optional (the server finds it), which the instructions state once.
 */
export const describe = {
  node: "Node name, e.g. pve1.",
};
