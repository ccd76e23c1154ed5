import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The pid listening on a local TCP port (the stack's servers), or null. */
export function pidListeningOn(port: number): number | null {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString();
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid ? Number(pid) : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number | null): number {
  if (pid === null) return 0;
  try {
    // Fields after the command name (which may hold spaces) start at the 3rd; utime and stime are the 14th and 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Sums of a Prometheus histogram's `_sum` series by one label, from a /metrics text. */
export function histogramSums(text: string, name: string, label: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_sum{`)) continue;
    const key = new RegExp(`${label}="([^"]+)"`).exec(line)?.[1];
    if (key) sums[key] = (sums[key] ?? 0) + Number(line.trim().split(/\s+/).at(-1));
  }
  return sums;
}
