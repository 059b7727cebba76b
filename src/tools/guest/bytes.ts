import { repairText } from "../../session/exec";

/** Agent output and file contents: byte-valued strings, base64, text or binary, pages. */

export function looksBinary(text: string): boolean {
  if (!text) return false;
  const sample = text.slice(0, 4096);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
  const control = sample.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/g)?.length ?? 0;
  return control > sample.length / 100 || sample.includes("\u0000");
}

/** Base64 of byte-valued characters (as PVE delivers agent output), or of UTF-8 otherwise. */
export function toBase64(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for characters above one byte
  if (/^[\u0000-\u00ff]*$/.test(text)) return btoa(text);
  return btoa(Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join(""));
}

export interface StreamPage {
  text: string;
  total: number;
  next?: number;
  binary?: boolean;
}

export function page(stream: string, offset: number, max: number): StreamPage {
  const total = stream.length;
  if (looksBinary(stream)) {
    const slice = stream.slice(offset, offset + max);
    return {
      text: toBase64(slice),
      total,
      binary: true,
      next: offset + max < total ? offset + max : undefined,
    };
  }
  const text = stream.slice(offset, offset + max);
  return { text, total, next: offset + max < total ? offset + max : undefined };
}

/** PVE returns the base64 of each 1 MiB chunk concatenated, so padding can appear mid-string. */
export function fromChunkedBase64(content: string): string {
  let out = "";
  for (const part of content.match(/[^=]+={0,2}|={1,2}/g) ?? []) {
    if (/^=+$/.test(part)) continue;
    out += atob(part);
  }
  return out;
}

/** UTF-8 text from byte-valued characters, or undefined when it is binary. */
export function decodeText(byteString: string): string | undefined {
  if (looksBinary(byteString)) return undefined;
  const repaired = repairText(byteString);
  return looksBinary(repaired) ? undefined : repaired;
}

export function base64Bytes(byteString: string): string {
  return toBase64(byteString);
}
