// Many processes on one port: two echo server processes started with
// --reuse-port (SO_REUSEPORT, Linux) on the same 127.0.0.1 port both serve
// clients; without the flag the second one cannot bind.
import assert from "node:assert/strict";
import { FrameReader, writeFrame } from "tcpframe";
import {
  type CliProcess,
  spawnCli,
  startServerProcess,
  stopProcess,
} from "./_echo.ts";

/** A port nothing listens on right now. */
function freePort(): number {
  using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return probe.addr.port;
}

/** The peers of a server's `[done]` lines. */
function donePeers(process: CliProcess): string[] {
  return process.stdout.lines.flatMap((line) =>
    line.match(/^\[done\] peer=(\S+) echoed /)?.[1] ?? []
  );
}

Deno.test({
  name: Deno.build.os === "linux"
    ? "echo CLI --reuse-port: two server processes share one port and both serve clients"
    : "echo CLI --reuse-port (skipped: SO_REUSEPORT spreads connections only on Linux)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const port = freePort();
    const started = [];
    try {
      for (let i = 0; i < 2; i++) {
        started.push(
          await startServerProcess(["--reuse-port"], {
            port,
            flags: ["--unstable-net"],
          }),
        );
      }
      const servers = started.map((s) => s.process);
      assert.deepEqual(started.map((s) => s.port), [port, port]);
      const clients: string[] = [];
      for (let i = 0; i < 40; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        clients.push(`127.0.0.1:${conn.localAddr.port}`);
        const payload = new TextEncoder().encode(`client ${i}`);
        await writeFrame(conn, payload);
        await conn.closeWrite();
        const echoes = [];
        for await (const frame of new FrameReader(conn)) echoes.push(frame);
        conn.close();
        assert.deepEqual(echoes, [payload]);
      }
      // Each server logs [done] once it has closed; bounded wait.
      for (let i = 0; i < 500; i++) {
        if (servers.flatMap(donePeers).length === clients.length) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const served = servers.map(donePeers);
      assert.ok(
        served.every((peers) => peers.length > 0),
        `connections per process: ${served.map((p) => p.length).join(", ")}`,
      );
      assert.deepEqual(served.flat().sort(), clients.sort());

      // Without the flag, the port is taken.
      const third = await spawnCli(["server", "127.0.0.1", String(port)]);
      const status = await third.status;
      assert.equal(status.code, 1);
      assert.match(third.stderr.text, /^\[bind-fail\] .*-> 127\.0\.0\.1:\d+$/m);
    } finally {
      for (const { process } of started) {
        assert.equal(await stopProcess(process), 0, process.stderr.text);
      }
    }
  },
});
