import pkg from "../package.json";

/** Product identity, reported in MCP server info and /healthz. */
export const PRODUCT = { name: "proxmox-mcp", title: "Proxmox VE MCP", version: pkg.version } as const;
