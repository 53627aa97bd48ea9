// The README's serve() example (the key-value server and its client) run on
// Node, as a user would run it: the code block is taken from README.md as it
// is, written next to the installed package and started with `node`. Under
// `deno test` the same block runs through `deno test --doc`; here it needs
// the installed package and the checkout's README, which deno task test:node
// provides (TCPFRAME_REPO).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const MARKER =
  "<!-- The Node suite runs this block too: tests/node/readme_serve_test.ts -->";

/** The installed package's node_modules, or why there is none. */
function nodeModules(): string | { skip: string } {
  const entry = fileURLToPath(import.meta.resolve("tcpframe"));
  const marker = `${sep}node_modules${sep}tcpframe${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) {
    return {
      skip:
        `"tcpframe" resolves to ${entry}, not an installed package; deno test --doc runs the block on Deno, deno task test:node on Node`,
    };
  }
  return entry.slice(0, at + `${sep}node_modules`.length);
}

/** The first code block after the marker in README.md. */
function readmeBlock(repo: string): string {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const at = readme.indexOf(MARKER);
  assert.ok(at >= 0, "README.md has the serve() example marker");
  const block = readme.slice(at).match(/```js\n([\s\S]*?)```/);
  assert.ok(block !== null, "a ```js block follows the marker");
  return block[1]!;
}

const modules = nodeModules();
const repo = process.env.TCPFRAME_REPO;
const skip = typeof modules !== "string"
  ? modules.skip
  : repo === undefined
  ? "TCPFRAME_REPO is not set (deno task test:node sets it)"
  : false;

test("README's serve() example runs on Node as it is", { skip }, async () => {
  // Next to node_modules, so that "tcpframe" resolves to the package.
  const dir = mkdtempSync(join(join(modules as string, ".."), ".readme-"));
  try {
    const file = join(dir, "example.mjs");
    writeFileSync(file, readmeBlock(repo!));
    const { code, stderr } = await new Promise<
      { code: number | null; stderr: string }
    >((resolve) => {
      execFile(
        process.execPath,
        [file],
        { timeout: 30_000 },
        (error, _stdout, stderr) =>
          resolve({
            code: error === null
              ? 0
              : (error as { code?: number }).code ?? null,
            stderr,
          }),
      );
    });
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
