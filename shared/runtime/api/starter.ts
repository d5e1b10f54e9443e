/**
 * Starts sagas of any type from the api, idempotently per Idempotency-Key: one transaction { idempotency record;
 * saga document; the api's inbox/outbox record with the first commands } → publish → mark sent. Admission control
 * refuses (429) before anything is written when the engine is too busy to finish one more saga in time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Timestamp } from '@google-cloud/firestore';
import type { Admission } from '../admission';
import { canonicalJson } from '../canonical-json';
import type { RuntimeContext } from '../context';
import { deliver } from '../consumer';
import { GRPC, grpcCode } from '../errors';
import { runTransaction } from '../metrics';
import type { AnySagaBinding } from '../registry';
import { COLLECTIONS } from '../store/collections';
import { currentTraceparent, traceAttributes, withTraceContext } from '../telemetry/tracing';
import { sagaMetrics } from '../telemetry/metrics';
import { ApiError } from './http';

export const IDEMPOTENCY_RETENTION_MS = 24 * 3600 * 1000;
export const API = 'api';

export interface Started {
  sagaId: string;
  status: 'PENDING';
  /** True when the Idempotency-Key had been used with this body: no saga was started. */
  replayed: boolean;
}

export interface StartRequest {
  /** The saga type: new sagas start on the version SAGA_START_VERSIONS names, else the newest. */
  type: string;
  /** The validated request body (what the Idempotency-Key is bound to). */
  request: unknown;
  /** The saga's data, given its new id. */
  data: (sagaId: string) => Record<string, unknown>;
  idempotencyKey: string | null;
}

export class SagaStarter {
  constructor(
    private readonly ctx: RuntimeContext,
    private readonly admission: Admission,
  ) {}

  async start(req: StartRequest): Promise<Started> {
    await this.admit(req);
    try {
      return await this.startOnce(req);
    } catch (err) {
      // Two requests with the same new key raced and the other one created the record first: this one is a replay.
      if (req.idempotencyKey !== null && grpcCode(err) === GRPC.ALREADY_EXISTS) return this.startOnce(req);
      throw err;
    }
  }

  private startBinding(type: string): AnySagaBinding {
    const binding = this.ctx.registry.startBinding(type, this.ctx.config.startVersions);
    if (!binding) throw new Error(`no definition of saga type ${type} to start`);
    return binding;
  }

  /** Idempotency records are per saga type: the same key on two routes names two requests. */
  private keyRef(type: string, key: string) {
    return this.ctx.db.collection(COLLECTIONS.idempotencyKeys).doc(sha256(`${type}\n${key}`));
  }

  /**
   * Refuses a new saga with 429 RESOURCE_EXHAUSTED (before anything is written) when the engine is too busy to
   * finish it in time. A retry of a request already accepted under its Idempotency-Key is never refused.
   */
  private async admit(req: StartRequest): Promise<void> {
    const decision = await this.admission.check();
    if (decision.admitted) return;
    if (req.idempotencyKey !== null) {
      const existing = await this.keyRef(req.type, req.idempotencyKey).get();
      if (existing.exists) return;
    }
    sagaMetrics().admissionRefused(req.type);
    this.ctx.log.info('saga refused: too many sagas in flight', {
      type: req.type,
      inFlight: decision.inFlight,
      maxInFlight: this.ctx.config.maxInFlight,
      retryAfterS: decision.retryAfterS,
    });
    throw new ApiError(
      429,
      'RESOURCE_EXHAUSTED',
      `too many sagas in flight (${decision.inFlight}, bound ${this.ctx.config.maxInFlight}); retry after ${decision.retryAfterS} s with the same Idempotency-Key`,
      [],
      { 'Retry-After': String(decision.retryAfterS) },
    );
  }

  private async startOnce(req: StartRequest): Promise<Started> {
    const { ctx } = this;
    const type = req.type;
    const binding = this.startBinding(type);
    const sagaId = randomUUID();
    const bodyHash = sha256(canonicalJson(req.request));
    const keyRef = req.idempotencyKey ? this.keyRef(type, req.idempotencyKey) : null;
    const data = req.data(sagaId);
    // The api's request span is the saga's root: kept on the saga and carried by its first commands.
    const trace = currentTraceparent();
    const stamp = traceAttributes();
    const outcome = await runTransaction(ctx.db, async (tx) => {
      if (keyRef) {
        const existing = await tx.get(keyRef);
        if (existing.exists) {
          if (existing.get('bodyHash') !== bodyHash) {
            throw new ApiError(
              409,
              'IDEMPOTENCY_KEY_REUSED',
              'this Idempotency-Key was used with a different body',
            );
          }
          return { sagaId: String(existing.get('sagaId')), record: null };
        }
        const now = ctx.now();
        tx.create(keyRef, {
          sagaId,
          type,
          bodyHash,
          createdAt: Timestamp.fromMillis(now),
          expireAt: Timestamp.fromMillis(now + IDEMPOTENCY_RETENTION_MS),
        });
      }
      const outgoing = ctx.orchestrator.startInTx(tx, binding, sagaId, data, trace);
      return { sagaId, record: ctx.store.record(tx, API, sagaId, withTraceContext(outgoing, stamp)) };
    });
    if (outcome.record) {
      this.admission.accepted();
      sagaMetrics().sagaStarted(type, binding.definition.version ?? 1);
      ctx.faults.afterCommit(API);
      try {
        ctx.faults.beforePublish(API);
        await deliver(ctx, outcome.record);
      } catch (err) {
        // Committed is accepted: the outbox record stays pending and the sweeper publishes it (contract §3).
        ctx.log.child({ sagaId }).warn('first command not published; the sweeper will deliver it', {
          error: err,
        });
      }
    }
    return { sagaId: outcome.sagaId, status: 'PENDING', replayed: outcome.record === null };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
