// Fails when an exported symbol of any entrypoint in deno.json lacks JSDoc
// or a titled @example (`deno doc --lint` checks the rest: descriptions,
// explicit types). `deno test --doc` then runs every example.
//
//   deno run --allow-read --allow-run scripts/check_docs.ts
// deno-lint-ignore-file no-console -- a command-line check prints its report

interface DocNode {
  name: string;
  declarations?: Array<
    { jsDoc?: { doc?: string; tags?: Array<{ kind: string; doc?: string }> } }
  >;
}

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const entrypoints: string[] = Object.values(
  config.exports as Record<string, string>,
);
const output = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--json", ...entrypoints],
  cwd: root,
  stderr: "inherit",
}).output();
if (!output.success) Deno.exit(1);
const doc = JSON.parse(new TextDecoder().decode(output.stdout)) as {
  nodes: Record<string, { symbols: DocNode[] }>;
};

// A symbol re-exported by a second entrypoint carries no JSDoc there; it is
// judged where it is documented.
const documented = new Set(
  Object.values(doc.nodes).flatMap((module) =>
    module.symbols
      .filter((symbol) =>
        (symbol.declarations ?? []).some((d) => d.jsDoc?.doc?.trim())
      )
      .map((symbol) => symbol.name)
  ),
);
const problems: string[] = [];
let checked = 0;
for (const [specifier, module] of Object.entries(doc.nodes)) {
  const file = specifier.slice(root.href.length);
  for (const symbol of module.symbols) {
    const docs = (symbol.declarations ?? []).map((d) => d.jsDoc).filter((d) =>
      d !== undefined
    );
    if (docs.length === 0 && documented.has(symbol.name)) continue; // a re-export
    checked++;
    const examples = docs.flatMap((d) => d.tags ?? []).filter((t) =>
      t.kind === "example"
    );
    if (docs.every((d) => !d.doc?.trim())) {
      problems.push(`${file}: ${symbol.name} has no description`);
    }
    if (examples.length === 0) {
      problems.push(`${file}: ${symbol.name} has no @example`);
    } else if (
      examples.some((t) => (t.doc ?? "").trimStart().startsWith("```"))
    ) {
      problems.push(`${file}: ${symbol.name} has an @example without a title`);
    }
  }
}
for (const problem of problems) console.error(problem);
console.log(
  `docs: ${checked} exported symbols checked in ${entrypoints.length} entrypoints, ${problems.length} problems`,
);
if (problems.length > 0) Deno.exit(1);
