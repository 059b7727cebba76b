// The host's look: its theme, CSS variables and fonts when it sends them (the spec makes all
// three optional); otherwise the system's light or dark preference (style.css). Charts draw on a
// canvas, which CSS cannot reach, so they read the resolved colours and font from here.

import type { McpUiHostContext } from "@modelcontextprotocol/ext-apps";

export function applyHostContext(ctx: McpUiHostContext): void {
  const root = document.documentElement;
  if (ctx.theme === "light" || ctx.theme === "dark") {
    root.dataset.theme = ctx.theme;
    // The frame's colour scheme must match the host's, or the browser paints it an opaque canvas.
    root.style.colorScheme = ctx.theme;
  }
  for (const [name, value] of Object.entries(ctx.styles?.variables ?? {}))
    if (typeof value === "string" && name.startsWith("--")) root.style.setProperty(name, value);
  const fonts = ctx.styles?.css?.fonts;
  if (fonts && !document.getElementById("host-fonts")) {
    const style = document.createElement("style");
    style.id = "host-fonts";
    style.textContent = fonts;
    document.head.append(style);
  }
  const touch = ctx.deviceCapabilities?.touch ?? ctx.platform === "mobile";
  if (touch) root.dataset.touch = "1";
}

export interface Palette {
  text: string;
  muted: string;
  grid: string;
  font: string;
  /** One colour per chart line, telling lines apart on this background. */
  series: string[];
}

const LIGHT_SERIES = ["#1d6fd6", "#c4320a", "#107c41", "#7a3fd1", "#b8168e", "#0e7490", "#8a6100", "#475467"];
const DARK_SERIES = ["#6cb2ff", "#ff9364", "#4cd08a", "#c0a2ff", "#f97fd3", "#47cde6", "#f2c34b", "#bcc4d0"];

export function isDark(): boolean {
  const theme = document.documentElement.dataset.theme;
  if (theme === "dark" || theme === "light") return theme === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

export function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v("--fg", "#1d2330"),
    muted: v("--muted", "#5d6675"),
    grid: v("--grid", "rgba(127,127,127,0.2)"),
    font: css.fontFamily || "system-ui, sans-serif",
    series: isDark() ? DARK_SERIES : LIGHT_SERIES,
  };
}

/** Calls back when the resolved colours may have changed (host theme, system preference). */
export function onSchemeChange(callback: () => void): void {
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", callback);
}
