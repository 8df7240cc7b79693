/** Diagnostics that come out of running a statement: #GP, failed VM-Enter, impossible events, WARNs, hazards. */
import type { Diagnostic } from '../syntax/ast.js';
import type { Step } from './analysis.js';

export function stepDiagnostics(step: Step): Diagnostic[] {
  const span = step.statement.span;
  const out: Diagnostic[] = [];
  const { outcome, message } = step.result;
  if (outcome === 'gp')
    out.push({
      span,
      severity: 'warning',
      code: 'gp',
      message: `#GP injected, state unchanged${message ? `: ${message}` : ''}`,
    });
  else if (outcome === 'vmfail')
    out.push({ span, severity: 'warning', code: 'vmfail', message: `VM-Enter fails${message ? `: ${message}` : ''}` });
  else if (outcome === 'shutdown')
    out.push({ span, severity: 'warning', code: 'shutdown', message: `Triple fault${message ? `: ${message}` : ''}` });
  else if (outcome === 'error')
    out.push({
      span,
      severity: 'error',
      code: 'impossible-event',
      message: message ?? 'this event cannot happen here',
    });
  for (const a of step.result.actions) {
    if (a.op === 'warn') out.push({ span, severity: 'warning', code: 'kvm-warn', message: `KVM WARN: ${a.detail}` });
    else if (a.op === 'hazard') out.push({ span, severity: 'warning', code: 'hazard', message: `Hazard: ${a.detail}` });
  }
  return out;
}
