// Shared by the global setup (Node) and the tests (workerd): nothing here may import a runtime.

/** A response recorded from a real Proxmox VE host (../shared/proxmox/recorded/index.json). */
export interface Recording {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  file: string;
  pve_version: string;
  /** The body exactly as recorded: the file's text, wrapped in {"data": ...} when it held only data. */
  body: string;
}

/** An everyday request and the operations a good search answer ranks in its top 3. */
export interface SearchIntent {
  q: string;
  want: string[];
}

declare module "vitest" {
  export interface ProvidedContext {
    /** null when ../shared (beside the repository, as in CI) is absent. */
    recorded: Recording[] | null;
    /** ../shared/search/intents-dev.json; null when absent. */
    searchIntents: SearchIntent[] | null;
    /** The tools that have a snapshot in test/__toolsnaps__ (file names without .json). */
    toolsnaps: string[];
  }
}
