// The named formats live with the rest of the schema checks, shared with the MCP server.
export * from "../../../src/api/formats";
