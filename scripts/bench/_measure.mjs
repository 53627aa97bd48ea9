// deno-lint-ignore-file no-console explicit-module-boundary-types -- a benchmark child reports on stdout; its types are in JSDoc, which the rule does not read
// @ts-check
/**
 * The runtime-independent half of the benchmark's cases, shared by
 * `deno_cases.ts` and `node_cases.mjs`: the wire bytes, the timing loops,
 * the in-memory cases, the allocation measurement and the result objects.
 * Each runner keeps only its sockets and what is particular to its runtime.
 *
 * Plain JavaScript with JSDoc types, so that Node runs it as it is (`main.ts`
 * copies it next to `node_cases.mjs` in the scratch project) and `deno check`
 * types the Deno side. It imports no tcpframe: each runner hands in its own
 * (`tcpframeCases`), the source in Deno, the installed tarball in Node.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";

/** @typedef {import("./_plan.ts").Plan} Plan */
/** @typedef {import("./_plan.ts").Result} Result */
/** @typedef {import("./_plan.ts").AllocResult} AllocResult */
/** @typedef {"deno" | "node"} Runtime */
/** @typedef {import("../../mod.ts").Reader} Reader */
/** @typedef {import("../../mod.ts").Conn} Conn */
/**
 * The parts of tcpframe the cases use: `../../mod.ts` in Deno, the
 * installed `tcpframe` package in Node.
 * @typedef {Pick<typeof import("../../mod.ts"), "FrameReader" | "readExact" | "readFrame" | "UnexpectedEofError" | "writeAll" | "writeFrame">} Tcpframe
 */

export const maxFrameSize = 1024 * 1024;

/** CPU seconds of this process so far (user + system). */
export function cpuNow() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * The q-quantile (0..1) of a list of samples, nearest rank.
 * @param {number[]} xs
 * @param {number} q
 * @returns {number}
 */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return /** @type {number} */ (s[
    Math.min(s.length - 1, Math.ceil(q * s.length) - 1)
  ]);
}

/**
 * `count` frames of `size` bytes (0x61) back to back, each with its u32
 * big-endian length.
 * @param {number} size
 * @param {number} count
 * @returns {Uint8Array}
 */
export function frameChunk(size, count) {
  const one = new Uint8Array(4 + size).fill(0x61);
  new DataView(one.buffer).setUint32(0, size);
  const chunk = new Uint8Array(one.byteLength * count);
  for (let i = 0; i < count; i++) chunk.set(one, i * one.byteLength);
  return chunk;
}

/**
 * Runs one case on a clean heap, bounded by `timeoutMs`: past it the case is
 * abandoned (the caller closes its connections) and its late failure ignored.
 * @template T
 * @param {number} timeoutMs
 * @param {() => Promise<T>} body
 * @returns {Promise<T>}
 */
export async function bounded(timeoutMs, body) {
  // Each case starts with a clean heap: no garbage left by the last one.
  /** @type {{ gc?: () => void }} */ (globalThis).gc?.();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const running = body();
    running.catch(() => {}); // if abandoned, a late failure is expected
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- throughput

/**
 * Receivers that make one or two read calls per frame: they get
 * `plan.slowFrames`.
 */
const SLOW = new Set(["naive", "readFrame", "it-length-prefixed"]);

/**
 * @typedef {object} Wire
 * @property {Uint8Array} chunk what one write sends
 * @property {number} perWrite frames per write
 * @property {number} writes
 * @property {number} frames
 * @property {number} bytes
 */

/**
 * The bytes every throughput case of `impl` receives: frames of `size`
 * bytes, sent by the same raw sender in writes of about 64 KiB (one frame
 * per write from 64 KiB up).
 * @param {Plan} plan
 * @param {string} impl
 * @param {number} size
 * @returns {Wire}
 */
export function wire(plan, impl, size) {
  const count = /** @type {number} */ (
    (SLOW.has(impl) ? plan.slowFrames : plan.frames)[size]
  );
  const perWrite = Math.max(1, Math.floor(65536 / (4 + size)));
  const chunk = frameChunk(size, perWrite);
  const writes = Math.ceil(count / perWrite);
  return {
    chunk,
    perWrite,
    writes,
    frames: writes * perWrite,
    bytes: writes * chunk.byteLength,
  };
}

/**
 * The command of the separate sender process, from `BENCH_SENDER` (a JSON
 * array: the program and its first arguments; `main.ts` sets it).
 * @returns {string[]}
 */
export function senderCommand() {
  const command = process.env.BENCH_SENDER;
  if (command === undefined) {
    throw new Error("BENCH_SENDER is not set: run the benchmark by main.ts");
  }
  return JSON.parse(command);
}

/**
 * Starts the sender process of `w` to 127.0.0.1:`port` (see sender.c):
 * resolves once it exited with status 0; it is killed after `timeoutMs`.
 * @param {number} port
 * @param {number} size
 * @param {Wire} w
 * @param {number} timeoutMs
 * @returns {Promise<void>}
 */
export function spawnSender(port, size, w, timeoutMs) {
  const [file, ...args] = senderCommand();
  const child = spawn(
    /** @type {string} */ (file),
    [...args, String(port), String(size), String(w.perWrite), String(w.writes)],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the sender exited with ${code ?? signal}`));
    });
  });
}

/**
 * Times one throughput case: the sender process writes the wire and
 * half-closes while `receive` counts what arrives (frames; raw: bytes).
 * This process's CPU time is the receiver's alone.
 * @param {Runtime} runtime
 * @param {string} impl
 * @param {number} size
 * @param {Wire} w
 * @param {() => Promise<number>} receive
 * @returns {Promise<Result>}
 */
export async function timeThroughput(runtime, impl, size, w, receive) {
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const got = await receive();
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuNow() - cpu0;
  const expected = impl.startsWith("raw") ? w.bytes : w.frames;
  if (got !== expected) throw new Error(`got ${got}, expected ${expected}`);
  return {
    runtime,
    kind: "throughput",
    impl,
    size,
    frames: w.frames,
    bytes: w.bytes,
    seconds,
    cpuSeconds,
  };
}

// ----------------------------------------------------------------- ping-pong

/**
 * One side of a ping-pong: send a payload, receive one back.
 * @typedef {object} Endpoint
 * @property {(payload: Uint8Array) => Promise<void>} send
 * @property {() => Promise<number>} receive the next payload's length, or -1 at the end
 * @property {() => Promise<void>} close
 */

/**
 * One ping-pong case between two endpoints of `impl`: `server` echoes,
 * `client` is timed per round trip after a warm-up.
 * @param {Plan} plan
 * @param {Runtime} runtime
 * @param {string} impl
 * @param {number} size
 * @param {Endpoint} client
 * @param {Endpoint} server
 * @returns {Promise<Result>}
 */
export async function timePingPong(plan, runtime, impl, size, client, server) {
  const naive = impl === "naive";
  const iterations = /** @type {number} */ (plan.rttIterations[size]);
  const limit = naive
    ? Math.min(plan.naiveRttIterations, iterations)
    : iterations;
  const warmup = naive ? 1 : plan.rttWarmup;
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
    runtime,
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
}

// ---------------------------------------------------------------- run mode

/**
 * `run` mode: every throughput case, then every ping-pong case, one JSON
 * `Result` a line; a failed case is a zero result with its error.
 * `BENCH_ONLY` (comma-separated impls) narrows the run.
 * @param {Plan} plan
 * @param {Runtime} runtime
 * @param {object} cases
 * @param {string[]} cases.receivers throughput impls, in order
 * @param {string[]} cases.endpoints ping-pong impls, in order
 * @param {(impl: string, size: number) => Promise<Result>} cases.throughput
 * @param {(impl: string, size: number) => Promise<Result>} cases.pingPong
 * @param {(impl: string, size: number) => boolean} [cases.skip] a case this runtime cannot run
 * @returns {Promise<void>}
 */
export async function runCases(plan, runtime, cases) {
  const only = process.env.BENCH_ONLY?.split(",");
  const skip = cases.skip ?? (() => false);
  /**
   * @param {Result["kind"]} kind
   * @param {string} impl
   * @param {number} size
   * @returns {(error: unknown) => Result}
   */
  const failed = (kind, impl, size) => (error) =>
    failedResult(runtime, kind, impl, size, error);
  for (const size of plan.sizes) {
    for (const impl of cases.receivers) {
      if (only !== undefined && !only.includes(impl)) continue;
      if (skip(impl, size)) continue;
      const result = await cases.throughput(impl, size).catch(
        failed("throughput", impl, size),
      );
      console.log(JSON.stringify(result));
    }
  }
  for (const size of plan.sizes) {
    for (const impl of cases.endpoints) {
      if (only !== undefined && !only.includes(impl)) continue;
      if (impl === "raw" && size === 0) continue; // nothing to send
      if (skip(impl, size)) continue;
      const result = await cases.pingPong(impl, size).catch(
        failed("rtt", impl, size),
      );
      console.log(JSON.stringify(result));
    }
  }
}

/**
 * The result of a case that failed: zero, with its error.
 * @param {Runtime} runtime
 * @param {Result["kind"]} kind
 * @param {string} impl
 * @param {number} size
 * @param {unknown} error
 * @returns {Result}
 */
export function failedResult(runtime, kind, impl, size, error) {
  return {
    runtime,
    kind,
    impl,
    size,
    frames: 0,
    bytes: 0,
    seconds: 0,
    cpuSeconds: 0,
    error: String(error),
  };
}

/**
 * Prints one JSON result a line.
 * @param {Iterable<unknown>} results
 */
export function print(results) {
  for (const result of results) console.log(JSON.stringify(result));
}

// ---------------------------------------------------------------- allocation

/** @typedef {(chunk: Uint8Array, rounds: number) => Promise<number>} MemoryCase */

/**
 * An in-memory reader that serves the same pre-encoded bytes `rounds` times.
 * @param {Uint8Array} chunk
 * @param {number} rounds
 * @returns {Reader}
 */
function memoryReader(chunk, rounds) {
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

/**
 * Bytes allocated per 64 B frame of each case: the slope between runs of 10
 * and 30 rounds (free of fixed costs), median of three.
 * @param {Runtime} runtime
 * @param {Record<string, MemoryCase>} cases
 * @param {() => void} gc
 * @param {() => number} used JS heap plus ArrayBuffer backing stores, in bytes
 * @returns {Promise<AllocResult[]>}
 */
export async function allocation(runtime, cases, gc, used) {
  const size = 64;
  const perChunk = 960; // ~64 KiB of frames
  const chunk = frameChunk(size, perChunk);
  /** @type {AllocResult[]} */
  const results = [];
  for (const [impl, run] of Object.entries(cases)) {
    await run(chunk, 20); // warm up
    /** @type {number[]} */
    const perRound = [];
    let ns = Infinity;
    let gcSeen = false;
    for (let rep = 0; rep < 3; rep++) {
      // Two runs of different lengths: the slope is the per-frame cost, free
      // of fixed costs (the reader, its buffer, the stream objects).
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
      runtime,
      impl,
      size,
      frames: 30 * perChunk,
      bytesPerFrame: /** @type {number} */ (perRound[1]),
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
 * @param {Runtime} runtime
 * @returns {AllocResult[]}
 */
export function largeFrameBound(runtime) {
  const size = 1024 * 1024;
  const source = new Uint8Array(size).fill(1);
  const reused = new Uint8Array(size);
  /** @type {Array<[string, () => number]>} */
  const steps = [
    ["1 MiB: fresh buffer + copy", () => {
      const frame = new Uint8Array(size);
      frame.set(source);
      return /** @type {number} */ (frame[size - 1]);
    }],
    ["1 MiB: reused buffer + copy", () => {
      reused.set(source);
      return /** @type {number} */ (reused[size - 1]);
    }],
  ];
  /** @type {AllocResult[]} */
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
      runtime,
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
 * @param {Runtime} runtime
 * @param {Record<string, MemoryCase>} cases
 * @returns {Promise<AllocResult[]>}
 */
export async function memoryTiming(runtime, cases) {
  const chunk = frameChunk(64, 960);
  /** @type {AllocResult[]} */
  const results = [];
  for (const [impl, run] of Object.entries(cases)) {
    const rounds = impl === "readFrame" || impl === "it-length-prefixed"
      ? 100
      : 300;
    await run(chunk, 20); // warm up
    let best = Infinity;
    let frames = 0;
    for (let rep = 0; rep < 3; rep++) {
      const cpu0 = cpuNow();
      frames = await run(chunk, rounds);
      best = Math.min(best, (cpuNow() - cpu0) * 1e9 / frames);
    }
    results.push({
      runtime,
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

// ------------------------------------------------------------- tcpframe cases

/**
 * The cases that run tcpframe itself, the same on both runtimes: each
 * runner spreads them among its own (raw sockets, streams, npm peers).
 * @param {Tcpframe} tcpframe
 */
export function tcpframeCases(tcpframe) {
  const {
    FrameReader,
    readExact,
    readFrame,
    UnexpectedEofError,
    writeAll,
    writeFrame,
  } = tcpframe;

  /**
   * The tcpframe receivers, on any tcpframe `Reader`: each returns the number
   * of frames it read.
   * @type {Record<string, (conn: Reader) => Promise<number>>}
   */
  const receivers = {
    async naive(conn) {
      // The source document's style: readExact the header, then the payload.
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
      const reader = new FrameReader(conn, {
        maxFrameSize,
        borrowFrames: true,
      });
      for await (const _ of reader) frames++;
      return frames;
    },
    async "FrameReader.readBatch()"(conn) {
      let frames = 0;
      const reader = new FrameReader(conn, { maxFrameSize });
      for (let batch; (batch = await reader.readBatch()) !== null;) {
        frames += batch.length;
      }
      return frames;
    },
    async "FrameReader.readBatch() (borrowed)"(conn) {
      let frames = 0;
      const reader = new FrameReader(conn, {
        maxFrameSize,
        borrowFrames: true,
      });
      for (let batch; (batch = await reader.readBatch()) !== null;) {
        frames += batch.length;
      }
      return frames;
    },
  };

  /**
   * @param {unknown} error
   * @returns {number}
   */
  function eofOrThrow(error) {
    if (error instanceof UnexpectedEofError && error.bytesRead === 0) return -1;
    throw error;
  }

  /**
   * The tcpframe endpoints, on any tcpframe `Conn`.
   * @type {Record<string, (conn: Conn) => Endpoint>}
   */
  const endpoints = {
    naive(conn) {
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
      const reader = new FrameReader(conn, {
        maxFrameSize,
        borrowFrames: true,
      });
      return {
        send: (payload) => writeFrame(conn, payload, { maxFrameSize }),
        receive: async () => (await reader.read())?.byteLength ?? -1,
        close: () => conn.closeWrite(),
      };
    },
  };

  /**
   * The in-memory cases of both runtimes: each decodes `rounds` times the
   * 64 B frames of `chunk` and returns how many it got.
   * @type {Record<string, MemoryCase>}
   */
  const memoryCases = {
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
                  done: /** @type {const} */ (false),
                  value: new Uint8Array(buffer, 4 + (i % 960) * 68, 64),
                }
                : { done: /** @type {const} */ (true), value: undefined },
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
  };

  /**
   * A FrameReader echo server on `listener`: prints its port, then serves
   * every connection until stopped.
   * @template {Conn} C
   * @param {AsyncIterable<C> & { addr: { port: number } }} listener
   * @param {(conn: C) => void} close
   * @returns {Promise<void>}
   */
  async function serveEcho(listener, close) {
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
          close(conn);
        }
      })();
    }
  }

  return { receivers, endpoints, memoryCases, eofOrThrow, serveEcho };
}
