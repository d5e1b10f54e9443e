/**
 * Tracing without emulators: trace context into and out of message attributes, the log line's trace fields, the
 * sampler (only spans that may start a trace start one), and the local span files the console reads.
 * The first block runs before any SDK is installed: the API is the no-op (SAGA_TRACING=off).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../shared/runtime/log';
import { pushSpanOptions } from '../../shared/runtime/http/push-handler';
import { readTrace } from '../../shared/runtime/telemetry/span-files';
import { sagaTrace } from '../../shared/runtime/telemetry/trace-view';
import {
  activeSpanIds,
  currentTraceparent,
  extractContext,
  inSpan,
  inTraceOf,
  parseTraceparent,
  traceAttributes,
  withTraceContext,
} from '../../shared/runtime/telemetry/tracing';
import { installTracing } from '../../shared/runtime/telemetry/tracing-sdk';

const INCOMING = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const message = (attributes: Record<string, string> = {}) => ({ topic: 't', id: 'm', data: {}, attributes });

function lines(write: (log: ReturnType<typeof createLogger>) => void): Record<string, unknown>[] {
  const out: string[] = [];
  write(createLogger({ component: 'test' }, (l) => out.push(l)));
  return out.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('tracing off (no SDK installed)', () => {
  it('writes no attribute, stamps nothing, has no active span', async () => {
    await inSpan('x', { root: true }, () => {
      expect(traceAttributes()).toEqual({});
      expect(currentTraceparent()).toBeUndefined();
      expect(activeSpanIds()).toBeNull();
      return Promise.resolve();
    });
    const messages = [message()];
    expect(withTraceContext(messages)).toBe(messages);
  });

  it('log lines still carry the trace of a traceparent given to the logger, and none without one', () => {
    process.env.GOOGLE_CLOUD_PROJECT = 'demo-saga';
    const [withTp] = lines((log) => log.child({ traceparent: INCOMING }).info('m'));
    expect(withTp).toMatchObject({
      'logging.googleapis.com/trace': 'projects/demo-saga/traces/0af7651916cd43dd8448eb211c80319c',
      'logging.googleapis.com/spanId': 'b7ad6b7169203331',
    });
    const [without] = lines((log) => log.info('m'));
    expect(without).not.toHaveProperty('logging.googleapis.com/trace');
  });

  it('parses only valid traceparents', () => {
    expect(parseTraceparent(INCOMING)).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    });
    for (const bad of [
      undefined,
      '',
      'x',
      `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
      INCOMING.toUpperCase(),
    ]) {
      expect(parseTraceparent(bad)).toBeNull();
    }
  });
});

describe('tracing local (SDK with span files)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spans-'));
  beforeAll(() => {
    expect(installTracing({ tracing: 'local', traceDir: dir, projectId: 'demo-saga' }, 'unit')).toBe('local');
  });

  it('continues an incoming traceparent; messages carry the active span; extraction continues it', async () => {
    let api: { traceId: string; spanId: string } | null = null;
    let stamped: ReturnType<typeof message>[] = [];
    await inSpan('POST /orders', { root: true, parent: extractContext({ traceparent: INCOMING }) }, () => {
      api = activeSpanIds();
      stamped = withTraceContext([message(), message({ traceparent: INCOMING })]);
      return Promise.resolve();
    });
    expect(api).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(parseTraceparent(stamped[0]!.attributes.traceparent)).toEqual(api);
    // A message already stamped keeps its context (stamped once, where it was recorded).
    expect(stamped[1]!.attributes.traceparent).toBe(INCOMING);

    // The consumer's span is a child of the span the message carries.
    const opts = pushSpanOptions('credit-commands', {
      message: { attributes: { ...stamped[0]!.attributes, sagaId: 's-1' }, messageId: '42' },
    });
    expect(opts.attributes).toMatchObject({ 'saga.id': 's-1', 'messaging.message.id': '42' });
    let consumer: { traceId: string; spanId: string } | null = null;
    await inSpan('process credit-commands', opts, () => {
      consumer = activeSpanIds();
      return Promise.resolve();
    });
    expect(consumer).toMatchObject({ traceId: api!.traceId });
    const spans = readTrace(dir, api!.traceId);
    expect(spans.map((s) => [s.name, s.parentSpanId, s.service])).toEqual([
      ['POST /orders', 'b7ad6b7169203331', 'unit'],
      ['process credit-commands', api!.spanId, 'unit'],
    ]);
    expect(spans[1]!.kind).toBe('CONSUMER');
    expect(spans[1]!.endMs).toBeGreaterThanOrEqual(spans[1]!.startMs);
  });

  it("reads @google-cloud/pubsub's googclient_traceparent when a message has no traceparent", async () => {
    let ids: { traceId: string; spanId: string } | null = null;
    await inSpan('p', { parent: extractContext({ googclient_traceparent: INCOMING }) }, () => {
      ids = activeSpanIds();
      return Promise.resolve();
    });
    expect(ids).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c' });
  });

  it('a stored saga traceparent puts later work (the sweeper) in the saga trace', async () => {
    let ids: { traceId: string; spanId: string } | null = null;
    await inTraceOf(INCOMING, () =>
      inSpan('sweeper settle', {}, () => {
        ids = activeSpanIds();
        return Promise.resolve();
      }),
    );
    expect(ids).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(readTrace(dir, ids!.traceId).find((s) => s.name === 'sweeper settle')?.parentSpanId).toBe(
      'b7ad6b7169203331',
    );
  });

  it('log lines carry the trace and span id of the active span', async () => {
    let logged: Record<string, unknown>[] = [];
    let ids: { traceId: string; spanId: string } | null = null;
    await inSpan('x', { root: true }, () => {
      ids = activeSpanIds();
      logged = lines((log) => log.child({ traceparent: INCOMING }).info('in a span'));
      return Promise.resolve();
    });
    expect(logged[0]).toMatchObject({
      'logging.googleapis.com/trace': `projects/demo-saga/traces/${ids!.traceId}`,
      'logging.googleapis.com/spanId': ids!.spanId,
    });
  });

  it('records a root span only when it may start a trace (client-library spans outside a saga start none)', async () => {
    let orphan: string | undefined;
    await inSpan('BatchGetDocuments', {}, () => {
      orphan = activeSpanIds()?.traceId;
      return Promise.resolve();
    });
    expect(orphan).toBeDefined();
    expect(readTrace(dir, orphan!)).toEqual([]);
  });

  it('records an exception as an error and rethrows it', async () => {
    let traceId = '';
    await expect(
      inSpan('boom', { root: true }, () => {
        traceId = activeSpanIds()!.traceId;
        return Promise.reject(new Error('no'));
      }),
    ).rejects.toThrow('no');
    expect(readTrace(dir, traceId)[0]).toMatchObject({ status: 'ERROR', statusMessage: 'no' });
  });

  it("the console's trace view: spans locally, a Cloud Trace link and log filter always", () => {
    const local = sagaTrace({ tracing: 'local', traceDir: dir, projectId: 'demo-saga' }, INCOMING);
    expect(local?.spans?.length).toBeGreaterThan(0);
    expect(local?.logFilter).toBe('trace="projects/demo-saga/traces/0af7651916cd43dd8448eb211c80319c"');
    const cloud = sagaTrace({ tracing: 'cloud', traceDir: null, projectId: 'demo-saga' }, INCOMING);
    expect(cloud?.spans).toBeNull();
    expect(cloud?.cloudTraceUrl).toContain('tid=0af7651916cd43dd8448eb211c80319c');
    expect(sagaTrace({ tracing: 'local', traceDir: dir, projectId: 'p' }, undefined)).toBeNull();
    expect(readTrace(dir, 'not-a-trace-id')).toEqual([]);
  });
});

describe('readTrace', () => {
  it('orders spans by start, a parent before a child that started in the same millisecond', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-spans-'));
    const traceId = 'ab'.repeat(16);
    const span = (spanId: string, parentSpanId: string | null, startMs: number, endMs: number) =>
      JSON.stringify({ traceId, spanId, parentSpanId, name: spanId, kind: 'INTERNAL', startMs, endMs });
    // Written in the order spans end: children before their parents.
    fs.writeFileSync(
      path.join(dir, 'api-1.jsonl'),
      [span('tx', 'root', 100, 140), span('late', 'root', 150, 160), span('root', null, 100, 200)].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'credit-2.jsonl'), `${span('credit', 'root', 120, 130)}\nnot json\n`);
    expect(readTrace(dir, traceId).map((s) => s.spanId)).toEqual(['root', 'tx', 'credit', 'late']);
    fs.rmSync(dir, { recursive: true });
  });
});
