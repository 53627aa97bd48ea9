// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The Node side of the send-side benchmark: `main.ts` copies it into the
 * scratch project where the built `tcpframe` tarball is installed, and runs
 * it there against the peer of `send_peer.ts`:
 *
 *   node --expose-gc node_send.mjs run '<send plan json>' '{"sink":<port>,"echo":<port>}'
 *   node node_send.mjs bound '<send plan json>' '<ports json>'
 *
 * tcpframe writes through the `tcpframe/node` adapter (`fromSocket`); the
 * raw cases call `socket.write()` and await its callback.
 *
 * @module
 */

import { once } from "node:events";
import net from "node:net";
import process from "node:process";
import * as tcpframe from "tcpframe";
import { fromSocket } from "tcpframe/node";
import { print } from "./_measure.mjs";
import { runSend, sendBounds } from "./_send.mjs";

/**
 * @param {number} port
 * @returns {Promise<import("./_send.mjs").Link>}
 */
async function connect(port) {
  const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  socket.on("error", () => {});
  await once(socket, "connect");
  return {
    conn: fromSocket(socket),
    rawWrite: (bytes) =>
      new Promise((resolve, reject) => {
        socket.write(bytes, (error) => error ? reject(error) : resolve());
      }),
    close: () => socket.destroy(),
  };
}

const [mode, planJson, portsJson] = process.argv.slice(2);
const plan = JSON.parse(planJson ?? "null");
if (mode === "run" && plan !== null && portsJson !== undefined) {
  await runSend(
    plan,
    { runtime: "node", connect },
    tcpframe,
    JSON.parse(portsJson),
  );
} else if (mode === "bound" && plan !== null && portsJson !== undefined) {
  print(
    await sendBounds(
      { runtime: "node", connect },
      tcpframe,
      plan.frames / 4,
      JSON.parse(portsJson).sink,
    ),
  );
} else {
  console.error(
    "usage: node_send.mjs run <plan> <ports> | bound <plan> <ports>",
  );
  process.exit(2);
}
