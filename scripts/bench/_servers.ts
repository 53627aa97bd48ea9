// The request/response server row of `deno task bench`: 100 clients in one
// process doing 64 B round trips against a tcpframe `serve()` server on
// Deno and on Node, and against the same protocol written on plain
// `node:net` (what a Node user writes without tcpframe). Each server runs
// in its own process, the clients (Node, plain `node:net`, the same for
// every server) in another; every process has a deadline and is stopped by
// its own PID.

import { join } from "node:path";
import { median } from "./_plan.ts";
import type { Target } from "./_report.ts";

/** One server measured in one repetition. */
export interface ServerResult {
  server: ServerName;
  requests: number;
  seconds: number;
  /** Round-trip latency percentiles in microseconds. */
  p50: number;
  p99: number;
  /** CPU seconds of the server process per request, in microseconds. */
  serverCpuUs: number;
  error?: string;
}

/** The servers compared. */
export type ServerName =
  | "deno serve()"
  | "node serve()"
  | "node plain node:net";

/** How the server row is run. */
export interface ServerPlan {
  clients: number;
  size: number;
  warmupMs: number;
  measureMs: number;
  reps: number;
}

/** The plan: 100 clients, 64 B, 2 s (quick) or 5 s measured per server. */
export function serverPlan(quick: boolean, reps: number): ServerPlan {
  return {
    clients: 100,
    size: 64,
    warmupMs: quick ? 500 : 1000,
    measureMs: quick ? 2000 : 5000,
    reps: Math.min(reps, quick ? 1 : 5),
  };
}

const SERVERS: ServerName[] = [
  "deno serve()",
  "node serve()",
  "node plain node:net",
];
const DEADLINE_MS = 60_000;

/** Where things are: the repository, this directory, the scratch project. */
export interface ServerDirs {
  root: string;
  here: string;
  scratch: string;
}

/** Runs every server `plan.reps` times, alternating the order. */
export async function runServers(
  plan: ServerPlan,
  dirs: ServerDirs,
  log: (message: string) => void,
): Promise<ServerResult[]> {
  const results: ServerResult[] = [];
  for (let rep = 0; rep < plan.reps; rep++) {
    const order = rep % 2 === 0 ? SERVERS : [...SERVERS].reverse();
    for (const server of order) {
      log(`server row ${rep + 1}/${plan.reps}: ${server}`);
      results.push(await runOne(server, plan, dirs));
    }
  }
  return results;
}

/** The server's program, arguments and working directory. */
function command(
  server: ServerName,
  dirs: ServerDirs,
): [string, string[], string] {
  switch (server) {
    case "deno serve()":
      return [
        Deno.execPath(),
        ["run", "-A", join(dirs.here, "server_cases.ts")],
        dirs.root,
      ];
    case "node serve()":
      return ["node", ["server_cases.mjs", "serve-server"], dirs.scratch];
    case "node plain node:net":
      return ["node", ["server_cases.mjs", "net-server"], dirs.scratch];
  }
}

/** CPU ticks (user + system) of a process, from /proc. */
function cpuTicks(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!
    .split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

const TICKS_PER_SECOND = 100;

async function runOne(
  server: ServerName,
  plan: ServerPlan,
  dirs: ServerDirs,
): Promise<ServerResult> {
  const [program, args, cwd] = command(server, dirs);
  const child = new Deno.Command(program, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stop = () => {
    try {
      child.kill("SIGTERM"); // this child's PID only
    } catch {
      // Already exited.
    }
  };
  const deadline = setTimeout(stop, DEADLINE_MS);
  const lines = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  try {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`${server} did not start`);
      text += value;
    }
    const { port } = JSON.parse(text.split("\n")[0]!) as { port: number };
    const clients = new Deno.Command("node", {
      args: [
        "server_cases.mjs",
        "clients",
        String(port),
        String(plan.clients),
        String(plan.warmupMs),
        String(plan.measureMs),
        String(plan.size),
      ],
      cwd: dirs.scratch,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const clientDeadline = setTimeout(() => {
      try {
        clients.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, DEADLINE_MS);
    await new Promise((resolve) => setTimeout(resolve, plan.warmupMs));
    const before = cpuTicks(child.pid);
    const output = await clients.output();
    const after = cpuTicks(child.pid);
    clearTimeout(clientDeadline);
    const measured = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      requests: number;
      seconds: number;
      p50: number;
      p99: number;
      error?: string;
    };
    return {
      server,
      ...measured,
      serverCpuUs: (after - before) / TICKS_PER_SECOND * 1e6 /
        Math.max(1, measured.requests),
    };
  } catch (error) {
    return {
      server,
      requests: 0,
      seconds: 0,
      p50: NaN,
      p99: NaN,
      serverCpuUs: NaN,
      error: String(error),
    };
  } finally {
    stop();
    await lines.cancel().catch(() => {});
    await child.status;
    clearTimeout(deadline);
  }
}

/** Medians per server over the repetitions. */
export function summarizeServers(
  results: ServerResult[],
): Map<ServerName, { rps: number; p50: number; p99: number; cpuUs: number }> {
  const out = new Map<
    ServerName,
    { rps: number; p50: number; p99: number; cpuUs: number }
  >();
  for (const server of SERVERS) {
    const rows = results.filter((r) =>
      r.server === server && r.error === undefined
    );
    if (rows.length === 0) continue;
    out.set(server, {
      rps: median(rows.map((r) => r.requests / r.seconds)),
      p50: median(rows.map((r) => r.p50)),
      p99: median(rows.map((r) => r.p99)),
      cpuUs: median(rows.map((r) => r.serverCpuUs)),
    });
  }
  return out;
}

/** The targets: Node serve() >= plain node:net, p99 < 2 ms. */
export function serverTargets(results: ServerResult[]): Target[] {
  const summary = summarizeServers(results);
  const plain = summary.get("node plain node:net");
  const node = summary.get("node serve()");
  const out: Target[] = [];
  const ratio = (node?.rps ?? NaN) / (plain?.rps ?? NaN);
  out.push({
    name: "100 clients x 64 B request/response, node serve() vs plain node:net",
    value: ratio,
    display: `${ratio.toFixed(2)}x`,
    goal: ">= 1.00x",
    pass: ratio >= 1,
  });
  for (const server of ["deno serve()", "node serve()"] as const) {
    const p99 = summary.get(server)?.p99 ?? NaN;
    out.push({
      name: `100 clients x 64 B request/response p99, ${server}`,
      value: p99,
      display: `${(p99 / 1000).toFixed(2)} ms`,
      goal: "< 2 ms",
      pass: p99 < 2000,
    });
  }
  return out;
}

/** The section of results.md. */
export function renderServers(
  results: ServerResult[],
  plan: ServerPlan,
): string[] {
  const summary = summarizeServers(results);
  const lines = [
    "## Request/response servers",
    "",
    `${plan.clients} clients in one Node process (plain \`node:net\`, the ` +
    "same for every server) each send a " +
    `${plan.size} B frame and wait for the server's reply before the next, ` +
    `for ${plan.measureMs / 1000} s after a ${plan.warmupMs} ms warm-up; ` +
    "the server runs in its own process. Plain `node:net` is the same " +
    "protocol written by hand: `'data'` events, a length check, one " +
    "`socket.write()` per reply. Server CPU is the server process's user + " +
    "system time per request.",
    "",
    "| server | requests/s | p50 | p99 | server CPU/request |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const [server, s] of summary) {
    lines.push(
      `| ${server} | ${Math.round(s.rps).toLocaleString("en-US")} | ${
        (s.p50 / 1000).toFixed(2)
      } ms | ${(s.p99 / 1000).toFixed(2)} ms | ${s.cpuUs.toFixed(1)} µs |`,
    );
  }
  for (const r of results.filter((r) => r.error !== undefined)) {
    lines.push("", `${r.server} failed: ${r.error}`);
  }
  lines.push("");
  return lines;
}
