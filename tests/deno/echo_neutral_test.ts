// The echo core stays runtime-neutral, so a Node binding can reuse runCli()
// unchanged: no Deno global, no runtime folder, and node:util (parseArgs,
// which Deno and Node both have) in args.ts only.
import assert from "node:assert/strict";

Deno.test("src/echo/ uses no Deno API and no node: module but node:util in args.ts", async () => {
  const dir = new URL("../../src/echo/", import.meta.url);
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(entry.name);
  }
  assert.ok(files.length > 10);
  for (const name of files.sort()) {
    const source = await Deno.readTextFile(new URL(name, dir));
    const code = source.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
    assert.doesNotMatch(code, /\bDeno\s*[.[]/, `${name} uses the Deno global`);
    const imports = [...code.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);
    for (const specifier of imports) {
      if (specifier.startsWith("node:")) {
        assert.ok(
          name === "args.ts" && specifier === "node:util",
          `${name} imports ${specifier}`,
        );
      } else {
        assert.match(
          specifier,
          /^\.\.?\/[\w./]+\.ts$/,
          `${name}: ${specifier}`,
        );
        assert.doesNotMatch(
          specifier,
          /\/(deno|node)\//,
          `${name}: ${specifier}`,
        );
      }
    }
  }
});
