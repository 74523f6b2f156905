import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time went: self time per
 * function, per file and per package, and inclusive time of the repository's own functions.
 * `node bench/dist/profile.js <file.cpuprofile|dir>...` prints it; the benchmark's --profile
 * puts the same summary in its report.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Entry {
  name: string;
  ms: number;
  /** Share of the busy time (everything but idle), in percent. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** The part of the profile counted, in ms since it started (undefined: all of it). */
  window?: ProfileWindow;
  total_ms: number;
  idle_ms: number;
  busy_ms: number;
  gc_ms: number;
  top_self: Entry[];
  by_package: Entry[];
  by_file: Entry[];
  /** Inclusive (self + callees) time of the repository's functions, recursion counted once. */
  top_inclusive_repo: Entry[];
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  return path.startsWith(REPO) ? path.slice(REPO.length) : path;
}

function packageOf(url: string): string {
  if (url === '') return '(native/vm)';
  if (url.startsWith('node:')) return 'node: (core)';
  const short = shortUrl(url);
  if (url.includes('node_modules/')) {
    const parts = short.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? short);
  }
  const parts = short.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : short;
}

function top(map: Map<string, number>, busy: number, n: number): Entry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: round(us / 1000, 1), pct: round((100 * us) / busy, 1) }));
}

function add<K>(map: Map<K, number>, key: K, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** Milliseconds since the profile started: only samples in [fromMs, toMs) are counted. */
export interface ProfileWindow {
  fromMs: number;
  toMs: number;
}

export function summarizeProfile(file: string, window?: ProfileWindow, n = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i: sample i ran until sample i + 1.
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const ms = at / 1000;
    if (window && (ms < window.fromMs || ms >= window.toMs)) continue;
    add(self, profile.samples[i] ?? -1, profile.timeDeltas[i + 1] ?? 0);
  }
  const key = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return url
      ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`
      : functionName || '(anonymous)';
  };
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of self) {
    const node = nodes.get(id);
    if (!node) continue;
    total += us;
    const name = node.callFrame.functionName;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    if (name === '(garbage collector)') gc += us;
    add(byFunction, key(node), us);
    add(byFile, node.callFrame.url ? shortUrl(node.callFrame.url) : `(${name || 'vm'})`, us);
    add(byPackage, node.callFrame.url ? packageOf(node.callFrame.url) : `(${name || 'vm'})`, us);
  }
  const busy = Math.max(1, total - idle);

  // Inclusive time of the repository's functions: each node's subtree, once per call path.
  const inclusive = new Map<string, number>();
  const subtree = new Map<number, number>();
  const sizeOf = (node: ProfileNode): number => {
    const known = subtree.get(node.id);
    if (known !== undefined) return known;
    let sum = self.get(node.id) ?? 0;
    for (const child of node.children ?? []) {
      const childNode = nodes.get(child);
      if (childNode) sum += sizeOf(childNode);
    }
    subtree.set(node.id, sum);
    return sum;
  };
  const root = profile.nodes[0];
  const walk = (node: ProfileNode, open: Set<string>) => {
    const k = key(node);
    const ours = node.callFrame.url.includes(REPO) && !node.callFrame.url.includes('node_modules');
    const counted = ours && !open.has(k);
    if (counted) {
      add(inclusive, k, sizeOf(node));
      open.add(k);
    }
    for (const child of node.children ?? []) {
      const childNode = nodes.get(child);
      if (childNode) walk(childNode, open);
    }
    if (counted) open.delete(k);
  };
  if (root) {
    for (const node of profile.nodes) sizeOf(node);
    walk(root, new Set());
  }
  return {
    file,
    ...(window ? { window: { fromMs: round(window.fromMs, 0), toMs: round(window.toMs, 0) } } : {}),
    total_ms: round(total / 1000, 1),
    idle_ms: round(idle / 1000, 1),
    busy_ms: round(busy / 1000, 1),
    gc_ms: round(gc / 1000, 1),
    top_self: top(byFunction, busy, n),
    by_package: top(byPackage, busy, 15),
    by_file: top(byFile, busy, 20),
    top_inclusive_repo: top(inclusive, busy, n),
  };
}

/** Every .cpuprofile under `dir` (one level of service folders), summarized. */
export function summarizeDir(dir: string): Record<string, ProfileSummary[]> {
  const out: Record<string, ProfileSummary[]> = {};
  for (const service of readdirSync(dir, { withFileTypes: true })) {
    if (!service.isDirectory()) continue;
    const files = readdirSync(join(dir, service.name)).filter((f) => f.endsWith('.cpuprofile'));
    out[service.name] = files.map((f) => summarizeProfile(join(dir, service.name, f)));
  }
  return out;
}

export function renderProfile(summary: ProfileSummary): string {
  const lines = [
    `${summary.file}${summary.window ? ` [${summary.window.fromMs}-${summary.window.toMs} ms]` : ''}: ${summary.total_ms} ms sampled, busy ${summary.busy_ms} ms (gc ${summary.gc_ms} ms), idle ${summary.idle_ms} ms`,
  ];
  const section = (title: string, entries: Entry[]) => {
    lines.push(`  ${title}`);
    for (const e of entries)
      lines.push(`    ${String(e.pct).padStart(5)}%  ${String(e.ms).padStart(9)} ms  ${e.name}`);
  };
  section('self time by package', summary.by_package);
  section('self time by function', summary.top_self);
  section('inclusive time, repository functions', summary.top_inclusive_repo);
  return lines.join('\n');
}

const invokedDirectly = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  for (const arg of process.argv.slice(2)) {
    if (arg.endsWith('.cpuprofile')) console.log(renderProfile(summarizeProfile(arg)));
    else
      for (const list of Object.values(summarizeDir(arg)))
        for (const s of list) console.log(renderProfile(s));
  }
}
