import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { AuthConfig } from "./config";

/**
 * Identity from Cloudflare Access: /authorize sits behind an Access application, which signs in
 * the person and forwards every request with a `Cf-Access-Jwt-Assertion` JWT. The Worker checks
 * that JWT itself (signature against the team's keys, issuer, the application's audience, expiry),
 * so a request that reached the Worker some other way (workers.dev, a misconfigured route) gets
 * nothing.
 */

/** The team's signing keys, fetched once per isolate and refreshed by jose when a key rotates. */
const keySets = new Map<string, JWTVerifyGetKey>();

function keysOf(teamDomain: string): JWTVerifyGetKey {
  let keys = keySets.get(teamDomain);
  if (!keys) {
    keys = createRemoteJWKSet(new URL("/cdn-cgi/access/certs", teamDomain));
    keySets.set(teamDomain, keys);
  }
  return keys;
}

export type Identity = { ok: true; user: string } | { ok: false; status: 401 | 403 | 503; message: string };

export async function accessIdentity(
  request: Request,
  access: NonNullable<AuthConfig["access"]>,
): Promise<Identity> {
  const token = request.headers.get("cf-access-jwt-assertion");
  if (!token) {
    return {
      ok: false,
      status: 401,
      message:
        "This page must be reached through Cloudflare Access (no Cf-Access-Jwt-Assertion header). Put an Access application in front of /authorize.",
    };
  }
  try {
    const { payload } = await jwtVerify(token, keysOf(access.teamDomain), {
      issuer: access.teamDomain,
      audience: access.audience,
      algorithms: ["RS256"],
    });
    const email = typeof payload.email === "string" ? payload.email.trim().toLowerCase() : "";
    if (!email) {
      return {
        ok: false,
        status: 403,
        message: "The Access token names no user (a service token cannot sign in).",
      };
    }
    return { ok: true, user: email };
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      return { ok: false, status: 401, message: "The Cloudflare Access session expired. Reload the page." };
    }
    // A network failure reaching the team's keys is not the person's doing.
    if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
      return {
        ok: false,
        status: 503,
        message: "Could not fetch Cloudflare Access's signing keys. Try again.",
      };
    }
    return {
      ok: false,
      status: 401,
      message:
        "The Cloudflare Access token is not valid for this application (check ACCESS_TEAM_DOMAIN and ACCESS_AUD).",
    };
  }
}
