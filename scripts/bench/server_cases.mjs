// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The request/response server row of the benchmark, Node side. `main.ts`
 * copies this file into the scratch project where the built `tcpframe`
 * tarball is installed, and `_servers.ts` runs it there:
 *
 *   node server_cases.mjs serve-server     # tcpframe serve() on listen()
 *   node server_cases.mjs net-server       # the same protocol on plain node:net
 *   node server_cases.mjs clients <port> <clients> <warmupMs> <measureMs> <size>
 *
 * The protocol: a client sends one frame (u32 BE length + payload), the
 * server answers with the same frame, the client sends the next. A server
 * prints `{"port":N}` and serves until SIGTERM. `clients` opens that many
 * connections in this one process (plain `node:net`, the same for every
 * server), runs them for the warm-up and then the measured time, and prints
 * one JSON line: requests, seconds, p50 and p99 in microseconds.
 *
 * @module
 */

import net from "node:net";
import process from "node:process";

const [mode, ...args] = process.argv.slice(2);

/** Prints the port, then stops on SIGTERM once the server has closed. */
function announce(port, stop) {
  console.log(JSON.stringify({ port }));
  process.on("SIGTERM", () => {
    void stop().then(() => process.exit(0));
  });
}

async function serveServer() {
  const { serve } = await import("tcpframe");
  const { listen } = await import("tcpframe/node");
  const server = serve(
    await listen({ hostname: "127.0.0.1", port: 0, maxPending: 1024 }),
    async ({ reader, writer }) => {
      for await (const request of reader) await writer.write(request);
    },
  );
  announce(server.addr.port, () => server.shutdown({ gracePeriod: 0 }));
}

/** What a Node user writes without a framing library. */
function netServer() {
  const server = net.createServer({ noDelay: true }, (socket) => {
    let pending = null;
    socket.on("data", (chunk) => {
      let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
      while (data.length >= 4) {
        const length = data.readUInt32BE(0);
        if (data.length < 4 + length) break;
        const reply = Buffer.allocUnsafe(4 + length);
        reply.writeUInt32BE(length, 0);
        data.copy(reply, 4, 4, 4 + length);
        socket.write(reply);
        data = data.subarray(4 + length);
      }
      pending = data.length > 0 ? data : null;
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    announce(
      server.address().port,
      () => new Promise((resolve) => server.close(() => resolve())),
    );
  });
}

/**
 * `count` connections, each a loop of one request and its reply; latencies
 * of the replies that arrive in the measured window.
 */
async function clients(port, count, warmupMs, measureMs, size) {
  const request = Buffer.alloc(4 + size, 7);
  request.writeUInt32BE(size, 0);
  const latencies = [];
  let measuring = false;
  let running = true;
  let requests = 0;
  let failure = null;
  const one = () =>
    new Promise((resolve) => {
      const socket = net.connect({ port, host: "127.0.0.1", noDelay: true });
      let sentAt = 0n;
      let buffered = 0;
      const send = () => {
        sentAt = process.hrtime.bigint();
        socket.write(request);
      };
      socket.on("connect", send);
      socket.on("data", (chunk) => {
        buffered += chunk.length;
        while (buffered >= request.length) {
          buffered -= request.length;
          if (measuring) {
            latencies.push(Number(process.hrtime.bigint() - sentAt) / 1000);
            requests++;
          }
          if (running) send();
          else {
            socket.end();
            return;
          }
        }
      });
      socket.on("error", (error) => {
        failure ??= error.message;
        resolve();
      });
      socket.on("close", () => resolve());
    });
  const all = Array.from({ length: count }, one);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  measuring = true;
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, measureMs));
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  running = false;
  const bound = setTimeout(() => process.exit(2), 10_000);
  await Promise.all(all);
  clearTimeout(bound);
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  console.log(JSON.stringify({
    requests,
    seconds,
    p50: latencies.length > 0 ? at(0.5) : null,
    p99: latencies.length > 0 ? at(0.99) : null,
    ...(failure === null ? {} : { error: failure }),
  }));
}

switch (mode) {
  case "serve-server":
    await serveServer();
    break;
  case "net-server":
    netServer();
    break;
  case "clients":
    await clients(...args.map(Number));
    break;
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
