// Percentiles, formatting and the shapes every benchmark section returns.

import type { Mcp, Sim } from "./clients.ts";
import type { Servers } from "./servers.ts";

export type Mode = "quick" | "full";

export interface Context {
  mode: Mode;
  servers: Servers;
  sim: Sim;
  /** A long-lived MCP session for sequential measurements. */
  mcp: Mcp;
  /** Prints one progress line to stderr. */
  log: (line: string) => void;
}

/**
 * A budget from the issue. Deterministic budgets (request counts, byte sizes, error counts) fail
 * the run when violated; timing aims are reported only.
 */
export interface Check {
  what: string;
  budget: string;
  actual: string;
  pass: boolean;
  deterministic: boolean;
}

export interface SectionResult {
  title: string;
  /** One line: how to read the figures. */
  howToRead: string;
  /** Markdown body: tables and notes. */
  body: string;
  checks: Check[];
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);
export const p95 = (samples: readonly number[]) => percentile(samples, 95);

export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (Math.abs(value) >= 100) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}

/** "median / p95" of timings in ms. */
export const timing = (samples: readonly number[]) => `${ms(median(samples))} / ${ms(p95(samples))}`;

export function bytes(value: number): string {
  if (value >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(2)} MiB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${value} B`;
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** Measures one async call in milliseconds. */
export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
