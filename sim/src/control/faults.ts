// Injected upstream failures: what a client may meet between it and Proxmox (Cloudflare Access,
// a Tunnel that is down, an overloaded host, a hung connection).

import { errorResponse, PveError } from "../api/respond";
import type { Fault } from "../state/model";

const ACCESS_LOGIN = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in ・ Cloudflare Access</title>
<link rel="stylesheet" href="https://homelab.cloudflareaccess.com/cdn-cgi/access/assets/login.css">
</head>
<body>
<div class="AuthBox">
  <h1>Sign in to pve.example.com</h1>
  <p>You need to sign in to reach this application.</p>
  <form method="POST" action="https://homelab.cloudflareaccess.com/cdn-cgi/access/login/pve.example.com">
    <input type="email" name="email" placeholder="you@example.com">
    <button type="submit">Send me a code</button>
  </form>
  <footer>Protected by Cloudflare Access · homelab.cloudflareaccess.com</footer>
</div>
</body>
</html>
`;

function cloudflareErrorPage(status: number): string {
  if (status === 502) {
    return `<!DOCTYPE html>
<html lang="en-US">
<head><title>pve.example.com | 502: Bad gateway</title><meta charset="UTF-8"></head>
<body>
<div id="cf-error-details">
  <h1><span class="inline-block">Bad gateway</span> <span class="code-label">Error code 502</span></h1>
  <p>The web server reported a bad gateway error.</p>
  <p>Cloudflare Ray ID: <strong>8f1c2d3e4a5b6c7d</strong> · Performance &amp; security by Cloudflare</p>
</div>
</body>
</html>
`;
  }
  return `<!DOCTYPE html>
<html lang="en-US">
<head><title>Cloudflare Tunnel error | pve.example.com | Cloudflare</title><meta charset="UTF-8"></head>
<body>
<div id="cf-error-details">
  <h1>Cloudflare Tunnel error</h1>
  <span class="cf-error-code">error code: 1033</span>
  <p>The Cloudflare Tunnel for pve.example.com is currently unable to resolve it.</p>
  <p>Cloudflare Ray ID: <strong>8f1c2d3e4a5b6c7e</strong> · Performance &amp; security by Cloudflare</p>
</div>
</body>
</html>
`;
}

const html = (status: number, statusText: string, body: string) =>
  new Response(body, {
    status,
    statusText,
    headers: { "Content-Type": "text/html; charset=UTF-8", Server: "cloudflare" },
  });

/** Takes one use of the first fault that matches the path, if any. */
export function takeFault(faults: Fault[], path: string): Fault | null {
  const f = faults.find((x) => x.remaining > 0 && (!x.pathPrefix || path.startsWith(x.pathPrefix)));
  if (!f) return null;
  f.remaining--;
  return { ...f };
}

export async function faultResponse(f: Fault, signal: AbortSignal): Promise<Response> {
  switch (f.kind) {
    case "json":
      return errorResponse(new PveError(f.message ?? "simulated failure", f.status ?? 500));
    case "empty":
      return new Response(null, {
        status: f.status ?? 500,
        statusText: f.message ?? "Internal Server Error",
      });
    case "access-login":
      return html(200, "OK", ACCESS_LOGIN);
    case "tunnel-error": {
      const status = f.status ?? 530;
      return html(status, status === 502 ? "Bad Gateway" : "", cloudflareErrorPage(status));
    }
    case "hang":
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 120_000);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return new Response(null, { status: 504, statusText: "Gateway Timeout" });
  }
}
