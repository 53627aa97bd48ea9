// One soak run against one echo CLI: every scenario, round after round,
// on real server processes, then one summary line.

import {
  type EchoCommand,
  EchoServerProcess,
  type ServerReport,
} from "./echo_server.ts";
import type { FaultResult } from "./fault_log.ts";
import { runFloods } from "./floods.ts";
import { runGarbage } from "./garbage.ts";
import { runLoad } from "./load.ts";
import { runResets } from "./resets.ts";
import { mib } from "./rss.ts";
import { runServerDeath } from "./server_death.ts";
import { runStalls } from "./stalls.ts";
import { runTrickles } from "./trickles.ts";

/** How much of everything; {@linkcode FULL_PLAN} and {@linkcode SHORT_PLAN}. */
export interface SoakPlan {
  /** Rounds of load, stalls, resets, garbage and fresh load. */
  rounds: number;
  clients: number;
  framesPerClient: number;
  /** The largest payload of the load, in bytes (sizes are mixed from 0). */
  maxPayload: number;
  stalls: number;
  /** Clients trickling a frame a byte at a time (slowloris). */
  tricklers: number;
  /** How often a trickler sends a byte, in milliseconds (under the idle timeout). */
  trickleEveryMs: number;
  resets: number;
  garbage: number;
  /** Clients flooding empty frames, then 1-byte frames, never reading. */
  floods: number;
  /** How long each flood lasts, in milliseconds. */
  floodMs: number;
  /** The load after the faults. */
  freshClients: number;
  freshFramesPerClient: number;
  /** The stall server's `--idle-timeout`, in milliseconds. */
  idleTimeoutMs: number;
  /** The stall server's `--frame-timeout`, in milliseconds. */
  frameTimeoutMs: number;
  /** The main server's `--max-frame`. */
  maxFrame: number;
  /** Fail if a server's RSS goes above this, in MiB. */
  rssLimitMiB: number;
  seed: number;
}

/** `deno task soak`: about a minute on a 2-CPU machine. */
export const FULL_PLAN: SoakPlan = {
  rounds: 5,
  clients: 1000,
  framesPerClient: 20,
  maxPayload: 20 * 1024,
  stalls: 200,
  tricklers: 200,
  trickleEveryMs: 100,
  resets: 200,
  garbage: 200,
  floods: 20,
  floodMs: 3000,
  freshClients: 200,
  freshFramesPerClient: 50,
  idleTimeoutMs: 500,
  frameTimeoutMs: 1000,
  maxFrame: 1024 * 1024,
  rssLimitMiB: 512,
  seed: 7,
};

/** The soak test in `deno task test`: the same scenarios, small. */
export const SHORT_PLAN: SoakPlan = {
  ...FULL_PLAN,
  rounds: 1,
  clients: 100,
  framesPerClient: 5,
  stalls: 20,
  tricklers: 20,
  resets: 20,
  garbage: 20,
  floods: 4,
  floodMs: 1000,
  freshClients: 20,
  freshFramesPerClient: 20,
};

/** The outcome of a soak run. */
export interface SoakReport {
  /** `soak deno: ... — PASS` */
  summary: string;
  /** One line per scenario and round. */
  details: string[];
  /** Empty when the run passed. */
  failures: string[];
  peakRss: number;
}

const BATCH = 50;
/**
 * What one flooding connection may make the echo server hold: its read
 * buffer (64 KiB), its echo queue (256 KiB high-water mark plus one
 * frame) and two batch buffers (64 KiB each), rounded up for the
 * runtime's own per-connection cost.
 */
const FLOOD_BOUND_PER_CONN = 1024 * 1024;
/** Garbage the runtime has not collected yet, and allocator slack. */
const FLOOD_SLACK = 64 * 1024 * 1024;
const CONNECT_BATCH = 250;
const ACCEPT_LINE = /^\[accept\] peer=(\S+)$/;
const BATCH_TIMEOUT_MS = 30_000;
/** How much past --frame-timeout a trickler may be held (heartbeat, load). */
const TRICKLE_SLACK_MS = 3000;

/** Runs every scenario of `plan` against `command`'s server and client. */
export async function runSoak(
  command: EchoCommand,
  plan: SoakPlan,
): Promise<SoakReport> {
  const details: string[] = [];
  const failures: string[] = [];
  const fail = (what: string, list: readonly string[]) => {
    for (const failure of list) failures.push(`${what}: ${failure}`);
  };
  let framesPlanned = 0;
  let framesExact = 0;
  let stallsClosed = 0;
  let tricklersClosed = 0;
  let faulty = 0;
  let faultyLogged = 0;
  let floodPeakGrowth = 0;

  const main = await EchoServerProcess.start(command, [
    "--max-conns",
    String(Math.max(plan.clients, plan.freshClients) + 100),
    "--max-frame",
    String(plan.maxFrame),
  ]);
  const stallServer = await EchoServerProcess.start(command, [
    "--idle-timeout",
    String(plan.idleTimeoutMs),
    "--frame-timeout",
    String(plan.frameTimeoutMs),
  ]);
  const load = async (
    name: string,
    clients: number,
    framesPerClient: number,
    seed: number,
  ) => {
    const from = main.run.stdout.lines.length;
    const result = await runLoad(main.port, {
      clients,
      framesPerClient,
      maxPayload: plan.maxPayload,
      connectBatch: CONNECT_BATCH,
      seed,
      timeoutMs: 60_000,
    }, async (peers) => {
      const { missing } = await main.run.stdout.waitForPeers(
        from,
        peers,
        ACCEPT_LINE,
        BATCH_TIMEOUT_MS,
      );
      if (missing.length > 0) {
        throw new Error(main.run.stdout.missingMessage(missing, ACCEPT_LINE));
      }
    });
    framesPlanned += result.framesPlanned;
    framesExact += result.framesExact;
    if (result.framesExact !== clients * framesPerClient) {
      fail(name, result.failures.length > 0 ? result.failures : ["short"]);
    }
    details.push(
      `${name}: ${clients} clients x ${framesPerClient} frames: ${result.framesExact}/${result.framesPlanned} echoed exactly, ${
        peakSessions(main.run.stdout.lines.slice(from))
      } connections open at once (all connected in ${
        Math.round(result.connectMs)
      } ms), server RSS ${mib(main.rss.last)}`,
    );
  };
  const faults = (name: string, result: FaultResult) => {
    faulty += result.clients;
    faultyLogged += result.logged;
    fail(name, result.failures);
    details.push(
      `${name}: ${result.logged}/${result.clients} logged (${
        Object.entries(result.codes).map(([code, n]) => `${code} ${n}`).join(
          ", ",
        )
      })`,
    );
  };

  try {
    for (let round = 1; round <= plan.rounds; round++) {
      const seed = plan.seed * 1000 + round * 10;
      const r = plan.rounds > 1 ? ` (round ${round})` : "";
      await load(`load${r}`, plan.clients, plan.framesPerClient, seed);

      const stalls = await runStalls(stallServer, {
        stalls: plan.stalls,
        idleTimeoutMs: plan.idleTimeoutMs,
        activeEveryMs: 50,
        seed: seed + 1,
        timeoutMs: 20_000,
      });
      stallsClosed += Math.min(stalls.closed, stalls.loggedTimeout);
      fail(`stalls${r}`, stalls.failures);
      details.push(
        `stalls${r}: ${stalls.closed}/${plan.stalls} closed by the idle timeout (${stalls.loggedTimeout} logged TIMEOUT); the active client made ${stalls.activeFrames} round trips meanwhile`,
      );

      const trickles = await runTrickles(stallServer, {
        tricklers: plan.tricklers,
        byteEveryMs: plan.trickleEveryMs,
        activeEveryMs: 50,
        timeoutMs: 30_000,
      });
      tricklersClosed += Math.min(trickles.closed, trickles.logged);
      fail(`trickles${r}`, trickles.failures);
      if (trickles.longestHeldMs > plan.frameTimeoutMs + TRICKLE_SLACK_MS) {
        fail(`trickles${r}`, [
          `a trickler was held ${
            Math.round(trickles.longestHeldMs)
          } ms, over --frame-timeout ${plan.frameTimeoutMs} ms + ${TRICKLE_SLACK_MS} ms`,
        ]);
      }
      details.push(
        `trickles${r}: ${trickles.closed}/${plan.tricklers} clients sending a byte every ${plan.trickleEveryMs} ms closed by the ${plan.frameTimeoutMs} ms frame deadline (${trickles.logged} logged "Frame not complete", longest held ${
          Math.round(trickles.longestHeldMs)
        } ms); the active client made ${trickles.activeFrames} round trips meanwhile`,
      );

      faults(
        `resets${r}`,
        await runResets(main, {
          clients: plan.resets,
          batch: BATCH,
          seed: seed + 2,
          timeoutMs: BATCH_TIMEOUT_MS,
        }),
      );
      faults(
        `garbage${r}`,
        await runGarbage(main, {
          clients: plan.garbage,
          batch: BATCH,
          maxFrame: plan.maxFrame,
          seed: seed + 3,
          timeoutMs: BATCH_TIMEOUT_MS,
        }),
      );
      for (const payload of [0, 1] as const) {
        const flood = await runFloods(main, {
          clients: plan.floods,
          durationMs: plan.floodMs,
          payload,
          growthLimit: plan.floods * FLOOD_BOUND_PER_CONN + FLOOD_SLACK,
        });
        floodPeakGrowth = Math.max(
          floodPeakGrowth,
          flood.rssPeak - flood.rssBefore,
        );
        fail(`floods of ${payload}-byte frames${r}`, flood.failures);
        details.push(
          `floods of ${payload}-byte frames${r}: ${plan.floods} clients sent ${flood.framesSent} frames in ${plan.floodMs} ms without reading; server RSS ${
            mib(flood.rssBefore)
          } -> peak ${mib(flood.rssPeak)}`,
        );
      }
      await load(
        `fresh load${r}`,
        plan.freshClients,
        plan.freshFramesPerClient,
        seed + 4,
      );
    }
  } catch (error) {
    failures.push(`harness: ${(error as Error).stack ?? error}`);
  }

  const reports: [string, ServerReport][] = [
    ["main server", await main.stop()],
    ["stall server", await stallServer.stop()],
  ];
  let uncaught = 0;
  let peakRss = 0;
  for (const [name, report] of reports) {
    uncaught += report.crashes.length;
    peakRss = Math.max(peakRss, report.peakRss);
    if (report.code !== 0) fail(name, [`exit code ${report.code} on SIGTERM`]);
    if (report.openAtShutdown !== 0) {
      fail(name, [
        `${report.openAtShutdown} connections open at SIGTERM after every client had closed`,
      ]);
    }
    fail(name, report.crashes.map((line) => `crash output: ${line}`));
    fail(name, report.strayStderr.map((line) => `unexpected stderr: ${line}`));
    if (report.rssSamples === 0) {
      fail(name, [
        "no RSS sample: /proc/<pid>/status unreadable (run with -A)",
      ]);
    }
    if (report.peakRss > plan.rssLimitMiB * 1024 * 1024) {
      fail(name, [`peak RSS ${mib(report.peakRss)} > ${plan.rssLimitMiB} MiB`]);
    }
    details.push(
      `${name}: ${report.openAtShutdown} connections open at SIGTERM, exit ${report.code}, RSS peak ${
        mib(report.peakRss)
      }, end ${mib(report.endRss)}, ${report.crashes.length} crash lines`,
    );
  }

  const death = await runServerDeath(command, {
    size: 64 * 1024,
    count: 1_000_000,
    killAfterMs: 300,
    clientTimeoutMs: 120_000,
    exitBoundMs: 30_000,
  });
  fail("server death", death.failures);
  details.push(
    `server death: client exit ${death.code}, "${death.error}"`,
  );

  const mainReport = reports[0]![1];
  const summary =
    `soak ${command.name}: ${framesExact}/${framesPlanned} frames echoed exactly, ${stallsClosed}/${
      plan.stalls * plan.rounds
    } stalls closed, ${tricklersClosed}/${
      plan.tricklers * plan.rounds
    } tricklers closed by the frame deadline, ${faultyLogged}/${faulty} faulty clients logged, floods of empty and 1-byte frames grew RSS by at most ${
      mib(floodPeakGrowth)
    }, peak RSS ${mib(peakRss)} (end ${
      mib(mainReport.endRss)
    }), ${uncaught} uncaught, client exit ${death.code} on server kill — ${
      failures.length === 0 ? "PASS" : "FAIL"
    }`;
  return { summary, details, failures, peakRss };
}

/** The most sessions open at once, from `[accept]` and `[done]` lines. */
function peakSessions(lines: readonly string[]): number {
  let open = 0;
  let peak = 0;
  for (const line of lines) {
    if (line.startsWith("[accept] ")) peak = Math.max(peak, ++open);
    else if (line.startsWith("[done] ")) open--;
  }
  return peak;
}
