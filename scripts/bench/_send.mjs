// deno-lint-ignore-file no-console explicit-module-boundary-types -- a benchmark child reports on stdout; its types are in JSDoc, which the rule does not read
// @ts-check
/**
 * The send side of the benchmark, shared by `deno_send.ts` and
 * `node_send.mjs`: one connection per case to the raw peer of
 * `send_peer.ts` (another process), so that the sender's rate and CPU are
 * its own. Each runner hands in its tcpframe (the source in Deno, the
 * installed tarball in Node) and its sockets (a `Link`).
 *
 * - `send` (64 B and 1 MiB): a sender writes `count` frames, half-closes,
 *   and stops its clock when the peer's sink replies with the bytes and
 *   frames it counted (checked against what was sent).
 * - `send-rtt` (64 B): one frame, then its echo, read with `FrameReader`.
 * - `sendBounds()`: CPU per 64 B frame in memory, with writers that resolve
 *   at once or on the next turn of the event loop, and the batch sizes seen.
 *
 * @module
 */

import process from "node:process";
import { setImmediate } from "node:timers";
import { bounded, cpuNow, failedResult, quantile } from "./_measure.mjs";

/** @typedef {import("./_plan.ts").SendPlan} SendPlan */
/** @typedef {import("./_plan.ts").SendBound} SendBound */
/** @typedef {import("./_plan.ts").Result} Result */
/** @typedef {"deno" | "node"} Runtime */
/** @typedef {import("../../mod.ts").Conn} Conn */
/**
 * The parts of tcpframe the send cases use.
 * @typedef {Pick<typeof import("../../mod.ts"), "FrameReader" | "FrameWriter" | "readExact" | "writeFrame" | "writeFrames">} Tcpframe
 */

/**
 * One connection to the peer, opened by a runner.
 * @typedef {object} Link
 * @property {Conn} conn tcpframe's view of it: tcpframe writes here, and
 * the reply is read here
 * @property {(bytes: Uint8Array) => Promise<void>} rawWrite the runtime's
 * own write of all of `bytes`, awaited (Deno: `conn.write()` until done;
 * Node: `socket.write()` and its callback), no tcpframe
 * @property {() => void} close
 */

/**
 * What a runner provides.
 * @typedef {object} Runner
 * @property {Runtime} runtime
 * @property {(port: number) => Promise<Link>} connect
 */

/**
 * A writer that counts the calls of the connection's `write`, for tcpframe.
 * @typedef {{ write(p: Uint8Array): Promise<number>, closeWrite(): Promise<void>, writes: number }} Counted
 */

/**
 * What a sender gets for one case.
 * @typedef {object} SendJob
 * @property {Link} link
 * @property {Counted} out the connection, counting writes
 * @property {Uint8Array} payload
 * @property {number} count frames to send
 * @property {number} producers concurrent tasks
 * @property {number} batch frames per `writeFrames()` call
 */

const maxFrameSize = 1024 * 1024;

/**
 * Runs `count` calls of `op` from `producers` concurrent tasks, each
 * awaiting its own calls one after the other.
 * @param {number} producers
 * @param {number} count
 * @param {() => Promise<unknown>} op
 * @returns {Promise<unknown>}
 */
function produce(producers, count, op) {
  const per = count / producers;
  const one = async () => {
    for (let i = 0; i < per; i++) await op();
  };
  if (producers === 1) return one();
  return Promise.all(Array.from({ length: producers }, one));
}

/**
 * `payload` with its u32 big-endian length, in a new buffer.
 * @param {Uint8Array} payload
 * @returns {Uint8Array}
 */
function encode(payload) {
  const frame = new Uint8Array(4 + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, payload.byteLength);
  frame.set(payload, 4);
  return frame;
}

/**
 * A writer over `conn` that counts its writes.
 * @param {Conn} conn
 * @returns {Counted}
 */
function counted(conn) {
  const out = {
    writes: 0,
    /** @param {Uint8Array} p */
    write(p) {
      out.writes++;
      return conn.write(p);
    },
    closeWrite: () => conn.closeWrite(),
  };
  return out;
}

/**
 * The senders: each sends `count` frames and half-closes. `raw per frame`
 * encodes every frame into a new buffer and writes it with the runtime's
 * own call, awaited (the naive way); `raw` writes pre-encoded frames.
 * @param {Tcpframe} tcpframe
 * @returns {Record<string, (job: SendJob) => Promise<void>>}
 */
function senders(tcpframe) {
  const { FrameWriter, writeFrame, writeFrames } = tcpframe;
  return {
    async FrameWriter({ out, payload, count, producers }) {
      const writer = new FrameWriter(out, { maxFrameSize });
      await produce(producers, count, () => writer.write(payload));
      await writer.close(); // flush, then half-close
    },
    async "FrameWriter (turn-late writes)"({ out, payload, count, producers }) {
      const late = {
        /** @param {Uint8Array} p */
        write: (p) =>
          out.write(p).then((n) =>
            new Promise((resolve) => setImmediate(() => resolve(n)))
          ),
        closeWrite: () => out.closeWrite(),
      };
      const writer = new FrameWriter(late, { maxFrameSize });
      await produce(producers, count, () => writer.write(payload));
      await writer.close();
    },
    async writeFrame({ out, payload, count, producers }) {
      await produce(
        producers,
        count,
        () => writeFrame(out, payload, { maxFrameSize }),
      );
      await out.closeWrite();
    },
    async writeFrames({ out, payload, count, producers, batch }) {
      const payloads = Array.from({ length: batch }, () => payload);
      await produce(
        producers,
        count / batch,
        () => writeFrames(out, payloads, { maxFrameSize }),
      );
      await out.closeWrite();
    },
    async "raw per frame"({ link, out, payload, count, producers }) {
      await produce(producers, count, () => {
        out.writes++;
        return link.rawWrite(encode(payload));
      });
      await out.closeWrite();
    },
    async raw({ link, out, payload, count }) {
      const frame = encode(payload);
      for (let i = 0; i < count; i++) {
        out.writes++;
        await link.rawWrite(frame);
      }
      await out.closeWrite();
    },
    async "raw 2 writes"({ link, out, payload, count }) {
      const header = encode(payload).subarray(0, 4);
      for (let i = 0; i < count; i++) {
        out.writes += 2;
        await link.rawWrite(header);
        await link.rawWrite(payload);
      }
      await out.closeWrite();
    },
  };
}

/**
 * How many blocks each send case is cut into. The cases of a group (64 B,
 * 1 MiB) run their blocks in turn, each on a fresh connection, so that the
 * drift of a shared machine's load falls on all of them alike.
 */
const BLOCKS = 4;

/**
 * @typedef {object} SendCase
 * @property {string} impl
 * @property {number} size
 * @property {number} producers
 * @property {number} count frames, a multiple of BLOCKS x the batch
 */

/**
 * The groups of send cases: the ratios of the targets compare cases of one
 * group. `FrameWriter (turn-late writes)` is a diagnostic: FrameWriter over
 * a writer whose every write resolves one event-loop turn after the
 * connection's did, which shows what bigger batches would give.
 * @param {SendPlan} plan
 * @returns {SendCase[][]}
 */
function sendGroups(plan) {
  /** @type {SendCase[]} */
  const small = [];
  for (const producers of plan.producers) {
    small.push({
      impl: "FrameWriter",
      size: 64,
      producers,
      count: plan.frames,
    });
  }
  small.push(
    {
      impl: "FrameWriter (turn-late writes)",
      size: 64,
      producers: 1,
      count: plan.frames,
    },
    { impl: "writeFrames", size: 64, producers: 1, count: plan.frames },
  );
  for (const producers of plan.producers) {
    for (const impl of ["writeFrame", "raw per frame"]) {
      small.push({ impl, size: 64, producers, count: plan.slowFrames });
    }
  }
  const large = ["FrameWriter", "writeFrame", "raw", "raw 2 writes"].map(
    (impl) => ({ impl, size: 1 << 20, producers: 1, count: plan.largeFrames }),
  );
  return [small, large];
}

/**
 * Every send-side case of one repetition, one JSON `Result` a line; a
 * failed case is a zero result with its error. `BENCH_ONLY`
 * (comma-separated impls) narrows the run.
 * @param {SendPlan} plan
 * @param {Runner} runner
 * @param {Tcpframe} tcpframe
 * @param {{ sink: number, echo: number }} ports
 * @returns {Promise<void>}
 */
export async function runSend(plan, runner, tcpframe, ports) {
  const only = process.env.BENCH_ONLY?.split(",");
  const runtime = runner.runtime;
  const send = senders(tcpframe);
  for (const group of sendGroups(plan)) {
    const cases = group.filter((c) =>
      only === undefined || only.includes(c.impl)
    );
    /** @type {Array<Result | undefined>} */
    const totals = cases.map(() => undefined);
    for (let block = 0; block < BLOCKS; block++) {
      for (let k = 0; k < cases.length; k++) {
        const i = (k + block) % cases.length; // a new order in each block
        const c = /** @type {SendCase} */ (cases[i]);
        const total = totals[i];
        if (total?.error !== undefined) continue;
        const part = await timeSend(plan, runner, tcpframe, ports.sink, {
          ...c,
          count: c.count / BLOCKS,
          send: /** @type {(job: SendJob) => Promise<void>} */ (send[c.impl]),
        }).catch((error) =>
          failedResult(runtime, "send", c.impl, c.size, error)
        );
        totals[i] = total === undefined || part.error !== undefined ? part : {
          ...total,
          frames: total.frames + part.frames,
          bytes: total.bytes + part.bytes,
          seconds: total.seconds + part.seconds,
          cpuSeconds: total.cpuSeconds + part.cpuSeconds,
          writes: (total.writes ?? 0) + (part.writes ?? 0),
        };
      }
    }
    for (const total of totals) console.log(JSON.stringify(total));
  }
  const impls = ["FrameWriter", "writeFrame", "raw"].filter((impl) =>
    only === undefined || only.includes(impl)
  );
  const results = await timeSendRtt(plan, runner, tcpframe, ports.echo, impls)
    .catch((error) =>
      impls.map((impl) => failedResult(runtime, "send-rtt", impl, 64, error))
    );
  for (const result of results) console.log(JSON.stringify(result));
}

/**
 * Times one block of a send case on a fresh connection to the sink: from
 * the first write to the sink's reply.
 * @param {SendPlan} plan
 * @param {Runner} runner
 * @param {Tcpframe} tcpframe
 * @param {number} port
 * @param {SendCase & { send: (job: SendJob) => Promise<void> }} c
 * @returns {Promise<Result>}
 */
async function timeSend(plan, runner, tcpframe, port, c) {
  const link = await runner.connect(port);
  try {
    return await bounded(plan.caseTimeoutMs, async () => {
      const out = counted(link.conn);
      const payload = new Uint8Array(c.size).fill(0x61);
      const cpu0 = cpuNow();
      const t0 = performance.now();
      await c.send({
        link,
        out,
        payload,
        count: c.count,
        producers: c.producers,
        batch: plan.batch,
      });
      const reply = await tcpframe.readExact(link.conn, 16);
      const seconds = (performance.now() - t0) / 1000;
      const cpuSeconds = cpuNow() - cpu0;
      const view = new DataView(reply.buffer, reply.byteOffset, 16);
      const bytes = view.getFloat64(0);
      const frames = view.getFloat64(8);
      const expected = c.count * (4 + c.size);
      if (bytes !== expected || frames !== c.count) {
        throw new Error(
          `the sink got ${bytes} bytes in ${frames} frames, expected ${expected} in ${c.count}`,
        );
      }
      return {
        runtime: runner.runtime,
        kind: /** @type {const} */ ("send"),
        impl: c.impl,
        size: c.size,
        producers: c.producers,
        frames,
        bytes,
        seconds,
        cpuSeconds,
        writes: out.writes,
      };
    });
  } finally {
    link.close();
  }
}

/**
 * 64 B ping-pongs against the peer's raw echo, one connection per impl,
 * interleaved: each step times one round trip of every impl, in a new
 * order each step. The client sends one frame with its impl (`FrameWriter`:
 * `write()` then `flush()`) and reads the echo with `FrameReader`.
 * @param {SendPlan} plan
 * @param {Runner} runner
 * @param {Tcpframe} tcpframe
 * @param {number} port
 * @param {string[]} impls
 * @returns {Promise<Result[]>}
 */
async function timeSendRtt(plan, runner, tcpframe, port, impls) {
  const size = 64;
  const links = await Promise.all(impls.map(() => runner.connect(port)));
  try {
    return await bounded(plan.caseTimeoutMs, async () => {
      const payload = new Uint8Array(size).fill(0x61);
      const frame = encode(payload);
      const clients = impls.map((impl, i) => {
        const link = /** @type {Link} */ (links[i]);
        const { conn } = link;
        const reader = new tcpframe.FrameReader(conn, { maxFrameSize });
        /** @type {() => Promise<void>} */
        let send;
        /** @type {() => Promise<void>} */
        let close = () => conn.closeWrite();
        if (impl === "FrameWriter") {
          const writer = new tcpframe.FrameWriter(conn, { maxFrameSize });
          send = async () => {
            await writer.write(payload);
            await writer.flush();
          };
          close = () => writer.close();
        } else if (impl === "writeFrame") {
          send = () => tcpframe.writeFrame(conn, payload, { maxFrameSize });
        } else {
          send = () => link.rawWrite(frame);
        }
        /** @type {number[]} */
        const samples = [];
        return {
          impl,
          samples,
          cpuSeconds: 0,
          async exchange() {
            await send();
            const echo = await reader.read();
            if (echo?.byteLength !== size) {
              throw new Error(`got ${echo?.byteLength} bytes back`);
            }
          },
          async end() {
            await close();
            if ((await reader.read()) !== null) {
              throw new Error("expected the end");
            }
          },
        };
      });
      const warmEnd = performance.now() + 200;
      for (let i = 0; i < plan.rttWarmup && performance.now() < warmEnd; i++) {
        for (const client of clients) await client.exchange();
      }
      const t0 = performance.now();
      const end = t0 + plan.rttTimeMs * clients.length;
      for (let step = 0; step < plan.rttIterations; step++) {
        if (performance.now() >= end && step >= 1) break;
        for (let k = 0; k < clients.length; k++) {
          const client = clients[(k + step) % clients.length];
          if (client === undefined) continue;
          const cpu0 = cpuNow();
          const s = performance.now();
          await client.exchange();
          client.samples.push((performance.now() - s) * 1000);
          client.cpuSeconds += cpuNow() - cpu0;
        }
      }
      for (const client of clients) await client.end();
      return clients.map((client) => ({
        runtime: runner.runtime,
        kind: /** @type {const} */ ("send-rtt"),
        impl: client.impl,
        size,
        frames: client.samples.length,
        bytes: 0,
        seconds: client.samples.reduce((a, b) => a + b, 0) / 1e6,
        cpuSeconds: client.cpuSeconds,
        p50: quantile(client.samples, 0.5),
        p99: quantile(client.samples, 0.99),
      }));
    });
  } finally {
    for (const link of links) link.close();
  }
}

// ------------------------------------------------------------------ bounds

/**
 * An in-memory writer that takes every byte: its `write` resolves at once,
 * or on the next turn of the event loop (as a socket's does, roughly).
 * @param {"at once" | "next turn"} mode
 */
function memoryWriter(mode) {
  const writer = {
    writes: 0,
    bytes: 0,
    /** @param {Uint8Array} p */
    write(p) {
      writer.writes++;
      writer.bytes += p.byteLength;
      if (mode === "at once") return Promise.resolve(p.byteLength);
      return new Promise((resolve) => {
        setImmediate(() => resolve(p.byteLength));
      });
    },
    closeWrite: () => Promise.resolve(),
  };
  return writer;
}

/**
 * CPU per frame (64 B; two cases 1 MiB) of the send paths in memory (no
 * socket), best of three runs after a warm-up, with the batch sizes seen:
 * what bounds each sender before any system call. Then, on a connection to the sink, how many
 * microtasks run while one task awaits a 68-byte write of the runtime's
 * connection (tcpframe's `Conn`): what a batch can gather.
 * @param {Runner} runner
 * @param {Tcpframe} tcpframe
 * @param {number} frames a multiple of 1,000
 * @param {number} port the sink's
 * @returns {Promise<SendBound[]>}
 */
export async function sendBounds(runner, tcpframe, frames, port) {
  const { FrameWriter, writeFrame, writeFrames } = tcpframe;
  const payload = new Uint8Array(64).fill(0x61);
  const batch = Array.from({ length: 1000 }, () => payload);
  const resolved = Promise.resolve();
  /** @typedef {(w: ReturnType<typeof memoryWriter>, n: number) => Promise<unknown>} Run */
  /** @type {Array<[string, number, SendBound["writer"], number, Run]>} */
  const cases = [
    ["await floor", 1, "none", frames, (_, n) => produce(1, n, () => resolved)],
    [
      "new 68 B buffer per frame + await",
      1,
      "none",
      frames,
      (_, n) =>
        produce(1, n, () => {
          encode(payload);
          return resolved;
        }),
    ],
    [
      "new 4 KiB buffer per frame + await",
      1,
      "none",
      frames / 10,
      (_, n) =>
        produce(1, n, () => {
          new Uint8Array(4096)[0] = 1;
          return resolved;
        }),
    ],
    [
      "writeFrames",
      1,
      "at once",
      frames,
      (w, n) => produce(1, n / 1000, () => writeFrames(w, batch)),
    ],
  ];
  for (const mode of /** @type {const} */ (["at once", "next turn"])) {
    // One event-loop turn per frame is slow: fewer frames.
    const perFrame = mode === "at once" ? frames : frames / 5;
    cases.push(
      [
        "writeFrame",
        1,
        mode,
        perFrame,
        (w, n) => produce(1, n, () => writeFrame(w, payload)),
      ],
    );
    // With maxBatchBytes 68, an idle writer's first batch buffer is 68
    // bytes, not 4 KiB: the difference is what that buffer costs.
    for (const batchBytes of [undefined, 68]) {
      cases.push([
        batchBytes === undefined
          ? "FrameWriter, write() + flush() each"
          : `FrameWriter, write() + flush() each, maxBatchBytes ${batchBytes}`,
        1,
        mode,
        perFrame,
        (w, n) => {
          const writer = new FrameWriter(
            w,
            batchBytes === undefined ? {} : { maxBatchBytes: batchBytes },
          );
          return produce(1, n, async () => {
            await writer.write(payload);
            await writer.flush();
          });
        },
      ]);
    }
    for (const producers of [1, 100]) {
      cases.push(["FrameWriter", producers, mode, frames, async (w, n) => {
        const writer = new FrameWriter(w);
        await produce(producers, n, () => writer.write(payload));
        await writer.flush();
      }]);
    }
  }
  // Large frames: what each path costs beyond handing the payload over.
  const large = new Uint8Array(1 << 20).fill(0x61);
  const largeCount = Math.max(10, frames / 250);
  cases.push(
    [
      "writeFrame, 1 MiB frames",
      1,
      "at once",
      largeCount,
      (w, n) => produce(1, n, () => writeFrame(w, large, { maxFrameSize })),
    ],
    [
      "FrameWriter, 1 MiB frames",
      1,
      "at once",
      largeCount,
      async (w, n) => {
        const writer = new FrameWriter(w, { maxFrameSize });
        await produce(1, n, () => writer.write(large));
        await writer.flush();
      },
    ],
  );
  /** @type {SendBound[]} */
  const results = [];
  for (const [impl, producers, mode, n, run] of cases) {
    const frameBytes = impl.endsWith("1 MiB frames")
      ? 4 + large.byteLength
      : 68;
    const writerMode = mode === "next turn" ? "next turn" : "at once";
    await run(memoryWriter(writerMode), n / 10); // warm up
    let best = Infinity;
    let framesPerWrite = 0;
    for (let rep = 0; rep < 3; rep++) {
      const writer = memoryWriter(writerMode);
      const cpu0 = cpuNow();
      await run(writer, n);
      best = Math.min(best, (cpuNow() - cpu0) * 1e9 / n);
      if (mode !== "none") {
        if (writer.bytes !== n * frameBytes) {
          throw new Error(`${impl}: lost bytes`);
        }
        framesPerWrite = n / writer.writes;
      }
    }
    results.push({
      runtime: runner.runtime,
      impl,
      producers,
      writer: mode,
      frames: n,
      nsPerFrame: best,
      framesPerWrite,
    });
  }
  results.push(await writeHops(runner, tcpframe, port, 2000));
  return results;
}

/**
 * Awaits `writes` 68-byte writes of tcpframe's `Conn` to the sink, one at a
 * time, while another task runs a chain of microtasks (at most
 * {@linkcode HOP_CAP} per write) and counts how many ran before each write
 * resolved. A `FrameWriter` batch gathers what its producers add in that
 * time: with one producer awaiting each `write()`, about a frame per two
 * hops. At the cap, the write waits until the microtasks run out (Node's
 * write callbacks come from `process.nextTick`, which waits for them).
 * @param {Runner} runner
 * @param {Tcpframe} tcpframe
 * @param {number} port
 * @param {number} writes
 * @returns {Promise<SendBound>}
 */
async function writeHops(runner, tcpframe, port, writes) {
  const link = await runner.connect(port);
  try {
    const frame = encode(new Uint8Array(64).fill(0x61));
    let hops = 0;
    let spinning = false;
    const spin = () => {
      if (!spinning || hops >= HOP_CAP) return;
      hops++;
      queueMicrotask(spin);
    };
    let total = 0;
    const cpu0 = cpuNow();
    for (let i = 0; i < writes; i++) {
      hops = 0;
      spinning = true;
      queueMicrotask(spin);
      for (let at = 0; at < frame.byteLength;) {
        at += await link.conn.write(frame.subarray(at));
      }
      spinning = false;
      total += hops;
    }
    const cpu = cpuNow() - cpu0;
    await link.conn.closeWrite();
    const reply = await tcpframe.readExact(link.conn, 16);
    const bytes = new DataView(reply.buffer, reply.byteOffset, 16)
      .getFloat64(0);
    if (bytes !== writes * 68) throw new Error(`the sink got ${bytes} bytes`);
    return {
      runtime: runner.runtime,
      impl: "awaited 68 B conn.write()",
      producers: 1,
      writer: "socket",
      frames: writes,
      nsPerFrame: cpu * 1e9 / writes,
      framesPerWrite: 1,
      hopsPerWrite: total / writes,
    };
  } finally {
    link.close();
  }
}

/** The most microtask hops `writeHops()` counts per write. */
export const HOP_CAP = 1000;
