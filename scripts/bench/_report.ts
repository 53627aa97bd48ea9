// Turns the measurements of `main.ts` into results.md and results.svg.

import { type AllocResult, median, type Plan, type Result } from "./_plan.ts";
import {
  renderServers,
  type ServerPlan,
  type ServerResult,
} from "./_servers.ts";

/** One target of issues 6 and 12, with the measured value. */
export interface Target {
  name: string;
  value: number;
  display: string;
  goal: string;
  pass: boolean;
}

/** Everything one run measured. */
export interface Report {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    os: string;
    deno: string;
    node: string;
    loadBefore: number;
    loadAfter: number;
  };
  quick: boolean;
  reps: number;
  plan: Plan;
  rounds: Result[][];
  allocs: AllocResult[];
  idles: Array<
    {
      runtime: string;
      connections: number;
      rssBeforeMiB: number;
      rssMiB: number;
    }
  >;
  /** The request/response server row (`_servers.ts`). */
  servers: ServerResult[];
  serverPlan: ServerPlan;
  targets: Target[];
  seconds: number;
}

const RUNTIMES = ["deno", "node"] as const;
const IMPLS = [
  "raw",
  "raw (fresh buffers)",
  "FrameReader",
  "FrameReader (borrowed)",
  "FrameReader.readBatch()",
  "FrameReader.readBatch() (borrowed)",
  "FrameReader (conn.readable)",
  "readFrame",
  "streams",
  "naive",
  "frame-stream",
  "it-length-prefixed",
];

function label(runtime: string, impl: string, kind: string): string {
  const raw = runtime === "deno" ? "raw `Deno.Conn`" : "raw `net.Socket`";
  switch (impl) {
    case "raw":
      return `${raw} (no framing)`;
    case "raw (fresh buffers)":
      return `${raw} into a fresh buffer per frame (no framing)`;
    case "FrameReader":
      return "tcpframe `FrameReader`";
    case "FrameReader (borrowed)":
      return "tcpframe `FrameReader` (`borrowFrames`)";
    case "FrameReader.readBatch()":
      return "tcpframe `FrameReader.readBatch()`";
    case "FrameReader.readBatch() (borrowed)":
      return "tcpframe `FrameReader.readBatch()` (`borrowFrames`)";
    case "FrameReader (conn.readable)":
      return "tcpframe `FrameReader` over `conn.readable` (chunks)";
    case "readFrame":
      return "tcpframe `readFrame`";
    case "streams":
      return kind === "rtt"
        ? "tcpframe `FrameEncoderStream` + `FrameDecoderStream`"
        : "tcpframe `FrameDecoderStream`";
    case "naive":
      return "naive: 2 writes, `readExact` x2";
    case "frame-stream":
      return "frame-stream 4.0.1";
    case "it-length-prefixed":
      return "it-length-prefixed 11.0.1";
    default:
      return impl;
  }
}

function sizeName(size: number): string {
  if (size >= 1024 * 1024) return `${size / 1024 / 1024} MiB`;
  if (size >= 1024) return `${size / 1024} KiB`;
  return `${size} B`;
}

export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return "-";
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

export function compact(x: number): string {
  if (!Number.isFinite(x)) return "-";
  if (x >= 1e6) return `${fmt(x / 1e6, 2)} M`;
  if (x >= 1e3) return `${fmt(x / 1e3, 1)} k`;
  return fmt(x, 0);
}

interface Throughput {
  mbps: number;
  fps: number;
  vsRaw: number;
  cpuNsPerFrame: number;
}

interface Rtt {
  p50: number;
  p99: number;
  samples: number;
}

/** Medians over the repetitions, with ratios paired within a repetition. */
export function summarize(
  report: Report,
): { throughput: Map<string, Throughput>; rtt: Map<string, Rtt> } {
  const find = (
    round: Result[],
    runtime: string,
    kind: string,
    impl: string,
    size: number,
  ) =>
    round.find((r) =>
      r.runtime === runtime && r.kind === kind && r.impl === impl &&
      r.size === size && r.error === undefined
    );
  const throughput = new Map<string, Throughput>();
  const rtt = new Map<string, Rtt>();
  for (const runtime of RUNTIMES) {
    for (const impl of IMPLS) {
      for (const size of report.plan.sizes) {
        const rows = report.rounds.map((round) => ({
          r: find(round, runtime, "throughput", impl, size),
          raw: find(round, runtime, "throughput", "raw", size),
        })).filter((x) => x.r !== undefined);
        if (rows.length > 0) {
          const ratios = rows.filter((x) => x.raw !== undefined).map((x) =>
            (x.r!.bytes / x.r!.seconds) / (x.raw!.bytes / x.raw!.seconds)
          );
          throughput.set(`${runtime}|${impl}|${size}`, {
            mbps: median(rows.map((x) => x.r!.bytes / x.r!.seconds / 1e6)),
            fps: median(rows.map((x) => x.r!.frames / x.r!.seconds)),
            vsRaw: ratios.length > 0 ? median(ratios) : NaN,
            cpuNsPerFrame: median(
              rows.map((x) => x.r!.cpuSeconds * 1e9 / x.r!.frames),
            ),
          });
        }
        const pings = report.rounds
          .map((round) => find(round, runtime, "rtt", impl, size))
          .filter((r) => r !== undefined);
        if (pings.length > 0) {
          rtt.set(`${runtime}|${impl}|${size}`, {
            p50: median(pings.map((r) => r.p50!)),
            p99: median(pings.map((r) => r.p99!)),
            samples: median(pings.map((r) => r.frames)),
          });
        }
      }
    }
  }
  return { throughput, rtt };
}

export function renderReport(
  report: Report,
): { markdown: string; svg: string } {
  const { throughput, rtt } = summarize(report);
  const m = report.machine;
  const lines: string[] = [];
  const push = (...xs: string[]) => lines.push(...xs);
  push(
    "# tcpframe benchmark results",
    "",
    `Measured ${report.date} by \`deno task bench\` (scripts/bench/main.ts) in ` +
      `${fmt(report.seconds / 60, 1)} minutes: ${m.cores} cores (${m.cpu}), ` +
      `${m.os}, Deno ${m.deno}, Node ${m.node}. Load average ` +
      `${m.loadBefore} at the start, ${m.loadAfter} at the end` +
      (m.loadBefore >= 1 || m.loadAfter >= 1
        ? " (the machine was shared and busy: absolute figures are noisy; " +
          "ratios are paired within a repetition)."
        : "."),
    "",
    `Every figure is the median of ${report.reps} repetitions; ratios are ` +
      "medians of per-repetition ratios, both sides measured back to back in " +
      "the same child process. Everything runs on 127.0.0.1 with default " +
      "sockets (Nagle on).",
    "",
    "![throughput and latency](results.svg)",
    "",
    "## Targets (issues 6 and 12)",
    "",
    "| target | measured | goal | |",
    "| --- | ---: | --- | --- |",
  );
  for (const t of report.targets) {
    push(
      `| ${t.name} | ${t.display} | ${t.goal} | ${t.pass ? "PASS" : "MISS"} |`,
    );
  }
  push(
    "",
    "## One-way throughput",
    "",
    "A sender process of its own (scripts/bench/sender.c) writes " +
      "pre-encoded frames (u32 BE length + payload) in writes of about 64 " +
      "KiB (one frame per write from 64 KiB up); the receiver decodes them. " +
      "Every row receives the same bytes, so `vs raw` is the cost of " +
      "framing on that runtime. CPU is the receiver's alone, per frame. " +
      "Raw into fresh buffers (1 MiB only) reads into a new buffer per " +
      "frame's worth of bytes: the least that owned frames cost.",
    "",
  );
  for (const size of report.plan.sizes) {
    push(
      `### ${sizeName(size)} payloads`,
      "",
      "| runtime | implementation | MB/s | frames/s | vs raw | CPU/frame |",
      "| --- | --- | ---: | ---: | ---: | ---: |",
    );
    for (const runtime of RUNTIMES) {
      for (const impl of IMPLS) {
        const t = throughput.get(`${runtime}|${impl}|${size}`);
        if (t === undefined) continue;
        push(
          `| ${runtime} | ${label(runtime, impl, "throughput")} | ${
            fmt(t.mbps)
          } | ${compact(t.fps)} | ${fmt(t.vsRaw, 2)}x | ${
            t.cpuNsPerFrame >= 10_000
              ? `${fmt(t.cpuNsPerFrame / 1000, 0)} µs`
              : `${fmt(t.cpuNsPerFrame, 0)} ns`
          } |`,
        );
      }
    }
    push("");
  }
  push(
    "frame-stream cannot deliver 0 B frames (it pushes an empty chunk, which " +
      "Node streams drop), so it has no 0 B rows.",
    "",
    "## Ping-pong round trip",
    "",
    "A client sends one frame and waits for the echo; the echo server in " +
      "the same process uses the same implementation. p50 / p99 in µs, " +
      "default sockets (Nagle on). The naive baseline writes the header and " +
      "the payload separately and stalls on Nagle's algorithm and delayed " +
      "ACKs; it is limited to " +
      `${report.plan.naiveRttIterations} round trips.`,
    "",
    `| runtime | implementation | ${
      report.plan.sizes.map((s) => sizeName(s)).join(" | ")
    } |`,
    `| --- | --- | ${report.plan.sizes.map(() => "---:").join(" | ")} |`,
  );
  for (const runtime of RUNTIMES) {
    for (const impl of IMPLS) {
      const cells = report.plan.sizes.map((size) => {
        const r = rtt.get(`${runtime}|${impl}|${size}`);
        return r === undefined ? "-" : `${fmt(r.p50)} / ${fmt(r.p99)}`;
      });
      if (cells.every((c) => c === "-")) continue;
      push(
        `| ${runtime} | ${label(runtime, impl, "rtt")} | ${
          cells.join(" | ")
        } |`,
      );
    }
  }
  push(
    "",
    "## Memory",
    "",
    "Allocation per 64 B frame: frames decoded from memory (no socket), " +
      "bytes of JS heap plus ArrayBuffer memory per frame (the slope between " +
      "runs of 9,600 and 28,800 frames, with a young generation large " +
      "enough that no collection runs), and CPU time per frame. " +
      "The `for await` floor is an async iterator that only hands out a new " +
      "64 B view per step: what any per-frame iterator of `Uint8Array`s costs.",
    "",
    "| runtime | implementation | bytes/frame | CPU ns/frame |",
    "| --- | --- | ---: | ---: |",
  );
  const small = report.allocs.filter((a) => a.size === 64);
  const large = report.allocs.filter((a) => a.size !== 64);
  for (const a of small) {
    push(
      `| ${a.runtime} | ${
        a.impl === "for await floor"
          ? "`for await` floor: one new view per frame, no decoding"
          : label(a.runtime, a.impl, "throughput")
      } | ${fmt(a.bytesPerFrame)}${a.gcSeen ? " (GC ran)" : ""} | ${
        fmt(a.nsPerFrame)
      } |`,
    );
  }
  push(
    "",
    "What an owned 1 MiB frame costs beyond a borrowed one, in memory: a " +
      "fresh buffer per frame (allocated, zeroed, filled; the garbage " +
      "collector reclaims the old ones) against filling one reused buffer.",
    "",
    "| runtime | case | CPU µs per 1 MiB frame |",
    "| --- | --- | ---: |",
  );
  for (const a of large) {
    push(`| ${a.runtime} | ${a.impl} | ${fmt(a.nsPerFrame / 1000)} |`);
  }
  push(
    "",
    "Idle connections: a `FrameReader` echo server in its own process (on " +
      "Deno a 4 KiB read buffer per idle connection; on Node none, it takes " +
      "the socket's chunks), with its open-file limit raised; clients in " +
      "another process connect in batches of 100, exchange one 64 B frame " +
      "each and stay idle.",
    "",
    "| runtime | connections | server RSS before | with connections | per connection |",
    "| --- | ---: | ---: | ---: | ---: |",
  );
  for (const i of report.idles) {
    push(
      `| ${i.runtime} | ${fmt(i.connections)} | ${fmt(i.rssBeforeMiB)} MiB | ${
        fmt(i.rssMiB)
      } MiB | ${fmt((i.rssMiB - i.rssBeforeMiB) * 1024 / i.connections)} KiB |`,
    );
  }
  push("", ...renderServers(report.servers, report.serverPlan));
  push("", ...bounds(report, throughput), "");
  return {
    markdown: lines.join("\n"),
    svg: renderSvg(report, throughput, rtt),
  };
}

/** What limits each target that was missed, from this run's own figures. */
function bounds(
  report: Report,
  throughput: Map<string, Throughput>,
): string[] {
  const missed = report.targets.filter((t) => !t.pass);
  if (missed.length === 0) return [];
  const alloc = (runtime: string, impl: string) =>
    report.allocs.find((a) => a.runtime === runtime && a.impl === impl);
  const out = ["## What bounds the misses", ""];
  if (missed.some((t) => t.name.startsWith("1 MiB"))) {
    const perRound = (runtime: string, impl: string) =>
      report.rounds.map((round) => {
        const find = (name: string) =>
          round.find((r) =>
            r.runtime === runtime && r.kind === "throughput" &&
            r.impl === name && r.size === 1048576 && r.error === undefined
          );
        const a = find(impl);
        const raw = find("raw");
        return a === undefined || raw === undefined
          ? "-"
          : fmt((a.bytes / a.seconds) / (raw.bytes / raw.seconds), 2);
      }).join(", ");
    out.push(
      "- 1 MiB, per repetition: " +
        RUNTIMES.flatMap((runtime) =>
          ["FrameReader", "FrameReader (borrowed)"].map((impl) =>
            `${runtime} ${impl} ${perRound(runtime, impl)}`
          )
        ).join("; ") + ".",
    );
    for (const runtime of RUNTIMES) {
      const fresh = alloc(runtime, "1 MiB: fresh buffer + copy");
      const reused = alloc(runtime, "1 MiB: reused buffer + copy");
      const raw = throughput.get(`${runtime}|raw|1048576`);
      if (fresh === undefined || reused === undefined || raw === undefined) {
        continue;
      }
      const extra = (fresh.nsPerFrame - reused.nsPerFrame) / 1000;
      const rawUs = raw.cpuNsPerFrame / 1000;
      out.push(
        `- 1 MiB, ${runtime}: an owned frame needs a fresh 1 MiB buffer; ` +
          `that costs ${fmt(extra)} µs of CPU per frame more than a reused ` +
          `one, against ${fmt(rawUs)} µs per frame for the raw socket ` +
          `(receiver): owned frames are bounded near ` +
          `${fmt(rawUs / (rawUs + extra), 2)}x raw by allocation alone. ` +
          "`borrowFrames: true` reuses one buffer; on Node a frame split " +
          "across the socket's chunks is copied once out of them, which " +
          "raw `'data'` handlers skip.",
      );
    }
  }
  if (missed.some((t) => t.name.startsWith("64 B,"))) {
    const floor = alloc("node", "for await floor");
    const owned = alloc("node", "FrameReader");
    const borrowed = alloc("node", "FrameReader (borrowed)");
    const frameStream = alloc("node", "frame-stream");
    const rawSocket = throughput.get("node|raw|64");
    const frameStreamSocket = throughput.get("node|frame-stream|64");
    if (
      floor !== undefined && owned !== undefined && borrowed !== undefined &&
      frameStream !== undefined && rawSocket !== undefined &&
      frameStreamSocket !== undefined
    ) {
      out.push(
        "- 64 B on Node: in memory, frame-stream's synchronous `'data'` " +
          `events cost ${fmt(frameStream.nsPerFrame)} ns per frame, ` +
          `\`FrameReader\` ${fmt(owned.nsPerFrame)} ns (borrowFrames ` +
          `${fmt(borrowed.nsPerFrame)} ns), and a \`for await\` loop that ` +
          "does nothing but hand out one new view per frame already costs " +
          `${fmt(floor.nsPerFrame)} ns: any async iterator of frames is ` +
          "bounded by that promise-per-frame protocol, which frame-stream's " +
          "event emitter does not pay. Over the socket both also pay the " +
          `socket itself (${fmt(rawSocket.cpuNsPerFrame)} ns per frame, ` +
          "raw); frame-stream's pipe brings it to " +
          `${fmt(frameStreamSocket.cpuNsPerFrame)} ns.`,
      );
    }
  }
  if (missed.some((t) => t.name.startsWith("allocation"))) {
    const parts = RUNTIMES.map((runtime) => {
      const floor = alloc(runtime, "for await floor");
      const owned = alloc(runtime, "FrameReader");
      const borrowed = alloc(runtime, "FrameReader (borrowed)");
      if (
        floor === undefined || owned === undefined || borrowed === undefined
      ) {
        return "";
      }
      return `${runtime}: ${fmt(floor.bytesPerFrame)} B for the bare loop; ` +
        `above it, ${fmt(owned.bytesPerFrame - floor.bytesPerFrame)} B ` +
        "for an owned frame (its 68 bytes on the wire, copied into the " +
        `slab) and ${
          fmt(borrowed.bytesPerFrame - floor.bytesPerFrame)
        } B for a borrowed one (0 within the noise)`;
    }).filter((x) => x !== "");
    out.push(
      "- Allocation per 64 B frame: a `for await` loop that only hands out " +
        "one new view per frame (a promise, an iterator result, the await's " +
        "reaction, the view) already allocates more than 64 B; " +
        `${parts.join("; ")}.`,
    );
  }
  return out;
}

// ----------------------------------------------------------------------- svg

const COLORS: Record<string, string> = {
  "raw": "#7f7f7f",
  "raw (fresh buffers)": "#bdbdbd",
  "FrameReader": "#1f77b4",
  "FrameReader (borrowed)": "#6baed6",
  "FrameReader.readBatch()": "#08519c",
  "FrameReader.readBatch() (borrowed)": "#9ecae1",
  "FrameReader (conn.readable)": "#17becf",
  "readFrame": "#2ca02c",
  "streams": "#98df8a",
  "naive": "#d62728",
  "frame-stream": "#ff7f0e",
  "it-length-prefixed": "#9467bd",
};

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/`/g, "");
}

function renderSvg(
  report: Report,
  throughput: Map<string, Throughput>,
  rtt: Map<string, Rtt>,
): string {
  const width = 960;
  const out: string[] = [];
  const sizes = report.plan.sizes;
  const panelHeight = 220;
  const top = 40;
  let y = top;
  const text = (
    x: number,
    ty: number,
    s: string,
    attrs = "",
  ) => out.push(`<text x="${x}" y="${ty}" ${attrs}>${esc(s)}</text>`);
  text(
    20,
    24,
    `tcpframe bench ${report.date}: one-way throughput, MB/s, log scale (same bytes in a group)`,
    'font-size="15" font-weight="bold"',
  );
  y += 14;
  for (const runtime of RUNTIMES) {
    const impls = IMPLS.filter((impl) =>
      sizes.some((s) => throughput.has(`${runtime}|${impl}|${s}`))
    );
    const x0 = 60;
    const plotW = width - x0 - 200;
    const lo = 1;
    const hi = 10_000;
    const yOf = (v: number) =>
      y + panelHeight -
      (Math.log10(Math.max(lo, Math.min(v, hi)) / lo) / Math.log10(hi / lo)) *
        panelHeight;
    text(
      x0,
      y - 8,
      runtime === "deno" ? "Deno" : "Node (tcpframe/node adapter)",
      'font-size="13" font-weight="bold"',
    );
    for (const tick of [1, 10, 100, 1000, 10_000]) {
      const ty = yOf(tick).toFixed(1);
      out.push(
        `<line x1="${x0}" x2="${
          x0 + plotW
        }" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`,
      );
      text(
        x0 - 8,
        Number(ty) + 4,
        fmt(tick),
        'font-size="10" text-anchor="end"',
      );
    }
    const groupW = plotW / sizes.length;
    const barW = (groupW - 16) / impls.length;
    sizes.forEach((size, gi) => {
      const gx = x0 + gi * groupW + 8;
      impls.forEach((impl, bi) => {
        const t = throughput.get(`${runtime}|${impl}|${size}`);
        if (t === undefined) return;
        const by = yOf(t.mbps);
        out.push(
          `<rect x="${(gx + bi * barW).toFixed(1)}" y="${
            by.toFixed(1)
          }" width="${(barW - 1).toFixed(1)}" height="${
            (y + panelHeight - by).toFixed(1)
          }" fill="${COLORS[impl]}"><title>${
            esc(
              `${runtime} ${impl} ${sizeName(size)}: ${fmt(t.mbps)} MB/s, ${
                compact(t.fps)
              } frames/s, ${fmt(t.vsRaw, 2)}x raw`,
            )
          }</title></rect>`,
        );
      });
      text(
        gx + groupW / 2 - 8,
        y + panelHeight + 14,
        sizeName(size),
        'font-size="11" text-anchor="middle"',
      );
    });
    impls.forEach((impl, i) => {
      const ly = y + 10 + i * 16;
      out.push(
        `<rect x="${x0 + plotW + 16}" y="${
          ly - 9
        }" width="10" height="10" fill="${COLORS[impl]}"/>`,
      );
      text(
        x0 + plotW + 30,
        ly,
        impl === "streams"
          ? "FrameDecoderStream"
          : impl === "raw"
          ? `raw ${runtime === "deno" ? "Deno.Conn" : "net.Socket"}`
          : impl,
        'font-size="11"',
      );
    });
    y += panelHeight + 56;
  }
  // Ping-pong at 64 B: p50 and p99 on a log scale.
  text(
    20,
    y,
    "64 B ping-pong round trip, default sockets (Nagle on): p50 (dark) and p99 (light), µs, log scale",
    'font-size="15" font-weight="bold"',
  );
  y += 20;
  const rows = RUNTIMES.flatMap((runtime) =>
    IMPLS.filter((impl) => rtt.has(`${runtime}|${impl}|64`)).map((impl) => ({
      runtime,
      impl,
      r: rtt.get(`${runtime}|${impl}|64`)!,
    }))
  );
  const x0 = 260;
  const plotW = width - x0 - 80;
  const lo = 10;
  const hi = 200_000;
  const xOf = (v: number) =>
    x0 +
    (Math.log10(Math.max(lo, Math.min(v, hi)) / lo) / Math.log10(hi / lo)) *
      plotW;
  for (const tick of [10, 100, 1000, 10_000, 100_000]) {
    out.push(
      `<line x1="${xOf(tick)}" x2="${xOf(tick)}" y1="${y}" y2="${
        y + rows.length * 18
      }" stroke="${tick === 1000 ? "#999" : "#e5e5e5"}"${
        tick === 1000 ? ' stroke-dasharray="4 3"' : ""
      }/>`,
    );
    text(
      xOf(tick),
      y + rows.length * 18 + 12,
      tick >= 1000 ? `${tick / 1000} ms` : `${tick} µs`,
      'font-size="10" text-anchor="middle"',
    );
  }
  rows.forEach(({ runtime, impl, r }, i) => {
    const ry = y + i * 18;
    const color = COLORS[impl];
    text(
      x0 - 8,
      ry + 12,
      `${runtime} ${impl === "streams" ? "streams" : impl}`,
      'font-size="11" text-anchor="end"',
    );
    out.push(
      `<rect x="${x0}" y="${ry + 2}" width="${
        (xOf(r.p99) - x0).toFixed(1)
      }" height="13" fill="${color}" opacity="0.35"><title>${
        esc(`${runtime} ${impl}: p99 ${fmt(r.p99)} µs`)
      }</title></rect>`,
    );
    out.push(
      `<rect x="${x0}" y="${ry + 2}" width="${
        (xOf(r.p50) - x0).toFixed(1)
      }" height="13" fill="${color}"><title>${
        esc(`${runtime} ${impl}: p50 ${fmt(r.p50)} µs`)
      }</title></rect>`,
    );
  });
  y += rows.length * 18 + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...out,
    "</svg>",
    "",
  ].join("\n");
}
