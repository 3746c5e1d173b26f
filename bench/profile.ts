/**
 * CPU profiles of a bot child over a chosen window (`npm run bench -- --profile`), and where their time
 * goes. The child starts and stops V8's sampling profiler through the inspector protocol when the
 * parent asks, so a profile holds exactly the turns of the measured phases, not start-up (loading 10k
 * accounts) or warm-up.
 *
 * Also a command: `node node_modules/.cache/switchboard-bench/bench/profile.js FILE.cpuprofile [TOP]`
 * prints the same summary for a saved profile.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

let session: Session | undefined;

/** Starts sampling in this process (every 250 µs: turns here take 1–5 ms). */
export async function startProfiling(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
}

/** Stops sampling and writes the profile (Chrome DevTools' .cpuprofile format) to `file`. */
export async function stopProfiling(file: string): Promise<void> {
  if (!session) throw new Error('the profiler was not started');
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  session.disconnect();
  session = undefined;
  writeFileSync(file, JSON.stringify(profile));
}

/**
 * Where a frame's code lives: the npm package for dependencies (botbuilder, adaptive-expressions…),
 * `src/<dir>` for ours, `node:` for Node's own JavaScript, and V8's pseudo-frames as they are named
 * ("(garbage collector)", "(idle)", "(program)": native code with no JavaScript frame).
 */
export function bucketOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[0] ?? '');
  // The bench runs our code compiled into node_modules/.cache/switchboard-bench/{src,bench}.
  const ours = /(?:switchboard-bench|dist)\/(src|bench|test)\/([^/]+)/.exec(url) ?? (url.includes('node_modules') ? null : /\/(src|bench|test)\/([^/]+)/.exec(url));
  if (ours) return `${ours[1]}/${ours[2]}`;
  const inModules = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) return inModules[1]!;
  return url;
}

const frameKey = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(?:switchboard-bench\/|node_modules\/(?!\.cache))/, '')}:${f.lineNumber + 1}`;

export interface ProfileSummary {
  /** Sampled time, in ms, excluding "(idle)". */
  busyMs: number;
  idleMs: number;
  /** Self time per bucket, ms, largest first. */
  buckets: [string, number][];
  /** Self time per function, ms, largest first. */
  self: [string, number][];
  /** Inclusive time per function (counted once per sample however deep the recursion), ms. */
  total: [string, number][];
}

export function summarize(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const buckets = new Map<string, number>();
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the gap to the next one (the last sample gets none).
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const node = byId.get(samples[i]!);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    busy += ms;
    add(buckets, bucketOf(node.callFrame), ms);
    add(self, frameKey(node.callFrame), ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const key = frameKey(byId.get(id)!.callFrame);
      if (!seen.has(key)) {
        seen.add(key);
        add(total, key, ms);
      }
    }
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { busyMs: busy, idleMs: idle, buckets: sorted(buckets), self: sorted(self), total: sorted(total) };
}

/** The summary as text: buckets, then the top functions by self and by inclusive time, as % of busy time. */
export function report(summary: ProfileSummary, top = 25): string {
  const pct = (ms: number): string => `${((100 * ms) / summary.busyMs).toFixed(1).padStart(5)}%`;
  const lines = [`busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms`, '', 'self time by package / directory:'];
  for (const [k, v] of summary.buckets.slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('', 'self time by function:');
  for (const [k, v] of summary.self.slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('', 'inclusive time by function:');
  for (const [k, v] of summary.total.slice(0, top * 2)) lines.push(`  ${pct(v)}  ${k}`);
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: profile.js FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(report(summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile), top ? Number(top) : 25) + '\n');
}
