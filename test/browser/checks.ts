// What the browser test measures inside the view's frame: its height, anything that scrolls on its
// own, text contrast (WCAG's formula, against the host page the transparent view sits on), control
// sizes, and pixels of a rendered element. The functions passed to evaluate() run in the page, so
// they carry their own helpers and use the DOM through untyped globals (this file is type-checked
// for Node).

import type { Frame, Locator, Page } from "playwright-core";

export interface Layout {
  /** The view's document height, as the host sizes an inline frame to it. */
  height: number;
  /** The frame's own height and what the document needs (more means the page itself scrolls). */
  frameHeight: number;
  /** How much wider the document is than the frame (a table hiding columns off to the side). */
  overflowX: number;
  /** Elements that scroll on their own (overflow auto/scroll with more content than room). */
  scrollers: string[];
  selects: number;
  /** Visible buttons and inputs shorter than the minimum. */
  smallControls: string[];
}

export function layout(frame: Frame, minControl: number): Promise<Layout> {
  return frame.evaluate((min) => {
    const g = globalThis as any;
    const doc = g.document;
    const name = (el: any) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.trim().replace(/\s+/g, ".")}` : ""}`;
    const scrollers: string[] = [];
    for (const el of doc.querySelectorAll("*")) {
      if (el === doc.documentElement || el === doc.body) continue;
      const cs = g.getComputedStyle(el);
      const y = /auto|scroll/.test(cs.overflowY) && el.scrollHeight > el.clientHeight + 1;
      const x = /auto|scroll/.test(cs.overflowX) && el.scrollWidth > el.clientWidth + 1;
      if (x || y)
        scrollers.push(
          `${name(el)} (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`,
        );
    }
    const smallControls: string[] = [];
    for (const el of doc.querySelectorAll("button, input, [role=button]")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.height < min - 0.5) smallControls.push(`${name(el)} "${el.textContent.trim()}" ${r.height}px`);
    }
    const root = doc.documentElement;
    return {
      height: Math.ceil(root.getBoundingClientRect().height),
      frameHeight: g.innerHeight,
      overflowX: root.scrollWidth - root.clientWidth,
      scrollers,
      selects: doc.querySelectorAll("select").length,
      smallControls,
    };
  }, minControl);
}

export interface LowContrast {
  text: string;
  color: string;
  background: string;
  ratio: number;
}

/**
 * Every visible text below `min`:1 against what it is drawn on (the host page behind the frame),
 * and how many texts were measured.
 */
export function lowContrast(
  frame: Frame,
  hostBackground: string,
  min = 4.5,
): Promise<{ checked: number; low: LowContrast[] }> {
  return frame.evaluate(
    ({ hostBackground, min }) => {
      const g = globalThis as any;
      const doc = g.document;
      type Rgba = [number, number, number, number];
      // Colours as the browser computes them: rgb(), rgba() or color(srgb r g b / a).
      const parse = (value: string): Rgba => {
        const srgb = /color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)/.exec(value);
        if (srgb)
          return [
            Number(srgb[1]) * 255,
            Number(srgb[2]) * 255,
            Number(srgb[3]) * 255,
            srgb[4] === undefined ? 1 : Number(srgb[4]),
          ];
        const m = /rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:(?:,| \/) ([\d.]+))?\)/.exec(value);
        if (!m) return [0, 0, 0, 0];
        return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
      };
      const over = (top: Rgba, below: Rgba): Rgba => {
        const a = top[3];
        return [
          top[0] * a + below[0] * (1 - a),
          top[1] * a + below[1] * (1 - a),
          top[2] * a + below[2] * (1 - a),
          1,
        ];
      };
      const lum = (c: Rgba) => {
        const ch = (v: number) => {
          const s = v / 255;
          return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
      };
      const ratio = (a: Rgba, b: Rgba) => {
        const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
        return (l1 + 0.05) / (l2 + 0.05);
      };
      const host = parse(hostBackground);
      const out: { text: string; color: string; background: string; ratio: number }[] = [];
      let checked = 0;
      for (const el of doc.querySelectorAll("body *")) {
        const own = [...el.childNodes]
          .filter((n: any) => n.nodeType === 3)
          .map((n: any) => n.textContent)
          .join("")
          .trim();
        if (!own || el.getClientRects().length === 0) continue;
        const cs = g.getComputedStyle(el);
        if (cs.visibility === "hidden" || Number(cs.opacity) === 0) continue;
        const layers: Rgba[] = [];
        for (let node = el; node; node = node.parentElement) {
          const bg = parse(g.getComputedStyle(node).backgroundColor);
          if (bg[3] > 0) layers.push(bg);
        }
        let background = host;
        for (const layer of layers.reverse()) background = over(layer, background);
        const color = over(parse(cs.color), background);
        const r = ratio(color, background);
        checked++;
        if (r < min)
          out.push({
            text: own.slice(0, 40),
            color: cs.color,
            background: `rgb(${background.slice(0, 3).map(Math.round).join(", ")})`,
            ratio: Math.round(r * 100) / 100,
          });
      }
      return { checked, low: out };
    },
    { hostBackground, min },
  );
}

/** RGB of pixels of a rendered element, at offsets from its centre, read back in the host page. */
export async function pixels(
  page: Page,
  target: Locator,
  points: [number, number][],
): Promise<[number, number, number][]> {
  const png = await target.screenshot({ animations: "disabled" });
  return page.evaluate(
    async ({ data, points }) => {
      const g = globalThis as any;
      const img = new g.Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const canvas = g.document.createElement("canvas");
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0);
      return points.map(([dx, dy]) => {
        const d = ctx.getImageData(
          Math.round(img.width / 2 + dx),
          Math.round(img.height / 2 + dy),
          1,
          1,
        ).data;
        return [d[0], d[1], d[2]] as [number, number, number];
      });
    },
    { data: png.toString("base64"), points },
  );
}

export const near = (a: number[], b: number[], tolerance = 12) =>
  a.every((v, i) => Math.abs(v - (b[i] ?? 0)) <= tolerance);
