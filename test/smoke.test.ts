import { env } from "cloudflare:workers";
import { expect, it } from "vitest";

it("reaches the simulator", async () => {
  const seen = [];
  for (let i = 0; i < 5; i++) seen.push(await (await env.PVE!.fetch("http://x/")).text());
  console.log(seen.join(","));
  expect(seen.length).toBe(5);
});
