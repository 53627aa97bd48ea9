// deno-lint-ignore-file no-console -- a command-line soak prints its report
/**
 * `deno task soak`: load and fault scenarios against real echo server
 * processes, the Deno CLI and the Node `tcpframe-echo` bin (from npm/, built
 * by `deno task build:npm`), one summary line per server; exits 1 if any
 * scenario failed.
 *
 * - `--short`: the small plan that `deno task test` runs;
 * - `--require-node`: fail instead of skipping Node when npm/ has no bin.
 *
 * Another echo CLI is one more entry in `commands`: a name and the argv
 * that comes before `server ...` or `client ...`.
 *
 * @module
 */

import { denoEcho, nodeEcho } from "./soak/commands.ts";
import type { EchoCommand } from "./soak/echo_server.ts";
import { FULL_PLAN, runSoak, SHORT_PLAN } from "./soak/run.ts";

const plan = Deno.args.includes("--short") ? SHORT_PLAN : FULL_PLAN;
const commands: EchoCommand[] = [await denoEcho()];
const node = await nodeEcho();
let failed = false;
if (node !== null) {
  commands.push(node);
} else if (Deno.args.includes("--require-node")) {
  console.error(
    "soak node: FAIL: npm/package.json has no tcpframe-echo bin (run deno task build:npm)",
  );
  failed = true;
} else {
  console.log(
    "soak node: skipped: npm/package.json has no tcpframe-echo bin (run deno task build:npm)",
  );
}

for (const command of commands) {
  const report = await runSoak(command, plan);
  for (const line of report.details) console.log(`  ${command.name} ${line}`);
  for (const line of report.failures) console.error(`  FAIL ${line}`);
  console.log(report.summary);
  failed ||= report.failures.length > 0;
}
Deno.exit(failed ? 1 : 0);
