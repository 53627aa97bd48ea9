// Server death: SIGKILL the server process while a client process is in
// the middle of a long exchange. The client must exit at once with a clean
// error (exit code 2 send failed or 3 receive failed): not a hang until its
// deadline, not a stack trace.

import { type EchoCommand, EchoServerProcess } from "./echo_server.ts";
import { ChildRun, crashLines } from "./process.ts";

/** The client's exchange, and the bounds. */
export interface DeathPlan {
  /** Client `--size` and `--count`: far more than is sent before the kill. */
  size: number;
  count: number;
  /** How long the transfer runs before the kill, in milliseconds. */
  killAfterMs: number;
  /** The client's `--timeout`: a hang would end here, with TIMEOUT. */
  clientTimeoutMs: number;
  /** How long the client may take to exit after the kill (< the above). */
  exitBoundMs: number;
}

/** How the client ended. */
export interface DeathResult {
  code: number | null;
  /** The client's last standard error line. */
  error: string;
  failures: string[];
}

/** Runs the scenario with `command`'s own server and client. */
export async function runServerDeath(
  command: EchoCommand,
  plan: DeathPlan,
): Promise<DeathResult> {
  const result: DeathResult = { code: null, error: "", failures: [] };
  const server = await EchoServerProcess.start(command, []);
  const client = new ChildRun([
    ...command.argv,
    "client",
    "127.0.0.1",
    String(server.port),
    "--size",
    String(plan.size),
    "--count",
    String(plan.count),
    "--timeout",
    String(plan.clientTimeoutMs),
  ], command.cwd);
  try {
    await server.run.stdout.waitFor(/^\[accept\] /, 30_000);
    await new Promise((resolve) => setTimeout(resolve, plan.killAfterMs));
    if (client.ended) {
      result.failures.push(
        `the client ended before the kill (raise --count): ${client.stderr.text}`,
      );
    }
    await server.kill();
    const status = await client.exited(
      `the client after the server's SIGKILL (its --timeout is ${plan.clientTimeoutMs} ms)`,
      plan.exitBoundMs,
    );
    result.code = status.code;
    result.error = client.stderr.lines.at(-1) ?? "";
    if (status.code !== 2 && status.code !== 3) {
      result.failures.push(`client exit code ${status.code}, expected 2 or 3`);
    }
    if (!/^\[error\] (send|receive): /.test(result.error)) {
      result.failures.push(`client's last line: ${result.error}`);
    }
    if (/TIMEOUT|deadline|timed out/i.test(client.stderr.text)) {
      result.failures.push(
        `the client waited for its deadline: ${result.error}`,
      );
    }
    const crashes = crashLines(`${client.stdout.text}\n${client.stderr.text}`);
    if (crashes.length > 0) {
      result.failures.push(`client crash output: ${crashes.join(" | ")}`);
    }
  } catch (error) {
    result.failures.push((error as Error).message);
  } finally {
    client.kill("SIGKILL");
    await client.status;
    await server.kill();
  }
  return result;
}
