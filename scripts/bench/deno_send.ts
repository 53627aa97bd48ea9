// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The Deno side of the send-side benchmark, run as a child process by
 * `main.ts` against the peer of `send_peer.ts`:
 *
 *   deno run -A --v8-flags=--expose-gc scripts/bench/deno_send.ts run '<send plan json>' '{"sink":<port>,"echo":<port>}'
 *   deno run -A scripts/bench/deno_send.ts bound '<send plan json>' '<ports json>'
 *
 * `run` prints one JSON `Result` per line; `bound` one JSON `SendBound` per
 * line. The cases are in `_send.mjs`; this file opens the connections.
 *
 * @module
 */

import * as tcpframe from "../../mod.ts";
import { print } from "./_measure.mjs";
import { type Link, runSend, sendBounds } from "./_send.mjs";
import type { SendPlan } from "./_plan.ts";

async function connect(port: number): Promise<Link> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  return {
    conn,
    async rawWrite(bytes) {
      for (let at = 0; at < bytes.byteLength;) {
        at += await conn.write(bytes.subarray(at));
      }
    },
    close() {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    },
  };
}

const [mode, planJson, portsJson] = Deno.args;
const plan = JSON.parse(planJson ?? "null") as SendPlan | null;
if (mode === "run" && plan !== null && portsJson !== undefined) {
  await runSend(
    plan,
    { runtime: "deno", connect },
    tcpframe,
    JSON.parse(portsJson),
  );
} else if (mode === "bound" && plan !== null && portsJson !== undefined) {
  print(
    await sendBounds(
      { runtime: "deno", connect },
      tcpframe,
      plan.frames / 4,
      JSON.parse(portsJson).sink,
    ),
  );
} else {
  console.error(
    "usage: deno_send.ts run <plan> <ports> | bound <plan> <ports>",
  );
  Deno.exit(2);
}
