/**
 * Reading ftrace text: the `trace` file of tracefs, or `trace-cmd report`. Pure: text in, events out.
 * A line is `TASK-PID [CPU] [FLAGS] TIMESTAMP: EVENT: DETAILS`; kprobe events put `(function+off/size [module])`
 * first and then `name=value` fetch arguments; trace markers written by the driver read `kvmmu: line N`.
 */

export interface TraceEvent {
  /** 1-based line of the capture, for messages. */
  at: number;
  pid: number;
  cpu: number;
  time: number;
  /** Event name without its system (`tdp_get`, `kvm_mmu_get_page`, `tracing_mark_write`, …). */
  name: string;
  /** Everything after `NAME: `. */
  text: string;
  /** `name=value` fields of a kprobe (values as written, e.g. "0x3784"). */
  fields: Record<string, string>;
}

const LINE =
  /^\s*(.*?)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+(?:[.a-zA-Z0-9]{4,6}\s+)?(\d+\.\d+):\s+([\w:.]+):\s?(.*)$/;
const FIELD = /(\w+)=(\S+)/g;

/** Every event of a capture, in order. Lines that are not events (headers, blank lines, comments) are skipped. */
export function parseFtrace(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const name = m[5]!.includes(':') ? m[5]!.slice(m[5]!.lastIndexOf(':') + 1) : m[5]!;
    const rest = m[6]!;
    const fields: Record<string, string> = {};
    const args = rest.startsWith('(') ? rest.slice(rest.indexOf(')') + 1) : '';
    for (const f of args.matchAll(FIELD)) fields[f[1]!] = f[2]!;
    events.push({
      at: i + 1,
      pid: Number(m[2]),
      cpu: Number(m[3]),
      time: Number(m[4]),
      name,
      text: rest,
      fields,
    });
  }
  return events;
}

/** The scenario line a driver marker names (`kvmmu: line 12` → 12), `end` for the last marker, else undefined. */
export function markerLine(e: TraceEvent): number | 'end' | undefined {
  if (e.name !== 'tracing_mark_write' && e.name !== 'print') return undefined;
  const m = /kvmmu: (?:line (\d+)|(end))/.exec(e.text);
  if (!m) return undefined;
  return m[2] ? 'end' : Number(m[1]);
}
