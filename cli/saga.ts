/**
 * Operator CLI: `npm run saga -- <subcommand>` against the environment's Firestore / Pub/Sub
 * (emulators, or real Google Cloud with application default credentials when the emulator hosts are set to '').
 *
 *   show <sagaId>                                   a saga of any type (an order, a trip, …), with history
 *   list [--type T] [--status S] [--limit N] [--after C]   sagas of every type, newest first, one page
 *   versions                                        each saga type's definition versions: steps, sagas running and
 *                                                   finished, which one new sagas start on (SAGA_START_VERSIONS)
 *   dlq list [--limit N] [--after C]                recorded dead letters, newest first, one page
 *   dlq redrive <id> [--force] | --all              republish the original message to its source topic, mark redriven
 *   metrics                                         the local stack's OpenTelemetry metrics, every function process added up
 * Every subcommand accepts --json. When more follow a list's page, it says how to get the next one
 * (`next page: --after <cursor>`: on stdout, or on stderr with --json); with --json every item carries its own `cursor`.
 */
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { checkStartVersions, ConfigError, configOrExit, type Config } from '../shared/runtime/config';
import { installTracing, shutdownTracing } from '../shared/runtime/telemetry/tracing-sdk';
import { registry, SAGA_APIS } from '../shared/registry';
import { definitionVersionOf } from '../shared/runtime/registry';
import { sagaView } from '../shared/runtime/api/views';
import { docId } from '../shared/runtime/store/collections';
import { CursorError } from '../shared/runtime/store/cursor';
import { DeadLetterStore, type DeadLetter } from '../shared/runtime/store/dead-letters';
import { firestore } from '../shared/runtime/store/firestore';
import { SagaRepository } from '../shared/runtime/store/sagas';
import type { SagaStatus } from '../shared/runtime/engine/types';
import { redrive } from './redrive';
import { table } from './table';
import { versionsReport, versionsText } from './versions';
import { metricsCommand } from './metrics';

const STATUSES: readonly SagaStatus[] = ['STARTED', 'SUCCEEDED', 'COMPENSATING', 'ABORTED', 'FAILED'];

const USAGE = `usage: npm run saga -- <subcommand> [--json]
  show <sagaId>
  list [--type ${registry.types().join('|')}] [--status ${STATUSES.join('|')}] [--limit N] [--after CURSOR]
  versions
  dlq list [--limit N] [--after CURSOR]
  dlq redrive <id> [--force] | dlq redrive --all
  metrics`;

class UsageError extends Error {}

async function reachable(host: string | null, what: string): Promise<void> {
  if (!host) return;
  try {
    await fetch(`http://${host}/`, { signal: AbortSignal.timeout(3000) });
  } catch {
    throw new UsageError(
      `${what} emulator not reachable at ${host} (is \`npm start\` running, or set ${what === 'Firestore' ? 'FIRESTORE' : 'PUBSUB'}_EMULATOR_HOST)`,
    );
  }
}

function limitOf(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new UsageError(`--limit must be an integer from 1 to 1000 (got ${raw})`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      status: { type: 'string' },
      type: { type: 'string' },
      limit: { type: 'string' },
      after: { type: 'string' },
      all: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const cfg: Config = configOrExit();
  checkStartVersions(cfg, registry);
  // A redrive is a span in its saga's trace (Cloud Trace, or SAGA_TRACE_DIR locally).
  installTracing(cfg, 'cli');
  if (positionals[0] === 'metrics') return metricsCommand(cfg.metrics, values.json); // no Firestore needed
  await reachable(cfg.firestoreEmulatorHost, 'Firestore');
  const db = firestore();
  const out = (json: unknown, text: string): void => {
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  };
  /** After a page of a list: how to get the next one (stdout in text; stderr with --json, keeping stdout JSON). */
  const more = (next: string | null): void => {
    if (next === null) return;
    const line = `next page: --after ${next}\n`;
    if (values.json) process.stderr.write(line);
    else process.stdout.write(line);
  };
  const after = values.after;
  if (after === '') throw new UsageError('--after needs a cursor');
  const [cmd, sub, arg] = positionals;

  if (cmd === 'show') {
    if (!sub) throw new UsageError('show needs a sagaId');
    const doc = await new SagaRepository(db).get(docId(sub));
    if (!doc) {
      process.stderr.write(`saga ${sub} not found\n`);
      return 1;
    }
    const saga = sagaView(doc);
    const api = SAGA_APIS.find((a) => a.type === doc.type);
    const view = api ? api.view(doc, saga) : null;
    const headline = api && view ? resourceLine(api.what, api.idName, view) : `saga ${saga.sagaId}`;
    out(
      view ?? saga,
      [
        headline,
        `saga ${saga.type} v${saga.version}  ${saga.status}  awaiting ${saga.currentSteps.join(', ') || '-'}${saga.failedReason ? `  FAILED: ${saga.failedReason}` : ''}`,
        '',
        table(
          ['step', 'status', 'attempts'],
          saga.steps.map((s) => [s.name, s.status, String(s.attempts)]),
        ),
        '',
        table(
          ['at', 'event', 'step', 'reason'],
          saga.history.map((h) => [h.at, h.type, h.step ?? '', h.reason ?? '']),
        ),
      ].join('\n'),
    );
    return 0;
  }

  if (cmd === 'list') {
    const status = values.status;
    if (status !== undefined && !STATUSES.includes(status as SagaStatus)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (got ${status})`);
    }
    const type = values.type;
    const types = registry.types();
    if (type !== undefined && !types.includes(type)) {
      throw new UsageError(`--type must be one of ${types.join(', ')} (got ${type})`);
    }
    const page = await new SagaRepository(db).list({
      limit: limitOf(values.limit, 20),
      after,
      ...(status ? { status: status as SagaStatus } : {}),
      ...(type ? { type } : {}),
    });
    const rows = page.items.map(({ value: d, cursor }) => {
      const api = SAGA_APIS.find((a) => a.type === d.type);
      const saga = sagaView(d);
      const view = api ? api.view(d, saga) : null;
      return {
        sagaId: d.sagaId,
        type: d.type,
        version: definitionVersionOf(d),
        createdAt: new Date(d.createdAt).toISOString(),
        /** The saga's business status as its resource shows it (order APPROVED, trip CONFIRMED, …). */
        status: typeof view?.status === 'string' ? view.status : null,
        sagaStatus: d.status,
        /** Every command awaiting a reply (the steps of a stage run in parallel). */
        currentSteps: saga.currentSteps,
        reason: d.failedReason ?? d.failureReason,
        cursor,
      };
    });
    out(
      rows,
      rows.length === 0
        ? 'no sagas'
        : table(
            ['sagaId', 'type', 'created', 'status', 'saga', 'awaiting', 'reason'],
            rows.map((r) => [
              r.sagaId,
              r.type,
              r.createdAt,
              r.status ?? '-',
              r.sagaStatus,
              r.currentSteps.join(',') || '-',
              r.reason ?? '',
            ]),
          ),
    );
    more(page.next);
    return 0;
  }

  if (cmd === 'versions') {
    const rows = await versionsReport(new SagaRepository(db), registry, cfg.startVersions);
    out(rows, versionsText(rows, cfg.startVersions));
    return 0;
  }

  if (cmd === 'dlq') {
    const store = new DeadLetterStore(db);
    if (sub === 'list') {
      const page = await store.list(limitOf(values.limit, 50), after);
      const list = page.items.map((i) => i.value);
      out(
        page.items.map((i) => ({ ...summary(i.value), cursor: i.cursor })),
        list.length === 0
          ? 'no dead letters'
          : table(
              ['id', 'source topic', 'sagaId', 'reason', 'deliveries', 'recorded at', 'redriven at'],
              list.map((d) => [
                d.id,
                d.sourceTopic,
                d.sagaId ?? '-',
                d.reason,
                String(d.deliveryCount ?? '-'),
                d.recordedAt,
                d.redrivenAt ?? '-',
              ]),
            ),
      );
      more(page.next);
      return 0;
    }
    if (sub === 'redrive') {
      if (!values.all && !arg) throw new UsageError('dlq redrive needs a dead-letter id or --all');
      if (values.all && arg) throw new UsageError('give either a dead-letter id or --all, not both');
      await reachable(cfg.pubsubEmulatorHost, 'Pub/Sub');
      const pubsub = new PubSub({ projectId: cfg.projectId });
      try {
        const results = await redrive(
          store,
          pubsub,
          values.all ? { all: true } : { id: arg!, force: values.force },
        );
        out(
          results,
          results.length === 0
            ? 'nothing to redrive'
            : results.map((r) => `${r.id}: ${r.result}${r.detail ? ` (${r.detail})` : ''}`).join('\n'),
        );
        return results.some((r) => r.result === 'not-found') ? 1 : 0;
      } finally {
        await pubsub.close();
      }
    }
    throw new UsageError(`unknown dlq subcommand ${sub ?? '(none)'}`);
  }
  throw new UsageError(`unknown subcommand ${cmd ?? ''}`);
}

/** `order 1234  APPROVED (reason)  customerId c-1  totalCents 2500`: the resource's id, status and scalar fields. */
function resourceLine(what: string, idName: string, view: Record<string, unknown>): string {
  const reason = typeof view.rejectionReason === 'string' ? ` (${view.rejectionReason})` : '';
  const scalars = Object.entries(view)
    .filter(
      ([k, v]) => !['status', 'rejectionReason', 'createdAt', idName].includes(k) && typeof v !== 'object',
    )
    .map(([k, v]) => `${k} ${String(v)}`);
  return [`${what} ${String(view[idName])}  ${String(view.status)}${reason}`, ...scalars].join('  ');
}

function summary(d: DeadLetter): Record<string, unknown> {
  return {
    id: d.id,
    sourceTopic: d.sourceTopic,
    sagaId: d.sagaId,
    orderId: d.sagaId,
    messageId: d.messageId,
    orderingKey: d.orderingKey,
    reason: d.reason,
    detail: d.detail,
    deliveryCount: d.deliveryCount,
    recordedAt: d.recordedAt,
    redrivenAt: d.redrivenAt,
    redriveCount: d.redriveCount,
    data: d.data,
    attributes: d.attributes,
  };
}

main(process.argv.slice(2)).then(
  async (code) => {
    await shutdownTracing().catch(() => undefined); // exports what is still batched (cloud)
    process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if (
      err instanceof UsageError ||
      err instanceof CursorError ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
