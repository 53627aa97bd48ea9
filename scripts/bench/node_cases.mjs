// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The Node side of the benchmark. `main.ts` copies this file into a scratch
 * project where the built `tcpframe` tarball and the pinned npm peers of
 * `package.json` are installed, and runs it there with `node`:
 *
 *   node node_cases.mjs run '<plan json>'
 *   node --expose-gc ... node_cases.mjs alloc '<plan json>'
 *   node node_cases.mjs idle-server
 *   node node_cases.mjs idle-clients <port> <count> <batch>
 *   node node_cases.mjs send <port> <size> <frames-per-write> <writes>
 *
 * Plain JavaScript, since Node 20 cannot run TypeScript; what it shares with
 * `deno_cases.ts` is in `_measure.mjs`, copied along. The npm peers are
 * loaded by computed specifiers: they exist only in the scratch project, not
 * for `deno check`.
 *
 * @module
 */

import { once } from "node:events";
import { createRequire } from "node:module";
import net from "node:net";
import process from "node:process";
import * as tcpframe from "tcpframe";
import { fromSocket, listen } from "tcpframe/node";
import {
  allocation,
  bounded,
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

const shared = tcpframeCases(tcpframe);

const require = createRequire(import.meta.url);
const peers = { frameStream: "frame-stream", lp: "it-length-prefixed" };
/** @type {any} */
const frameStream = require(peers.frameStream);
/** @type {any} */
const lp = await import(peers.lp);

/**
 * it-length-prefixed's length codec for tcpframe's wire format (a u32
 * big-endian length; its own default is a varint).
 */
const u32be = {
  /** @param {any} list a Uint8ArrayList */
  decoder: Object.assign((list) => {
    if (list.byteLength < 4) throw new RangeError("need 4 bytes");
    return list.getUint32(0);
  }, { bytes: 4 }),
  encoder: Object.assign((/** @type {number} */ length) => {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, length);
    return header;
  }, { bytes: 4 }),
};
const lpOptions = {
  lengthDecoder: u32be.decoder,
  lengthEncoder: u32be.encoder,
  maxDataLength: maxFrameSize,
};

/** @returns {Promise<[net.Socket, net.Socket]>} a pair with Nagle on */
async function pair() {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = /** @type {net.AddressInfo} */ (server.address());
  const client = net.connect({
    host: "127.0.0.1",
    port: address.port,
    allowHalfOpen: true,
  });
  const [[socket]] = await Promise.all([
    once(server, "connection"),
    once(client, "connect"),
  ]);
  server.close();
  return [client, socket];
}

/**
 * @template T
 * @param {number} timeoutMs
 * @param {(client: net.Socket, server: net.Socket) => Promise<T>} body
 * @returns {Promise<T>}
 */
async function withPair(timeoutMs, body) {
  const [client, server] = await pair();
  for (const socket of [client, server]) socket.on("error", () => {});
  try {
    return await bounded(timeoutMs, () => body(client, server));
  } finally {
    client.destroy();
    server.destroy();
  }
}

/**
 * The shared tcpframe cases, on a socket wrapped by `fromSocket`.
 * @template R
 * @param {Record<string, (conn: import("tcpframe").Conn) => R>} cases
 * @returns {Record<string, (socket: net.Socket, size: number) => R>}
 */
function onSocket(cases) {
  return Object.fromEntries(
    Object.entries(cases).map(([impl, run]) => [
      impl,
      (/** @type {net.Socket} */ socket) => run(fromSocket(socket)),
    ]),
  );
}

// ---------------------------------------------------------------- throughput

/** @typedef {(socket: net.Socket, size: number) => Promise<number>} Receiver */

/** @type {Record<string, Receiver>} */
const receivers = {
  async raw(socket) {
    let bytes = 0;
    socket.on("data", (chunk) => bytes += chunk.byteLength);
    await once(socket, "end");
    return bytes;
  },
  async "raw (fresh buffers)"(socket, size) {
    // What owned frames cost at the least: every chunk copied once into a
    // fresh buffer per frame's worth of bytes.
    let buf = new Uint8Array(size + 4);
    let filled = 0;
    let bytes = 0;
    socket.on("data", (/** @type {Buffer} */ chunk) => {
      bytes += chunk.byteLength;
      for (let at = 0; at < chunk.byteLength;) {
        const n = Math.min(buf.byteLength - filled, chunk.byteLength - at);
        buf.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === buf.byteLength) {
          buf = new Uint8Array(size + 4);
          filled = 0;
        }
      }
    });
    await once(socket, "end");
    return bytes;
  },
  ...onSocket(shared.receivers),
  async "frame-stream"(socket) {
    let frames = 0;
    const decoder = socket.pipe(frameStream.decode({ maxSize: maxFrameSize }));
    decoder.on("data", () => frames++);
    await once(decoder, "end");
    return frames;
  },
  async "it-length-prefixed"(socket) {
    let frames = 0;
    for await (const message of lp.decode(socket, lpOptions)) {
      message.subarray(); // the frame's bytes, contiguous, as the others give
      frames++;
    }
    return frames;
  },
};

/**
 * @param {any} plan
 * @param {string} impl
 * @param {number} size
 */
async function throughput(plan, impl, size) {
  const w = wire(plan, impl, size);
  const receive = receivers[impl];
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  const sender = spawnSender(port, size, w, plan.caseTimeoutMs);
  sender.catch(() => {}); // awaited below
  /** @type {net.Socket} */
  let socket;
  try {
    [socket] = await Promise.race([
      once(server, "connection"),
      sender.then(() => Promise.reject(new Error("no connection"))),
    ]);
  } finally {
    server.close();
  }
  socket.on("error", () => {});
  try {
    return await bounded(
      plan.caseTimeoutMs,
      () => timeThroughput("node", impl, size, w, () => receive(socket, size)),
    );
  } finally {
    socket.destroy();
    await sender;
  }
}

/**
 * The sender process, where no C compiler built sender.c: the same bytes
 * through a plain socket.
 * @param {number} port
 * @param {number} size
 * @param {number} perWrite
 * @param {number} writes
 */
async function send(port, size, perWrite, writes) {
  const one = Buffer.alloc(4 + size, 0x61);
  one.writeUInt32BE(size, 0);
  const chunk = Buffer.concat(Array.from({ length: perWrite }, () => one));
  const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(socket, "connect");
  for (let i = 0; i < writes; i++) {
    if (!socket.write(chunk)) await once(socket, "drain");
  }
  socket.end();
  socket.resume(); // until the receiver closes
  await once(socket, "close");
}

// ----------------------------------------------------------------- ping-pong

/**
 * A queue of values pushed by events and taken by awaiting.
 * @template T
 */
class Inbox {
  /** @type {T[]} */
  #items = [];
  /** @type {((value: T) => void) | undefined} */
  #waiter;
  /** @param {T} value */
  push(value) {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter(value);
    } else this.#items.push(value);
  }
  /** @returns {Promise<T>} */
  take() {
    if (this.#items.length > 0) {
      return Promise.resolve(/** @type {T} */ (this.#items.shift()));
    }
    return new Promise((resolve) => this.#waiter = resolve);
  }
}

/** @typedef {import("./_measure.mjs").Endpoint} Endpoint */

/** @type {Record<string, (socket: net.Socket, size: number) => Endpoint>} */
const endpoints = {
  raw(socket, size) {
    // Counts bytes: a message is complete when `size` more bytes arrived.
    /** @type {Inbox<number>} */
    const inbox = new Inbox();
    let buffered = 0;
    socket.on("data", (chunk) => {
      buffered += chunk.byteLength;
      while (buffered >= size) {
        buffered -= size;
        inbox.push(size);
      }
    });
    socket.on("end", () => inbox.push(-1));
    return {
      send: (payload) => {
        socket.write(payload);
        return Promise.resolve();
      },
      receive: () => inbox.take(),
      close: () => {
        socket.end();
        return Promise.resolve();
      },
    };
  },
  ...onSocket(shared.endpoints),
  "frame-stream"(socket) {
    const encoder = frameStream.encode();
    encoder.pipe(socket);
    const decoder = socket.pipe(frameStream.decode({ maxSize: maxFrameSize }));
    /** @type {Inbox<number>} */
    const inbox = new Inbox();
    decoder.on("data", (/** @type {Buffer} */ frame) => {
      inbox.push(frame.byteLength);
    });
    decoder.on("end", () => inbox.push(-1));
    return {
      send: (payload) => {
        encoder.write(payload);
        return Promise.resolve();
      },
      receive: () => inbox.take(),
      close: () => {
        encoder.end();
        return Promise.resolve();
      },
    };
  },
  "it-length-prefixed"(socket) {
    const messages = lp.decode(socket, lpOptions)[Symbol.asyncIterator]();
    return {
      send: (payload) => {
        socket.write(lp.encode.single(payload, lpOptions).subarray());
        return Promise.resolve();
      },
      receive: async () => {
        const { done, value } = await messages.next();
        return done ? -1 : value.subarray().byteLength;
      },
      close: () => {
        socket.end();
        return Promise.resolve();
      },
    };
  },
};

/**
 * @param {any} plan
 * @param {string} impl
 * @param {number} size
 */
async function pingPong(plan, impl, size) {
  return await withPair(
    plan.caseTimeoutMs,
    (client, server) =>
      timePingPong(
        plan,
        "node",
        impl,
        size,
        endpoints[impl](client, size),
        endpoints[impl](server, size),
      ),
  );
}

// ---------------------------------------------------------------- allocation

/** @type {Record<string, (chunk: Uint8Array, rounds: number) => Promise<number>>} */
const nodeMemoryCases = {
  ...shared.memoryCases,
  async "frame-stream"(chunk, rounds) {
    let n = 0;
    const decoder = frameStream.decode({ maxSize: maxFrameSize });
    decoder.on("data", () => n++);
    const buffer = Buffer.from(
      chunk.buffer,
      chunk.byteOffset,
      chunk.byteLength,
    );
    for (let i = 0; i < rounds; i++) decoder.write(buffer);
    decoder.end();
    await once(decoder, "end");
    return n;
  },
  "it-length-prefixed"(chunk, rounds) {
    let n = 0;
    const source = (function* () {
      for (let i = 0; i < rounds; i++) yield chunk;
    })();
    for (const message of lp.decode(source, lpOptions)) {
      message.subarray();
      n++;
    }
    return Promise.resolve(n);
  },
};

function used() {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

// ------------------------------------------------------ idle connections

/**
 * Opens `count` connections in batches of `batch`; each exchanges one 64 B
 * frame with the server, then stays idle until this process is stopped.
 * @param {number} port
 * @param {number} count
 * @param {number} batch
 */
async function idleClients(port, count, batch) {
  const frame = Buffer.alloc(68, 0x61);
  frame.writeUInt32BE(64, 0);
  /** @type {net.Socket[]} */
  const sockets = [];
  for (let opened = 0; opened < count; opened += batch) {
    const n = Math.min(batch, count - opened);
    await Promise.all(Array.from({ length: n }, async () => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.on("error", () => {});
      await once(socket, "connect");
      socket.write(frame);
      let got = 0;
      while (got < frame.byteLength) {
        const [chunk] = await once(socket, "data");
        got += chunk.byteLength;
      }
      socket.pause();
      sockets.push(socket);
    }));
  }
  console.log(JSON.stringify({ open: sockets.length }));
  // Idle until stopped by PID; the timer keeps the process bounded.
  await new Promise((resolve) => setTimeout(resolve, 120_000));
  for (const socket of sockets) socket.destroy();
}

// ---------------------------------------------------------------------- main

// ---------------------------------------------------------------------- main

const [mode, arg, arg2, arg3] = process.argv.slice(2);
if (mode === "run") {
  const plan = JSON.parse(/** @type {string} */ (arg));
  await runCases(plan, "node", {
    receivers: Object.keys(receivers),
    endpoints: Object.keys(endpoints),
    throughput: (impl, size) => throughput(plan, impl, size),
    pingPong: (impl, size) => pingPong(plan, impl, size),
    // frame-stream pushes an empty frame as an empty chunk, which Node
    // streams drop: it cannot deliver 0 B frames.
    skip: (impl, size) =>
      (impl === "frame-stream" && size === 0) ||
      (impl === "raw (fresh buffers)" && size !== 1048576),
  });
} else if (mode === "alloc") {
  const gc = /** @type {any} */ (globalThis).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  print(await allocation("node", nodeMemoryCases, gc, used));
} else if (mode === "bound") {
  print(largeFrameBound("node"));
  print(await memoryTiming("node", nodeMemoryCases));
} else if (mode === "idle-server") {
  await shared.serveEcho(
    await listen({ hostname: "127.0.0.1", port: 0 }),
    (conn) => conn.close(),
  );
} else if (mode === "idle-clients") {
  await idleClients(Number(arg), Number(arg2), Number(arg3));
} else if (mode === "send") {
  await send(Number(arg), Number(arg2), Number(arg3), Number(process.argv[6]));
} else {
  console.error(
    "usage: node_cases.mjs run|alloc <plan> | bound | idle-server | idle-clients <port> <count> <batch> | send <port> <size> <frames-per-write> <writes>",
  );
  process.exit(2);
}
