import type { PveSchema } from "../generated/api-schema";
import type { Settings } from "../state/model";
import type { Store } from "../state/store";
import type { Permissions } from "./acl";

/** What a handler gets: validated parameters, the state store, the clock and the caller. */
export class Ctx {
  total?: number;
  /** `changes` in the envelope (the pending network configuration's diff). */
  changes?: string;
  /** The caller's privileges (set by the request pipeline; handlers that filter by ACL use it). */
  perms?: Permissions;

  constructor(
    readonly store: Store,
    readonly now: number,
    readonly params: Record<string, unknown>,
    /** Full auth id, e.g. "root@pam!mcp" (the UPID user of tasks it starts). */
    readonly user: string,
    /** The request as routed: its method and decoded path. */
    readonly method = "GET",
    readonly path = "/",
  ) {}

  /** Epoch seconds. */
  get nowSec(): number {
    return Math.floor(this.now / 1000);
  }

  str(name: string): string {
    return String(this.params[name]);
  }

  optStr(name: string): string | undefined {
    const v = this.params[name];
    return v === undefined ? undefined : String(v);
  }

  int(name: string): number {
    return Number(this.params[name]);
  }

  optInt(name: string): number | undefined {
    const v = this.params[name];
    return v === undefined ? undefined : Number(v);
  }

  bool(name: string): boolean {
    return this.params[name] === true;
  }

  has(name: string): boolean {
    return this.params[name] !== undefined;
  }
}

export type Handler = (ctx: Ctx) => unknown;

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path template exactly as in the API schema. */
  path: string;
  handler: Handler;
  /** The parameter schema this host accepts, when it depends on the simulated version. */
  params?: (schema: PveSchema, settings: Settings) => PveSchema;
}
