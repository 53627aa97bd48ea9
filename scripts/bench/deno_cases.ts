// deno-lint-ignore-file no-console -- a benchmark child reports on stdout
/**
 * The Deno side of the benchmark, run as a child process by `main.ts`:
 *
 *   deno run -A scripts/bench/deno_cases.ts run '<plan json>'
 *   deno run -A --v8-flags=--expose-gc,... scripts/bench/deno_cases.ts alloc '<plan json>'
 *   deno run -A scripts/bench/deno_cases.ts idle-server
 *
 * `run` measures one repetition of every throughput and ping-pong case on
 * 127.0.0.1 and prints one JSON `Result` per line. `alloc` measures bytes
 * allocated per frame in memory. `idle-server` is a FrameReader echo server
 * that prints its port and serves until stopped.
 *
 * @module
 */

import process from "node:process";
import {
  encodeFrame,
  FrameDecoderStream,
  FrameEncoderStream,
  FrameReader,
  type Reader,
  readExact,
  readFrame,
  UnexpectedEofError,
  writeAll,
  writeFrame,
} from "../../mod.ts";
import { type AllocResult, type Plan, quantile, type Result } from "./_plan.ts";

type Conn = Deno.TcpConn;

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

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Runs `body` with both ends of a fresh pair; closes them on a timeout. */
async function withPair<T>(
  timeoutMs: number,
  body: (client: Conn, server: Conn) => Promise<T>,
): Promise<T> {
  const [client, server] = await pair();
  // Each case starts with a clean heap: no garbage left by the last one.
  (globalThis as { gc?: () => void }).gc?.();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
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
    closeQuietly(client);
    closeQuietly(server);
  }
}

// ---------------------------------------------------------------- throughput

/**
 * The bytes every throughput case receives: `frames` frames of `size`
 * bytes, sent by the same raw sender in writes of about 64 KiB (one frame
 * per write from 64 KiB up).
 */
function wire(size: number, frames: number) {
  const one = encodeFrame(new Uint8Array(size).fill(0x61), {
    maxFrameSize: size,
  });
  const perWrite = Math.max(1, Math.floor(65536 / one.byteLength));
  const chunk = new Uint8Array(one.byteLength * perWrite);
  for (let i = 0; i < perWrite; i++) chunk.set(one, i * one.byteLength);
  const writes = Math.ceil(frames / perWrite);
  return {
    chunk,
    writes,
    frames: writes * perWrite,
    bytes: writes * chunk.byteLength,
  };
}

type Receiver = (conn: Conn, size: number) => Promise<number>;

const maxFrameSize = 1024 * 1024;

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
  async naive(conn) {
    // The source document's style: readExact the header, then the payload.
    let frames = 0;
    for (;;) {
      let header: Uint8Array;
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
  async readFrame(conn) {
    let frames = 0;
    while ((await readFrame(conn, { maxFrameSize })) !== null) frames++;
    return frames;
  },
  async FrameReader(conn) {
    let frames = 0;
    for await (const _ of new FrameReader(conn, { maxFrameSize })) frames++;
    return frames;
  },
  async "FrameReader (borrowed)"(conn) {
    let frames = 0;
    const reader = new FrameReader(conn, { maxFrameSize, borrowFrames: true });
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

const SLOW = new Set(["naive", "readFrame"]);

async function throughput(
  plan: Plan,
  impl: string,
  size: number,
): Promise<Result> {
  const count = (SLOW.has(impl) ? plan.slowFrames : plan.frames)[size]!;
  const { chunk, writes, frames, bytes } = wire(size, count);
  const receive = receivers[impl]!;
  return await withPair(plan.caseTimeoutMs, async (client, server) => {
    const cpu0 = cpuNow();
    const t0 = performance.now();
    const [, got] = await Promise.all([
      (async () => {
        for (let i = 0; i < writes; i++) await writeAll(client, chunk);
        await client.closeWrite();
      })(),
      receive(server, size),
    ]);
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = cpuNow() - cpu0;
    const expected = impl === "raw" ? bytes : frames;
    if (got !== expected) throw new Error(`got ${got}, expected ${expected}`);
    return {
      runtime: "deno",
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

/** One side of a ping-pong: send a payload, receive one back. */
interface Endpoint {
  send(payload: Uint8Array): Promise<void>;
  /** The next payload's length, or -1 at the end of the stream. */
  receive(): Promise<number>;
  close(): Promise<void>;
}

type EndpointFactory = (conn: Conn, size: number) => Endpoint;

function eofOrThrow(error: unknown): number {
  if (error instanceof UnexpectedEofError && error.bytesRead === 0) return -1;
  throw error;
}

const endpoints: Record<string, EndpointFactory> = {
  raw(conn, size) {
    const buf = new Uint8Array(size);
    return {
      send: (payload) => writeAll(conn, payload),
      receive: () =>
        readExact(conn, buf).then(() => size, (error) => eofOrThrow(error)),
      close: () => conn.closeWrite(),
    };
  },
  naive(conn) {
    return {
      async send(payload) {
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, payload.byteLength);
        await writeAll(conn, header);
        if (payload.byteLength > 0) await writeAll(conn, payload);
      },
      async receive() {
        let header: Uint8Array;
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
  readFrame(conn) {
    return {
      send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
      receive: async () =>
        (await readFrame(conn, { maxFrameSize }))?.byteLength ?? -1,
      close: () => conn.closeWrite(),
    };
  },
  FrameReader(conn) {
    const reader = new FrameReader(conn, { maxFrameSize });
    return {
      send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
      receive: async () => (await reader.read())?.byteLength ?? -1,
      close: () => conn.closeWrite(),
    };
  },
  "FrameReader (borrowed)"(conn) {
    const reader = new FrameReader(conn, { maxFrameSize, borrowFrames: true });
    return {
      send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
      receive: async () => (await reader.read())?.byteLength ?? -1,
      close: () => conn.closeWrite(),
    };
  },
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
  const naive = impl === "naive";
  const limit = naive
    ? Math.min(plan.naiveRttIterations, plan.rttIterations[size]!)
    : plan.rttIterations[size]!;
  const warmup = naive ? 1 : plan.rttWarmup;
  return await withPair(plan.caseTimeoutMs, async (clientConn, serverConn) => {
    const client = endpoints[impl]!(clientConn, size);
    const server = endpoints[impl]!(serverConn, size);
    const serving = (async () => {
      // An echo server: the same implementation on both ends.
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
    const samples: number[] = [];
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
      runtime: "deno",
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
  });
}

// ---------------------------------------------------------------- allocation

/** An in-memory reader that serves the same pre-encoded bytes `rounds` times. */
function memoryReader(chunk: Uint8Array, rounds: number): Reader {
  let left = rounds;
  let offset = 0;
  return {
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

type MemoryCase = (chunk: Uint8Array, rounds: number) => Promise<number>;

const memoryCases: Record<string, MemoryCase> = {
  async "for await floor"(chunk, rounds) {
    // The async iteration protocol and one view per frame, no decoding:
    // what any iterator that hands out one Uint8Array per frame costs.
    const frames = (chunk.byteLength / 68) * rounds;
    let i = 0;
    const buffer = chunk.buffer;
    const iterable = {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.resolve(
            i++ < frames
              ? {
                done: false as const,
                value: new Uint8Array(buffer, 4 + (i % 960) * 68, 64),
              }
              : { done: true as const, value: undefined },
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
  async streams(chunk, rounds) {
    let n = 0;
    const source = ReadableStream.from((function* () {
      for (let i = 0; i < rounds; i++) yield chunk;
    })());
    for await (const _ of source.pipeThrough(new FrameDecoderStream())) n++;
    return n;
  },
};

async function alloc(): Promise<AllocResult[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const size = 64;
  const one = encodeFrame(new Uint8Array(size).fill(0x61));
  const perChunk = 960; // ~64 KiB of frames
  const chunk = new Uint8Array(one.byteLength * perChunk);
  for (let i = 0; i < perChunk; i++) chunk.set(one, i * one.byteLength);
  const used = () => {
    const m = Deno.memoryUsage();
    return m.heapUsed + m.external;
  };
  const results: AllocResult[] = [];
  for (const [impl, run] of Object.entries(memoryCases)) {
    await run(chunk, 20); // warm up
    const perRound: number[] = [];
    let ns = Infinity;
    let gcSeen = false;
    for (let rep = 0; rep < 3; rep++) {
      // Two runs of different lengths: the slope is the per-frame cost, free
      // of fixed costs (the reader, its buffer, the stream objects).
      const measure = async (rounds: number) => {
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
      runtime: "deno",
      impl,
      size,
      frames: 30 * perChunk,
      bytesPerFrame: perRound[1]!,
      nsPerFrame: ns,
      gcSeen,
    });
  }
  return results;
}

/**
 * What an owned 1 MiB frame costs beyond a borrowed one: a fresh 1 MiB
 * buffer per frame (allocated, zeroed, then filled) against filling one
 * reused buffer. Run with default V8 flags.
 */
function largeFrameBound(): AllocResult[] {
  const size = 1024 * 1024;
  const source = new Uint8Array(size).fill(1);
  const reused = new Uint8Array(size);
  const steps: Array<[string, () => number]> = [
    ["1 MiB: fresh buffer + copy", () => {
      const frame = new Uint8Array(size);
      frame.set(source);
      return frame[size - 1]!;
    }],
    ["1 MiB: reused buffer + copy", () => {
      reused.set(source);
      return reused[size - 1]!;
    }],
  ];
  const results: AllocResult[] = [];
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
      runtime: "deno",
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
 * three, with default V8 flags (`alloc` runs with a large young
 * generation, which makes its short runs fast and noisy).
 */
async function memoryTiming(): Promise<AllocResult[]> {
  const one = encodeFrame(new Uint8Array(64).fill(0x61));
  const perChunk = 960;
  const chunk = new Uint8Array(one.byteLength * perChunk);
  for (let i = 0; i < perChunk; i++) chunk.set(one, i * one.byteLength);
  const results: AllocResult[] = [];
  for (const [impl, run] of Object.entries(memoryCases)) {
    const rounds = impl === "readFrame" ? 100 : 300;
    await run(chunk, 20); // warm up
    let best = Infinity;
    let frames = 0;
    for (let rep = 0; rep < 3; rep++) {
      const cpu0 = cpuNow();
      frames = await run(chunk, rounds);
      best = Math.min(best, (cpuNow() - cpu0) * 1e9 / frames);
    }
    results.push({
      runtime: "deno",
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

// -------------------------------------------------------------- idle server

async function idleServer(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
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
        closeQuietly(conn);
      }
    })();
  }
}

// ---------------------------------------------------------------------- main

const [mode, planJson] = Deno.args;
if (mode === "run") {
  const plan = JSON.parse(planJson!) as Plan;
  const only = Deno.env.get("BENCH_ONLY");
  for (const size of plan.sizes) {
    for (const impl of Object.keys(receivers)) {
      if (only !== undefined && !only.split(",").includes(impl)) continue;
      const result = await throughput(plan, impl, size).catch((error) => ({
        runtime: "deno" as const,
        kind: "throughput" as const,
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
      if (only !== undefined && !only.split(",").includes(impl)) continue;
      if (impl === "raw" && size === 0) continue; // nothing to send
      const result = await pingPong(plan, impl, size).catch((error) => ({
        runtime: "deno" as const,
        kind: "rtt" as const,
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
} else {
  console.error(
    "usage: deno_cases.ts run|alloc <plan json> | bound | idle-server",
  );
  Deno.exit(2);
}
