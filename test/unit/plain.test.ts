import { describe, expect, it } from "vitest";
import { neutralizeAnswer, plainLine, plainText } from "../../src/mcp/plain";

describe("plainLine and plainText", () => {
  it("mark line breaks, controls, bidi and zero-width characters, and keep an answer's own lines", () => {
    expect(plainLine("a\r\nb\nc\rd\u2028e\tf\u0007g\u202eh\u200bi\ufeff")).toBe(
      "a⏎b⏎c⏎d⏎e<U+0009>f<U+0007>g<U+202E>h<U+200B>i<U+FEFF>",
    );
    expect(plainLine("web-01 (prod)")).toBe("web-01 (prod)");
    expect(plainText("line one\r\nline\ttwo\u202e\n\u001b[31mred")).toBe(
      "line one\nline\ttwo<U+202E>\n<U+001B>[31mred",
    );
  });

  it("a value's line break is shown on one line where the text quotes it; bulk output keeps its lines", () => {
    const data = { name: "a\nb\u202e", stdout: "one\ntwo", table: { columns: ["name"], rows: [["c\nd"]] } };
    const answer = neutralizeAnswer("VM 'a\nb\u202e' and c\nd:\none\ntwo", data);
    expect(answer.text).toBe("VM 'a⏎b<U+202E>' and c⏎d:\none\ntwo");
    expect(answer.data).toEqual({
      name: "a\nb<U+202E>",
      stdout: "one\ntwo",
      table: { columns: ["name"], rows: [["c\nd"]] },
    });
    // The tool's own object is left as it was (it may be a cached one).
    expect(data.name).toBe("a\nb\u202e");
  });
});
