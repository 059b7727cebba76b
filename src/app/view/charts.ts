// Time-series charts with uPlot: canvas drawing, about 50 KB minified, made for exactly this
// (many points, several lines, time on x). Each chart is rebuilt when its lines change (a new
// subject or timeframe) and only fed new data otherwise.

import uPlot from "uplot";
import { el } from "./dom";

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

const COLORS = ["#2e90fa", "#f79009", "#12b76a", "#9e77ed", "#f04438", "#0ba5ec", "#ee46bc", "#667085"];

interface Spec {
  key: string;
  title: string;
  unit: string;
  series: (d: ChartData) => { label: string; values: (number | null)[]; dash?: number[] }[];
}

const SPECS: Spec[] = [
  {
    key: "cpu",
    title: "CPU",
    unit: "%",
    series: (d) => d.lines.map((l) => ({ label: l.label, values: l.cpu })),
  },
  {
    key: "mem",
    title: "Memory",
    unit: "GiB",
    series: (d) => d.lines.map((l) => ({ label: l.label, values: l.mem })),
  },
  {
    key: "net",
    title: "Network in / out",
    unit: "KiB/s",
    series: (d) =>
      d.lines.flatMap((l) => [
        { label: `${l.label} in`, values: l.netin },
        { label: `${l.label} out`, values: l.netout, dash: [4, 3] },
      ]),
  },
  {
    key: "io",
    title: "Disk I/O",
    unit: "KiB/s",
    series: (d) => d.lines.map((l) => ({ label: l.label, values: l.io })),
  },
];

function fmt(v: number | null, unit: string): string {
  if (v === null || v === undefined) return "–";
  const abs = Math.abs(v);
  const digits = abs >= 100 || abs === 0 ? 0 : abs >= 1 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

/** Each chart takes half the row (the whole row on narrow hosts). */
function plotWidth(root: HTMLElement): number {
  const width = root.clientWidth || 640;
  return Math.max(260, Math.floor(width > 700 ? (width - 8) / 2 : width) - 2);
}

export class Charts {
  private readonly plots = new Map<string, { plot: uPlot; shape: string }>();

  constructor(private readonly root: HTMLElement) {}

  render(data: ChartData): void {
    const width = plotWidth(this.root);
    for (const spec of SPECS) {
      const unit = spec.key === "io" && data.io === "iowait_pct" ? "%" : spec.unit;
      const title = spec.key === "io" && data.io === "iowait_pct" ? "I/O wait" : spec.title;
      const series = spec.series(data);
      const shape = `${data.subject}|${series.map((s) => s.label).join(",")}|${unit}`;
      let box = this.root.querySelector<HTMLElement>(`[data-chart="${spec.key}"]`);
      if (!box) {
        box = el(
          "div",
          { class: "chart", "data-chart": spec.key },
          el("h3", {}, title),
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
      const plot = new uPlot(
        {
          width,
          height: 170,
          cursor: { drag: { x: false, y: false } },
          legend: { show: true, live: false },
          scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : unit === "%" ? 100 : 1] } },
          axes: [
            { stroke: "#98a2b3", grid: { stroke: "rgba(127,127,127,0.15)" } },
            {
              stroke: "#98a2b3",
              grid: { stroke: "rgba(127,127,127,0.15)" },
              size: 74,
              values: (_u, ticks) => ticks.map((t) => fmt(t, unit)),
            },
          ],
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: COLORS[(s.dash ? Math.floor(i / 2) : i) % COLORS.length],
              width: 1.5,
              ...(s.dash ? { dash: s.dash } : {}),
              value: (_u: uPlot, v: number | null) => fmt(v, unit),
              spanGaps: false,
            })),
          ],
        },
        values,
        target,
      );
      this.plots.set(spec.key, { plot, shape });
    }
  }

  resize(): void {
    const width = plotWidth(this.root);
    for (const { plot } of this.plots.values()) plot.setSize({ width, height: 170 });
  }
}
