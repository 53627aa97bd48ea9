// deno-lint-ignore-file no-console -- a benchmark prints its report
/**
 * `deno task bench`: tcpframe against raw sockets, a naive implementation
 * and the npm peers frame-stream and it-length-prefixed, on Deno and Node,
 * on 127.0.0.1, in one run. The one-way receive cases receive from a sender
 * process of their own (sender.c, built with `cc`; a Node sender where there
 * is no C compiler), so that a receiver's CPU time is its own; the send side
 * (`FrameWriter`, `writeFrame`, `writeFrames`, raw writes) sends to a raw
 * peer in another process (`send_peer.ts`), so that a sender's is. Writes
 * `results/results.md`, `results/results.svg`, `results/send.svg` and
 * `results/results.json` next to this file and prints PASS/MISS per target.
 *
 *   deno task bench                 # the full run (~15 minutes)
 *   deno task bench --quick         # a smoke run with 10% of the work
 *   deno task bench --render        # results/ again from results.json
 *
 * Environment: `BENCH_REPS` (repetitions, default 7), `BENCH_TARBALL` (the
 * npm package to test; default `npm/tcpframe-<version>.tgz`, built with
 * `deno task build:npm` when missing), `BENCH_LOAD_TRIES` (how many 30 s
 * waits for a load average under 1 before starting anyway, default 6).
 *
 * Every child process runs with a deadline and is stopped by its own PID;
 * every case is bounded in count and in time.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AllocResult,
  defaultPlan,
  defaultSendPlan,
  median,
  type Plan,
  type Result,
  type SendBound,
  type SendPlan,
} from "./_plan.ts";
import { renderReport, type Report, type Target } from "./_report.ts";
import { renderSend, type SendSection, sendTargets } from "./_send_report.ts";
import { runServers, serverPlan, serverTargets } from "./_servers.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(dirname(HERE));
const RESULTS = join(HERE, "results");

const QUICK = Deno.args.includes("--quick");
const REPS = Number(Deno.env.get("BENCH_REPS") ?? (QUICK ? 1 : 7));
const LOAD_TRIES = Number(Deno.env.get("BENCH_LOAD_TRIES") ?? (QUICK ? 0 : 6));
const IDLE_CONNECTIONS = QUICK ? 1000 : 10_000;
const CHILD_DEADLINE_MS = 300_000;

const started = performance.now();
function log(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(`[bench ${seconds.padStart(3)} s] ${message}`);
}

// ------------------------------------------------------------ child processes

interface Child {
  pid: number;
  /** Resolves with the next line of stdout, or null at its end. */
  line(): Promise<string | null>;
  /** Every remaining line, once the process exits. */
  rest(): Promise<string[]>;
  stop(): void;
  status: Promise<Deno.CommandStatus>;
}

/**
 * Starts a child with piped stdout; it is killed after `deadlineMs`. With
 * `raiseFdLimit`, it runs with its open-file limit raised to the hard limit
 * (`ulimit -n`), for thousands of connections.
 */
function spawn(
  cmd: string,
  args: string[],
  options: { cwd?: string; deadlineMs?: number; raiseFdLimit?: boolean } = {},
): Child {
  if (options.raiseFdLimit) {
    args = ["-c", 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', cmd, ...args];
    cmd = "sh";
  }
  const process = new Deno.Command(cmd, {
    args,
    cwd: options.cwd ?? ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stop = () => {
    try {
      process.kill("SIGTERM"); // this child's PID only
    } catch {
      // Already exited.
    }
  };
  const deadline = setTimeout(() => {
    log(`${cmd} ${args[0]} ${args[1] ?? ""} (pid ${process.pid}): deadline`);
    stop();
  }, options.deadlineMs ?? CHILD_DEADLINE_MS);
  const status = process.status.finally(() => clearTimeout(deadline));
  const lines = process.stdout
    .pipeThrough(new TextDecoderStream())
    .getReader();
  let buffered = "";
  const queue: string[] = [];
  let done = false;
  const line = async (): Promise<string | null> => {
    for (;;) {
      if (queue.length > 0) return queue.shift()!;
      if (done) {
        if (buffered !== "") {
          const last = buffered;
          buffered = "";
          return last;
        }
        return null;
      }
      const { value, done: end } = await lines.read();
      if (end) done = true;
      else {
        buffered += value;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        queue.push(...parts.filter((part) => part !== ""));
      }
    }
  };
  return {
    pid: process.pid,
    line,
    async rest() {
      const all: string[] = [];
      for (let l = await line(); l !== null; l = await line()) all.push(l);
      await status;
      return all;
    },
    stop,
    status,
  };
}

async function runJson<T>(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<T[]> {
  const child = spawn(cmd, args, cwd === undefined ? {} : { cwd });
  const lines = await child.rest();
  const status = await child.status;
  if (!status.success) {
    throw new Error(`${cmd} ${args[0]} exited with code ${status.code}`);
  }
  return lines.map((line) => JSON.parse(line) as T);
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const output = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!output.success) {
    throw new Error(`${cmd} ${args.join(" ")} exited with code ${output.code}`);
  }
}

async function text(cmd: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(cmd, { args, stderr: "null" })
    .output();
  return new TextDecoder().decode(output.stdout).trim();
}

// ------------------------------------------------------------------ machine

function loadAverage(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

async function waitForQuiet(): Promise<void> {
  for (let i = 0; i < LOAD_TRIES && loadAverage() >= 1; i++) {
    log(`load average ${loadAverage()} >= 1: waiting 30 s (${i + 1})`);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
  }
}

function cpuModel(): string {
  const info = Deno.readTextFileSync("/proc/cpuinfo");
  return info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1]);
  return kib / 1024;
}

// ------------------------------------------------------------- node project

async function prepareNode(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const tarball = Deno.env.get("BENCH_TARBALL") ??
    join(ROOT, "npm", `tcpframe-${config.version}.tgz`);
  const exists = async () => {
    try {
      await Deno.stat(tarball);
      return true;
    } catch {
      return false;
    }
  };
  if (!await exists()) {
    log(`${tarball} is missing: deno task build:npm`);
    await run(Deno.execPath(), ["task", "build:npm"], ROOT).catch((error) => {
      // The build also runs the Node tests; the tarball may still be there.
      log(`build:npm failed: ${error}`);
    });
    if (!await exists()) throw new Error(`no ${tarball} after build:npm`);
  }
  const scratch = await Deno.makeTempDir({ prefix: "tcpframe-bench-" });
  const files = [
    "package.json",
    "package-lock.json",
    "node_cases.mjs",
    "node_send.mjs",
    "server_cases.mjs",
    // Imported by node_cases.mjs and node_send.mjs from their directory.
    "_measure.mjs",
    "_send.mjs",
  ];
  for (const file of files) {
    await Deno.copyFile(join(HERE, file), join(scratch, file));
  }
  // A copy: a concurrent build:npm may delete npm/ while the bench runs.
  await Deno.copyFile(tarball, join(scratch, "tcpframe.tgz"));
  const quiet = ["--no-audit", "--no-fund", "--loglevel=error"];
  log(`npm ci + the tcpframe tarball in ${scratch}`);
  await run("npm", ["ci", ...quiet], scratch);
  await run(
    "npm",
    ["install", "--no-save", ...quiet, "./tcpframe.tgz"],
    scratch,
  );
  return scratch;
}

/**
 * Builds sender.c into `scratch` and returns its command; a Node sender
 * where that fails (no C compiler).
 */
async function prepareSender(scratch: string): Promise<string[]> {
  const binary = join(scratch, "sender");
  try {
    const output = await new Deno.Command("cc", {
      args: ["-O2", "-Wall", "-o", binary, join(HERE, "sender.c")],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (output.success) return [binary];
    log("cc failed to build sender.c: the Node sender sends instead");
  } catch (error) {
    log(`no C compiler (${error}): the Node sender sends instead`);
  }
  return ["node", join(scratch, "node_cases.mjs"), "send"];
}

// --------------------------------------------------------------------- cases

function denoRound(plan: Plan): Promise<Result[]> {
  return runJson<Result>(Deno.execPath(), [
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    join(HERE, "deno_cases.ts"),
    "run",
    JSON.stringify(plan),
  ]);
}

function nodeRound(plan: Plan, scratch: string): Promise<Result[]> {
  return runJson<Result>(
    "node",
    ["--expose-gc", "node_cases.mjs", "run", JSON.stringify(plan)],
    scratch,
  );
}

async function allocations(scratch: string): Promise<AllocResult[]> {
  // A large young generation, so that no collection runs while measuring.
  const semi = ["--min-semi-space-size=128", "--max-semi-space-size=128"];
  const deno = await runJson<AllocResult>(Deno.execPath(), [
    "run",
    "-A",
    `--v8-flags=--expose-gc,${semi.join(",")}`,
    join(HERE, "deno_cases.ts"),
    "alloc",
  ]);
  const node = await runJson<AllocResult>(
    "node",
    ["--expose-gc", ...semi, "node_cases.mjs", "alloc"],
    scratch,
  );
  const denoBound = await runJson<AllocResult>(Deno.execPath(), [
    "run",
    "-A",
    join(HERE, "deno_cases.ts"),
    "bound",
  ]);
  const nodeBound = await runJson<AllocResult>(
    "node",
    ["node_cases.mjs", "bound"],
    scratch,
  );
  // The CPU per small frame comes from the timing runs with default flags;
  // the bytes from the runs with a large young generation.
  const bound = [...denoBound, ...nodeBound];
  const bytes = [...deno, ...node].map((a) => {
    const timing = bound.find((b) =>
      b.runtime === a.runtime && b.impl === a.impl && b.size === a.size
    );
    return timing === undefined ? a : { ...a, nsPerFrame: timing.nsPerFrame };
  });
  return [...bytes, ...bound.filter((b) => b.size !== 64)];
}

// ---------------------------------------------------------------- send side

interface Ports {
  sink: number;
  echo: number;
}

/** Starts the raw peer of the send cases in its own process. */
async function startPeer(): Promise<{ child: Child; ports: Ports }> {
  const child = spawn(Deno.execPath(), [
    "run",
    "-N=127.0.0.1",
    join(HERE, "send_peer.ts"),
  ], { deadlineMs: 3 * 3600_000 });
  const first = await child.line();
  if (first === null) throw new Error("the send peer did not start");
  return { child, ports: JSON.parse(first) as Ports };
}

function sendRound(
  runtime: "deno" | "node",
  plan: SendPlan,
  ports: Ports,
  scratch: string,
): Promise<Result[]> {
  const args = ["run", JSON.stringify(plan), JSON.stringify(ports)];
  return runtime === "deno"
    ? runJson<Result>(Deno.execPath(), [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      join(HERE, "deno_send.ts"),
      ...args,
    ])
    : runJson<Result>(
      "node",
      ["--expose-gc", "node_send.mjs", ...args],
      scratch,
    );
}

async function sendBounds(
  plan: SendPlan,
  ports: Ports,
  scratch: string,
): Promise<SendBound[]> {
  const args = ["bound", JSON.stringify(plan), JSON.stringify(ports)];
  return [
    ...await runJson<SendBound>(Deno.execPath(), [
      "run",
      "-A",
      join(HERE, "deno_send.ts"),
      ...args,
    ]),
    ...await runJson<SendBound>("node", ["node_send.mjs", ...args], scratch),
  ];
}

interface IdleResult {
  runtime: "deno" | "node";
  connections: number;
  rssBeforeMiB: number;
  rssMiB: number;
}

async function idle(
  runtime: "deno" | "node",
  scratch: string,
): Promise<IdleResult> {
  const server = runtime === "deno"
    ? spawn(Deno.execPath(), [
      "run",
      "-A",
      join(HERE, "deno_cases.ts"),
      "idle-server",
    ], { deadlineMs: 180_000, raiseFdLimit: true })
    : spawn("node", ["node_cases.mjs", "idle-server"], {
      cwd: scratch,
      deadlineMs: 180_000,
      raiseFdLimit: true,
    });
  let clients: Child | undefined;
  try {
    const first = await server.line();
    if (first === null) throw new Error("the idle server did not start");
    const { port } = JSON.parse(first) as { port: number };
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssBeforeMiB = rssMiB(server.pid);
    clients = spawn("node", [
      "node_cases.mjs",
      "idle-clients",
      String(port),
      String(IDLE_CONNECTIONS),
      "100",
    ], { cwd: scratch, deadlineMs: 180_000, raiseFdLimit: true });
    const ready = await clients.line();
    if (ready === null) throw new Error("the idle clients did not connect");
    const { open } = JSON.parse(ready) as { open: number };
    // Let the server settle (its last reads start, garbage is collected).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return {
      runtime,
      connections: open,
      rssBeforeMiB,
      rssMiB: rssMiB(server.pid),
    };
  } finally {
    clients?.stop();
    server.stop();
    await clients?.status;
    await server.status;
  }
}

// ------------------------------------------------------------------- targets

type Key = string;
const key = (r: Pick<Result, "runtime" | "kind" | "impl" | "size">): Key =>
  `${r.runtime}|${r.kind}|${r.impl}|${r.size}`;

function targets(
  rounds: Result[][],
  allocs: AllocResult[],
  idles: IdleResult[],
): Target[] {
  /** Per-round values of a case, indexed by round. */
  const rate = (runtime: string, impl: string, size: number) =>
    rounds.map((round) => {
      const r = round.find((x) =>
        key(x) ===
          key({ runtime: runtime as "deno", kind: "throughput", impl, size }) &&
        x.error === undefined
      );
      return r === undefined ? NaN : r.bytes / r.seconds;
    });
  /** The median of per-round ratios a/b (paired within a round). */
  const ratio = (a: number[], b: number[]) => {
    const ratios = a.map((x, i) => x / b[i]!).filter(Number.isFinite);
    return ratios.length === 0 ? NaN : median(ratios);
  };
  const out: Target[] = [];
  const MiB = 1024 * 1024;
  const ratioTarget = (
    name: string,
    a: number[],
    b: number[],
    goal: number,
  ): Target => {
    const value = ratio(a, b);
    return {
      name,
      value,
      display: `${value.toFixed(2)}x`,
      goal: `>= ${goal.toFixed(2)}x`,
      pass: value >= goal,
    };
  };
  out.push(
    ratioTarget(
      "1 MiB frames, deno FrameReader vs raw into fresh buffers",
      rate("deno", "FrameReader", MiB),
      rate("deno", "raw (fresh buffers)", MiB),
      0.9,
    ),
    ratioTarget(
      "1 MiB frames, deno FrameReader (borrowed) vs raw",
      rate("deno", "FrameReader (borrowed)", MiB),
      rate("deno", "raw", MiB),
      0.9,
    ),
    ratioTarget(
      "1 MiB frames, node FrameReader vs raw",
      rate("node", "FrameReader", MiB),
      rate("node", "raw", MiB),
      0.9,
    ),
    ratioTarget(
      "1 MiB frames, node FrameReader (borrowed) vs it-length-prefixed",
      rate("node", "FrameReader (borrowed)", MiB),
      rate("node", "it-length-prefixed", MiB),
      1,
    ),
  );
  {
    const fps = rounds.map((round) => {
      const r = round.find((x) =>
        key(x) ===
          key({
            runtime: "deno",
            kind: "throughput",
            impl: "FrameReader",
            size: 64,
          }) && x.error === undefined
      );
      return r === undefined ? NaN : r.frames / r.seconds;
    }).filter(Number.isFinite);
    const value = fps.length === 0 ? NaN : median(fps);
    out.push({
      name: "64 B frames, deno FrameReader",
      value,
      display: `${(value / 1e6).toFixed(2)} M frames/s`,
      goal: ">= 8 M frames/s",
      pass: value >= 8e6,
    });
  }
  const frameStream = rate("node", "frame-stream", 64);
  for (const runtime of ["deno", "node"]) {
    for (
      const impl of [
        "FrameReader",
        "FrameReader (borrowed)",
        "FrameReader.readBatch()",
        "FrameReader.readBatch() (borrowed)",
      ]
    ) {
      // Same bytes on the wire, so the byte rates compare frame rates.
      const value = ratio(rate(runtime, impl, 64), frameStream);
      out.push({
        name: `64 B, ${runtime} ${impl} vs frame-stream (node)`,
        value,
        display: `${value.toFixed(2)}x`,
        goal: ">= 2x",
        pass: value >= 2,
      });
    }
  }
  for (const runtime of ["deno", "node"]) {
    for (const impl of ["FrameReader", "FrameReader (borrowed)", "readFrame"]) {
      const p99s = rounds.flatMap((round) =>
        round.filter((x) =>
          key(x) ===
            key({ runtime: runtime as "deno", kind: "rtt", impl, size: 64 }) &&
          x.p99 !== undefined
        ).map((x) => x.p99!)
      );
      const value = p99s.length === 0 ? NaN : median(p99s);
      out.push({
        name: `64 B ping-pong p99, ${runtime} ${impl} + writeFrame`,
        value,
        display: `${(value / 1000).toFixed(3)} ms`,
        goal: "< 1 ms",
        pass: value < 1000,
      });
    }
  }
  for (const a of allocs) {
    if (!a.impl.startsWith("FrameReader")) continue;
    out.push({
      name: `allocation per 64 B frame, ${a.runtime} ${a.impl}`,
      value: a.bytesPerFrame,
      display: `${a.bytesPerFrame.toFixed(0)} B`,
      goal: "<= 64 B",
      pass: a.bytesPerFrame <= 64,
    });
  }
  for (const i of idles) {
    out.push({
      name:
        `RSS, ${i.runtime} FrameReader server, ${i.connections} idle connections`,
      value: i.rssMiB,
      display: `${i.rssMiB.toFixed(0)} MiB`,
      goal: "< 256 MiB",
      pass: i.rssMiB < 256 && i.connections >= IDLE_CONNECTIONS,
    });
  }
  return out;
}

// ---------------------------------------------------------------------- main

/**
 * Renders results.md, results.svg and send.svg (and, after a run,
 * results.json) into `results/`, unless `--quick`; returns the markdown.
 */
async function publish(
  report: Report,
  send: SendSection,
  json = true,
): Promise<string> {
  const rendered = renderReport(report);
  const sent = renderSend(report.rounds, send, report.date);
  const markdown = [rendered.markdown.trimEnd(), "", ...sent.markdown]
    .join("\n");
  if (QUICK) return markdown;
  await Deno.mkdir(RESULTS, { recursive: true });
  await Deno.writeTextFile(join(RESULTS, "results.md"), markdown);
  await Deno.writeTextFile(join(RESULTS, "results.svg"), rendered.svg);
  await Deno.writeTextFile(join(RESULTS, "send.svg"), sent.svg);
  if (json) {
    await Deno.writeTextFile(
      join(RESULTS, "results.json"),
      JSON.stringify({ ...report, send }, null, 1) + "\n",
    );
  }
  // In the repository's own format, so that `deno fmt --check` passes.
  await run(Deno.execPath(), [
    "fmt",
    "--quiet",
    join(RESULTS, "results.md"),
    join(RESULTS, "results.svg"),
    join(RESULTS, "send.svg"),
    join(RESULTS, "results.json"),
  ], ROOT);
  log(`wrote ${RESULTS}/results.{md,svg,json} and send.svg`);
  return markdown;
}

function printTargets(all: Target[]): void {
  for (const t of all) {
    console.log(
      `${t.pass ? "PASS" : "MISS"}  ${t.name}: ${t.display} (target ${t.goal})`,
    );
  }
}

/**
 * `--render`: renders the report of the last run again from
 * `results/results.json`, measuring nothing (after a change to the report's
 * text).
 */
async function renderAgain(): Promise<void> {
  const { send, ...report } = JSON.parse(
    await Deno.readTextFile(join(RESULTS, "results.json")),
  ) as Report & { send: SendSection };
  send.targets = sendTargets(report.rounds, send.plan);
  await publish(report, send, false);
  printTargets([...report.targets, ...send.targets]);
}

async function main(): Promise<void> {
  await waitForQuiet();
  const loadBefore = loadAverage();
  const plan = defaultPlan(QUICK);
  const sendPlan = defaultSendPlan(QUICK);
  const scratch = await prepareNode();
  const sender = await prepareSender(scratch);
  // Inherited by every child process; read by _measure.mjs.
  Deno.env.set("BENCH_SENDER", JSON.stringify(sender));
  const peer = await startPeer();
  try {
    const rounds: Result[][] = [];
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate the order, so that drift in the machine's load is shared.
      const order: Array<"deno" | "node"> = rep % 2 === 0
        ? ["deno", "node"]
        : ["node", "deno"];
      const round: Result[] = [];
      for (const runtime of order) {
        log(`repetition ${rep + 1}/${REPS}: ${runtime}`);
        round.push(
          ...(runtime === "deno"
            ? await denoRound(plan)
            : await nodeRound(plan, scratch)),
        );
      }
      for (const r of round) {
        if (r.error !== undefined) {
          log(`${r.runtime} ${r.kind} ${r.impl} ${r.size}: ${r.error}`);
        }
      }
      for (const runtime of order) {
        log(`repetition ${rep + 1}/${REPS}: ${runtime} send side`);
        round.push(...await sendRound(runtime, sendPlan, peer.ports, scratch));
      }
      for (const r of round) {
        if (r.error !== undefined && r.kind.startsWith("send")) {
          log(`${r.runtime} ${r.kind} ${r.impl} ${r.size}: ${r.error}`);
        }
      }
      rounds.push(round);
    }
    log("allocation per frame");
    const allocs = await allocations(scratch);
    log("send side in memory");
    const send: SendSection = {
      plan: sendPlan,
      bounds: await sendBounds(sendPlan, peer.ports, scratch),
      targets: sendTargets(rounds, sendPlan),
    };
    log(`${IDLE_CONNECTIONS} idle connections`);
    const idles = [await idle("deno", scratch), await idle("node", scratch)];
    log("request/response servers");
    const serverPlanned = serverPlan(QUICK, REPS);
    const servers = await runServers(serverPlanned, {
      root: ROOT,
      here: HERE,
      scratch,
    }, log);
    const loadAfter = loadAverage();
    const report: Report = {
      date: new Date().toISOString().slice(0, 10),
      machine: {
        cpu: cpuModel(),
        cores: navigator.hardwareConcurrency,
        os: `${Deno.build.os} ${Deno.osRelease()}`,
        deno: Deno.version.deno,
        node: await text("node", ["--version"]),
        loadBefore,
        loadAfter,
      },
      quick: QUICK,
      reps: REPS,
      plan,
      rounds,
      allocs,
      idles,
      servers,
      serverPlan: serverPlanned,
      targets: [...targets(rounds, allocs, idles), ...serverTargets(servers)],
      seconds: (performance.now() - started) / 1000,
    };
    const markdown = await publish(report, send);
    console.log(markdown);
    printTargets([...report.targets, ...send.targets]);
  } finally {
    peer.child.stop();
    await peer.child.status;
    await Deno.remove(scratch, { recursive: true });
  }
}

if (Deno.args.includes("--render")) await renderAgain();
else await main();
