// Parameter validation is shared with the MCP server, which checks every request the same way
// before sending it (src/api/jsonschema.ts).
export * from "../../../src/api/jsonschema";
