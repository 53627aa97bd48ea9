// Turns the send-side measurements of `main.ts` into their targets, their
// section of results.md, and send.svg.

import { median, type Result, type SendBound, type SendPlan } from "./_plan.ts";
import { compact, esc, fmt, type Target } from "./_report.ts";
import { HOP_CAP } from "./_send.mjs";

/** The send side of one run. */
export interface SendSection {
  plan: SendPlan;
  bounds: SendBound[];
  targets: Target[];
}

const RUNTIMES = ["deno", "node"] as const;
const MiB = 1024 * 1024;

/** The 64 B senders, in table order. */
const SMALL = [
  "FrameWriter",
  "FrameWriter (turn-late writes)",
  "writeFrames",
  "writeFrame",
  "raw per frame",
];
/** The 1 MiB senders, in table order. */
const LARGE = ["FrameWriter", "writeFrame", "raw", "raw 2 writes"];
const PING = ["FrameWriter", "writeFrame", "raw"];

function label(runtime: string, impl: string): string {
  const socket = runtime === "deno" ? "conn.write" : "socket.write";
  switch (impl) {
    case "FrameWriter":
      return "`FrameWriter`";
    case "FrameWriter (turn-late writes)":
      return "`FrameWriter`, each write resolving a turn later (diagnostic)";
    case "writeFrames":
      return "`writeFrames()`, 1,000 frames a call (ceiling)";
    case "writeFrame":
      return "`writeFrame()` per frame";
    case "raw per frame":
      return runtime === "deno"
        ? "`conn.write(frame)` per frame, new buffer each"
        : "`socket.write(frame)` per frame, new buffer each, callback awaited";
    case "raw":
      return `raw \`${socket}()\` of encoded frames`;
    case "raw 2 writes":
      return `raw \`${socket}()\`, header, then payload`;
    default:
      return impl;
  }
}

function tasks(producers: number | undefined): string {
  return producers === 1 ? "1 task" : `${producers} tasks`;
}

function find(
  round: Result[],
  runtime: string,
  kind: Result["kind"],
  impl: string,
  size: number,
  producers?: number,
): Result | undefined {
  return round.find((r) =>
    r.runtime === runtime && r.kind === kind && r.impl === impl &&
    r.size === size && r.error === undefined &&
    (producers === undefined || r.producers === producers)
  );
}

/** A value of a case in each round (NaN where it failed). */
function perRound(
  rounds: Result[][],
  value: (r: Result) => number,
  runtime: string,
  kind: Result["kind"],
  impl: string,
  size: number,
  producers?: number,
): number[] {
  return rounds.map((round) => {
    const r = find(round, runtime, kind, impl, size, producers);
    return r === undefined ? NaN : value(r);
  });
}

const frameRate = (r: Result) => r.frames / r.seconds;
const p50 = (r: Result) => r.p50 ?? NaN;

/** The median of the per-round ratios a/b (paired within a round). */
function paired(a: number[], b: number[]): number {
  const ratios = a.map((x, i) => x / b[i]!).filter(Number.isFinite);
  return ratios.length === 0 ? NaN : median(ratios);
}

function medianOf(xs: number[]): number {
  const finite = xs.filter(Number.isFinite);
  return finite.length === 0 ? NaN : median(finite);
}

/** The targets of issue 10, from the send rounds. */
export function sendTargets(rounds: Result[][], plan: SendPlan): Target[] {
  const out: Target[] = [];
  const rate = (runtime: string, impl: string, size: number, p: number) =>
    perRound(rounds, frameRate, runtime, "send", impl, size, p);
  const atLeast = (
    name: string,
    value: number,
    goal: number,
    digits: number,
  ) =>
    out.push({
      name,
      value,
      display: `${fmt(value, digits)}x`,
      goal: `>= ${goal}x`,
      pass: value >= goal,
    });
  for (const runtime of RUNTIMES) {
    for (const p of plan.producers) {
      const writer = rate(runtime, "FrameWriter", 64, p);
      const at = `64 B, ${runtime}, ${tasks(p)}: FrameWriter`;
      atLeast(
        `${at} vs writeFrame() per frame`,
        paired(writer, rate(runtime, "writeFrame", 64, p)),
        20,
        1,
      );
      if (runtime === "node") {
        atLeast(
          `${at} vs socket.write() per frame`,
          paired(writer, rate(runtime, "raw per frame", 64, p)),
          20,
          1,
        );
      }
      atLeast(
        `${at} vs the writeFrames() ceiling`,
        paired(writer, rate(runtime, "writeFrames", 64, 1)),
        0.8,
        2,
      );
    }
    atLeast(
      `1 MiB, ${runtime}: FrameWriter vs raw writes`,
      paired(
        rate(runtime, "FrameWriter", MiB, 1),
        rate(runtime, "raw", MiB, 1),
      ),
      0.9,
      2,
    );
    const value = paired(
      perRound(rounds, p50, runtime, "send-rtt", "FrameWriter", 64),
      perRound(rounds, p50, runtime, "send-rtt", "writeFrame", 64),
    );
    out.push({
      name: `64 B ping-pong p50, ${runtime}: FrameWriter vs writeFrame()`,
      value,
      display: `${fmt(value, 2)}x`,
      goal: "<= 1.10x",
      pass: value <= 1.1,
    });
  }
  return out;
}

interface Row {
  runtime: string;
  impl: string;
  size: number;
  producers: number;
  fps: number;
  mbps: number;
  cpuNs: number;
  framesPerWrite: number;
}

function rows(rounds: Result[][], plan: SendPlan): Row[] {
  const out: Row[] = [];
  const cases: Array<[string, number, number]> = [];
  for (const impl of SMALL) {
    for (const p of plan.producers) cases.push([impl, 64, p]);
  }
  for (const impl of LARGE) cases.push([impl, MiB, 1]);
  for (const runtime of RUNTIMES) {
    for (const [impl, size, producers] of cases) {
      const got = rounds.map((round) =>
        find(round, runtime, "send", impl, size, producers)
      ).filter((r) => r !== undefined);
      if (got.length === 0) continue;
      out.push({
        runtime,
        impl,
        size,
        producers,
        fps: median(got.map(frameRate)),
        mbps: median(got.map((r) => r.bytes / r.seconds / 1e6)),
        cpuNs: median(got.map((r) => r.cpuSeconds * 1e9 / r.frames)),
        framesPerWrite: median(got.map((r) => r.frames / (r.writes ?? NaN))),
      });
    }
  }
  return out;
}

function ns(x: number): string {
  return x >= 10_000 ? `${fmt(x / 1000)} µs` : `${fmt(x)} ns`;
}

/** The send section of results.md, and send.svg. */
export function renderSend(
  rounds: Result[][],
  section: SendSection,
  date: string,
): { markdown: string[]; svg: string } {
  const { plan } = section;
  const table = rows(rounds, plan);
  const lines: string[] = [];
  const push = (...xs: string[]) => lines.push(...xs);
  push(
    "## Send side (issue 10)",
    "",
    "The sender runs in its own child process (Deno, or Node with the " +
      "package through `tcpframe/node`); the receiver is another process " +
      "(`send_peer.ts`): plain `Deno.Conn` reads that count bytes and " +
      "frames, and reply with both counts once the sender half-closed. A " +
      "case's clock runs from the first write to that reply, and its CPU is " +
      "the sender process's alone. Each case is cut into 4 blocks on fresh " +
      "connections, and the cases of a table take turns block by block, so " +
      "the load of the shared machine falls on all of them alike. Ratios are " +
      "medians of per-repetition ratios.",
    "",
    "![send side](send.svg)",
    "",
    "### Targets (issue 10)",
    "",
    "| target | measured | goal | |",
    "| --- | ---: | --- | --- |",
  );
  for (const t of section.targets) {
    push(
      `| ${t.name} | ${t.display} | ${t.goal} | ${t.pass ? "PASS" : "MISS"} |`,
    );
  }
  push(
    "",
    "### 64 B frames",
    "",
    `Each task awaits every call before the next; ${
      fmt(plan.frames)
    } frames per case for the senders that batch, ${
      fmt(plan.slowFrames)
    } for those that write once per frame (rates are per second, so they ` +
      "compare). Every sender writes the same payload, so the encoding work " +
      "is the same. frames/write counts calls of the connection's `write` " +
      "(for `FrameWriter`, its batches).",
    "",
    "| runtime | sender | tasks | frames/s | MB/s | sender CPU/frame | frames/write |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of table.filter((r) => r.size === 64)) {
    push(
      `| ${r.runtime} | ${label(r.runtime, r.impl)} | ${r.producers} | ${
        compact(r.fps)
      } | ${fmt(r.mbps)} | ${ns(r.cpuNs)} | ${fmt(r.framesPerWrite, 1)} |`,
    );
  }
  push(
    "",
    "### 1 MiB frames",
    "",
    `${fmt(plan.largeFrames)} frames per case, one task. \`FrameWriter\` ` +
      "and `writeFrame()` write a large frame's 4-byte header, then its " +
      "payload without copying it; the raw rows write the same bytes.",
    "",
    "| runtime | sender | MB/s | vs raw | sender CPU/frame | writes/frame |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  );
  for (const r of table.filter((r) => r.size === MiB)) {
    const vsRaw = paired(
      perRound(rounds, frameRate, r.runtime, "send", r.impl, MiB, 1),
      perRound(rounds, frameRate, r.runtime, "send", "raw", MiB, 1),
    );
    push(
      `| ${r.runtime} | ${label(r.runtime, r.impl)} | ${fmt(r.mbps)} | ${
        fmt(vsRaw, 2)
      }x | ${ns(r.cpuNs)} | ${fmt(1 / r.framesPerWrite, 1)} |`,
    );
  }
  push(
    "",
    "### 64 B ping-pong",
    "",
    "One request frame, then its echo from the peer's raw echo, read with " +
      "`FrameReader`; one connection per sender, the senders taking turns " +
      "round trip by round trip. `FrameWriter` calls `write()` then " +
      "`flush()` per request. µs; the ratio is paired within a repetition.",
    "",
    "| runtime | sender | p50 | p99 | p50 vs `writeFrame()` |",
    "| --- | --- | ---: | ---: | ---: |",
  );
  const pings = pingRows(rounds);
  for (const r of pings) {
    push(
      `| ${r.runtime} | ${label(r.runtime, r.impl)} | ${fmt(r.p50)} | ${
        fmt(r.p99)
      } | ${fmt(r.vsWriteFrame, 2)}x |`,
    );
  }
  push(
    "",
    "### In memory: CPU per frame, no socket",
    "",
    "The same send paths, 64 B frames unless the case says 1 MiB, into a " +
      "writer that keeps nothing: its `write` resolves at once, or one turn " +
      "of the event loop later (`setImmediate`), as a socket's may. Best of " +
      "three runs. The floor rows are loops that only await a resolved " +
      "promise per frame, and allocate a buffer per frame.",
    "",
    "| runtime | case | tasks | writer | CPU/frame | frames/write |",
    "| --- | --- | ---: | --- | ---: | ---: |",
  );
  for (const b of section.bounds.filter((b) => b.writer !== "socket")) {
    push(
      `| ${b.runtime} | ${b.impl} | ${b.producers} | ${b.writer} | ${
        ns(b.nsPerFrame)
      } | ${b.framesPerWrite === 0 ? "-" : fmt(b.framesPerWrite, 1)} |`,
    );
  }
  push(
    "",
    "How long an awaited write of the connection leaves other tasks to " +
      "run: microtasks that another task's chain ran before a 68-byte " +
      `\`conn.write()\` resolved, mean of 2,000 writes, at most ${HOP_CAP} ` +
      "(at the cap, the write waited for the microtasks to run out).",
    "",
    "| runtime | microtasks per awaited write | CPU per write (with the chain) |",
    "| --- | ---: | ---: |",
  );
  for (const b of section.bounds.filter((b) => b.writer === "socket")) {
    push(
      `| ${b.runtime} | ${fmt(b.hopsPerWrite ?? NaN)} | ${ns(b.nsPerFrame)} |`,
    );
  }
  push("", ...bounds(rounds, section, table, pings));
  return { markdown: lines, svg: renderSvg(date, table, pings) };
}

interface PingRow {
  runtime: string;
  impl: string;
  p50: number;
  p99: number;
  vsWriteFrame: number;
  perRound: number[];
}

function pingRows(rounds: Result[][]): PingRow[] {
  const out: PingRow[] = [];
  for (const runtime of RUNTIMES) {
    const base = perRound(rounds, p50, runtime, "send-rtt", "writeFrame", 64);
    for (const impl of PING) {
      const mine = perRound(rounds, p50, runtime, "send-rtt", impl, 64);
      if (mine.every((x) => !Number.isFinite(x))) continue;
      out.push({
        runtime,
        impl,
        p50: medianOf(mine),
        p99: medianOf(
          perRound(rounds, (r) => r.p99 ?? NaN, runtime, "send-rtt", impl, 64),
        ),
        vsWriteFrame: paired(mine, base),
        perRound: mine.map((x, i) => x / base[i]!),
      });
    }
  }
  return out;
}

/** What limits each send target that was missed, from this run's figures. */
function bounds(
  rounds: Result[][],
  section: SendSection,
  table: Row[],
  pings: PingRow[],
): string[] {
  const missed = section.targets.filter((t) => !t.pass);
  if (missed.length === 0) return [];
  const row = (runtime: string, impl: string, size: number, p: number) =>
    table.find((r) =>
      r.runtime === runtime && r.impl === impl && r.size === size &&
      r.producers === p
    );
  const memory = (
    runtime: string,
    impl: string,
    producers: number,
    writer: SendBound["writer"],
  ) =>
    section.bounds.find((b) =>
      b.runtime === runtime && b.impl === impl && b.producers === producers &&
      b.writer === writer
    );
  const rate = (runtime: string, impl: string, size: number, p: number) =>
    perRound(rounds, frameRate, runtime, "send", impl, size, p);
  /** Per-repetition ratios, as text. */
  const each = (a: number[], b: number[]) =>
    a.map((x, i) => fmt(x / b[i]!, 2)).join(", ");
  const out = ["### What bounds the send-side misses", ""];
  for (const t of missed) {
    const runtime = t.name.includes("deno") ? "deno" : "node";
    const producers = t.name.includes("100 tasks") ? 100 : 1;
    if (t.name.includes("ceiling")) {
      const writer = row(runtime, "FrameWriter", 64, producers);
      const ceiling = row(runtime, "writeFrames", 64, 1);
      const late = row(runtime, "FrameWriter (turn-late writes)", 64, 1);
      const perFrame = row(runtime, "writeFrame", 64, 1);
      const atOnce = memory(runtime, "FrameWriter", producers, "at once");
      const nextTurn = memory(runtime, "FrameWriter", producers, "next turn");
      const memCeiling = memory(runtime, "writeFrames", 1, "at once");
      const hops = section.bounds.find((b) =>
        b.runtime === runtime && b.writer === "socket"
      );
      if (
        writer === undefined || ceiling === undefined || late === undefined ||
        perFrame === undefined || atOnce === undefined ||
        nextTurn === undefined || memCeiling === undefined ||
        hops?.hopsPerWrite === undefined
      ) continue;
      const ratios = each(
        rate(runtime, "FrameWriter", 64, producers),
        rate(runtime, "writeFrames", 64, 1),
      );
      const lateRatio = paired(
        rate(runtime, "FrameWriter (turn-late writes)", 64, 1),
        rate(runtime, "writeFrames", 64, 1),
      );
      const small = writer.framesPerWrite < ceiling.framesPerWrite / 2;
      out.push(
        `- ${t.name} (${t.display}; per repetition ${ratios}): over the ` +
          `socket \`FrameWriter\` wrote ${fmt(writer.framesPerWrite, 1)} ` +
          `frames per write, \`writeFrames()\` ${
            fmt(ceiling.framesPerWrite, 1)
          }; the sender's CPU per frame was ${ns(writer.cpuNs)} against ` +
          `${ns(ceiling.cpuNs)}. ` +
          (small
            ? "The batches are small, and one write costs this sender " +
              `about ${ns(perFrame.cpuNs)} of CPU (the \`writeFrame()\` ` +
              "row, one write per frame): the time goes to system calls. " +
              "A batch holds what the producers add while the previous " +
              `write is awaited, and on ${runtime} an awaited 68-byte ` +
              `\`conn.write()\` resolved after ${fmt(hops.hopsPerWrite)} ` +
              `microtasks of another task's chain (of at most ${HOP_CAP}): ` +
              "it resolves while the producer is still running, so the " +
              "pump takes the next batch after a few frames. "
            : "The batches are as large as the ceiling's, so the gap is CPU " +
              "per frame and the socket's own time. ") +
          "In memory the same loop costs " +
          `${ns(atOnce.nsPerFrame)} per frame into a writer that resolves ` +
          `at once (${fmt(atOnce.framesPerWrite, 1)} frames per write) and ` +
          `${ns(nextTurn.nsPerFrame)} into one that resolves a turn later ` +
          `(${fmt(nextTurn.framesPerWrite, 1)} frames per write), against ` +
          `${ns(memCeiling.nsPerFrame)} for \`writeFrames()\`. Over the ` +
          "socket, one task through a `FrameWriter` whose writer defers each " +
          "resolved write by one `setImmediate()` (the diagnostic row) sent " +
          `${compact(late.fps)} frames/s, ${
            fmt(late.framesPerWrite, 1)
          } frames per write: ${fmt(lateRatio, 2)}x the ceiling.`,
      );
    } else if (t.name.startsWith("1 MiB")) {
      const raw = rate(runtime, "raw", MiB, 1);
      const split = paired(rate(runtime, "raw 2 writes", MiB, 1), raw);
      const plain = paired(rate(runtime, "writeFrame", MiB, 1), raw);
      const cpu = (impl: string) => {
        const r = row(runtime, impl, MiB, 1);
        return r === undefined ? "-" : ns(r.cpuNs);
      };
      const inMemory = (impl: string) =>
        memory(runtime, `${impl}, 1 MiB frames`, 1, "at once")?.nsPerFrame;
      const memWriter = inMemory("FrameWriter");
      const memPlain = inMemory("writeFrame");
      out.push(
        `- ${t.name} (${t.display}; per repetition ${
          each(rate(runtime, "FrameWriter", MiB, 1), raw)
        }): \`FrameWriter\` writes a 1 MiB frame's 4-byte header and its ` +
          "payload as two writes, so as not to copy the payload. Raw writes " +
          `split the same way ran at ${fmt(split, 2)}x the single raw ` +
          `write, and \`writeFrame()\`, which writes the same two, at ` +
          `${fmt(plain, 2)}x. Sender CPU per frame: \`FrameWriter\` ` +
          `${cpu("FrameWriter")}, \`writeFrame()\` ${cpu("writeFrame")}, ` +
          `raw ${cpu("raw")}, raw split ${cpu("raw 2 writes")}` +
          (memWriter === undefined || memPlain === undefined
            ? "."
            : `; in memory, into a writer that resolves at once, a 1 MiB ` +
              `frame costs ${ns(memWriter)} through \`FrameWriter\` and ` +
              `${ns(memPlain)} through \`writeFrame()\`.`),
      );
    } else if (t.name.includes("ping-pong")) {
      const cost = (impl: string, writer: SendBound["writer"]) =>
        memory(runtime, impl, 1, writer)?.nsPerFrame ?? NaN;
      const flush = "FrameWriter, write() + flush() each";
      const parts = (["at once", "next turn"] as const).map((w) =>
        `${ns(cost(flush, w))} against ${ns(cost("writeFrame", w))} for ` +
        `\`writeFrame()\` into a writer that resolves ${w} (${
          ns(cost(`${flush}, maxBatchBytes 68`, w))
        } with \`maxBatchBytes: 68\`)`
      );
      const ping = pings.find((p) =>
        p.runtime === runtime && p.impl === "FrameWriter"
      );
      out.push(
        `- ${t.name} (${t.display}; per repetition ${
          (ping?.perRound ?? []).map((x) => fmt(x, 2)).join(", ")
        }): per request, in memory, \`write()\` + \`flush()\` costs ` +
          `${parts.join("; ")}. A frame written to an idle \`FrameWriter\` ` +
          "goes into a new 4096-byte batch buffer (the spare buffer is " +
          "dropped whenever the writer goes idle), where `writeFrame()` " +
          "allocates the frame's 68 bytes; with `maxBatchBytes: 68` the " +
          "first buffer is 68 bytes too, so the difference between the two " +
          "`FrameWriter` figures is that buffer, and the rest of the gap to " +
          "`writeFrame()` is the promises of the pump and of `flush()`.",
      );
    } else {
      const other = t.name.includes("socket.write")
        ? "raw per frame"
        : "writeFrame";
      const writer = row(runtime, "FrameWriter", 64, producers);
      const them = row(runtime, other, 64, producers);
      if (writer === undefined || them === undefined) continue;
      out.push(
        `- ${t.name} (${t.display}; per repetition ${
          each(
            rate(runtime, "FrameWriter", 64, producers),
            rate(runtime, other, 64, producers),
          )
        }): \`FrameWriter\` sent ${compact(writer.fps)} frames/s at ` +
          `${ns(writer.cpuNs)} of CPU per frame, ${
            fmt(writer.framesPerWrite, 1)
          } frames per write; the per-frame writer ${compact(them.fps)} ` +
          `frames/s at ${ns(them.cpuNs)} per frame, one write each` +
          (writer.framesPerWrite < 100
            ? ". `FrameWriter`'s small batches are explained below."
            : "."),
      );
    }
  }
  return out;
}

// ----------------------------------------------------------------------- svg

const COLORS: Record<string, string> = {
  "FrameWriter": "#1f77b4",
  "FrameWriter (turn-late writes)": "#9ecae1",
  "writeFrames": "#08519c",
  "writeFrame": "#2ca02c",
  "raw per frame": "#d62728",
  "raw": "#7f7f7f",
  "raw 2 writes": "#bdbdbd",
};

function short(runtime: string, impl: string): string {
  switch (impl) {
    case "FrameWriter (turn-late writes)":
      return "FrameWriter, writes a turn late";
    case "writeFrames":
      return "writeFrames (ceiling)";
    case "raw per frame":
      return runtime === "deno"
        ? "conn.write per frame"
        : "socket.write per frame";
    case "raw":
      return runtime === "deno" ? "raw conn.write" : "raw socket.write";
    case "raw 2 writes":
      return "raw, header + payload";
    default:
      return impl;
  }
}

interface Bar {
  name: string;
  color: string;
  value: number;
  light?: number;
  title: string;
}

/** A panel of horizontal bars on a log scale; returns its height. */
function panel(
  out: string[],
  y: number,
  title: string,
  bars: Bar[],
  ticks: number[],
  unit: (v: number) => string,
): number {
  const width = 960;
  const x0 = 320;
  const plotW = width - x0 - 60;
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const xOf = (v: number) =>
    x0 +
    (Math.log10(Math.max(lo, Math.min(v, hi)) / lo) / Math.log10(hi / lo)) *
      plotW;
  out.push(
    `<text x="20" y="${y}" font-size="15" font-weight="bold">${
      esc(title)
    }</text>`,
  );
  const top = y + 12;
  for (const tick of ticks) {
    out.push(
      `<line x1="${xOf(tick).toFixed(1)}" x2="${
        xOf(tick).toFixed(1)
      }" y1="${top}" y2="${top + bars.length * 18}" stroke="#e5e5e5"/>`,
      `<text x="${xOf(tick).toFixed(1)}" y="${
        top + bars.length * 18 + 12
      }" font-size="10" text-anchor="middle">${esc(unit(tick))}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const by = top + i * 18;
    out.push(
      `<text x="${x0 - 8}" y="${by + 12}" font-size="11" text-anchor="end">${
        esc(bar.name)
      }</text>`,
    );
    if (bar.light !== undefined && Number.isFinite(bar.light)) {
      out.push(
        `<rect x="${x0}" y="${by + 2}" width="${
          (xOf(bar.light) - x0).toFixed(1)
        }" height="13" fill="${bar.color}" opacity="0.35"/>`,
      );
    }
    if (Number.isFinite(bar.value)) {
      out.push(
        `<rect x="${x0}" y="${by + 2}" width="${
          (xOf(bar.value) - x0).toFixed(1)
        }" height="13" fill="${bar.color}"><title>${
          esc(bar.title)
        }</title></rect>`,
      );
    }
  });
  return bars.length * 18 + 44;
}

function renderSvg(date: string, table: Row[], pings: PingRow[]): string {
  const out: string[] = [];
  let y = 28;
  const small = table.filter((r) => r.size === 64);
  y += panel(
    out,
    y,
    `tcpframe bench ${date}, send side: 64 B frames/s into a peer process, log scale`,
    small.map((r) => ({
      name: `${r.runtime} ${short(r.runtime, r.impl)}, ${tasks(r.producers)}`,
      color: COLORS[r.impl] ?? "#000",
      value: r.fps,
      title: `${r.runtime} ${r.impl}, ${tasks(r.producers)}: ${
        compact(r.fps)
      } frames/s, ${fmt(r.framesPerWrite, 1)} frames/write`,
    })),
    [10_000, 100_000, 1_000_000, 10_000_000, 100_000_000],
    (v) => `${v >= 1e6 ? `${v / 1e6}M` : `${v / 1e3}k`}/s`,
  );
  const large = table.filter((r) => r.size === MiB);
  y += panel(
    out,
    y,
    "1 MiB frames, MB/s, log scale",
    large.map((r) => ({
      name: `${r.runtime} ${short(r.runtime, r.impl)}`,
      color: COLORS[r.impl] ?? "#000",
      value: r.mbps,
      title: `${r.runtime} ${r.impl}: ${fmt(r.mbps)} MB/s`,
    })),
    [100, 1000, 10_000],
    (v) => `${fmt(v)} MB/s`,
  );
  y += panel(
    out,
    y,
    "64 B ping-pong against a raw echo: p50 (dark) and p99 (light), µs, log scale",
    pings.map((r) => ({
      name: `${r.runtime} ${short(r.runtime, r.impl)}`,
      color: COLORS[r.impl] ?? "#000",
      value: r.p50,
      light: r.p99,
      title: `${r.runtime} ${r.impl}: p50 ${fmt(r.p50)} µs, p99 ${
        fmt(r.p99)
      } µs`,
    })),
    [10, 100, 1000, 10_000],
    (v) => (v >= 1000 ? `${v / 1000} ms` : `${v} µs`),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="${y}" viewBox="0 0 960 ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...out,
    "</svg>",
    "",
  ].join("\n");
}
