// The echo CLIs under test, as argv arrays: Deno's from the `echo` task,
// Node's from the `tcpframe-echo` bin of the built npm package.

import type { EchoCommand } from "./echo_server.ts";

const ROOT = new URL("../../", import.meta.url);

/**
 * The `echo` task's command line from deno.json with `deno` replaced by
 * this Deno, so the server runs with exactly the task's permissions.
 */
export async function denoEcho(): Promise<EchoCommand> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { tasks: Record<string, string> };
  const [deno, ...args] = config.tasks.echo!.split(/\s+/);
  if (deno !== "deno") throw new Error(`Unexpected echo task: ${deno}`);
  return { name: "deno", argv: [Deno.execPath(), ...args], cwd: ROOT };
}

/**
 * `node <bin>` for the `tcpframe-echo` bin of the package that
 * `deno task build:npm` wrote to npm/, or `null` when there is none (not
 * built yet, or built before the bin existed).
 */
export async function nodeEcho(): Promise<EchoCommand | null> {
  const npm = new URL("npm/", ROOT);
  let bin: unknown;
  try {
    bin = (JSON.parse(
      await Deno.readTextFile(new URL("package.json", npm)),
    ) as { bin?: Record<string, string> }).bin?.["tcpframe-echo"];
  } catch {
    return null;
  }
  if (typeof bin !== "string") return null;
  return { name: "node", argv: ["node", bin], cwd: npm };
}
