import type { ConsentDescription } from "@cloudflare/workers-oauth-provider";
import { plainLine } from "../mcp/plain";
import type { Scope } from "../mcp/surface";
import { PRODUCT } from "../version";

/**
 * The HTML a person sees while signing in: the consent page and the pages that explain a refusal.
 * Everything that came from a client (its name, URIs, scope strings) is escaped: a client chooses
 * those when it registers.
 */

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** No scripts, no framing, nothing loaded from elsewhere. */
const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}" +
  "h1{font-size:1.4rem}label{display:block;margin:.6rem 0}small{color:#555;display:block;margin-left:1.6rem}" +
  ".warn{background:#fff4e5;padding:.6rem .8rem;border-radius:.3rem}button{font-size:1rem;padding:.4rem 1.2rem;margin-right:.6rem}";

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style><body>${body}</body></html>`;
}

export function pageHeaders(extra?: Headers): Headers {
  const headers = new Headers(extra);
  for (const [name, value] of Object.entries(PAGE_HEADERS)) headers.set(name, value);
  return headers;
}

/** A page that says why signing in stopped, and what to do. */
export function messagePage(status: number, title: string, message: string, headers?: Headers): Response {
  return new Response(layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`), {
    status,
    headers: pageHeaders(headers),
  });
}

const SCOPE_TEXT: Record<Scope, string> = {
  read: "See the cluster: nodes, VMs, containers, storage, snapshots, backups, pools, tasks and the audit log.",
  write:
    "Change the cluster: start, stop, create, delete, clone and migrate guests; snapshots, backups and pools.",
  exec: "Act inside VMs through the guest agent: run commands, write files, set passwords, freeze, trim, power.",
  admin:
    "Administer the hosts and access: users, API tokens, permissions, node network, services, updates, node power, storage configuration, cluster and node firewall.",
};

export interface ConsentView {
  details: ConsentDescription;
  handle: string;
  /** The signed-in person (Access), or undefined when GitHub sign-in comes after consent. */
  user?: string;
  provider: "access" | "github";
  readOnly: boolean;
}

/**
 * A client names itself at registration, with no limit: a 100,000-character name made a 201 KB
 * consent page that pushed the buttons off screen. Long names are cut, with a visible ellipsis.
 */
export const MAX_CLIENT_NAME = 80;

function shownClientName(name: string): string {
  const clean = plainLine(name).trim() || "An unnamed app";
  const chars = [...clean];
  return chars.length > MAX_CLIENT_NAME ? `${chars.slice(0, MAX_CLIENT_NAME - 1).join("")}…` : clean;
}

export function consentPage(view: ConsentView): string {
  const { details } = view;
  const clientName = shownClientName(details.clientName);
  const name = escapeHtml(clientName);
  const publisher = details.clientDomain
    ? `Published by <strong>${escapeHtml(details.clientDomain)}</strong>.`
    : "This app registered itself; its name is not verified.";
  const loopback = details.redirectIsLoopback
    ? '<p class="warn"><strong>Access goes to an app on your computer.</strong> Continue only if you just started signing in from it.</p>'
    : "";
  const who = view.user
    ? `<p>Signed in as <strong>${escapeHtml(view.user)}</strong>.</p>`
    : "<p>You sign in with GitHub next.</p>";
  const requested = new Set(details.scope);
  const boxes = (["read", "write", "exec", "admin"] as const)
    .map((scope) => {
      if (scope === "read") {
        return `<label><input type="checkbox" checked disabled> <strong>read</strong> (always)<small>${SCOPE_TEXT.read}</small></label><input type="hidden" name="scope" value="read">`;
      }
      if (view.readOnly) {
        return `<label><input type="checkbox" disabled> <strong>${scope}</strong>: not available, this server is read-only<small>${SCOPE_TEXT[scope]}</small></label>`;
      }
      // admin is never ticked in advance, even when the client asks for it: the person chooses it.
      const checked = requested.has(scope) && scope !== "admin" ? " checked" : "";
      return `<label><input type="checkbox" name="scope" value="${scope}"${checked}> <strong>${scope}</strong><small>${SCOPE_TEXT[scope]}</small></label>`;
    })
    .join("");
  const body =
    `<h1>Allow ${name} to use ${escapeHtml(PRODUCT.title)}?</h1>` +
    `<p>${publisher} Access will be sent to <strong>${escapeHtml(details.redirectHost)}</strong>.</p>` +
    loopback +
    who +
    `<form method="post" action="/authorize"><input type="hidden" name="handle" value="${escapeHtml(view.handle)}">` +
    `<fieldset><legend>What it may do</legend>${boxes}</fieldset>` +
    '<p><button name="decision" value="approve">Allow</button><button name="decision" value="deny">Deny</button></p></form>';
  return layout(`Allow ${clientName}?`, body);
}
