import { DurableObject } from "cloudflare:workers";

export class PveSimulator extends DurableObject<SimEnv> {
  n = 0;
  override async fetch(_request: Request): Promise<Response> {
    this.n++;
    await new Promise((r) => setTimeout(r, 300));
    return new Response(`sim ${this.n}`);
  }
}

export default {
  async fetch(request, env) {
    return env.SIM.get(env.SIM.idFromName("cluster")).fetch(request);
  },
} satisfies ExportedHandler<SimEnv>;
