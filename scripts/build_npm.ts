// deno-lint-ignore-file no-console
/**
 * Builds the npm package `tcpframe` into `npm/` and tests what it built, the
 * way a user gets it. Run with `deno task build:npm` (`deno task test:node`
 * in the test gate).
 *
 * Why this tool chain:
 * - dnt, the usual Deno-to-npm builder, is published only on JSR, which this
 *   project's machines cannot reach.
 * - `deno pack` (Deno 2.9) drops `bin` and `description` from the
 *   package.json it writes and can put two package.json files in the
 *   tarball.
 * - `deno transpile` leaves `./x.ts` import specifiers as they are, so its
 *   output does not load in Node.
 * - TypeScript's own compiler (npm `typescript`, pinned in the import
 *   below) with `rewriteRelativeImportExtensions` (TypeScript >= 5.7) turns
 *   Deno-style sources into ES modules that import `./x.js`: a real
 *   compiler, no text rewriting. That option leaves `./x.ts` in `.d.ts`
 *   files, which TypeScript 4.9 consumers cannot resolve, so a small
 *   declaration transformer rewrites those specifiers on the syntax tree.
 * - npm work (the tools, the packed tarball's consumer) happens in a scratch
 *   project in a temporary directory: nothing npm-related at the
 *   repository's top.
 *
 * Steps:
 * 1. Check that no module reachable from an entrypoint imports `node:*`
 *    outside `src/node/` (but for `NODE_OUTSIDE_NODE_DIR`), that nothing
 *    reachable from `.` imports `node:*` at all, and that nothing imports
 *    anything but local files and `node:*` (the package has no runtime
 *    dependencies). `Deno` cannot be reached either: the compile step has
 *    Node's types only.
 * 2. Install the pinned tools into the scratch project; compile every
 *    `deno.json` export not in `DENO_ONLY_EXPORTS`, plus the `BIN` modules,
 *    into `npm/`; write `npm/package.json` from `deno.json`; copy README.md
 *    and LICENSE.
 * 3. `npm pack`; fail unless the packed exports describe exactly the
 *    entrypoints of `deno.json`; run publint and `@arethetypeswrong/cli`
 *    (esm-only profile) on the tarball, failing on any message.
 * 4. Install the tarball into the scratch project, compile the
 *    runtime-neutral tests (`tests/*_test.ts`, `tests/node/**`) there with
 *    `tsc` (they import `tcpframe`, which now resolves to the installed
 *    package), and run them with `node --test`. The echo tests there start
 *    the installed `tcpframe-echo` bin, and the Deno CLI of this checkout
 *    through `TCPFRAME_DENO` (this Deno) and `TCPFRAME_REPO`, for the
 *    interop matrix.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "npm:typescript@5.9.3";

/** The npm package's name (the JSR name is `deno.json`'s `name`). */
const NPM_NAME = "tcpframe";

/**
 * Exact versions of the npm tools the build runs. TypeScript's is the one
 * imported above, so it is pinned in one place.
 */
const TOOLS: Readonly<Record<string, string>> = {
  "typescript": ts.version,
  "@types/node": "20.19.43",
  "publint": "0.3.25",
  "@arethetypeswrong/cli": "0.18.5",
};

/**
 * `deno.json` exports that only work on Deno and are left out of npm. The
 * echo CLI reaches npm users as the `tcpframe-echo` bin instead.
 */
const DENO_ONLY_EXPORTS: ReadonlySet<string> = new Set<string>(["./echo"]);

/**
 * npm `bin` commands: command name to source module (relative to the
 * repository). The build compiles each one, starts it with a `node` shebang
 * and sets its exec bit. Adding a command is one line here.
 */
const BIN: Readonly<Record<string, string>> = {
  "tcpframe-echo": "src/node/echo.ts",
};

/**
 * The only `node:*` imports allowed outside `src/node/`: the echo CLI's
 * argument parser uses `node:util`'s `parseArgs`, which Deno provides too,
 * so the runtime-neutral echo modules stay shared by the Deno CLI and the
 * Node bin. Nothing reachable from `.` may use even these.
 */
const NODE_OUTSIDE_NODE_DIR: Readonly<Record<string, readonly string[]>> = {
  "src/echo/args.ts": ["node:util"],
};

/**
 * The Bun that `--bun` (`deno task test:bun`) installs from the npm registry
 * to run the same tests against the same installed package. Not part of the
 * gate: README.md says what differs on Bun.
 */
const BUN = "1.4.5";

/** `--bun`: run the installed-package tests with Bun instead of Node. */
const ON_BUN = Deno.args.includes("--bun");
/**
 * `--no-test`: stop after packing and the package checks, leaving `npm/`
 * ready for the soak; the gate's last step builds again and runs the tests,
 * so that it ends with the test runner's summary.
 */
const NO_TEST = Deno.args.includes("--no-test");

/** The oldest Node the package supports (`require()` of ESM needs 20.19). */
const NODE_ENGINES = ">=20";

/**
 * The JavaScript library that Node 20 implements in full: code that uses
 * anything newer (`Array.fromAsync`, say) fails to compile here instead of
 * failing at run time on Node 20.
 */
const NODE_LIB = "ES2023";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(ROOT, "npm");

interface DenoConfig {
  name: string;
  version: string;
  license: string;
  description?: string;
  keywords?: string[];
  repository?: unknown;
  exports: string | Record<string, string>;
  imports?: Record<string, string>;
  compilerOptions?: Record<string, unknown>;
}

interface NpmExport {
  types: string;
  default: string;
}

const STARTED = performance.now();

function step(title: string): void {
  const seconds = ((performance.now() - STARTED) / 1000).toFixed(1);
  console.log(`\n== build:npm [${seconds} s]: ${title}`);
}

function fail(message: string): never {
  throw new Error(`build:npm: ${message}`);
}

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  options: {
    capture?: boolean;
    quiet?: boolean;
    label?: string;
    env?: Record<string, string>;
  } = {},
): Promise<string> {
  const shown = options.label ??
    `${cmd === Deno.execPath() ? "deno" : cmd} ${args.join(" ")}`;
  if (!options.quiet) console.log(`$ ${shown}  # in ${cwd}`);
  const output = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: options.capture ? "piped" : "inherit",
    stderr: "inherit",
    ...(options.env === undefined ? {} : { env: options.env }),
  }).output();
  if (!output.success) {
    fail(`${cmd} ${args.join(" ")} exited with code ${output.code}`);
  }
  return options.capture ? new TextDecoder().decode(output.stdout) : "";
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** `./src/x.ts` becomes `./src/x.js` (or `.d.ts`). */
function compiled(source: string, extension: ".js" | ".d.ts"): string {
  if (!source.endsWith(".ts")) fail(`${source} is not a .ts module`);
  return source.slice(0, -".ts".length) + extension;
}

/** Lists files under `dir`, relative to it, with `/` separators. */
async function walk(dir: string, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) files.push(...await walk(dir, path));
    else files.push(path);
  }
  return files.sort();
}

/**
 * Fails if a module reachable from `entrypoints` imports `node:*` from
 * outside `src/node/` (other than `NODE_OUTSIDE_NODE_DIR`), a module
 * reachable from `core` imports `node:*` at all, or one imports anything but
 * local modules and `node:*`.
 */
async function checkModuleGraph(
  core: string,
  entrypoints: string[],
): Promise<void> {
  const nodeDir = join(ROOT, "src", "node") + "/";
  for (const entry of [core, ...entrypoints]) {
    const json = await run(
      Deno.execPath(),
      ["info", "--json", entry],
      ROOT,
      { capture: true, quiet: true },
    );
    const graph = JSON.parse(json) as {
      modules: Array<{
        kind: string;
        specifier: string;
        dependencies?: Array<{ specifier: string }>;
      }>;
    };
    for (const module of graph.modules) {
      if (module.kind === "node") continue;
      if (module.kind !== "esm" || !module.specifier.startsWith("file:")) {
        fail(
          `${entry} reaches ${module.specifier}: the package must have no runtime dependencies`,
        );
      }
      const path = fileURLToPath(module.specifier);
      const file = relative(ROOT, path);
      for (const { specifier } of module.dependencies ?? []) {
        if (!specifier.startsWith("node:")) continue;
        if (entry === core) {
          fail(
            `${file} imports ${specifier}; nothing reachable from ${core} may`,
          );
        }
        if (
          !path.startsWith(nodeDir) &&
          !NODE_OUTSIDE_NODE_DIR[file]?.includes(specifier)
        ) {
          fail(
            `${file} imports ${specifier}; only src/node/ may (the core stays runtime-neutral)`,
          );
        }
      }
    }
  }
}

/**
 * Fails unless the packed `exports` describe exactly the npm entrypoints of
 * `deno.json`, each one's files are in the tarball, and every `bin` is too.
 */
function checkPackedExports(
  denoExports: Record<string, string>,
  packed: { exports: Record<string, NpmExport>; bin?: Record<string, string> },
  files: ReadonlySet<string>,
): void {
  const want = Object.keys(denoExports)
    .filter((key) => !DENO_ONLY_EXPORTS.has(key)).sort();
  const got = Object.keys(packed.exports).sort();
  if (want.join() !== got.join()) {
    fail(
      `npm exports [${got}] differ from deno.json exports [${want}] (Deno-only: [${[
        ...DENO_ONLY_EXPORTS,
      ]}])`,
    );
  }
  for (const key of want) {
    const source = denoExports[key]!;
    const entry = packed.exports[key]!;
    const expected = {
      types: compiled(source, ".d.ts"),
      default: compiled(source, ".js"),
    };
    if (JSON.stringify(entry) !== JSON.stringify(expected)) {
      fail(
        `npm export ${key} is ${JSON.stringify(entry)}, expected ${
          JSON.stringify(expected)
        } for ${source}`,
      );
    }
    for (const file of Object.values(entry)) {
      if (!files.has(file.slice(2))) fail(`${file} is not in the tarball`);
    }
  }
  for (const [name, file] of Object.entries(packed.bin ?? {})) {
    if (!files.has(file.slice(2))) {
      fail(`bin ${name} (${file}) is not in the tarball`);
    }
  }
}

/**
 * A declaration transformer: `./x.ts` becomes `./x.js` in the module
 * specifiers of `.d.ts` files. `rewriteRelativeImportExtensions` rewrites
 * only the JavaScript, and TypeScript 4.9 cannot resolve `.ts` specifiers in
 * a package's declarations.
 */
function declarationSpecifiers(
  context: ts.TransformationContext,
): (node: ts.SourceFile | ts.Bundle) => ts.SourceFile | ts.Bundle {
  const { factory } = context;
  const rewrite = (
    specifier: ts.Node | undefined,
  ): ts.StringLiteral | undefined =>
    specifier !== undefined && ts.isStringLiteral(specifier) &&
      /^\.\.?\//.test(specifier.text) && /(?<!\.d)\.ts$/.test(specifier.text)
      ? factory.createStringLiteral(specifier.text.slice(0, -3) + ".js")
      : undefined;
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      const specifier = rewrite(node.moduleSpecifier);
      if (specifier !== undefined) {
        return factory.updateImportDeclaration(
          node,
          node.modifiers,
          node.importClause,
          specifier,
          node.attributes,
        );
      }
    } else if (ts.isExportDeclaration(node)) {
      const specifier = rewrite(node.moduleSpecifier);
      if (specifier !== undefined) {
        return factory.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          specifier,
          node.attributes,
        );
      }
    } else if (
      ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)
    ) {
      const specifier = rewrite(node.argument.literal);
      if (specifier !== undefined) {
        return factory.updateImportTypeNode(
          node,
          factory.updateLiteralTypeNode(node.argument, specifier),
          node.attributes,
          node.qualifier,
          node.typeArguments,
          node.isTypeOf,
        );
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (node) =>
    ts.isSourceFile(node) ? ts.visitEachChild(node, visit, context) : node;
}

/** Prints TypeScript diagnostics and fails if there are any. */
function check(diagnostics: readonly ts.Diagnostic[], what: string): void {
  if (diagnostics.length === 0) return;
  console.log(ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  }));
  fail(`${what}: ${diagnostics.length} TypeScript error(s)`);
}

/**
 * Compiles the library into `npm/` with TypeScript's compiler API, the
 * `@types/node` of the scratch project and the strict options of
 * `deno.json`.
 */
function compileLibrary(
  scratch: string,
  config: DenoConfig,
  sources: string[],
): void {
  const { options, errors } = ts.convertCompilerOptionsFromJson({
    ...config.compilerOptions,
    target: "ES2022",
    module: "ES2022",
    moduleResolution: "Bundler",
    lib: [NODE_LIB],
    types: ["node"],
    typeRoots: [join(scratch, "node_modules", "@types")],
    rewriteRelativeImportExtensions: true,
    declaration: true,
    rootDir: ROOT,
    outDir: OUT,
    newLine: "lf",
    skipLibCheck: true,
  }, ROOT);
  check(errors, "compiler options");
  console.log(`$ tsc (TypeScript ${ts.version} API) ${sources.join(" ")}`);
  const program = ts.createProgram({
    rootNames: sources.map((source) => join(ROOT, source)),
    options,
  });
  check(ts.getPreEmitDiagnostics(program), "compile");
  const result = program.emit(undefined, undefined, undefined, false, {
    afterDeclarations: [declarationSpecifiers],
  });
  check(result.diagnostics, "emit");
}

/** Gives each `bin` module a node shebang and the exec bit. */
async function finishBins(): Promise<Record<string, string>> {
  const bin: Record<string, string> = {};
  for (const [name, source] of Object.entries(BIN)) {
    const file = compiled(`./${source.replace(/^\.\//, "")}`, ".js");
    const path = join(OUT, file);
    const code = await Deno.readTextFile(path);
    const body = code.startsWith("#!")
      ? code.slice(code.indexOf("\n") + 1)
      : code;
    await Deno.writeTextFile(path, `#!/usr/bin/env node\n${body}`);
    await Deno.chmod(path, 0o755);
    bin[name] = file;
  }
  return bin;
}

/** Runs publint's API on the tarball; fails on any message. */
async function publint(scratch: string, tarball: string): Promise<void> {
  const script = `
    import { readFile } from "node:fs/promises";
    import { publint } from "publint";
    import { formatMessage } from "publint/utils";
    const data = await readFile(${JSON.stringify(tarball)});
    const tarball = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, level: "suggestion", strict: true });
    for (const message of messages) {
      console.log(\`publint \${message.type}: \${formatMessage(message, pkg, { color: false })}\`);
    }
    console.log(\`publint: \${messages.length} message(s)\`);
    process.exitCode = messages.length === 0 ? 0 : 1;
  `;
  await run("node", ["--input-type=module", "-e", script], scratch, {
    label: `node -e <publint({ pack: { tarball }, strict: true })>`,
  });
}

/**
 * The runtime-neutral tests (`tests/*_test.ts` and the tests under `tests/node/`),
 * split into those that reach the library only through `tcpframe` and
 * `tcpframe/node`, which run against the package, and those that import its
 * internal modules (`../src/_x.ts`), which only Deno runs.
 */
async function selectTests(): Promise<{ run: string[]; internal: string[] }> {
  const testsUrl = new URL("../tests/", import.meta.url).href;
  const runnable: string[] = [];
  const internal: string[] = [];
  for (const file of await walk(join(ROOT, "tests"))) {
    if (!/^[^/]+_test\.ts$|^node\/.+_test\.ts$/.test(file)) continue;
    const graph = JSON.parse(
      await run(Deno.execPath(), ["info", "--json", `tests/${file}`], ROOT, {
        capture: true,
        quiet: true,
      }),
    ) as {
      modules: Array<
        { specifier: string; dependencies?: Array<{ specifier: string }> }
      >;
    };
    const reaches = graph.modules
      .filter((module) => module.specifier.startsWith(testsUrl))
      .flatMap((module) =>
        (module.dependencies ?? [])
          .filter((dependency) => dependency.specifier.startsWith("."))
          .map((dependency) =>
            new URL(dependency.specifier, module.specifier).href
          )
      )
      .filter((href) => !href.startsWith(testsUrl));
    if (reaches.length === 0) runnable.push(`tests/${file}`);
    else {
      internal.push(
        `tests/${file} (imports ${
          reaches.map((href) => relative(ROOT, fileURLToPath(href))).join(", ")
        })`,
      );
    }
  }
  return { run: runnable, internal };
}

/** Copies `tests/` except the Deno-only `tests/deno/` into `dest`. */
async function copyTests(dest: string): Promise<void> {
  const from = join(ROOT, "tests");
  for (const file of await walk(from)) {
    if (file.startsWith("deno/")) continue;
    await Deno.mkdir(dirname(join(dest, file)), { recursive: true });
    await Deno.copyFile(join(from, file), join(dest, file));
  }
}

/**
 * Compiles and runs the runtime-neutral tests against the installed tarball,
 * with `node --test` (or `bun test` with `--bun`).
 */
async function testInstalled(scratch: string, config: DenoConfig) {
  const { run: tests, internal } = await selectTests();
  for (const line of internal) {
    console.log(`Deno only, not run against the package: ${line}`);
  }
  if (tests.length === 0) fail("no tests to run on Node");
  await copyTests(join(scratch, "tests"));
  await writeJson(join(scratch, "tsconfig.tests.json"), {
    compilerOptions: {
      ...config.compilerOptions,
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: [NODE_LIB],
      types: ["node"],
      rewriteRelativeImportExtensions: true,
      newLine: "lf",
      noEmitOnError: true,
    },
    files: tests,
  });
  await run("node", [
    join(scratch, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.tests.json",
  ], scratch);
  // The echo interop tests start this Deno on this checkout's Deno CLI.
  const env = { TCPFRAME_DENO: Deno.execPath(), TCPFRAME_REPO: ROOT };
  const files = tests.map((file) => compiled(file, ".js"));
  if (ON_BUN) {
    await run(
      join(scratch, "node_modules", ".bin", "bun"),
      [
        "test",
        "--timeout=60000",
        ...files.map((file) => `./${file}`),
      ],
      scratch,
      { env },
    );
  } else {
    await run(
      "node",
      [
        "--test",
        "--test-reporter=spec",
        "--test-timeout=60000",
        ...files,
      ],
      scratch,
      { env },
    );
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ) as DenoConfig;
  const denoExports = typeof config.exports === "string"
    ? { ".": config.exports }
    : config.exports;
  for (const key of DENO_ONLY_EXPORTS) {
    if (!(key in denoExports)) {
      fail(`Deno-only export ${key} is not in deno.json`);
    }
  }
  const npmSources = Object.entries(denoExports)
    .filter(([key]) => !DENO_ONLY_EXPORTS.has(key));
  const fastCheck =
    config.imports?.["fast-check"]?.match(/^npm:fast-check@(.+)$/)
      ?.[1] ??
      fail('deno.json imports has no "fast-check": "npm:fast-check@X"');

  step("check the module graph");
  await checkModuleGraph(denoExports["."] ?? fail('deno.json exports no "."'), [
    ...npmSources.map(([, source]) => source),
    ...Object.values(BIN),
  ]);

  await Deno.remove(OUT, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.mkdir(OUT);
  const scratch = await Deno.makeTempDir({ prefix: "tcpframe-npm-" });
  try {
    step(`install the pinned tools into ${scratch}`);
    await writeJson(join(scratch, "package.json"), {
      name: "tcpframe-consumer",
      private: true,
      type: "module",
    });
    const npmInstall = [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
    ];
    await run("npm", [
      ...npmInstall,
      ...Object.entries({
        ...TOOLS,
        "fast-check": fastCheck,
        ...(ON_BUN ? { bun: BUN } : {}),
      }).map(([name, version]) => `${name}@${version}`),
    ], scratch);

    step("compile");
    compileLibrary(scratch, config, [
      ...npmSources.map(([, source]) => source),
      ...Object.values(BIN),
    ]);
    const emitted = await walk(OUT);
    const bin = await finishBins();
    const exports: Record<string, NpmExport> = {};
    for (const [key, source] of npmSources) {
      exports[key] = {
        types: compiled(source, ".d.ts"),
        default: compiled(source, ".js"),
      };
    }
    await writeJson(join(OUT, "package.json"), {
      name: NPM_NAME,
      version: config.version,
      ...(config.description === undefined
        ? {}
        : { description: config.description }),
      ...(config.keywords === undefined ? {} : { keywords: config.keywords }),
      license: config.license,
      ...(config.repository === undefined
        ? {}
        : { repository: config.repository }),
      type: "module",
      engines: { node: NODE_ENGINES },
      exports,
      ...(Object.keys(bin).length === 0 ? {} : { bin }),
      files: [...new Set(emitted.map((file) => file.replace(/\/.*$/, "/")))],
      sideEffects: false,
    });
    await Deno.copyFile(join(ROOT, "README.md"), join(OUT, "README.md"));
    await Deno.copyFile(join(ROOT, "LICENSE"), join(OUT, "LICENSE"));

    step("pack");
    const [pack] = JSON.parse(
      await run("npm", ["pack", "--json", "--loglevel=error"], OUT, {
        capture: true,
      }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (pack === undefined) fail("npm pack reported nothing");
    const tarball = join(OUT, pack.filename);
    const packedFiles = new Set(pack.files.map((file) => file.path));
    console.log(`${relative(ROOT, tarball)}: ${packedFiles.size} files`);
    checkPackedExports(
      denoExports,
      JSON.parse(await Deno.readTextFile(join(OUT, "package.json"))),
      packedFiles,
    );
    console.log("npm exports match deno.json exports");

    step("publint");
    await publint(scratch, tarball);

    step("arethetypeswrong (esm-only)");
    await run("npx", [
      "--no-install",
      "attw",
      tarball,
      "--profile",
      "esm-only",
      "--format",
      "table-flipped",
      "--no-emoji",
      "--no-color",
    ], scratch);

    if (NO_TEST) return;
    step("install the tarball into the scratch consumer project");
    await run("npm", [...npmInstall, tarball], scratch);

    step(
      `compile and run the tests against the installed package on ${
        ON_BUN ? `Bun ${BUN}` : "Node"
      }`,
    );
    await testInstalled(scratch, config);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

await main();
