/** A refusal or failure a tool explains to the model: its message is the whole answer. */
export class ToolError extends Error {
  override name = "ToolError";
}
