// The compact API index (src/api/generated/api-index.json) the Worker embeds for search_api,
// read_api and write_api (src/api/):
// every operation of the schema with a one-line summary, its parameters (what validation needs plus
// a short description), the privileges Proxmox checks, and whether it starts a task. Distinct
// parameter schemas are stored once and referenced by number: `node` alone appears in hundreds of
// operations, and the qemu disk formats in three.
//
// Called by scripts/gen-pve.mjs, so `npm run gen:pve` writes it and `--check` covers it.

/** Keys validation needs (pve-common JSONSchema.pm check_prop / parse_property_string). */
const KEEP = [
  "type",
  "optional",
  "enum",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "format",
  "default",
  "default_key",
  "requires",
  "alias",
  "keyAlias",
  "items",
  "properties",
  "additionalProperties",
];

const SUMMARY_MAX = 140;
const PARAM_DESC_MAX = 110;

/** The first sentence (or line), cut at a word boundary. */
export function shorten(text, max) {
  let s = String(text ?? "")
    .replace(/\s+/g, " ")
    .trim();
  const stop = /^(.+?[.!?])(?:\s|$)/.exec(s);
  if (stop && stop[1].length >= 12) s = stop[1];
  if (s.length <= max) return s;
  const cut = s.slice(0, max - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max - 20))}…`;
}

function trimSchema(schema, withDescription) {
  if (!schema || typeof schema !== "object") return schema;
  const out = {};
  for (const key of KEEP) {
    if (!(key in schema)) continue;
    const v = schema[key];
    if (key === "properties" || (key === "format" && typeof v === "object")) {
      const props = {};
      for (const name of Object.keys(v).sort()) props[name] = trimSchema(v[name], false);
      out[key] = props;
    } else if (key === "items") {
      out[key] = trimSchema(v, false);
    } else {
      out[key] = v;
    }
  }
  if (withDescription && schema.description) out.description = shorten(schema.description, PARAM_DESC_MAX);
  return out;
}

/** RPCEnvironment permission checks in words: "VM.Config.Network on /vms/{vmid}". */
export function privilegesText(permissions) {
  if (!permissions) return "root@pam only";
  if (permissions.user === "all") return permissions.check ? checkText(permissions.check) : "any user";
  if (permissions.user === "world") return "anyone";
  if (!permissions.check) return permissions.description ? shorten(permissions.description, 160) : "any user";
  return checkText(permissions.check);
}

function checkText(check) {
  const [test, ...rest] = check;
  switch (test) {
    case "perm": {
      const [path, privs, ...opts] = rest;
      const any = opts.includes("any");
      return `${privs.join(any ? " or " : " and ")} on ${path}`;
    }
    case "and":
    case "or":
      return rest
        .map((c) => (c[0] === "and" || c[0] === "or" ? `(${checkText(c)})` : checkText(c)))
        .join(` ${test} `);
    case "userid-param":
      return rest[0] === "self" ? "the user itself" : "a user of a realm the caller may administer";
    case "userid-group":
      return `${rest[0].join(" or ")} on a group of the user`;
    case "perm-modify":
      return `permission to grant on ${rest[0]}`;
    default:
      return test;
  }
}

/** Flags of an operation (bit set). */
export const FLAG = { upid: 1, additional: 2, download: 4 };

export function genApiIndex(byPath) {
  const schemas = [];
  const schemaIds = new Map();
  const intern = (schema) => {
    const key = JSON.stringify(schema);
    let id = schemaIds.get(key);
    if (id === undefined) {
      id = schemas.length;
      schemas.push(key);
      schemaIds.set(key, id);
    }
    return id;
  };
  const ops = [];
  for (const path of [...byPath.keys()].sort()) {
    const info = byPath.get(path).info ?? {};
    for (const method of Object.keys(info).sort()) {
      const op = info[method];
      const params = {};
      const props = op.parameters?.properties ?? {};
      for (const name of Object.keys(props).sort()) params[name] = intern(trimSchema(props[name], true));
      let flags = 0;
      if (method !== "GET" && op.returns?.type === "string") flags |= FLAG.upid;
      if (op.parameters?.additionalProperties) flags |= FLAG.additional;
      if (op.download_allowed) flags |= FLAG.download;
      ops.push(
        JSON.stringify([
          method,
          path,
          shorten(op.description, SUMMARY_MAX),
          params,
          privilegesText(op.permissions),
          flags,
        ]),
      );
    }
  }
  // JSON rather than a TypeScript literal: the runtime parses it fastest (and the test runner does
  // not transform it), and src/api/index.ts gives it its types.
  return `{
"schemas": [
${schemas.join(",\n")}
],
"operations": [
${ops.join(",\n")}
]
}
`;
}
