// What the server logged for faulty clients: one `[error] peer=<addr>
// <CODE>: <message>` line each.

import type { EchoServerProcess } from "./echo_server.ts";
import { Random } from "./random.ts";

/** The tally of one kind of faulty client. */
export interface FaultResult {
  /** Faulty clients planned. */
  clients: number;
  /** Those the server logged with an acceptable code. */
  logged: number;
  /** How often each logged code came up. */
  codes: Record<string, number>;
  failures: string[];
}

const ERROR_LINE = /^\[error\] peer=(\S+) ([A-Z_]+): /;

/**
 * Waits (bounded) for the server's `[error]` line of each peer in
 * `expected`, from stderr line `logFrom` on, and tallies them into
 * `result`; `judge(peer, code)` returns why a code is wrong, or undefined;
 * `tally(peer, code)` names the bucket a line is counted in.
 */
export async function logFor(
  server: EchoServerProcess,
  logFrom: number,
  expected: ReadonlyMap<string, unknown>,
  result: FaultResult,
  judge: (peer: string, code: string) => string | undefined,
  tally: (peer: string, code: string) => string = (_, code) => code,
  timeoutMs = 15_000,
): Promise<void> {
  const { found, missing } = await server.run.stderr.waitForPeers(
    logFrom,
    expected.keys(),
    ERROR_LINE,
    timeoutMs,
  );
  if (missing.length > 0) {
    result.failures.push(
      server.run.stderr.missingMessage(missing, ERROR_LINE),
    );
  }
  for (const [peer, line] of found) {
    const code = ERROR_LINE.exec(line)![2]!;
    const bucket = tally(peer, code);
    result.codes[bucket] = (result.codes[bucket] ?? 0) + 1;
    const wrong = judge(peer, code);
    if (wrong === undefined) {
      result.logged++;
    } else if (result.failures.length < 5) {
      result.failures.push(`${line} (${wrong})`);
    }
  }
}

/** How many faulty clients, and the bounds. */
export interface BatchPlan {
  clients: number;
  /** Clients at once. */
  batch: number;
  seed: number;
  /** A bound on each batch, in milliseconds. */
  timeoutMs: number;
}

/** One batch of faulty clients, as `inBatches` hands it out. */
export interface Batch {
  /** Clients of the earlier batches. */
  done: number;
  /** Clients in this batch. */
  count: number;
  /** Seeded with `plan.seed`, shared by all batches. */
  random: Random;
  /** The server's stderr line this batch's log starts at. */
  logFrom: number;
  /** Aborts `plan.timeoutMs` after the batch starts. */
  signal: AbortSignal;
  /** The tally of all batches. */
  result: FaultResult;
}

/**
 * Runs `plan.clients` faulty clients `plan.batch` at a time: `run` starts
 * and checks one batch. Returns the tally.
 */
export async function inBatches(
  server: EchoServerProcess,
  plan: BatchPlan,
  run: (batch: Batch) => Promise<void>,
): Promise<FaultResult> {
  const random = new Random(plan.seed);
  const result: FaultResult = {
    clients: 0,
    logged: 0,
    codes: {},
    failures: [],
  };
  for (let done = 0; done < plan.clients; done += plan.batch) {
    const count = Math.min(plan.batch, plan.clients - done);
    result.clients += count;
    const logFrom = server.run.stderr.lines.length;
    const signal = AbortSignal.timeout(plan.timeoutMs);
    await run({ done, count, random, logFrom, signal, result });
  }
  return result;
}
