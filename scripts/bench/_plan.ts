// The shared plan of the benchmark: what every runtime measures, and the
// shape of a result. `main.ts` hands the plan to each child process as JSON
// (the Node child is plain JavaScript and cannot import this file).

/** Payload sizes, in bytes. */
export const SIZES = [0, 64, 1024, 64 * 1024, 1024 * 1024] as const;

/** What one run of a child process measures. */
export interface Plan {
  sizes: number[];
  /** Frames per one-way throughput case, by payload size. */
  frames: Record<string, number>;
  /**
   * Frames per case for receivers that make one or two read calls per frame
   * (naive, `readFrame`, it-length-prefixed): fewer, so every case stays
   * short; rates are per second, so they stay comparable.
   */
  slowFrames: Record<string, number>;
  /** Round trips per ping-pong case, by payload size (at most). */
  rttIterations: Record<string, number>;
  /** A ping-pong case stops after this long even if it has round trips left. */
  rttTimeMs: number;
  /**
   * The naive baseline stalls ~40-90 ms per round trip: it gets at most this
   * many round trips (and the same time limit).
   */
  naiveRttIterations: number;
  /** Round trips before timing starts (at most; also time-limited). */
  rttWarmup: number;
  /** Any one case is abandoned (connections closed) after this long. */
  caseTimeoutMs: number;
}

/** One measured case of one repetition. */
export interface Result {
  runtime: "deno" | "node";
  /**
   * `throughput` and `rtt`: the receive side, both ends in one process.
   * `send` and `send-rtt`: the send side, against a raw peer in another
   * process (`send_peer.ts`).
   */
  kind: "throughput" | "rtt" | "send" | "send-rtt";
  impl: string;
  size: number;
  /** Concurrent tasks sending on the one connection (send). */
  producers?: number;
  /** Calls of the underlying write (send): frames/writes is the batch. */
  writes?: number;
  /** Frames moved (throughput) or round trips timed (rtt). */
  frames: number;
  /** Bytes on the wire, headers included (throughput). */
  bytes: number;
  /** Wall-clock seconds of the timed part. */
  seconds: number;
  /** CPU seconds of the process during the timed part (user + system). */
  cpuSeconds: number;
  /** Round-trip latency percentiles in microseconds (rtt). */
  p50?: number;
  p99?: number;
  error?: string;
}

/** Allocation per frame, measured in memory (no sockets). */
export interface AllocResult {
  runtime: "deno" | "node";
  impl: string;
  size: number;
  frames: number;
  /** Bytes allocated per frame: JS heap plus ArrayBuffer backing stores. */
  bytesPerFrame: number;
  /** CPU nanoseconds per frame, in memory. */
  nsPerFrame: number;
  /** True when a garbage collection ran during the measurement. */
  gcSeen: boolean;
}

/** The default plan: about 40 s per repetition on 2 cores. */
export function defaultPlan(quick: boolean): Plan {
  const scale = quick ? 0.1 : 1;
  const n = (x: number) => Math.max(4, Math.round(x * scale));
  return {
    sizes: [...SIZES],
    frames: {
      0: n(1_000_000),
      64: n(1_000_000),
      1024: n(200_000),
      65536: n(4096),
      1048576: n(512),
    },
    slowFrames: {
      0: n(200_000),
      64: n(200_000),
      1024: n(100_000),
      65536: n(4096),
      1048576: n(256),
    },
    rttIterations: {
      0: n(4000),
      64: n(4000),
      1024: n(4000),
      65536: n(1000),
      1048576: n(200),
    },
    rttTimeMs: quick ? 200 : 1000,
    naiveRttIterations: quick ? 10 : 200,
    rttWarmup: quick ? 5 : 50,
    caseTimeoutMs: 20_000,
  };
}

/** What one send-side run of a child process measures. */
export interface SendPlan {
  /** 64 B frames per case for the senders that batch. */
  frames: number;
  /** 64 B frames per case for the senders that write once per frame. */
  slowFrames: number;
  /** 1 MiB frames per case. */
  largeFrames: number;
  /** How many tasks send at once on one connection, per 64 B case. */
  producers: number[];
  /** Frames per `writeFrames()` call. */
  batch: number;
  /** Round trips per ping-pong case (at most; also time-limited). */
  rttIterations: number;
  rttTimeMs: number;
  rttWarmup: number;
  caseTimeoutMs: number;
}

/** The default send plan: about 15 s per repetition and runtime. */
export function defaultSendPlan(quick: boolean): SendPlan {
  const scale = quick ? 0.1 : 1;
  // Cut into 4 blocks of multiples of the batch and of every producer
  // count.
  const n = (x: number, unit: number) =>
    Math.max(unit, Math.round(x * scale / unit) * unit);
  return {
    frames: n(1_000_000, 4000),
    slowFrames: n(100_000, 4000),
    largeFrames: n(1024, 16),
    producers: [1, 100],
    batch: 1000,
    rttIterations: quick ? 400 : 4000,
    rttTimeMs: quick ? 200 : 1000,
    rttWarmup: quick ? 5 : 50,
    caseTimeoutMs: 30_000,
  };
}

/** CPU per frame of a send-side case in memory (no socket). */
export interface SendBound {
  runtime: "deno" | "node";
  impl: string;
  producers: number;
  /**
   * How the in-memory writer resolves: at once, or on the next turn of the
   * event loop; `none` for a loop without a writer, `socket` for a real
   * connection.
   */
  writer: "at once" | "next turn" | "none" | "socket";
  frames: number;
  nsPerFrame: number;
  /** Frames per call of the writer's `write` (0 for no writer). */
  framesPerWrite: number;
  /**
   * Microtasks another task ran while a write was awaited (socket), up to
   * `HOP_CAP` of `_send.mjs`.
   */
  hopsPerWrite?: number;
}

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
