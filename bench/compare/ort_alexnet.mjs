#!/usr/bin/env node
// ONNX Runtime (CPU, onnxruntime-node) side of the AlexNet comparison.
//
// Times the forward pass of an exported Seed AlexNet (torch_alexnet.py
// --export / --export-decomposed: input "input" [N,3,227,227] with a dynamic
// batch axis, output "logits" [N,1000]) the same way torch_alexnet.py does:
// --warmup untimed runs, then --iters timed runs of one batch each; images/s
// is batch / time of one run, reported as median, min and max. One line per
// case on stdout,
//
//   RESULT {"framework":"onnxruntime","variant":"lrn-onnx-op","mode":"forward","batch":16,...}
//
// then a human table. --jsonl FILE also appends the JSON lines to FILE.
//
//   node ort_alexnet.mjs --model model.onnx [--variant lrn-onnx-op] [--threads N]
//        [--iters 10] [--warmup 2] [--cases forward:1,forward:16,forward:64] [--jsonl FILE]
//   node ort_alexnet.mjs --check DIR/checks.json    # ONNX Runtime vs PyTorch outputs
//
// Options: --threads (intra-op threads; default os.availableParallelism()),
// --inter-threads (default 1), --no-spin (intra-op threads sleep instead of
// spinning between ops), --opt-level disabled|basic|extended|all (default all),
// --seed.

import { readFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error(`ort_alexnet: cannot load onnxruntime-node (${e.message.split('\n')[0]}).\n` +
    `Install it with: (cd ${path.dirname(new URL(import.meta.url).pathname)} && npm install)`);
  process.exit(2);
}

// Multiply-adds of one image through the Seed AlexNet (conv1..conv5, fc6..fc8);
// the same count torch_alexnet.py gets from its hooks.
const MACS = 96 * 55 * 55 * 3 * 121 + 256 * 27 * 27 * 96 * 25 + 384 * 13 * 13 * 256 * 9 +
  384 * 13 * 13 * 384 * 9 + 256 * 13 * 13 * 384 * 9 + 9216 * 4096 + 4096 * 4096 + 4096 * 1000;
const FWD_FLOP = 2 * MACS; // 2.27 G

function parseArgs(argv) {
  const a = {
    model: null, variant: null, threads: os.availableParallelism?.() ?? os.cpus().length,
    interThreads: 1, iters: 10, warmup: 2, cases: 'forward:1,forward:16,forward:64',
    jsonl: null, check: null, spin: true, optLevel: 'all', seed: 0,
  };
  const need = (i) => {
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    switch (k) {
      case '--model': a.model = need(i); i++; break;
      case '--variant': a.variant = need(i); i++; break;
      case '--threads': a.threads = parseInt(need(i), 10); i++; break;
      case '--inter-threads': a.interThreads = parseInt(need(i), 10); i++; break;
      case '--iters': a.iters = parseInt(need(i), 10); i++; break;
      case '--warmup': a.warmup = parseInt(need(i), 10); i++; break;
      case '--cases': a.cases = need(i); i++; break;
      case '--batches': a.cases = need(i).split(',').map((b) => `forward:${b}`).join(','); i++; break;
      case '--jsonl': a.jsonl = need(i); i++; break;
      case '--check': a.check = need(i); i++; break;
      case '--no-spin': a.spin = false; break;
      case '--opt-level': a.optLevel = need(i); i++; break;
      case '--seed': a.seed = parseInt(need(i), 10); i++; break;
      case '-h': case '--help':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n')
          .filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${k} (see --help)`);
    }
  }
  for (const [k, v] of [['threads', a.threads], ['iters', a.iters], ['warmup', a.warmup]]) {
    if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1)) throw new Error(`bad --${k}`);
  }
  return a;
}

function parseCases(s) {
  return s.split(',').map((x) => x.trim()).filter(Boolean).map((item) => {
    const [mode, b] = item.split(':');
    if ((mode !== 'forward' && mode !== 'fwd') || !/^[1-9][0-9]*$/.test(b ?? '')) {
      throw new Error(`bad case ${item}: ONNX Runtime runs forward:N only`);
    }
    return parseInt(b, 10);
  });
}

function sessionOptions(a) {
  const o = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: a.optLevel,
    intraOpNumThreads: a.threads,
    interOpNumThreads: a.interThreads,
    executionMode: 'sequential',
  };
  if (!a.spin) o.extra = { session: { intra_op: { allow_spinning: '0' } } };
  return o;
}

// Deterministic N(0,1) samples (xorshift + Box-Muller).
function randn(n, seed) {
  let s = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  const u = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

function readF32(file, count) {
  const b = readFileSync(file);
  if (b.length !== count * 4) throw new Error(`${file}: ${b.length} bytes, want ${count * 4}`);
  const out = new Float32Array(count);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

const prod = (s) => s.reduce((x, y) => x * y, 1);
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function runChecks(a) {
  const spec = JSON.parse(readFileSync(a.check, 'utf8'));
  const dir = spec.dir ?? path.dirname(a.check);
  let failed = 0;
  for (const c of spec.checks) {
    const sess = await ort.InferenceSession.create(c.model, sessionOptions(a));
    const x = readF32(path.join(dir, c.input), prod(c.input_shape));
    const want = readF32(path.join(dir, c.output), prod(c.output_shape));
    const res = await sess.run({ [sess.inputNames[0]]: new ort.Tensor('float32', x, c.input_shape) });
    const got = res[sess.outputNames[0]];
    if (got.dims.join('x') !== c.output_shape.join('x')) {
      console.log(`check ${c.name}: FAIL: output shape ${got.dims.join('x')}, want ${c.output_shape.join('x')}`);
      failed++;
      continue;
    }
    let maxDiff = 0, maxRef = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(got.data[i] - want[i]);
      if (!(d <= maxDiff)) maxDiff = d; // NaN sticks
      maxRef = Math.max(maxRef, Math.abs(want[i]));
    }
    const rel = maxDiff / Math.max(maxRef, 1e-30);
    const ok = rel <= 1e-4; // float32, different summation orders
    if (!ok) failed++;
    console.log(`check ${c.name}: onnxruntime vs pytorch max |diff| = ${maxDiff.toExponential(2)} ` +
      `(max |ref| ${maxRef.toExponential(2)}, relative ${rel.toExponential(2)}, batch ${c.input_shape[0]}) ` +
      `${ok ? 'PASS' : 'FAIL (tolerance 1e-4 relative)'}`);
    await sess.release?.();
  }
  return failed;
}

function printTable(rows) {
  const hdr = ['framework', 'variant', 'mode', 'batch', 'threads', 'img/s median', 'min', 'max', 'GFLOP/s', 'ms/batch'];
  const lines = [hdr, ...rows.map((r) => [r.framework, r.variant, r.mode, `${r.batch}`, `${r.threads}`,
    r.ips_median.toFixed(2), r.ips_min.toFixed(2), r.ips_max.toFixed(2), r.gflops_median.toFixed(1),
    r.ms_median.toFixed(1)])];
  const w = hdr.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  lines.forEach((l, j) => {
    console.log(l.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
    if (j === 0) console.log(w.map((x) => '-'.repeat(x)).join('  '));
  });
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  console.log(`onnxruntime-node ${ort.env.versions?.node ?? '?'} | node ${process.version} | ` +
    `intra-op threads ${a.threads}, inter-op ${a.interThreads}, spinning ${a.spin ? 'on' : 'off'}, ` +
    `graph optimization ${a.optLevel} | cpus ${os.cpus().length}`);
  if (a.check) {
    const failed = await runChecks(a);
    process.exit(failed ? 1 : 0);
  }
  if (!a.model) throw new Error('--model or --check is required (see --help)');
  const variant = a.variant ?? path.basename(a.model).replace(/\.onnx$/, '');
  const batches = parseCases(a.cases);
  const t0 = performance.now();
  const sess = await ort.InferenceSession.create(a.model, sessionOptions(a));
  console.log(`loaded ${a.model} (variant ${variant}) in ${((performance.now() - t0) / 1e3).toFixed(1)} s; ` +
    `input ${sess.inputNames[0]}, output ${sess.outputNames[0]}`);
  const rows = [];
  for (const batch of batches) {
    const shape = [batch, 3, 227, 227];
    const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', randn(prod(shape), a.seed + batch), shape) };
    for (let i = 0; i < a.warmup; i++) await sess.run(feeds);
    const times = [];
    for (let i = 0; i < a.iters; i++) {
      const s = performance.now();
      const out = await sess.run(feeds);
      times.push((performance.now() - s) / 1e3);
      if (i === 0 && out[sess.outputNames[0]].dims[0] !== batch) throw new Error('wrong output batch');
    }
    const med = median(times);
    const r = {
      framework: 'onnxruntime', version: ort.env.versions?.node ?? '?', variant, mode: 'forward', batch,
      threads: a.threads, iters: a.iters, warmup: a.warmup,
      ips_median: batch / med, ips_min: batch / Math.max(...times), ips_max: batch / Math.min(...times),
      ms_median: 1e3 * med, gflops_median: (batch / med) * FWD_FLOP / 1e9,
    };
    rows.push(r);
    const line = JSON.stringify(r);
    console.log(`RESULT ${line}`);
    if (a.jsonl) appendFileSync(a.jsonl, line + '\n');
  }
  await sess.release?.();
  console.log();
  printTable(rows);
}

main().catch((e) => {
  console.error(`ort_alexnet: ${e.message}`);
  process.exit(1);
});
