// The cfs_lock_* wrappers of Proxmox (lock_user_config, lock_ha_domain, cfs_lock_file for
// jobs.cfg): an error inside the locked code dies again as "<what>: <error>", a plain 500, even a
// parameter exception, which PVE::Exception stringifies as "400 Parameter verification failed."
// followed by one "param: message" line per error.

import { PveError } from "./respond";

export function underLock<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof PveError)) throw e;
    let msg = e.status === 500 ? e.message : `${e.status} ${e.message}`;
    if (!msg.endsWith("\n")) msg += "\n";
    for (const [k, v] of Object.entries(e.errors ?? {})) msg += `${k}: ${v}\n`;
    throw new PveError(`${what}: ${msg}`);
  }
}
