/** The view of a saga of any type (GET /sagas/{sagaId}; embedded in every saga's own view). */
import { z } from 'zod';
import { outstandingOf } from '../engine/engine';
import { definitionVersionOf } from '../registry';
import type { SagaDoc } from '../store/sagas';
import { parseTraceparent } from '../telemetry/tracing';

export const sagaViewSchema = z.object({
  sagaId: z.string(),
  type: z.string(),
  version: z.number().int().describe('the definition version the saga runs on'),
  status: z.enum(['STARTED', 'SUCCEEDED', 'COMPENSATING', 'ABORTED', 'FAILED']),
  currentStep: z.string().nullable().describe('the first step awaiting a reply (null when none)'),
  currentSteps: z.array(z.string()).describe('the steps awaiting a reply (empty when finished)'),
  failureReason: z
    .string()
    .nullable()
    .describe('the business reason compensation started (e.g. OUT_OF_STOCK, STEP_TIMEOUT)'),
  failedReason: z.string().nullable().describe('why the saga is FAILED (an operator is needed)'),
  steps: z.array(
    z.object({
      name: z.string(),
      status: z.enum([
        'PENDING',
        'RUNNING',
        'SUCCEEDED',
        'FAILED',
        'TIMED_OUT',
        'COMPENSATING',
        'COMPENSATED',
        'COMPENSATION_FAILED',
        'SKIPPED',
      ]),
      attempts: z.number().int(),
    }),
  ),
  history: z.array(
    z.object({
      at: z.string(),
      type: z.string(),
      step: z.string().optional(),
      reason: z.string().optional(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
  traceId: z
    .string()
    .nullable()
    .describe(
      'the saga\'s trace (Cloud Trace; Cloud Logging: trace="projects/<project>/traces/<traceId>"); null when tracing was off at its start',
    ),
});
export type SagaView = z.infer<typeof sagaViewSchema>;

export function sagaView(doc: SagaDoc): SagaView {
  const steps = outstandingOf(doc).map((o) => o.step);
  return {
    sagaId: doc.sagaId,
    type: doc.type,
    version: definitionVersionOf(doc),
    status: doc.status,
    currentStep: steps[0] ?? null,
    currentSteps: steps,
    failureReason: doc.failureReason,
    failedReason: doc.failedReason,
    steps: doc.steps.map((s) => ({ name: s.name, status: s.status, attempts: s.attempts })),
    history: doc.history,
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
    traceId: parseTraceparent(doc.trace)?.traceId ?? null,
  };
}

/** The business status of a saga's resource: succeeded, rejected (aborted), or still pending (running or FAILED). */
export function outcomeOf(doc: SagaDoc): 'SUCCEEDED' | 'REJECTED' | 'PENDING' {
  return doc.status === 'SUCCEEDED' ? 'SUCCEEDED' : doc.status === 'ABORTED' ? 'REJECTED' : 'PENDING';
}
