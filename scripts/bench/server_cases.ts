// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The request/response server row of the benchmark, Deno side: a tcpframe
 * `serve()` server on `Deno.listen()` that answers every frame with the same
 * frame, prints `{"port":N}` and serves until SIGTERM.
 *
 *   deno run -A scripts/bench/server_cases.ts serve-server
 *
 * The clients are Node's (`server_cases.mjs clients`), the same for every
 * server.
 *
 * @module
 */

import { serve } from "../../mod.ts";

const server = serve(
  Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  async ({ reader, writer }) => {
    for await (const request of reader) await writer.write(request);
  },
);
console.log(JSON.stringify({ port: (server.addr as Deno.NetAddr).port }));
Deno.addSignalListener("SIGTERM", () => {
  void server.shutdown({ gracePeriod: 0 }).then(() => Deno.exit(0));
});
