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
  kind: "throughput" | "rtt";
  impl: string;
  size: number;
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

/** The median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
