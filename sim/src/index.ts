// The pve-sim Worker: every request goes to the one Durable Object that owns the cluster.

import { PveSimulator } from "./simulator";

export { PveSimulator };

export default {
  async fetch(request, env) {
    return env.SIM.get(env.SIM.idFromName("cluster")).fetch(request);
  },
} satisfies ExportedHandler<SimEnv>;
