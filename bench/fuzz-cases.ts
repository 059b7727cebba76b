// Invalid calls for every tool in tools/list, built from each tool's input schema: wrong types,
// missing required arguments, huge strings, "../", "%2F", "?", "#", newline, NUL, unicode,
// arrays, null and objects. Every one must be refused without a single request to Proxmox.
// Shared by the fuzz test (test/fuzz.test.ts) and the benchmark's fuzz section (bench/fuzz.ts);
// pure and deterministic, so both see the same calls in the same order.

export interface FuzzTool {
  name: string;
  inputSchema: unknown;
}

export interface FuzzCall {
  tool: string;
  /** The argument changed (or left out), and how. */
  arg: string;
  label: string;
  args: Record<string, unknown>;
}

interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: unknown[];
}

/** One more character than any argument may have (MAX_STRING in src/mcp/args.ts). */
export const HUGE_LENGTH = 1024 * 1024 + 1;

/** A valid value for each required argument, so that only the argument under test is wrong. */
export const BASELINE: Readonly<Record<string, unknown>> = {
  vmid: 100,
  node: "pve1",
  target: "pve2",
  upid: "UPID:pve1:00001234:00005678:6740A1B2:qmstart:100:root@pam:",
  poolid: "prod",
  snapname: "snap1",
  storage: "local",
  template: "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst",
  volid: "local:backup/vzdump-qemu-100-2026_01_01-00_00_00.vma.zst",
  iso: "local:iso/debian-13.iso",
  path: "/etc/hostname",
  content: "hello",
  username: "root",
  password: "secret1",
  command: "true",
  disk: "scsi0",
  size: "+1G",
  job: "100-1-abc",
  name: "web",
  hostname: "web",
  bridge: "vmbr0",
  ip: "dhcp",
  tags: "a",
  tag: "a",
  delete: "tags",
  type: "qmstart",
  tool: "start_vm",
  ciuser: "debian",
};

/**
 * Arguments whose content is the user's own text (a description, a file, a command): any
 * characters are fine there, so only wrong types and an oversized value are invalid.
 */
export const FREE_TEXT = new Set([
  "description",
  "notes",
  "comment",
  "command",
  "input",
  "content",
  "password",
  "sshkey",
  "extra",
  // get_audit_log's target is a text filter (clone_vm's and migrate_vm's target is a node).
  "get_audit_log.target",
  // search_api's words are searched in the embedded schema index; they never reach Proxmox.
  "search_api.query",
]);

const WRONG_TYPES = (base: unknown): [string, unknown][] => [
  ["null", null],
  ["true", true],
  ["array", [base]],
  ["object", { value: base }],
];

const BAD_STRINGS: [string, string][] = [
  ["empty", ""],
  ["../", "../"],
  ["%2F", "%2F"],
  ["?", "?"],
  ["#", "#"],
  ["newline", "\n"],
  ["NUL", "\u0000"],
  ["unicode", "é💥"],
  ["a,b=c", "a,b=c"],
  ["a b", "a b"],
];

// Appended to a valid value: "vmbr0,tag=9", "prod/../x", "pve1%2Fx", ...
const BAD_SUFFIXES: [string, string][] = [
  ["+/../x", "/../x"],
  ["+%2Fx", "%2Fx"],
  ["+?x=1", "?x=1"],
  ["+#x", "#x"],
  ["+newline", "\nx"],
  ["+,k=v", ",k=v"],
];

const BAD_NUMBERS: [string, unknown][] = [
  ['"1e2"', "1e2"],
  ['""', ""],
  ['" 1"', " 1"],
  ['"-1"', "-1"],
  ['"1.5"', "1.5"],
  ['"abc"', "abc"],
  ["40 digits", "9".repeat(40)],
  ["1.5", 1.5],
  ["-1", -1],
  ["1e300", 1e300],
];

const BAD_BOOLEANS: [string, unknown][] = [
  ['"true"', "true"],
  ['"false"', "false"],
  ["1", 1],
  ["0", 0],
  ['"yes"', "yes"],
];

function typeOf(schema: PropertySchema): string {
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.anyOf) return "any";
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  return type ?? "any";
}

function mutations(tool: string, arg: string, schema: PropertySchema): [string, unknown][] {
  const base = BASELINE[arg] ?? (Array.isArray(schema.enum) ? schema.enum[0] : "x");
  const huge: [string, unknown] = ["1 MiB + 1 string", "a".repeat(HUGE_LENGTH)];
  switch (typeOf(schema)) {
    case "integer":
    case "number":
      return [...BAD_NUMBERS, ...WRONG_TYPES(base)];
    case "boolean":
      return [...BAD_BOOLEANS, ...WRONG_TYPES(base).filter(([, value]) => typeof value !== "boolean")];
    case "enum": {
      const first = String(schema.enum?.[0]);
      return [
        ["not a choice", "nope"],
        ["empty", ""],
        ["upper case", first.toUpperCase() === first ? `${first}x` : first.toUpperCase()],
        ["+newline", `${first}\n`],
        ["+space", `${first} `],
        ["1", 1],
        ...WRONG_TYPES(first),
      ];
    }
    case "string": {
      if (FREE_TEXT.has(arg) || FREE_TEXT.has(`${tool}.${arg}`))
        return [huge, ["1", 1], ...WRONG_TYPES(base)];
      const suffixes =
        arg === "path"
          ? // "?", "#" and "%" are fine in a file name; ".." and control characters are not.
            BAD_SUFFIXES.filter(([label]) => ["+/../x", "+newline", "+NUL"].includes(label))
          : BAD_SUFFIXES;
      // A tag list may be separated by spaces ("a b" is two tags).
      const bare = arg === "tags" ? BAD_STRINGS.filter(([label]) => label !== "a b") : BAD_STRINGS;
      return [
        ...bare,
        ...suffixes.map(([label, tail]): [string, unknown] => [label, `${String(base)}${tail}`]),
        huge,
        ["1", 1],
        ...WRONG_TYPES(base),
      ];
    }
    default:
      // An array or an untyped value (guest_exec's argv).
      return [
        ["1", 1],
        ["null", null],
        ["true", true],
        ["object", {}],
        ["empty array", []],
        ["array of numbers", [1]],
        ["array with null", [null]],
        ["empty", ""],
        huge,
      ];
  }
}

/**
 * What an argument already fuzzed in full on another tool (same name, same schema: the same
 * definition, shared through src/mcp/args.ts) still gets on this one: each kind of wrong input
 * once (the 1 MiB string only on its first tool), so a tool that read it differently would
 * still be caught.
 */
const REPEATED = new Set([
  '"1e2"',
  "1.5",
  "-1",
  "null",
  "true",
  "array",
  "object",
  '"true"',
  "1",
  "not a choice",
  "../",
  "%2F",
  "?",
  "#",
  "newline",
  "NUL",
  "unicode",
  "+/../x",
  "+,k=v",
]);

/**
 * Every invalid call for these tools, and the required arguments this file has no valid value
 * for (a new tool with a new required argument needs an entry in BASELINE).
 */
export function fuzzCalls(tools: readonly FuzzTool[]): { calls: FuzzCall[]; unknownRequired: string[] } {
  const calls: FuzzCall[] = [];
  const unknownRequired: string[] = [];
  const seen = new Set<string>();
  for (const tool of tools) {
    const schema = (tool.inputSchema ?? {}) as {
      properties?: Record<string, PropertySchema>;
      required?: string[];
    };
    const properties = schema.properties ?? {};
    const required = schema.required ?? [];
    const baseline: Record<string, unknown> = {};
    for (const arg of required) {
      const prop = properties[arg] ?? {};
      if (arg in BASELINE) baseline[arg] = BASELINE[arg];
      else if (Array.isArray(prop.enum)) baseline[arg] = prop.enum[0];
      else unknownRequired.push(`${tool.name}.${arg}`);
    }
    for (const arg of required) {
      const { [arg]: _left, ...rest } = baseline;
      calls.push({ tool: tool.name, arg, label: "missing", args: rest });
    }
    for (const [arg, prop] of Object.entries(properties)) {
      const key = `${arg} ${JSON.stringify(prop)}`;
      const repeated = seen.has(key);
      seen.add(key);
      for (const [label, value] of mutations(tool.name, arg, prop)) {
        if (repeated && !REPEATED.has(label)) continue;
        calls.push({ tool: tool.name, arg, label, args: { ...baseline, [arg]: value } });
      }
    }
  }
  return { calls, unknownRequired };
}
