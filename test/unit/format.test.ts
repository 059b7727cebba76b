import { describe, expect, it } from "vitest";
import { durationText, gib, gibText, hours, pct, row } from "../../src/mcp/format";

describe("table cells", () => {
  it("rows turn unknown cells into null and leave trailing empty cells off", () => {
    expect(row([101, "web", undefined, 2, undefined, null])).toEqual([101, "web", null, 2]);
    expect(row([undefined])).toEqual([]);
    expect(row([0, false, ""])).toEqual([0, false, ""]);
  });

  it("units for cells: GiB with two decimals, hours with one, percent with one", () => {
    expect(gib(4 * 1024 ** 3)).toBe(4);
    expect(gib(819_801_882)).toBe(0.76);
    expect(gib(undefined)).toBeUndefined();
    expect(hours(352_334)).toBe(97.9);
    expect(pct(0.130439)).toBe(13);
    expect(pct(0.0256)).toBe(2.6);
    expect(pct(Number.NaN)).toBeUndefined();
  });

  it("units for text lines: GiB with the digits that matter, durations without spaces", () => {
    expect(gibText(819_801_882)).toBe("0.76");
    expect(gibText(5_245_014_061)).toBe("4.9");
    expect(gibText(128 * 1024 ** 3)).toBe("128");
    expect(gibText(undefined)).toBe("?");
    expect(durationText(352_334)).toBe("4d1h");
    expect(durationText(76_260)).toBe("21h11m");
  });
});
