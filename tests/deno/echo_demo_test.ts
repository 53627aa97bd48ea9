// The README's first command, `deno task demo`, run as the task runs it.
import assert from "node:assert/strict";

Deno.test("the demo task runs with its own permissions, tells its three lessons and exits 0", async () => {
  const root = new URL("../../", import.meta.url);
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ) as { tasks: Record<string, string> };
  const [deno, ...args] = config.tasks.demo!.split(/\s+/);
  assert.equal(deno, "deno");
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.equal(stderr, "");
  assert.match(stdout, /^tcpframe demo: an echo server on 127\.0\.0\.1:\d+/);
  assert.match(
    stdout,
    /writeFrame\(\) each time: 100 write calls for 1500 bytes/,
  );
  assert.match(stdout, /writeFrames\(\): +1 write call +for 1500 bytes/);
  assert.match(
    stdout,
    /\[trace\] reads: \d+ calls \(\d+ short\), 4194308 bytes, 1 frames/,
  );
  assert.match(stdout, /client +closeWrite\(\): FIN sent/);
  assert.match(
    stdout,
    /server +\[done\] peer=127\.0\.0\.1:\d+ echoed 11 bytes in 3 frames/,
  );
  assert.match(stdout, /client +read end of stream: the server's FIN/);
  assert.match(stdout, /nothing is left running/);
});
