import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second of /proc's CPU times (100 on every usual Linux). */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface Sample {
  /** performance.now() of this process when sampled. */
  readonly at: number;
  /** CPU used so far, in ms (a process: user + system of all its threads; the machine: all cores busy). */
  readonly cpuMs: number;
  readonly rssKb: number;
  /** The machine only: ms some task waited for a CPU (/proc/pressure/cpu). */
  readonly stallMs?: number;
}

const read = (file: string) => readFileSync(file, 'utf8');

/** One reading of /proc/<pid>/stat and /proc/<pid>/status; undefined once the process is gone. */
export function readProcess(pid: number): Sample | undefined {
  try {
    const stat = read(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`))?.[1];
    return { at: performance.now(), cpuMs: (ticks * 1000) / TICKS, rssKb: Number(rss ?? 0) };
  } catch {
    return undefined;
  }
}

/** The whole machine: busy CPU time of all cores (/proc/stat) and CPU pressure stalls. */
export function readMachine(): Sample | undefined {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = (read('/proc/stat').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce((a: number, b) => a + (b ?? 0), 0);
    const stallUs = Number(
      /^some .*total=(\d+)/m.exec(readOptional('/proc/pressure/cpu'))?.[1] ?? Number.NaN,
    );
    return {
      at: performance.now(),
      cpuMs: (busy * 1000) / TICKS,
      rssKb: 0,
      ...(Number.isFinite(stallUs) ? { stallMs: stallUs / 1000 } : {}),
    };
  } catch {
    return undefined;
  }
}

function readOptional(file: string): string {
  try {
    return read(file);
  } catch {
    return '';
  }
}

/** The kernel's peak RSS of a process (VmHWM), in kB. */
export function peakRssKb(pid: number): number | undefined {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`))?.[1];
    return hwm === undefined ? undefined : Number(hwm);
  } catch {
    return undefined;
  }
}

/** Resets the kernel's peak RSS (`echo 5 > clear_refs`), so that VmHWM then covers what follows only. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface CpuUsage {
  /** Average CPU over the span, in % of one core (200 % = both cores of a 2-core machine). */
  readonly cpuPercent: number;
  /** Highest RSS seen in the samples of the span, in MB (processes only). */
  readonly rssPeakMb: number;
  /** The machine only: share of the span in which some task waited for a CPU, %. */
  readonly cpuStallPercent?: number;
}

/** Samples named sources every `intervalMs` until stopped; answers CPU and RSS over any span of the run. */
export class Sampler<Name extends string> {
  private readonly samples = new Map<Name, Sample[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sources: Record<Name, () => Sample | undefined>,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** Usage of one source between two performance.now() times (the first and last samples inside). */
  usage(name: Name, from: number, to: number): CpuUsage | undefined {
    const inside = (this.samples.get(name) ?? []).filter((s) => s.at >= from && s.at <= to);
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (!first || !last || last.at <= first.at) return undefined;
    const span = last.at - first.at;
    const stall =
      first.stallMs !== undefined && last.stallMs !== undefined
        ? (last.stallMs - first.stallMs) / span
        : undefined;
    return {
      cpuPercent: ((last.cpuMs - first.cpuMs) / span) * 100,
      rssPeakMb: Math.max(...inside.map((s) => s.rssKb)) / 1024,
      ...(stall !== undefined ? { cpuStallPercent: stall * 100 } : {}),
    };
  }

  private sample(): void {
    for (const name of Object.keys(this.sources) as Name[]) {
      const s = this.sources[name]();
      if (!s) continue;
      const list = this.samples.get(name) ?? [];
      list.push(s);
      this.samples.set(name, list);
    }
  }
}

/** CPU used so far by every process on the machine, by pid, with a short label (command and script). */
export function allProcesses(): Map<number, { label: string; cpuMs: number }> {
  const out = new Map<number, { label: string; cpuMs: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = read(`/proc/${pid}/stat`);
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv = read(`/proc/${pid}/cmdline`).split('\0');
      const script = comm === 'node' ? argv.slice(1).find((a) => !a.startsWith('-')) : undefined;
      const label = script ? `node ${script.split('/').slice(-2).join('/')}` : comm;
      out.set(pid, { label, cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** The processes (grouped by label) that used the most CPU between two snapshots, in % of one core. */
export function topConsumers(
  before: ReadonlyMap<number, { label: string; cpuMs: number }>,
  after: ReadonlyMap<number, { label: string; cpuMs: number }>,
  spanMs: number,
  exclude: ReadonlySet<number>,
  count = 4,
): Array<{ label: string; cpuPercent: number }> {
  const byLabel = new Map<string, number>();
  for (const [pid, p] of after) {
    if (exclude.has(pid)) continue;
    const used = p.cpuMs - (before.get(pid)?.cpuMs ?? 0);
    if (used > 0) byLabel.set(p.label, (byLabel.get(p.label) ?? 0) + used);
  }
  return [...byLabel]
    .map(([label, ms]) => ({ label, cpuPercent: Math.round((ms / spanMs) * 100) }))
    .filter((p) => p.cpuPercent >= 1)
    .sort((a, b) => b.cpuPercent - a.cpuPercent)
    .slice(0, count);
}
