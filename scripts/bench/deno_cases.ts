// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The Deno side of the benchmark, run as a child process by `main.ts`:
 *
 *   deno run -A scripts/bench/deno_cases.ts run '<plan json>'
 *   deno run -A --v8-flags=--expose-gc,... scripts/bench/deno_cases.ts alloc '<plan json>'
 *   deno run -A scripts/bench/deno_cases.ts idle-server
 *
 * `run` measures one repetition of every throughput and ping-pong case on
 * 127.0.0.1 and prints one JSON `Result` per line; the throughput cases
 * receive from the sender process of `BENCH_SENDER`. `alloc` measures bytes
 * allocated per frame in memory. `idle-server` is a FrameReader echo server
 * that prints its port and serves until stopped.
 *
 * @module
 */

import * as tcpframe from "../../mod.ts";
import {
  FrameDecoderStream,
  FrameEncoderStream,
  readExact,
  writeAll,
} from "../../mod.ts";
import {
  allocation,
  bounded,
  type Endpoint,
  largeFrameBound,
  maxFrameSize,
  memoryTiming,
  print,
  runCases,
  spawnSender,
  tcpframeCases,
  timePingPong,
  timeThroughput,
  wire,
} from "./_measure.mjs";
import type { Plan, Result } from "./_plan.ts";

type Conn = Deno.TcpConn;

const shared = tcpframeCases(tcpframe);

/** Opens a connected pair on 127.0.0.1 with default options (Nagle on). */
async function pair(): Promise<[Conn, Conn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return [client, server];
}

function closeQuietly(conn: Conn): void {
  try {
    conn.close();
  } catch (error) {
    // Draining `conn.readable` to its end already closed the connection.
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

/** Half-closes; a connection whose readable already ended is closed. */
async function closeWrite(conn: Conn): Promise<void> {
  try {
    await conn.closeWrite();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

/** Runs `body` with both ends of a fresh pair; closes them on a timeout. */
async function withPair<T>(
  timeoutMs: number,
  body: (client: Conn, server: Conn) => Promise<T>,
): Promise<T> {
  const [client, server] = await pair();
  try {
    return await bounded(timeoutMs, () => body(client, server));
  } finally {
    closeQuietly(client);
    closeQuietly(server);
  }
}

// ---------------------------------------------------------------- throughput

type Receiver = (conn: Conn, size: number) => Promise<number>;

/** Receivers: each returns the number of frames (raw: bytes) it read. */
const receivers: Record<string, Receiver> = {
  async raw(conn, size) {
    const buf = new Uint8Array(Math.max(65536, size + 4));
    let bytes = 0;
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return bytes;
      bytes += n;
    }
  },
  async "raw (fresh buffers)"(conn, size) {
    // What owned frames cost at the least: a fresh buffer per frame's worth
    // of bytes, read straight into.
    let buf = new Uint8Array(size + 4);
    let filled = 0;
    let bytes = 0;
    for (;;) {
      const n = await conn.read(buf.subarray(filled));
      if (n === null) return bytes;
      bytes += n;
      filled += n;
      if (filled === buf.byteLength) {
        buf = new Uint8Array(size + 4);
        filled = 0;
      }
    }
  },
  ...shared.receivers,
  async "FrameReader (conn.readable)"(conn) {
    let frames = 0;
    const reader = new tcpframe.FrameReader(conn.readable, { maxFrameSize });
    for await (const _ of reader) frames++;
    return frames;
  },
  async streams(conn) {
    let frames = 0;
    const decoder = new FrameDecoderStream({ maxFrameSize });
    for await (const _ of conn.readable.pipeThrough(decoder)) frames++;
    return frames;
  },
};

async function throughput(
  plan: Plan,
  impl: string,
  size: number,
): Promise<Result> {
  const w = wire(plan, impl, size);
  const receive = receivers[impl]!;
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sender = spawnSender(listener.addr.port, size, w, plan.caseTimeoutMs);
  sender.catch(() => {}); // awaited below
  const conn = await Promise.race([
    listener.accept(),
    sender.then(() => Promise.reject(new Error("no connection"))),
  ]);
  try {
    return await bounded(
      plan.caseTimeoutMs,
      () => timeThroughput("deno", impl, size, w, () => receive(conn, size)),
    );
  } finally {
    closeQuietly(conn);
    await sender;
  }
}

// ----------------------------------------------------------------- ping-pong

type EndpointFactory = (conn: Conn, size: number) => Endpoint;

const endpoints: Record<string, EndpointFactory> = {
  raw(conn, size) {
    const buf = new Uint8Array(size);
    return {
      send: (payload) => writeAll(conn, payload),
      receive: () =>
        readExact(conn, buf).then(
          () => size,
          (error) => shared.eofOrThrow(error),
        ),
      close: () => conn.closeWrite(),
    };
  },
  ...shared.endpoints,
  streams(conn) {
    const encoder = new FrameEncoderStream({ maxFrameSize });
    const piped = encoder.readable.pipeTo(conn.writable, {
      preventClose: true,
    }).catch(() => {});
    const writer = encoder.writable.getWriter();
    const frames = conn.readable
      .pipeThrough(new FrameDecoderStream({ maxFrameSize }))
      .getReader();
    return {
      send: (payload) => writer.write(payload),
      receive: async () => {
        const { done, value } = await frames.read();
        return done ? -1 : value.byteLength;
      },
      async close() {
        await writer.close();
        await piped;
        await closeWrite(conn);
      },
    };
  },
};

async function pingPong(
  plan: Plan,
  impl: string,
  size: number,
): Promise<Result> {
  return await withPair(
    plan.caseTimeoutMs,
    (client, server) =>
      timePingPong(
        plan,
        "deno",
        impl,
        size,
        endpoints[impl]!(client, size),
        endpoints[impl]!(server, size),
      ),
  );
}

// ---------------------------------------------------------------- allocation

const denoMemoryCases = {
  ...shared.memoryCases,
  async streams(chunk: Uint8Array, rounds: number) {
    let n = 0;
    const source = ReadableStream.from((function* () {
      for (let i = 0; i < rounds; i++) yield chunk;
    })());
    for await (const _ of source.pipeThrough(new FrameDecoderStream())) n++;
    return n;
  },
};

function used(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

// ---------------------------------------------------------------------- main

const [mode, planJson] = Deno.args;
if (mode === "run") {
  const plan = JSON.parse(planJson!) as Plan;
  await runCases(plan, "deno", {
    receivers: Object.keys(receivers),
    endpoints: Object.keys(endpoints),
    throughput: (impl, size) => throughput(plan, impl, size),
    pingPong: (impl, size) => pingPong(plan, impl, size),
    skip: (impl, size) => impl === "raw (fresh buffers)" && size !== 1048576,
  });
} else if (mode === "alloc") {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  print(await allocation("deno", denoMemoryCases, gc, used));
} else if (mode === "bound") {
  print(largeFrameBound("deno"));
  print(await memoryTiming("deno", denoMemoryCases));
} else if (mode === "idle-server") {
  await shared.serveEcho(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    closeQuietly,
  );
} else {
  console.error(
    "usage: deno_cases.ts run|alloc <plan json> | bound | idle-server",
  );
  Deno.exit(2);
}
