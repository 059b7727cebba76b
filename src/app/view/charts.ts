// Time-series charts with uPlot: canvas drawing, about 23 KB gzipped, made for exactly this
// (many points, several lines, time on x). Colours and the font come from the host's theme
// (theme.ts); a node's in and out share its colour, out dashed, so lines differ by more than hue.

import uPlot from "uplot";
import { el } from "./dom";
import { type Palette, palette } from "./theme";

export interface ChartLine {
  label: string;
  cpu: (number | null)[];
  mem: (number | null)[];
  netin: (number | null)[];
  netout: (number | null)[];
  io: (number | null)[];
}

export interface ChartData {
  timeframe: string;
  subject: string;
  time: number[];
  lines: ChartLine[];
  io: "disk_kibps" | "iowait_pct";
}

interface Series {
  label: string;
  values: (number | null)[];
  /** Which colour (the node's), so in and out of one node match. */
  color: number;
  dashed?: boolean;
}

interface Spec {
  key: string;
  title: string;
  unit: string;
  series: (d: ChartData) => Series[];
}

const SPECS: Spec[] = [
  {
    key: "cpu",
    title: "CPU",
    unit: "%",
    series: (d) => d.lines.map((l, i) => ({ label: l.label, values: l.cpu, color: i })),
  },
  {
    key: "mem",
    title: "Memory",
    unit: "GiB",
    series: (d) => d.lines.map((l, i) => ({ label: l.label, values: l.mem, color: i })),
  },
  {
    key: "net",
    title: "Network in (solid) / out (dashed)",
    unit: "KiB/s",
    series: (d) =>
      d.lines.flatMap((l, i) => [
        { label: `${l.label} in`, values: l.netin, color: i },
        { label: `${l.label} out`, values: l.netout, color: i, dashed: true },
      ]),
  },
  {
    key: "io",
    title: "Disk I/O",
    unit: "KiB/s",
    series: (d) => d.lines.map((l, i) => ({ label: l.label, values: l.io, color: i })),
  },
];

const DASH = [6, 4];

/** Axis ticks short enough for a narrow axis: 950, 2.5k, 12k, 1.2M. */
export function compact(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${+(v / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`;
  if (abs >= 10 || abs === 0) return String(Math.round(v));
  return String(+v.toFixed(abs >= 1 ? 1 : 2));
}

function legendValue(v: number | null, unit: string): string {
  if (v === null || v === undefined) return "–";
  return `${compact(v)} ${unit}`;
}

const clock = (t: number) =>
  new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function axes(p: Palette, unit: string, small: boolean): uPlot.Axis[] {
  const font = `11px ${p.font}`;
  return [
    {
      stroke: p.muted,
      font,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
      // The card's chart spans an hour: one line of clock times leaves the lines room to show.
      ...(small ? { space: 70, size: 24, values: (_u: uPlot, ticks: number[]) => ticks.map(clock) } : {}),
    },
    {
      stroke: p.muted,
      font,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1 },
      // Sized to its longest label, so none is clipped whatever the values.
      size: (u, values) => {
        const ctx = u.ctx;
        ctx.font = font;
        const widest = Math.max(0, ...(values ?? []).map((v) => ctx.measureText(String(v)).width));
        return Math.ceil(widest) + 16;
      },
      values: (_u, ticks) => ticks.map((t) => (unit === "%" ? `${compact(t)}%` : compact(t))),
    },
  ];
}

function options(
  p: Palette,
  width: number,
  height: number,
  unit: string,
  series: Series[],
  legend: boolean,
): uPlot.Options {
  return {
    width,
    height,
    // The card's small chart has no legend to show values in, so no cursor either.
    cursor: legend ? { drag: { x: false, y: false } } : { show: false },
    legend: {
      show: legend,
      live: false,
      markers: { dash: (u: uPlot, i: number) => (u.series[i]?.dash ? "dashed" : "solid"), width: 3 },
    },
    scales: {
      y: {
        range: (_u, _min, max) => [0, unit === "%" ? Math.max(100, max) : max > 0 ? max * 1.1 : 1],
      },
    },
    axes: axes(p, unit, !legend),
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: p.series[s.color % p.series.length],
        width: 2,
        ...(s.dashed ? { dash: DASH } : {}),
        value: (_u: uPlot, v: number | null) => legendValue(v, unit),
        points: { show: false },
        spanGaps: false,
      })),
    ],
  };
}

/** Each chart takes half the row, the whole row on narrow hosts. */
function plotWidth(root: HTMLElement): number {
  const width = root.clientWidth || 640;
  return Math.max(200, Math.floor(width >= 720 ? (width - 12) / 2 : width));
}

export class Charts {
  private readonly plots = new Map<string, { plot: uPlot; shape: string }>();
  private last?: ChartData;

  constructor(private readonly root: HTMLElement) {}

  render(data: ChartData): void {
    this.last = data;
    const width = plotWidth(this.root);
    const p = palette();
    for (const spec of SPECS) {
      const wait = spec.key === "io" && data.io === "iowait_pct";
      const unit = wait ? "%" : spec.unit;
      const title = wait ? "I/O wait" : spec.title;
      const series = spec.series(data);
      const shape = `${data.subject}|${series.map((s) => s.label).join(",")}|${unit}|${p.text}|${p.font}`;
      let box = this.root.querySelector<HTMLElement>(`[data-chart="${spec.key}"]`);
      if (!box) {
        box = el(
          "figure",
          { class: "chart", "data-chart": spec.key },
          el("h3", {}),
          el("div", { class: "plot" }),
        );
        this.root.append(box);
      }
      (box.querySelector("h3") as HTMLElement).textContent = `${title} (${unit})`;
      box.dataset.timeframe = data.timeframe;
      box.dataset.points = String(data.time.length);
      box.dataset.from = String(data.time[0] ?? "");
      box.dataset.to = String(data.time[data.time.length - 1] ?? "");
      const values = [data.time, ...series.map((s) => s.values)] as uPlot.AlignedData;
      const existing = this.plots.get(spec.key);
      if (existing && existing.shape === shape) {
        existing.plot.setData(values);
        continue;
      }
      existing?.plot.destroy();
      const target = box.querySelector(".plot") as HTMLElement;
      target.textContent = "";
      const plot = new uPlot(options(p, width, 170, unit, series, true), values, target);
      this.plots.set(spec.key, { plot, shape });
    }
  }

  /** Redraws with the current theme (the host or the system switched light and dark). */
  restyle(): void {
    for (const { plot } of this.plots.values()) plot.destroy();
    this.plots.clear();
    if (this.last) this.render(this.last);
  }

  resize(): void {
    const width = plotWidth(this.root);
    for (const { plot } of this.plots.values()) plot.setSize({ width, height: 170 });
  }
}

export interface Trend {
  subject: string;
  from: number;
  step_s: number;
  cpu_pct: (number | null)[];
  mem_pct: (number | null)[];
}

/** The card's one small chart: CPU and memory of the cluster (or the focused guest), last hour. */
export class TrendChart {
  private plot?: uPlot;
  private last?: Trend;
  private key = "";

  constructor(private readonly root: HTMLElement) {}

  render(trend: Trend): void {
    this.last = trend;
    const p = palette();
    const time = trend.cpu_pct.map((_, i) => trend.from + i * trend.step_s);
    const data = [time, trend.cpu_pct, trend.mem_pct] as uPlot.AlignedData;
    const width = Math.max(200, this.root.clientWidth || 300);
    const key = `${p.text}|${p.font}|${width}`;
    if (this.plot && this.key === key) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.key = key;
    this.root.textContent = "";
    this.plot = new uPlot(
      options(
        p,
        width,
        110,
        "%",
        [
          { label: "CPU", values: trend.cpu_pct, color: 0 },
          { label: "Memory", values: trend.mem_pct, color: 1, dashed: true },
        ],
        false,
      ),
      data,
      this.root,
    );
  }

  restyle(): void {
    this.key = "";
    if (this.last) this.render(this.last);
  }
}
