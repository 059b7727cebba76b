import { describe, expect, it } from "vitest";
import { needsShell, shellSplit } from "../../src/tools/guest";

describe("guest_exec's command line", () => {
  it("splits like a shell: double and single quotes, backslash escapes", () => {
    expect(shellSplit(`a "b c" 'd e' f\\ g`)).toEqual(["a", "b c", "d e", "f g"]);
  });

  it("goes through the guest's shell only for shell syntax outside quotes", () => {
    expect(needsShell("ls -l /var/log")).toBe(false);
    expect(needsShell("ls /var/log/*.log")).toBe(true);
    expect(needsShell("a && b || c > out < in `x`")).toBe(true);
    expect(needsShell("echo \\; done")).toBe(false);
  });
});
