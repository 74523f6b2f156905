import { join, resolve } from 'node:path';
import { FULL, SCENARIOS, type Scenario, type Sizes } from './harness.js';
import { REPO_ROOT } from './system.js';

export const USAGE = `npm run bench [-- options]

  --quick            scaled-down sizes (W 2,000, C 50, M 200 x 10, R 100,000, S 200): 1-2 minutes
  --json             print only the JSON report on stdout (progress still goes to stderr)
  --only W,C,M,R,S   run only these scenarios (default all; with --sweep: W,C,M)
  --size KEY=N,...   override sizes: wide, chain, many, manyTasks, replay, replaySample, restart, restartSteps
  --out FILE         where the report goes (default bench-report.json, with --sweep bench-sweep.json,
                     at the repository root)
  --profile [DIR]    run the services under node --cpu-prof, profiles in DIR/<scenario>/<service>/ (default bench-profiles),
                     and put a summary of each (top self-time functions, packages) in the report
  --sweep            how cost grows: W over width, C over depth, M over executions of 3 tasks
                     (Orchestra, and the limit for W and C), with every process's memory at each point
  --points W=N,N/C=N,N/M=N,N
                     the sweep's points (default W=1000,2000,5000,10000,20000/C=10,100,1000/M=100,1000,10000,100000)
  --in-flight N      with --sweep: at most N executions submitted and not final at once in M (default 1000)
  --help             this text

  node bench/dist/chart.js [bench-sweep.json] [docs/images/bench-sweep.svg] [other.json label] draws a sweep
  report (and the server's memory of another one, dashed).
`;

export type SweepPoints = Record<'W' | 'C' | 'M', number[]>;
export const SWEEP_POINTS: SweepPoints = {
  W: [1_000, 2_000, 5_000, 10_000, 20_000],
  C: [10, 100, 1_000],
  M: [100, 1_000, 10_000, 100_000],
};

export interface Options {
  quick: boolean;
  sizes: Partial<Sizes>;
  json: boolean;
  only: Scenario[];
  out: string;
  profileDir: string | undefined;
  sweep: SweepPoints | undefined;
  inFlight: number;
}

export class UsageError extends Error {}

const count = (text: string, what: string) => {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`bad ${what}: ${text}`);
  return Number(text);
};

function parsePoints(text: string): SweepPoints {
  const points: SweepPoints = { W: [], C: [], M: [] };
  for (const part of text.split('/').filter(Boolean)) {
    const [key = '', list = ''] = part.split('=');
    const scenario = key.toUpperCase();
    if (scenario !== 'W' && scenario !== 'C' && scenario !== 'M')
      throw new UsageError(`bad --points ${part}`);
    points[scenario] = list.split(',').map((n) => count(n, '--points'));
  }
  return points;
}

/** The options, or undefined for --help; a UsageError says what is wrong. */
export function parseArgs(argv: string[]): Options | undefined {
  const options: Options = {
    quick: false,
    sizes: {},
    json: false,
    only: [...SCENARIOS],
    out: '',
    profileDir: undefined,
    sweep: undefined,
    inFlight: 1_000,
  };
  let only = false;
  let points: SweepPoints | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const at = arg.indexOf('=');
    const flag = at < 0 ? arg : arg.slice(0, at);
    const inline = at < 0 ? undefined : arg.slice(at + 1);
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--quick') options.quick = true;
    else if (flag === '--json') options.json = true;
    else if (flag === '--sweep')
      options.sweep = { W: [...SWEEP_POINTS.W], C: [...SWEEP_POINTS.C], M: [...SWEEP_POINTS.M] };
    else if (flag === '--points') points = parsePoints(value());
    else if (flag === '--in-flight') options.inFlight = count(value(), '--in-flight');
    else if (flag === '--only') {
      const wanted = value().toUpperCase().split(',').filter(Boolean);
      const unknown = wanted.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
      if (unknown.length) throw new UsageError(`unknown scenario(s) ${unknown.join(', ')}`);
      options.only = SCENARIOS.filter((s) => wanted.includes(s));
      only = true;
    } else if (flag === '--size') {
      for (const pair of value().split(',').filter(Boolean)) {
        const [key = '', n = ''] = pair.split('=');
        if (!(key in FULL)) throw new UsageError(`bad --size ${pair}`);
        options.sizes[key as keyof Sizes] = count(n, `--size ${key}`);
      }
    } else if (flag === '--out') options.out = resolve(value());
    else if (flag === '--profile') {
      // The directory is optional: `--profile --quick` keeps the default.
      const next = inline ?? (argv[i + 1]?.startsWith('--') === false ? argv[++i] : undefined);
      options.profileDir = resolve(next || 'bench-profiles');
    } else if (flag === '--help' || flag === '-h') return undefined;
    else throw new UsageError(`unknown option ${flag}`);
  }
  if (points) options.sweep = points;
  if (options.sweep) {
    const wanted = only ? options.only : ['W', 'C', 'M'];
    for (const key of ['W', 'C', 'M'] as const) if (!wanted.includes(key)) options.sweep[key] = [];
  }
  options.out ||= join(REPO_ROOT, options.sweep ? 'bench-sweep.json' : 'bench-report.json');
  return options;
}
