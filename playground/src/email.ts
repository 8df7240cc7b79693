/**
 * "Copy as email": the scenario as plain text with each statement's outcome beside it in the words `kvmmu run`
 * uses (core's formatOutcome), for a reply on a mailing list: no markup, nothing that needs a renderer. The
 * outcomes are comments, so the text pasted back into the playground (or a `.kvmmu` file) is the same scenario.
 * Pure.
 */
import type { TimelineResult } from '../../core/src/protocol.js';
import { LineIndex } from '../../core/src/text/positions.js';

/** Outcomes start in this column when the statement is shorter. */
const OUTCOME_COLUMN = 40;

export function emailText(text: string, timeline: TimelineResult, link?: string): string {
  const outcomes = new Map<number, string[]>();
  for (const step of timeline.steps) {
    const list = outcomes.get(step.line) ?? [];
    // The server words each step as every view does (core/src/views/outcome.ts).
    list.push(step.summary);
    outcomes.set(step.line, list);
  }
  const lines = LineIndex.of(text).lines();
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const body = lines.map((line, i) => {
    const trimmed = line.replace(/\s+$/, '');
    const summaries = outcomes.get(i);
    if (!summaries?.length) return trimmed;
    const outcome = `→ ${summaries.join('; ')}`;
    // `#` starts a comment that runs to the end of the line: after one, the outcome is simply more comment.
    if (trimmed.includes('#')) return `${trimmed}  ${outcome}`;
    return `${trimmed}${' '.repeat(Math.max(2, OUTCOME_COLUMN - trimmed.length))}# ${outcome}`;
  });
  const head = [`# kvmmu, kernel ${timeline.kernel.label}`, ...(link ? [`# ${link}`] : [])];
  return [...head, '', ...body, ''].join('\n');
}
