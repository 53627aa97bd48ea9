// The README is the one place the Deno version is pinned: .ci/run runs its
// test line verbatim, so every other mention must name the same version.
import assert from "node:assert/strict";

Deno.test("README pins one Deno version in every npx command", async () => {
  const readme = await Deno.readTextFile(
    new URL("../../README.md", import.meta.url),
  );
  const versions = new Set(
    [...readme.matchAll(/npx --yes deno@(\S+)/g)].map((m) => m[1]),
  );
  assert.equal(versions.size, 1, `README names ${[...versions].join(", ")}`);
  assert.match(readme, /^npx --yes deno@\S+ task test$/m);
});
