export default {
  async fetch(_request, env) {
    if (env.PVE) return env.PVE.fetch("http://pve/api2/json/version");
    return new Response("no upstream");
  },
} satisfies ExportedHandler<Env>;
