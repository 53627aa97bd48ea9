// Deno.connect() to a name that does not resolve throws a plain Error;
// normalizeError() makes it a HostNotFoundError, as Node's ENOTFOUND is.
import assert from "node:assert/strict";
import { HostNotFoundError, normalizeError } from "tcpframe";

Deno.test("normalizeError() maps Deno.connect()'s failed lookup to HostNotFoundError", async () => {
  // .invalid never resolves (RFC 6761); without a network it fails locally.
  let thrown: unknown;
  try {
    const conn = await Deno.connect({
      hostname: "no-such-host.invalid",
      port: 80,
      signal: AbortSignal.timeout(20_000),
    });
    conn.close();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof Error, "Deno.connect() did not fail");
  const mapped = normalizeError(thrown);
  assert.ok(mapped instanceof HostNotFoundError, String(thrown));
  assert.equal(mapped.code, "HOST_NOT_FOUND");
  assert.equal(mapped.cause, thrown);
  assert.match(mapped.message, /^Host not found \(failed to lookup address/);
});
