/**
 * Was this command issued by its saga? Participants ask before they act: anyone with publish rights on a command
 * topic could otherwise move money — e.g. a `compensate` for an APPROVED order would refund its payment and release
 * its credit and stock while the saga stays SUCCEEDED.
 *
 * The check is against the saga's own recorded state (read in the participant's transaction, with its inbox
 * record: no extra round trip), not a token: the orchestrator commits a step's state together with the command it
 * issues (one transaction with the outbox) before publishing, so by the time any copy of a genuine command arrives —
 * first delivery, redelivery, sweeper republish, operator redrive — the saga document says it was issued. A command
 * is genuine when
 *   - the saga exists, is of the command's type, and has the step;
 *   - the step was started (forward: it left PENDING) or its compensation was issued at least `attempt` times
 *     (compensate: COMPENSATING, COMPENSATED or COMPENSATION_FAILED);
 *   - the payload is exactly what the saga's binding derives from the saga's data for that step (so a forged
 *     amount, sku list or order id on a genuine command id is refused too).
 * Pure: given the saga document and the command. A saga of a definition version this code does not know throws
 * UnknownDefinitionVersionError (retryable: the command is held until code that knows the version runs).
 */
import { canonicalJson } from '../canonical-json';
import type { CommandMessage } from '../messages';
import type { SagaDoc } from '../store/sagas';
import type { Registry } from '../registry';

export function notIssuedBecause(
  registry: Registry,
  saga: SagaDoc | null,
  cmd: CommandMessage,
): string | null {
  if (!saga) return `no saga ${cmd.sagaId}`;
  if (saga.type !== cmd.sagaType) return `saga ${cmd.sagaId} is a ${saga.type}, not a ${cmd.sagaType}`;
  const step = saga.steps.find((s) => s.name === cmd.step);
  const binding = registry.bindingOf(saga);
  const stepBinding = binding?.steps[cmd.step];
  if (!step || !binding || !stepBinding) return `saga ${saga.type} has no step ${cmd.step}`;
  if (cmd.action === 'forward') {
    if (step.status === 'PENDING' || step.status === 'SKIPPED') return `step ${cmd.step} was never started`;
    if (cmd.attempt !== 1) return `forward commands are issued once (attempt 1), not attempt ${cmd.attempt}`;
  } else {
    const compensating = ['COMPENSATING', 'COMPENSATED', 'COMPENSATION_FAILED'].includes(step.status);
    if (!compensating) return `step ${cmd.step} is ${step.status}: its saga never issued a compensation`;
    if (cmd.attempt > step.compensationAttempts) {
      return `compensation attempt ${cmd.attempt} of ${cmd.step} was never issued (${step.compensationAttempts} so far)`;
    }
  }
  const data = binding.dataSchema.safeParse(saga.data);
  if (!data.success) return `saga ${cmd.sagaId} has data its binding cannot read`;
  const expected = stepBinding.payload(data.data);
  if (canonicalJson(expected) !== canonicalJson(cmd.payload))
    return `payload differs from what saga ${cmd.sagaId} issued`;
  return null;
}
