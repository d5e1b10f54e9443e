/**
 * Operator CLI: `npm run saga -- <subcommand>` against the environment's Firestore / Pub/Sub
 * (emulators, or real Google Cloud with application default credentials when the emulator hosts are set to '').
 *
 *   show <orderId>                       the order and its saga, with history
 *   list [--status S] [--limit N]        sagas, newest first
 *   dlq list [--limit N]                 recorded dead letters
 *   dlq redrive <id> [--force] | --all   republish the original message to its source topic, mark redriven
 * Every subcommand accepts --json.
 */
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { configOrExit, type Config } from '../shared/config';
import { orderView } from '../functions/api/service';
import { DeadLetterStore, type DeadLetter } from '../shared/store/dead-letters';
import { firestore } from '../shared/store/firestore';
import { SagaRepository } from '../shared/store/sagas';
import type { SagaStatus } from '../shared/saga/types';
import { redrive } from './redrive';
import { table } from './table';

const STATUSES: readonly SagaStatus[] = ['STARTED', 'SUCCEEDED', 'COMPENSATING', 'ABORTED', 'FAILED'];

const USAGE = `usage: npm run saga -- <subcommand> [--json]
  show <orderId>
  list [--status ${STATUSES.join('|')}] [--limit N]
  dlq list [--limit N]
  dlq redrive <id> [--force] | dlq redrive --all`;

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
      limit: { type: 'string' },
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
  await reachable(cfg.firestoreEmulatorHost, 'Firestore');
  const db = firestore();
  const out = (json: unknown, text: string): void => {
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  };
  const [cmd, sub, arg] = positionals;

  if (cmd === 'show') {
    if (!sub) throw new UsageError('show needs an orderId');
    const doc = await new SagaRepository(db).get(sub);
    if (!doc) {
      process.stderr.write(`order ${sub} not found\n`);
      return 1;
    }
    const view = orderView(doc);
    const saga = view.saga as {
      status: string;
      currentStep: string | null;
      failureReason: string | null;
      failedReason: string | null;
      steps: { name: string; status: string; attempts: number }[];
      history: { at: string; type: string; step?: string; reason?: string }[];
    };
    out(
      view,
      [
        `order ${String(view.orderId)}  ${String(view.status)}${view.rejectionReason ? ` (${String(view.rejectionReason)})` : ''}  customer ${String(view.customerId)}  total ${String(view.totalCents)} cents`,
        `saga ${saga.status}  current step ${saga.currentStep ?? '-'}${saga.failedReason ? `  FAILED: ${saga.failedReason}` : ''}`,
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
    const docs = await new SagaRepository(db).list({
      limit: limitOf(values.limit, 20),
      ...(status ? { status: status as SagaStatus } : {}),
    });
    const rows = docs.map((d) => {
      const v = orderView(d);
      return {
        orderId: d.sagaId,
        createdAt: new Date(d.createdAt).toISOString(),
        orderStatus: v.status,
        sagaStatus: d.status,
        currentStep: d.currentStep,
        reason: d.failedReason ?? d.failureReason,
      };
    });
    out(
      rows,
      rows.length === 0
        ? 'no sagas'
        : table(
            ['orderId', 'created', 'order', 'saga', 'step', 'reason'],
            rows.map((r) => [
              r.orderId,
              r.createdAt,
              String(r.orderStatus),
              r.sagaStatus,
              r.currentStep ?? '-',
              r.reason ?? '',
            ]),
          ),
    );
    return 0;
  }

  if (cmd === 'dlq') {
    const store = new DeadLetterStore(db);
    if (sub === 'list') {
      const list = await store.list(limitOf(values.limit, 50));
      out(
        list.map(summary),
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

function summary(d: DeadLetter): Record<string, unknown> {
  return {
    id: d.id,
    sourceTopic: d.sourceTopic,
    sagaId: d.sagaId,
    orderId: d.sagaId,
    messageId: d.messageId,
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
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
