import { ToolError } from "../../mcp/tool";

/** Command lines: split like a POSIX shell, joined back for display, and whether one needs a shell. */

/** Splits a command line like a POSIX shell: whitespace separates, quotes group, backslash escapes. */
export function shellSplit(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === "\\" && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1] as string))
        word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new ToolError(`command has an unclosed ${quote === "'" ? "single" : "double"} quote.`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Whether a command line needs a shell to mean what it says: operators (`; | & && || > <`),
 * expansions (`$VAR`, `$(...)`, backticks, also inside double quotes), globs, `~`, or a newline.
 * Such a line runs through the guest's shell; splitting it into argv would pass `;` or `|` to the
 * program as arguments.
 */
export function needsShell(line: string): boolean {
  let quote: "'" | '"' | undefined;
  let wordStart = true;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    const next = line[i + 1] ?? "";
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      continue;
    }
    if (ch === "\\") {
      i++;
      wordStart = false;
      continue;
    }
    if (ch === "`" || (ch === "$" && /[A-Za-z_{(0-9?#@*!$-]/.test(next))) return true;
    if (quote === '"') {
      if (ch === '"') quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (";|&<>\n*?[".includes(ch) || (ch === "~" && wordStart)) {
      return true;
    }
    wordStart = /\s/.test(ch);
  }
  return false;
}

/** Shows an argv the way a shell would read it back. */
export function shellJoin(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
