// serve() on the Node adapter's listen(): TCP with many clients, a Unix
// domain socket, TCP keepalive checked against the kernel's /proc/net/tcp,
// and two node:cluster workers sharing one port. Runs on Node (deno task
// test:node) and on Deno's node:net (deno test).
import { test } from "node:test";
import assert from "node:assert/strict";
import cluster from "node:cluster";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  FrameReader,
  type FrameSession,
  type NetAddr,
  type Reader,
  serve,
  writeFrame,
} from "tcpframe";
import { connect, listen, type NodeConn } from "tcpframe/node";
import { KEEPALIVE_TIMER, tcpTimer } from "../_proc_net.ts";

/** Echoes every frame. */
async function echo({ reader, writer }: FrameSession): Promise<void> {
  for await (const frame of reader) await writer.write(frame);
}

/** Sends `payloads`, half-closes and returns the echoes. */
async function exchange(
  conn: NodeConn<NetAddr> | NodeConn<{ transport: "unix"; path: string }>,
  payloads: Uint8Array[],
): Promise<Uint8Array[]> {
  const sending = (async () => {
    for (const payload of payloads) await writeFrame(conn, payload);
    await conn.closeWrite();
  })();
  const echoes: Uint8Array[] = [];
  for await (const frame of new FrameReader(conn as Reader)) echoes.push(frame);
  await sending;
  conn.close();
  return echoes;
}

const onClusterWorker = cluster.isWorker && process.env.TCPFRAME_CLUSTER_PORT;

if (onClusterWorker) {
  // A node:cluster worker of the test below: serve on the shared port and
  // answer every frame with this worker's id.
  const id = new TextEncoder().encode(String(cluster.worker!.id));
  const server = serve(
    await listen({ hostname: "127.0.0.1", port: Number(onClusterWorker) }),
    async ({ reader, writer }) => {
      for await (const _ of reader) await writer.write(id);
    },
  );
  process.on("message", (message) => {
    if (message === "stop") void server.shutdown().then(() => process.exit(0));
  });
  process.send!("listening");
} else {
  test("serve() on the Node adapter's listen() serves 50 TCP clients at once", async () => {
    const peers: string[] = [];
    const server = serve(
      await listen({ hostname: "127.0.0.1", port: 0 }),
      async (session) => {
        const addr = session.remoteAddr as NetAddr;
        peers.push(`${addr.hostname}:${addr.port}`);
        await echo(session);
      },
    );
    const { port } = server.addr as NetAddr;
    const clients = await Promise.all(
      Array.from(
        { length: 50 },
        () => connect({ hostname: "127.0.0.1", port }),
      ),
    );
    const locals = clients.map((c) => `127.0.0.1:${c.localAddr.port}`);
    const results = await Promise.all(clients.map((conn, i) => {
      const payloads = [new Uint8Array(i * 1000).fill(i), new Uint8Array(0)];
      return exchange(conn, payloads).then((echoes) => [payloads, echoes]);
    }));
    for (const [payloads, echoes] of results) {
      assert.deepEqual(echoes, payloads);
    }
    await server.shutdown();
    assert.deepEqual(peers.sort(), locals.sort());
  });

  test("serve() on the Node adapter's listen({ path }) echoes frames over a Unix socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpframe-serve-"));
    try {
      const path = join(dir, "serve.sock");
      let peer: unknown;
      const server = serve(await listen({ path }), async (session) => {
        peer = session.remoteAddr;
        await echo(session);
      });
      const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(200_000)];
      assert.deepEqual(
        await exchange(await connect({ path }), payloads),
        payloads,
      );
      await server.shutdown();
      assert.deepEqual(peer, { transport: "unix", path: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const procReadable = tcpTimer(0, 0);
  test(
    "serve() keepAlive turns SO_KEEPALIVE on and off on the Node adapter's connections",
    {
      skip: typeof procReadable === "string" ? procReadable : false,
    },
    async () => {
      for (const keepAlive of [true, false]) {
        let opened = () => {};
        const open = new Promise<void>((resolve) => (opened = resolve));
        const server = serve(
          await listen({ hostname: "127.0.0.1", port: 0 }),
          async (session) => {
            opened();
            await echo(session);
          },
          { keepAlive },
        );
        const { port } = server.addr as NetAddr;
        const conn = await connect({ hostname: "127.0.0.1", port });
        await open;
        assert.equal(
          tcpTimer(port, conn.localAddr.port),
          keepAlive ? KEEPALIVE_TIMER : 0,
          `keepAlive ${keepAlive}`,
        );
        conn.close();
        await server.shutdown();
      }
    },
  );

  const clusterSkip = "Deno" in globalThis
    ? "node:cluster workers are a Node feature; Deno shares a port with reusePort (tests/deno/reuse_port_test.ts)"
    : false;
  test("serve() in two node:cluster workers: one port, both serve clients", {
    skip: clusterSkip,
  }, async () => {
    // A free port for the workers to share.
    const probe = await listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    cluster.setupPrimary({
      exec: fileURLToPath(import.meta.url),
      execArgv: [], // not the test runner's flags: a plain program
      silent: false,
    });
    const env = { TCPFRAME_CLUSTER_PORT: String(port) };
    const workers = [cluster.fork(env), cluster.fork(env)];
    const killer = setTimeout(() => {
      for (const worker of workers) worker.process.kill("SIGKILL");
    }, 30_000);
    try {
      await Promise.all(
        workers.map((worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once("message", () => resolve());
            worker.once("exit", (code) =>
              reject(new Error(`worker exited ${code}`)));
          })
        ),
      );
      const ids = new Set<string>();
      for (let i = 0; i < 40 && ids.size < 2; i++) {
        const conn = await connect({ hostname: "127.0.0.1", port });
        const [reply] = await exchange(conn, [new Uint8Array(1)]);
        ids.add(new TextDecoder().decode(reply));
      }
      assert.deepEqual(
        [...ids].sort(),
        workers.map((w) => String(w.id)).sort(),
      );
    } finally {
      await Promise.all(workers.map((worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once("exit", () => resolve());
          worker.send("stop");
        })
      ));
      clearTimeout(killer);
    }
  });
}
