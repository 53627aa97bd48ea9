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
 *
 * Plain JavaScript, since Node 20 cannot run TypeScript. The npm peers are
 * loaded by computed specifiers: they exist only in the scratch project, not
 * for `deno check`.
 *
 * @module
 */

import { once } from "node:events";
import { createRequire } from "node:module";
import net from "node:net";
import process from "node:process";
import {
  FrameReader,
  readExact,
  readFrame,
  UnexpectedEofError,
  writeAll,
  writeFrame,
} from "tcpframe";
import { fromSocket, listen } from "tcpframe/node";

const require = createRequire(import.meta.url);
const peers = { frameStream: "frame-stream", lp: "it-length-prefixed" };
/** @type {any} */
const frameStream = require(peers.frameStream);
/** @type {any} */
const lp = await import(peers.lp);

const maxFrameSize = 1024 * 1024;

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

function cpuNow() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
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
  // Each case starts with a clean heap: no garbage left by the last one.
  /** @type {any} */ (globalThis).gc?.();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const running = body(client, server);
    running.catch(() => {}); // if abandoned, a late failure is expected
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
    client.destroy();
    server.destroy();
  }
}

// ---------------------------------------------------------------- throughput

/**
 * The same bytes as the Deno side: frames of `size` bytes in writes of about
 * 64 KiB (one frame per write from 64 KiB up).
 * @param {number} size
 * @param {number} frames
 */
function wire(size, frames) {
  const one = Buffer.alloc(4 + size, 0x61);
  one.writeUInt32BE(size, 0);
  const perWrite = Math.max(1, Math.floor(65536 / one.byteLength));
  const chunk = Buffer.concat(Array(perWrite).fill(one));
  const writes = Math.ceil(frames / perWrite);
  return {
    chunk,
    writes,
    frames: writes * perWrite,
    bytes: writes * chunk.byteLength,
  };
}

/** @typedef {(socket: net.Socket, size: number) => Promise<number>} Receiver */

/** @type {Record<string, Receiver>} */
const receivers = {
  async raw(socket) {
    let bytes = 0;
    socket.on("data", (chunk) => bytes += chunk.byteLength);
    await once(socket, "end");
    return bytes;
  },
  async naive(socket) {
    const conn = fromSocket(socket);
    let frames = 0;
    for (;;) {
      let header;
      try {
        header = await readExact(conn, 4);
      } catch (error) {
        if (error instanceof UnexpectedEofError && error.bytesRead === 0) {
          return frames;
        }
        throw error;
      }
      const length = new DataView(header.buffer).getUint32(0);
      await readExact(conn, length);
      frames++;
    }
  },
  async readFrame(socket) {
    const conn = fromSocket(socket);
    let frames = 0;
    while ((await readFrame(conn, { maxFrameSize })) !== null) frames++;
    return frames;
  },
  async FrameReader(socket) {
    let frames = 0;
    const reader = new FrameReader(fromSocket(socket), { maxFrameSize });
    for await (const _ of reader) frames++;
    return frames;
  },
  async "FrameReader (borrowed)"(socket) {
    let frames = 0;
    const reader = new FrameReader(fromSocket(socket), {
      maxFrameSize,
      borrowFrames: true,
    });
    for await (const _ of reader) frames++;
    return frames;
  },
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

const SLOW = new Set(["naive", "readFrame", "it-length-prefixed"]);

/**
 * @param {any} plan
 * @param {string} impl
 * @param {number} size
 */
async function throughput(plan, impl, size) {
  const count = (SLOW.has(impl) ? plan.slowFrames : plan.frames)[size];
  const { chunk, writes, frames, bytes } = wire(size, count);
  const receive = receivers[impl];
  return await withPair(plan.caseTimeoutMs, async (client, server) => {
    const cpu0 = cpuNow();
    const t0 = performance.now();
    const [, got] = await Promise.all([
      (async () => {
        for (let i = 0; i < writes; i++) {
          if (!client.write(chunk)) await once(client, "drain");
        }
        client.end();
      })(),
      receive(server, size),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuNow() - cpu0;
    const expected = impl === "raw" ? bytes : frames;
    if (got !== expected) throw new Error(`got ${got}, expected ${expected}`);
    return {
      runtime: "node",
      kind: "throughput",
      impl,
      size,
      frames,
      bytes,
      seconds,
      cpuSeconds,
    };
  });
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

/**
 * @typedef {object} Endpoint
 * @property {(payload: Uint8Array) => Promise<void>} send
 * @property {() => Promise<number>} receive the next payload's length, or -1 at the end
 * @property {() => Promise<void>} close
 */

/** @param {unknown} error */
function eofOrThrow(error) {
  if (error instanceof UnexpectedEofError && error.bytesRead === 0) return -1;
  throw error;
}

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
  naive(socket) {
    const conn = fromSocket(socket);
    return {
      async send(payload) {
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, payload.byteLength);
        await writeAll(conn, header);
        if (payload.byteLength > 0) await writeAll(conn, payload);
      },
      async receive() {
        let header;
        try {
          header = await readExact(conn, 4);
        } catch (error) {
          return eofOrThrow(error);
        }
        const length = new DataView(header.buffer).getUint32(0);
        return (await readExact(conn, length)).byteLength;
      },
      close: () => conn.closeWrite(),
    };
  },
  readFrame(socket) {
    const conn = fromSocket(socket);
    return {
      send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
      receive: async () =>
        (await readFrame(conn, { maxFrameSize }))?.byteLength ?? -1,
      close: () => conn.closeWrite(),
    };
  },
  FrameReader(socket) {
    const conn = fromSocket(socket);
    const reader = new FrameReader(conn, { maxFrameSize });
    return {
      send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
      receive: async () => (await reader.read())?.byteLength ?? -1,
      close: () => conn.closeWrite(),
    };
  },
  "FrameReader (borrowed)"(socket) {
    const conn = fromSocket(socket);
    const reader = new FrameReader(conn, { maxFrameSize, borrowFrames: true });
    return {
      send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
      receive: async () => (await reader.read())?.byteLength ?? -1,
      close: () => conn.closeWrite(),
    };
  },
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

/** @param {number[]} xs @param {number} q */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

/**
 * @param {any} plan
 * @param {string} impl
 * @param {number} size
 */
async function pingPong(plan, impl, size) {
  const naive = impl === "naive";
  const limit = naive
    ? Math.min(plan.naiveRttIterations, plan.rttIterations[size])
    : plan.rttIterations[size];
  const warmup = naive ? 1 : plan.rttWarmup;
  return await withPair(
    plan.caseTimeoutMs,
    async (clientSocket, serverSocket) => {
      const client = endpoints[impl](clientSocket, size);
      const server = endpoints[impl](serverSocket, size);
      const serving = (async () => {
        const echo = new Uint8Array(size).fill(0x62);
        for (;;) {
          const n = await server.receive();
          if (n < 0) break;
          if (n !== size) throw new Error(`server got ${n} bytes`);
          await server.send(echo);
        }
        await server.close();
      })();
      serving.catch(() => {}); // awaited below; not unhandled meanwhile
      const payload = new Uint8Array(size).fill(0x61);
      const exchange = async () => {
        await client.send(payload);
        const n = await client.receive();
        if (n !== size) throw new Error(`client got ${n} bytes`);
      };
      const warmEnd = performance.now() + 200;
      for (let i = 0; i < warmup && performance.now() < warmEnd; i++) {
        await exchange();
      }
      /** @type {number[]} */
      const samples = [];
      const cpu0 = cpuNow();
      const t0 = performance.now();
      const end = t0 + plan.rttTimeMs;
      while (samples.length < limit) {
        const s = performance.now();
        if (s >= end && samples.length >= 1) break;
        await exchange();
        samples.push((performance.now() - s) * 1000);
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpuSeconds = cpuNow() - cpu0;
      await client.close();
      if ((await client.receive()) !== -1) throw new Error("expected the end");
      await serving;
      return {
        runtime: "node",
        kind: "rtt",
        impl,
        size,
        frames: samples.length,
        bytes: 0,
        seconds,
        cpuSeconds,
        p50: quantile(samples, 0.5),
        p99: quantile(samples, 0.99),
      };
    },
  );
}

// ---------------------------------------------------------------- allocation

/**
 * @param {Uint8Array} chunk
 * @param {number} rounds
 */
function memoryReader(chunk, rounds) {
  let left = rounds;
  let offset = 0;
  return {
    /** @param {Uint8Array} p */
    read(p) {
      if (offset === chunk.byteLength) {
        if (--left === 0) return Promise.resolve(null);
        offset = 0;
      }
      const n = Math.min(p.byteLength, chunk.byteLength - offset);
      p.set(chunk.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

/** @type {Record<string, (chunk: Uint8Array, rounds: number) => Promise<number>>} */
const memoryCases = {
  async "for await floor"(chunk, rounds) {
    const frames = (chunk.byteLength / 68) * rounds;
    let i = 0;
    const buffer = chunk.buffer;
    const iterable = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.resolve(
            i++ < frames
              ? {
                done: false,
                value: new Uint8Array(buffer, 4 + (i % 960) * 68, 64),
              }
              : { done: true, value: undefined },
          ),
      }),
    };
    let n = 0;
    for await (const _ of iterable) n++;
    return n;
  },
  async FrameReader(chunk, rounds) {
    let n = 0;
    for await (const _ of new FrameReader(memoryReader(chunk, rounds))) n++;
    return n;
  },
  async "FrameReader (borrowed)"(chunk, rounds) {
    let n = 0;
    const reader = new FrameReader(memoryReader(chunk, rounds), {
      borrowFrames: true,
    });
    for await (const _ of reader) n++;
    return n;
  },
  async readFrame(chunk, rounds) {
    const reader = memoryReader(chunk, rounds);
    let n = 0;
    while ((await readFrame(reader)) !== null) n++;
    return n;
  },
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

async function alloc() {
  const gc = /** @type {any} */ (globalThis).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  const size = 64;
  const one = Buffer.alloc(4 + size, 0x61);
  one.writeUInt32BE(size, 0);
  const perChunk = 960;
  const chunk = new Uint8Array(Buffer.concat(Array(perChunk).fill(one)));
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const results = [];
  for (const [impl, run] of Object.entries(memoryCases)) {
    await run(chunk, 20);
    const perRound = [];
    let ns = Infinity;
    let gcSeen = false;
    for (let rep = 0; rep < 3; rep++) {
      const measure = async (/** @type {number} */ rounds) => {
        // Collect, and let the sweeping of ArrayBuffers (concurrent in V8)
        // finish before reading the counters.
        for (let i = 0; i < 3; i++) {
          gc();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const before = used();
        const cpu0 = cpuNow();
        const frames = await run(chunk, rounds);
        const cpu = cpuNow() - cpu0;
        const after = used();
        if (after < before) gcSeen = true;
        ns = Math.min(ns, cpu * 1e9 / frames);
        return { bytes: after - before, frames };
      };
      const small = await measure(10);
      const large = await measure(30);
      perRound.push(
        (large.bytes - small.bytes) / (large.frames - small.frames),
      );
    }
    perRound.sort((a, b) => a - b);
    results.push({
      runtime: "node",
      impl,
      size,
      frames: 30 * perChunk,
      bytesPerFrame: perRound[1],
      nsPerFrame: ns,
      gcSeen,
    });
  }
  return results;
}

/**
 * What an owned 1 MiB frame costs beyond a borrowed one: a fresh 1 MiB
 * buffer per frame against filling one reused buffer (default V8 flags).
 */
function largeFrameBound() {
  const size = 1024 * 1024;
  const source = new Uint8Array(size).fill(1);
  const reused = new Uint8Array(size);
  /** @type {Array<[string, () => number]>} */
  const steps = [
    ["1 MiB: fresh buffer + copy", () => {
      const frame = new Uint8Array(size);
      frame.set(source);
      return frame[size - 1];
    }],
    ["1 MiB: reused buffer + copy", () => {
      reused.set(source);
      return reused[size - 1];
    }],
  ];
  const results = [];
  for (const [impl, step] of steps) {
    const n = 256;
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const cpu0 = cpuNow();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += step();
      if (sum !== n) throw new Error("bad copy");
      best = Math.min(best, (cpuNow() - cpu0) * 1e9 / n);
    }
    results.push({
      runtime: "node",
      impl,
      size,
      frames: n,
      bytesPerFrame: impl.includes("fresh") ? size : 0,
      nsPerFrame: best,
      gcSeen: false,
    });
  }
  return results;
}

/**
 * CPU per 64 B frame of each in-memory case over ~300,000 frames, best of
 * three, with default V8 flags.
 */
async function memoryTiming() {
  const one = Buffer.alloc(68, 0x61);
  one.writeUInt32BE(64, 0);
  const perChunk = 960;
  const chunk = new Uint8Array(Buffer.concat(Array(perChunk).fill(one)));
  const results = [];
  for (const [impl, run] of Object.entries(memoryCases)) {
    const rounds = impl === "readFrame" || impl === "it-length-prefixed"
      ? 100
      : 300;
    await run(chunk, 20);
    let best = Infinity;
    let frames = 0;
    for (let rep = 0; rep < 3; rep++) {
      const cpu0 = cpuNow();
      frames = await run(chunk, rounds);
      best = Math.min(best, (cpuNow() - cpu0) * 1e9 / frames);
    }
    results.push({
      runtime: "node",
      impl,
      size: 64,
      frames,
      bytesPerFrame: NaN,
      nsPerFrame: best,
      gcSeen: false,
    });
  }
  return results;
}

// ------------------------------------------------------ idle connections

async function idleServer() {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ port: listener.addr.port }));
  for await (const conn of listener) {
    (async () => {
      try {
        for await (const frame of new FrameReader(conn)) {
          await writeFrame(conn, frame);
        }
      } catch {
        // A client that goes away mid-frame is not the server's problem.
      } finally {
        conn.close();
      }
    })();
  }
}

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

const [mode, arg, arg2, arg3] = process.argv.slice(2);
if (mode === "run") {
  const plan = JSON.parse(/** @type {string} */ (arg));
  const only = process.env.BENCH_ONLY?.split(",");
  for (const size of plan.sizes) {
    for (const impl of Object.keys(receivers)) {
      if (only !== undefined && !only.includes(impl)) continue;
      if (impl === "frame-stream" && size === 0) continue; // see below
      const result = await throughput(plan, impl, size).catch((error) => ({
        runtime: "node",
        kind: "throughput",
        impl,
        size,
        frames: 0,
        bytes: 0,
        seconds: 0,
        cpuSeconds: 0,
        error: String(error),
      }));
      console.log(JSON.stringify(result));
    }
  }
  for (const size of plan.sizes) {
    for (const impl of Object.keys(endpoints)) {
      if (only !== undefined && !only.includes(impl)) continue;
      if (impl === "raw" && size === 0) continue; // nothing to send
      // frame-stream pushes an empty frame as an empty chunk, which Node
      // streams drop: it cannot deliver 0 B frames.
      if (impl === "frame-stream" && size === 0) continue;
      const result = await pingPong(plan, impl, size).catch((error) => ({
        runtime: "node",
        kind: "rtt",
        impl,
        size,
        frames: 0,
        bytes: 0,
        seconds: 0,
        cpuSeconds: 0,
        error: String(error),
      }));
      console.log(JSON.stringify(result));
    }
  }
} else if (mode === "alloc") {
  for (const result of await alloc()) console.log(JSON.stringify(result));
} else if (mode === "bound") {
  for (const result of largeFrameBound()) console.log(JSON.stringify(result));
  for (const result of await memoryTiming()) {
    console.log(JSON.stringify(result));
  }
} else if (mode === "idle-server") {
  await idleServer();
} else if (mode === "idle-clients") {
  await idleClients(Number(arg), Number(arg2), Number(arg3));
} else {
  console.error(
    "usage: node_cases.mjs run|alloc <plan> | bound | idle-server | idle-clients <port> <count> <batch>",
  );
  process.exit(2);
}
