/**
 * Secrets in what is sent to Proxmox, masked wherever it is shown or kept: write_api's previews,
 * the audit log, tracked tasks. A secret is found by its parameter's name (password, token, key,
 * ...) and by what the value is, whatever it is called: credentials in a URL, an `apitoken=` or
 * `password=` inside a property string (remote_migrate's `target-endpoint`), a TOTP URI, a
 * webhook header's value, an ACME DNS plugin's credentials.
 */

export const MASK = "********";

/** Parameter names whose whole value is a secret. */
const SECRET_NAME =
  /^(password|cipassword|confirmation-password|new-password|secret|token|key|eab-hmac-key|encryption-key|master-pubkey|keyring|certkey|client-key|vncticket|lock-token|totp|value|data|apitoken|bind-password|passphrase)$|pass(word)?$|secret$|token$/i;

/** Keys inside a property string whose value is a secret (`apitoken=PVEAPIToken=…`, `password=…`). */
const SECRET_PART = /^(apitoken|password|pass|secret|token|key|value|api-key|apikey)$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** One value with the secrets inside it masked; names are kept so the preview still reads. */
export function maskValue(value: string): string {
  // otpauth://totp/...?secret=BASE32&issuer=...
  if (/^otpauth:\/\//i.test(value)) return MASK;
  let out = value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@/\s]+@/gi, `$1${MASK}@`);
  // Property strings: key=value pairs separated by commas. An `apitoken` value may itself hold `=`.
  if (/(^|,)\s*[A-Za-z-]+=/.test(out)) {
    out = out
      .split(",")
      .map((part) => {
        const eq = part.indexOf("=");
        return eq > 0 && SECRET_PART.test(part.slice(0, eq).trim()) ? `${part.slice(0, eq)}=${MASK}` : part;
      })
      .join(",");
  }
  return out;
}

/** A parameter set with every secret masked, recursing into nested objects and lists. */
export function maskSecrets<T>(value: T, name?: string): T {
  if (name !== undefined && isSecretName(name) && value !== undefined && value !== null && value !== "")
    return MASK as T;
  if (typeof value === "string") return maskValue(value) as T;
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, name)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[key] = maskSecrets(v, key);
    }
    return out as T;
  }
  return value;
}
