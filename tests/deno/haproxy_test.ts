// A real HAProxy in front of tcpframe echo servers: one frontend with
// `send-proxy` (PROXY v1) and one with `send-proxy-v2`, each round-robin
// over two echo server processes started with --proxy-protocol. Every frame
// must come back exactly, and each server must log the true client address
// (the client's own port, not HAProxy's). Skipped, with the reason, when
// the haproxy program is absent (.ci/run installs it where it can).
import assert from "node:assert/strict";
import { FrameReader, writeFrame } from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import {
  type CliProcess,
  spawnProcess,
  startServerProcess,
  stopProcess,
} from "./_echo.ts";

const CLIENTS_PER_FRONTEND = 6;

async function haproxyVersion(): Promise<string | { skip: string }> {
  try {
    const output = await new Deno.Command("haproxy", {
      args: ["-v"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const line = new TextDecoder().decode(output.stdout).split("\n")[0]!;
    return output.success ? line : { skip: `haproxy -v failed: ${line}` };
  } catch (error) {
    return {
      skip: `no haproxy program (${
        (error as Error).name
      }): apt-get install haproxy`,
    };
  }
}

/** A port nothing listens on right now. */
function freePort(): number {
  using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return probe.addr.port;
}

/** Whether something listens on `port` (binding it fails), without connecting. */
function taken(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return false;
  } catch {
    return true;
  }
}

/** The peers of a server's `[done]` lines. */
function donePeers(process: CliProcess): string[] {
  return process.stdout.lines.flatMap((line) =>
    line.match(/^\[done\] peer=(\S+) echoed /)?.[1] ?? []
  );
}

/** One client through HAProxy: frames of several sizes, echoed exactly. */
async function client(port: number, seed: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const address = `127.0.0.1:${conn.localAddr.port}`;
  const payloads = [0, 1, 100, 70_000, 5].map((size, i) =>
    pseudoRandomBytes(size, seed * 10 + i)
  );
  const signal = AbortSignal.timeout(20_000);
  const sending = (async () => {
    for (const payload of payloads) await writeFrame(conn, payload, { signal });
    await conn.closeWrite();
  })();
  const echoes = [];
  for await (const frame of new FrameReader(conn)) echoes.push(frame);
  await sending;
  conn.close();
  assert.deepEqual(echoes, payloads, `client ${address}`);
  return address;
}

const version = await haproxyVersion();

Deno.test({
  name: typeof version === "string"
    ? "HAProxy send-proxy and send-proxy-v2, round-robin over two echo servers each: frames echoed exactly, true client addresses logged"
    : `HAProxy send-proxy and send-proxy-v2 in front of echo servers (skipped: ${version.skip})`,
  ignore: typeof version !== "string",
  async fn() {
    const servers: { name: string; process: CliProcess; port: number }[] = [];
    let haproxy: CliProcess | undefined;
    const dir = await Deno.makeTempDir({ prefix: "tcpframe-haproxy-" });
    try {
      for (
        const [name, flag] of [["a", "v1"], ["b", "v1"], ["c", "v2"], [
          "d",
          "v2",
        ]]
      ) {
        const started = await startServerProcess(["--proxy-protocol", flag!]);
        servers.push({ name: name!, ...started });
      }
      const [a, b, c, d] = servers.map((s) => s.port);
      const frontends = { v1: freePort(), v2: freePort() };
      const config = `${dir}/haproxy.cfg`;
      await Deno.writeTextFile(
        config,
        `global
  maxconn 256

defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend send_proxy
  bind 127.0.0.1:${frontends.v1}
  default_backend echo_v1

backend echo_v1
  balance roundrobin
  server a 127.0.0.1:${a} send-proxy
  server b 127.0.0.1:${b} send-proxy

frontend send_proxy_v2
  bind 127.0.0.1:${frontends.v2}
  default_backend echo_v2

backend echo_v2
  balance roundrobin
  server c 127.0.0.1:${c} send-proxy-v2
  server d 127.0.0.1:${d} send-proxy-v2
`,
      );
      haproxy = await spawnProcess("haproxy", ["-db", "-f", config]);
      for (let i = 0; i < 500; i++) {
        if (taken(frontends.v1) && taken(frontends.v2)) break;
        if (i === 499) {
          throw new Error(`haproxy did not bind:\n${haproxy.stderr.text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const summary: string[] = [];
      for (
        const [label, port, pair] of [
          ["send-proxy", frontends.v1, servers.slice(0, 2)],
          ["send-proxy-v2", frontends.v2, servers.slice(2)],
        ] as const
      ) {
        const clients = await Promise.all(
          Array.from(
            { length: CLIENTS_PER_FRONTEND },
            (_, i) => client(port, i),
          ),
        );
        for (let i = 0; i < 500; i++) {
          if (
            pair.flatMap((s) => donePeers(s.process)).length >= clients.length
          ) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const logged = pair.map((s) => donePeers(s.process));
        // Round-robin: both servers got clients, and together exactly these.
        assert.ok(
          logged.every((peers) => peers.length > 0),
          logged.join(" | "),
        );
        assert.deepEqual(logged.flat().sort(), [...clients].sort());
        summary.push(
          `${label}: ${clients.length} clients, ${
            pair.map((s, i) => `server ${s.name} logged ${logged[i]!.length}`)
              .join(", ")
          } true client addresses (${
            logged.flat().slice(0, 2).join(", ")
          }, ...)`,
        );
      }
      for (const server of servers) {
        assert.equal(server.process.stderr.text, "", `server ${server.name}`);
      }
      // deno-lint-ignore no-console -- the report names what was checked
      console.log(`${version}\n  ${summary.join("\n  ")}`);
    } finally {
      if (haproxy !== undefined) await stopProcess(haproxy).catch(() => {});
      for (const { process } of servers) {
        assert.equal(await stopProcess(process), 0, process.stderr.text);
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
