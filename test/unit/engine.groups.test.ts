/**
 * The pure saga engine with step groups: a definition a → [b, c] → d (b and c in parallel), table-driven over the
 * answers of the group's members and the order they arrive in. No I/O.
 *
 * Every decide() call goes through `Saga.apply`, which checks that the input is not mutated, that `changed` matches
 * the version bump, and that outstanding/awaiting/deadlineAt/currentStep agree with the steps and the status.
 */
import {
  commandRef,
  decide,
  isTerminal,
  outstandingOf,
  overdueOf,
  start,
} from '../../shared/runtime/engine/engine';
import { sagaView } from '../../shared/runtime/api/views';
import type {
  Decision,
  EngineOptions,
  HistoryEntry,
  Outstanding,
  ReplyOutcome,
  SagaCommand,
  SagaDefinition,
  SagaEvent,
  SagaState,
  StepAction,
  StepStatus,
} from '../../shared/runtime/engine/types';

const OPTS: EngineOptions = { stepTimeoutMs: 30_000, scheduleToStartMs: 600_000, compensationMaxAttempts: 3 };
const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const GROUPED: SagaDefinition = {
  type: 'grouped',
  steps: ['a', 'b', 'c', 'd'],
  stages: [['a'], ['b', 'c'], ['d']],
};

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The invariants of every state the engine returns. */
function checkShape(state: SagaState, opts: EngineOptions): void {
  const out = state.outstanding ?? [];
  expect(outstandingOf(state)).toEqual(out);
  if (isTerminal(state)) {
    expect(out).toEqual([]);
    expect(state.awaiting).toBeNull();
    expect(state.deadlineAt).toBeNull();
    expect(state.currentStep).toBeNull();
  } else {
    expect(out.length).toBeGreaterThan(0);
    const { deadlineAt: _first, ...first } = out[0]!;
    expect(state.awaiting).toEqual(first);
    expect(state.currentStep).toBe(first.step);
    expect(state.deadlineAt).toBe(Math.min(...out.map((o) => o.deadlineAt)));
    for (const o of out) {
      if (o.postponed) expect(o.deadlineAt).toBeLessThanOrEqual(o.issuedAt! + opts.scheduleToStartMs);
      else expect(o.deadlineAt).toBe(o.issuedAt! + opts.stepTimeoutMs);
    }
  }
  // A step is RUNNING / COMPENSATING exactly when its command is outstanding; all of them in one stage.
  for (const s of state.steps) {
    const mine = out.filter((o) => o.step === s.name);
    if (s.status === 'RUNNING') expect(mine.map((o) => o.action)).toEqual(['forward']);
    else if (s.status === 'COMPENSATING') expect(mine.map((o) => o.action)).toEqual(['compensate']);
    else expect(mine).toEqual([]);
  }
  const stages = new Set(out.map((o) => state.steps.find((s) => s.name === o.step)!.stage));
  expect(stages.size).toBeLessThanOrEqual(1);
  if (state.status === 'SUCCEEDED') expect(state.failureReason).toBeNull();
  if (state.status === 'ABORTED') expect(state.failureReason).not.toBeNull();
  if (state.status === 'FAILED') expect(state.failedReason).not.toBeNull();
  else expect(state.failedReason).toBeNull();
}

class Saga {
  state: SagaState;
  now = T0;
  readonly issued: SagaCommand[] = [];

  constructor(
    readonly def: SagaDefinition = GROUPED,
    readonly opts: EngineOptions = OPTS,
    skipped: string[] = [],
  ) {
    const d = start(def, 'saga-1', this.now, opts, skipped);
    checkShape(d.state, opts);
    this.state = d.state;
    this.issued.push(...d.commands);
  }

  apply(event: SagaEvent, now = this.now): Decision {
    this.now = now;
    const before = structuredClone(this.state);
    const input = deepFreeze(structuredClone(this.state));
    const d = decide(input, event, now, this.opts);
    expect(input).toEqual(before);
    if (d.changed) {
      expect(d.state.version).toBe(before.version + 1);
      expect(d.ignored).toBeUndefined();
    } else {
      expect(d.commands).toEqual([]);
      expect(d.state).toEqual(before);
      expect(typeof d.ignored).toBe('string');
    }
    checkShape(d.state, this.opts);
    this.state = structuredClone(d.state);
    this.issued.push(...d.commands);
    return d;
  }

  /** The outstanding command of `step` (its forward or compensation). */
  cmd(step: string): Outstanding {
    const found = outstandingOf(this.state).find((o) => o.step === step);
    if (!found) throw new Error(`${step} is not outstanding`);
    return found;
  }

  outstanding(): SagaCommand[] {
    return outstandingOf(this.state).map(commandRef);
  }

  reply(step: string, outcome: ReplyOutcome = 'SUCCEEDED', reason?: string, attempt?: number): Decision {
    const o = outstandingOf(this.state).find((x) => x.step === step);
    const action: StepAction = o?.action ?? 'forward';
    return this.apply(
      { kind: 'reply', step, action, attempt: attempt ?? o?.attempt ?? 1, outcome, reason },
      this.now + 10,
    );
  }

  /** A reply with an explicit action (for replies to commands no longer outstanding). */
  replyTo(step: string, action: StepAction, outcome: ReplyOutcome = 'SUCCEEDED', attempt = 1): Decision {
    return this.apply({ kind: 'reply', step, action, attempt, outcome }, this.now + 10);
  }

  /** The sweeper at the command's deadline (or now, if later). */
  timeout(step: string, extra: { queued?: boolean; startedAt?: number } = {}): Decision {
    const o = this.cmd(step);
    return this.apply(
      { kind: 'timeout', ...commandRef(o), cause: 'deadline', ...extra },
      Math.max(this.now, o.deadlineAt),
    );
  }

  deadLetter(step: string): Decision {
    return this.apply({ kind: 'timeout', ...commandRef(this.cmd(step)), cause: 'deadLetter' }, this.now + 10);
  }

  status(step: string): StepStatus {
    return this.state.steps.find((s) => s.name === step)!.status;
  }

  statuses(): StepStatus[] {
    return this.state.steps.map((s) => s.status);
  }

  history(): string[] {
    return this.state.history.map(label);
  }
}

function label(h: HistoryEntry): string {
  return [h.type, h.step, h.reason].filter((x) => x !== undefined).join(' ');
}
const fwd = (step: string, attempt = 1): SagaCommand => ({ step, action: 'forward', attempt });
const comp = (step: string, attempt = 1): SagaCommand => ({ step, action: 'compensate', attempt });

/** A saga past `a`, awaiting b and c. */
function inGroup(opts = OPTS, skipped: string[] = []): Saga {
  const saga = new Saga(GROUPED, opts, skipped);
  expect(saga.reply('a').commands).toEqual(['b', 'c'].filter((s) => !skipped.includes(s)).map((s) => fwd(s)));
  return saga;
}

/** A saga whose d failed: compensating c and b together. */
function compensatingGroup(opts = OPTS): Saga {
  const saga = inGroup(opts);
  saga.reply('b');
  saga.reply('c');
  expect(saga.reply('d', 'FAILED', 'D_FAILED').commands).toEqual([comp('c'), comp('b')]);
  return saga;
}

describe('definitions with stages', () => {
  it('a group fans out: both commands issued together, each awaited with its own deadline', () => {
    const saga = new Saga();
    expect(saga.issued).toEqual([fwd('a')]);
    saga.now = T0 + 1000;
    const d = saga.reply('a');
    expect(d.commands).toEqual([fwd('b'), fwd('c')]);
    expect(saga.outstanding()).toEqual([fwd('b'), fwd('c')]);
    expect(saga.state.currentStep).toBe('b');
    expect(saga.state.deadlineAt).toBe(saga.now + OPTS.stepTimeoutMs);
    expect(saga.state.steps.map((s) => s.stage)).toEqual([0, 1, 1, 2]);
    expect(sagaView({ ...saga.state, data: {}, createdAt: T0, updatedAt: T0 })).toMatchObject({
      currentStep: 'b',
      currentSteps: ['b', 'c'],
    });
  });

  it.each([[['b', 'c']], [['c', 'b']]])(
    'both members succeed (answers %j) → the next stage only after both, then SUCCEEDED',
    (order) => {
      const saga = inGroup();
      const [first, second] = order as [string, string];
      expect(saga.reply(first).commands).toEqual([]);
      expect(saga.outstanding()).toEqual([fwd(second)]);
      expect(saga.state.status).toBe('STARTED');
      expect(saga.reply(second).commands).toEqual([fwd('d')]);
      saga.reply('d');
      expect(saga.state.status).toBe('SUCCEEDED');
      expect(saga.statuses()).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      expect(saga.history()).toEqual([
        'SAGA_STARTED',
        'STEP_STARTED a',
        'STEP_SUCCEEDED a',
        'STEP_STARTED b',
        'STEP_STARTED c',
        `STEP_SUCCEEDED ${first}`,
        `STEP_SUCCEEDED ${second}`,
        'STEP_STARTED d',
        'STEP_SUCCEEDED d',
        'SAGA_SUCCEEDED',
      ]);
      expect(sagaView({ ...saga.state, data: {}, createdAt: T0, updatedAt: T0 })).toMatchObject({
        currentStep: null,
        currentSteps: [],
      });
    },
  );

  /** How a member answers: S succeeded, F business failure, T timed out (deadline), D dead-lettered. */
  type Answer = 'S' | 'F' | 'T' | 'D';
  const answers: Answer[] = ['S', 'F', 'T', 'D'];
  const combos = answers
    .flatMap((b) => answers.map((c) => [b, c] as const))
    .filter(([b, c]) => b !== 'S' || c !== 'S')
    .flatMap(([b, c]) => [[b, c, 'b first'] as const, [b, c, 'c first'] as const]);
  const reasonOf = (step: string, a: Answer) =>
    a === 'F' ? `${step.toUpperCase()}_FAILED` : a === 'S' ? null : 'STEP_TIMEOUT';

  it.each(combos)(
    'b %s, c %s (%s) → waits for both; the reason is b’s failure if b failed, else c’s; then [b,c] and a compensated',
    (b, c, order) => {
      const saga = inGroup();
      const answer = (step: string, a: Answer): Decision =>
        a === 'S' || a === 'F'
          ? saga.reply(step, a === 'S' ? 'SUCCEEDED' : 'FAILED', reasonOf(step, a) ?? undefined)
          : a === 'T'
            ? saga.timeout(step)
            : saga.deadLetter(step);
      const seq =
        order === 'b first'
          ? ([
              ['b', b],
              ['c', c],
            ] as const)
          : ([
              ['c', c],
              ['b', b],
            ] as const);
      const firstAnswer = answer(seq[0][0], seq[0][1]);
      // Nothing moves while a member is outstanding, whatever the first answer was.
      expect(firstAnswer.commands).toEqual([]);
      expect(saga.state).toMatchObject({ status: 'STARTED', failureReason: null });
      expect(saga.outstanding()).toEqual([fwd(seq[1][0])]);
      const second = answer(seq[1][0], seq[1][1]);
      const expectedReason = reasonOf('b', b) ?? reasonOf('c', c);
      expect(saga.state).toMatchObject({ status: 'COMPENSATING', failureReason: expectedReason });
      // The members whose effect may exist (succeeded, timed out) are compensated together, in reverse.
      const toUndo = (['c', 'b'] as const).filter((s) => (s === 'b' ? b : c) !== 'F');
      expect(second.commands).toEqual(toUndo.length > 0 ? toUndo.map((s) => comp(s)) : [comp('a')]);
      // The previous stage only after all of them.
      toUndo.forEach((s, i) =>
        expect(saga.reply(s).commands).toEqual(i === toUndo.length - 1 ? [comp('a')] : []),
      );
      expect(saga.reply('a').commands).toEqual([]);
      expect(saga.state).toMatchObject({ status: 'ABORTED', failureReason: expectedReason });
      const end = (a: Answer): StepStatus => (a === 'F' ? 'FAILED' : 'COMPENSATED');
      expect(saga.statuses()).toEqual(['COMPENSATED', end(b), end(c), 'PENDING']);
      expect(saga.history().filter((h) => h.startsWith('COMPENSATION_STARTED'))).toEqual([
        `COMPENSATION_STARTED ${expectedReason}`,
      ]);
      expect(saga.history().at(-1)).toBe(`SAGA_ABORTED ${expectedReason}`);
      const dead = [b, c].filter((a) => a === 'D').length;
      expect(saga.history().filter((h) => h.startsWith('COMMAND_DEAD_LETTERED'))).toHaveLength(dead);
      expect(saga.issued.filter((x) => x.step === 'd')).toEqual([]);
    },
  );

  it('a member that timed out ignores its late reply; its sibling’s reply is applied; both are compensated', () => {
    const saga = inGroup();
    saga.timeout('b');
    expect(saga.status('b')).toBe('TIMED_OUT');
    expect(saga.replyTo('b', 'forward', 'SUCCEEDED').changed).toBe(false);
    expect(saga.replyTo('b', 'forward', 'REFUSED').changed).toBe(false);
    // The timeout of b again (the dead letter of the same command, or another sweeper) changes nothing either.
    expect(saga.apply({ kind: 'timeout', ...fwd('b'), cause: 'deadLetter' }, saga.now + 1).changed).toBe(
      false,
    );
    expect(saga.reply('c').commands).toEqual([comp('c'), comp('b')]);
    expect(saga.state.failureReason).toBe('STEP_TIMEOUT');
  });

  it('a reply arriving after its sibling’s failure is applied (its effect exists: it is compensated)', () => {
    const saga = inGroup();
    expect(saga.reply('c', 'FAILED', 'NO_CARS').commands).toEqual([]);
    expect(saga.reply('b', 'SUCCEEDED').commands).toEqual([comp('b')]);
    expect(saga.state.failureReason).toBe('NO_CARS');
    saga.reply('b');
    saga.reply('a');
    expect(saga.state.status).toBe('ABORTED');
    expect(saga.statuses()).toEqual(['COMPENSATED', 'COMPENSATED', 'FAILED', 'PENDING']);
  });

  it('the later failure of b takes precedence over c’s earlier one', () => {
    const saga = inGroup();
    saga.reply('c', 'FAILED', 'NO_CARS');
    saga.reply('b', 'FAILED', 'NO_ROOMS');
    expect(saga.state.failureReason).toBe('NO_ROOMS');
    expect(saga.state.failures).toBeUndefined();
  });

  describe('events that change nothing inside a group', () => {
    // Every row has four entries (a shorter row would hand jest's `done` callback to the test as `now`).
    const cases: [string, (s: Saga) => void, (s: Saga) => SagaEvent, ((s: Saga) => number) | null][] = [
      [
        'a duplicate reply of a member while its sibling is outstanding',
        (s) => s.reply('b'),
        () => ({ kind: 'reply', ...fwd('b'), outcome: 'SUCCEEDED' }),
        null,
      ],
      [
        'a duplicate with another outcome',
        (s) => s.reply('b'),
        () => ({ kind: 'reply', ...fwd('b'), outcome: 'FAILED', reason: 'X' }),
        null,
      ],
      [
        'a late reply of a member after the stage moved on',
        (s) => {
          s.reply('b');
          s.reply('c');
        },
        () => ({ kind: 'reply', ...fwd('c'), outcome: 'FAILED' }),
        null,
      ],
      [
        'a reply to the next stage before it was issued',
        () => {},
        () => ({ kind: 'reply', ...fwd('d'), outcome: 'SUCCEEDED' }),
        null,
      ],
      [
        'a compensation reply of a member not being compensated',
        () => {},
        () => ({ kind: 'reply', ...comp('b'), outcome: 'SUCCEEDED' }),
        null,
      ],
      [
        'a forward reply of another attempt',
        () => {},
        () => ({ kind: 'reply', ...fwd('c', 2), outcome: 'SUCCEEDED' }),
        null,
      ],
      [
        'a timeout of a member that answered',
        (s) => s.reply('b'),
        () => ({ kind: 'timeout', ...fwd('b'), cause: 'deadline' }),
        (s) => s.state.deadlineAt! + 1,
      ],
      [
        'a compensation reply after ABORTED',
        (s) => {
          s.reply('b', 'FAILED');
          s.reply('c', 'FAILED');
          s.reply('a');
        },
        () => ({ kind: 'reply', ...comp('a'), outcome: 'SUCCEEDED' }),
        null,
      ],
    ];
    it.each(cases)('%s', (_name, setup, event, now) => {
      const saga = inGroup();
      setup(saga);
      const d = saga.apply(event(saga), now ? now(saga) : saga.now + 5);
      expect(d.changed).toBe(false);
    });

    it('a member’s timeout is due at its own deadline, not its sibling’s', () => {
      const saga = new Saga();
      saga.reply('a');
      // c was issued with b, but its deadline is postponed: b's timeout is due, c's is not.
      saga.timeout('c', { queued: true });
      const c = saga.cmd('c');
      expect(c.deadlineAt).toBeGreaterThan(saga.cmd('b').deadlineAt);
      const early = saga.apply({ kind: 'timeout', ...commandRef(c), cause: 'deadline' }, c.deadlineAt - 1);
      expect(early).toMatchObject({ changed: false, deferred: true });
      expect(overdueOf(saga.state, c.deadlineAt - 1).map(commandRef)).toEqual([fwd('b')]);
      expect(overdueOf(saga.state, c.deadlineAt).map(commandRef)).toEqual([fwd('b'), fwd('c')]);
    });
  });

  it.each([[['c', 'b']], [['b', 'c']]])(
    'compensation of a group: both issued together, the previous stage only after both (%j)',
    (order) => {
      const saga = compensatingGroup();
      expect(saga.outstanding()).toEqual([comp('c'), comp('b')]);
      const [first, second] = order as [string, string];
      expect(saga.reply(first).commands).toEqual([]);
      expect(saga.status('a')).toBe('SUCCEEDED');
      expect(saga.reply(second).commands).toEqual([comp('a')]);
      saga.reply('a');
      expect(saga.state).toMatchObject({ status: 'ABORTED', failureReason: 'D_FAILED' });
      expect(saga.statuses()).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED']);
      expect(saga.history().slice(-9)).toEqual([
        'STEP_FAILED d D_FAILED',
        'COMPENSATION_STARTED D_FAILED',
        'STEP_COMPENSATING c',
        'STEP_COMPENSATING b',
        `STEP_COMPENSATED ${first}`,
        `STEP_COMPENSATED ${second}`,
        'STEP_COMPENSATING a',
        'STEP_COMPENSATED a',
        'SAGA_ABORTED D_FAILED',
      ]);
    },
  );

  it('a compensation timing out inside a group is retried on its own; the sibling keeps its attempt', () => {
    const saga = compensatingGroup();
    expect(saga.timeout('c').commands).toEqual([comp('c', 2)]);
    expect(saga.outstanding()).toEqual([comp('c', 2), comp('b')]);
    expect(saga.reply('b').commands).toEqual([]);
    // A reply to the earlier attempt settles it (compensations are idempotent per saga).
    expect(saga.replyTo('c', 'compensate', 'SUCCEEDED', 1).commands).toEqual([comp('a')]);
    expect(saga.state.steps.find((s) => s.name === 'c')).toMatchObject({
      status: 'COMPENSATED',
      compensationAttempts: 2,
    });
  });

  it('a dead-lettered compensation inside a group counts as a timed-out one', () => {
    const saga = compensatingGroup();
    expect(saga.deadLetter('b').commands).toEqual([comp('b', 2)]);
    expect(saga.history().at(-2)).toBe('COMMAND_DEAD_LETTERED b MAX_DELIVERY_ATTEMPTS');
  });

  describe('giving a compensation up inside a group', () => {
    const opts = { ...OPTS, compensationMaxAttempts: 2 };
    const giveUp = (saga: Saga, step: string) => {
      saga.timeout(step);
      return saga.timeout(step);
    };

    it('COMPENSATION_FAILED at once, the saga FAILED only after its sibling answered; earlier stages untouched', () => {
      const saga = compensatingGroup(opts);
      expect(giveUp(saga, 'c').commands).toEqual([]);
      expect(saga.status('c')).toBe('COMPENSATION_FAILED');
      expect(saga.state).toMatchObject({ status: 'COMPENSATING', failedReason: null });
      expect(saga.outstanding()).toEqual([comp('b')]);
      expect(saga.reply('b').commands).toEqual([]);
      expect(saga.state).toMatchObject({
        status: 'FAILED',
        failureReason: 'D_FAILED',
        failedReason: 'compensation of c did not complete after 2 attempts',
      });
      expect(saga.statuses()).toEqual(['SUCCEEDED', 'COMPENSATED', 'COMPENSATION_FAILED', 'FAILED']);
      expect(saga.history().slice(-3)).toEqual([
        'COMPENSATION_FAILED c compensation of c did not complete after 2 attempts',
        'STEP_COMPENSATED b',
        'SAGA_FAILED compensation of c did not complete after 2 attempts',
      ]);
      // Replies that do not confirm it change nothing.
      expect(saga.replyTo('c', 'compensate', 'FAILED', 2).changed).toBe(false);
      expect(saga.replyTo('b', 'compensate', 'SUCCEEDED').changed).toBe(false);
      expect(saga.replyTo('a', 'compensate', 'SUCCEEDED').changed).toBe(false);
    });

    it('a FAILED compensation reply gives up at once; with both given up the reason is b’s (definition order)', () => {
      const saga = compensatingGroup(opts);
      saga.reply('c', 'FAILED', 'STORE_DOWN');
      expect(saga.state.status).toBe('COMPENSATING');
      giveUp(saga, 'b');
      expect(saga.state).toMatchObject({
        status: 'FAILED',
        failedReason: 'compensation of b did not complete after 2 attempts',
      });
      // Resume: confirming c leaves b given up (still FAILED, now because of b only)...
      expect(saga.replyTo('c', 'compensate', 'SUCCEEDED', 1).commands).toEqual([]);
      expect(saga.state).toMatchObject({
        status: 'FAILED',
        failedReason: 'compensation of b did not complete after 2 attempts',
      });
      expect(saga.status('c')).toBe('COMPENSATED');
      // ...confirming b resumes: a is compensated, ABORTED.
      expect(saga.replyTo('b', 'compensate', 'SUCCEEDED', 2).commands).toEqual([comp('a')]);
      expect(saga.history().slice(-3)).toEqual([
        'SAGA_RESUMED b',
        'STEP_COMPENSATED b',
        'STEP_COMPENSATING a',
      ]);
      saga.reply('a');
      expect(saga.state).toMatchObject({ status: 'ABORTED', failureReason: 'D_FAILED' });
      expect(saga.state.failures).toBeUndefined();
    });

    it('confirming b first: still FAILED, now with c’s reason', () => {
      const saga = compensatingGroup(opts);
      saga.reply('c', 'FAILED', 'STORE_DOWN');
      giveUp(saga, 'b');
      saga.replyTo('b', 'compensate', 'SUCCEEDED', 1);
      expect(saga.state).toMatchObject({
        status: 'FAILED',
        failedReason: 'compensation of c failed: STORE_DOWN',
      });
      expect(saga.replyTo('c', 'compensate').commands).toEqual([comp('a')]);
      expect(saga.state.status).toBe('COMPENSATING');
    });

    it('resume after FAILED (redrive): a later SUCCEEDED reply continues compensating', () => {
      const saga = compensatingGroup(opts);
      giveUp(saga, 'c');
      saga.reply('b');
      expect(saga.state.status).toBe('FAILED');
      const d = saga.replyTo('c', 'compensate', 'SUCCEEDED', 2);
      expect(d.commands).toEqual([comp('a')]);
      expect(saga.state).toMatchObject({ status: 'COMPENSATING', failedReason: null });
      // Its duplicate changes nothing.
      expect(saga.replyTo('c', 'compensate', 'SUCCEEDED', 2).changed).toBe(false);
      saga.reply('a');
      expect(saga.state).toMatchObject({ status: 'ABORTED', failureReason: 'D_FAILED' });
      expect(saga.statuses()).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED']);
    });

    it('a compensation given up on and confirmed while its sibling is outstanding: the saga just waits', () => {
      const saga = compensatingGroup(opts);
      giveUp(saga, 'c');
      expect(saga.replyTo('c', 'compensate', 'SUCCEEDED', 1).commands).toEqual([]);
      expect(saga.history().at(-1)).toBe('STEP_COMPENSATED c');
      expect(saga.state.status).toBe('COMPENSATING');
      expect(saga.reply('b').commands).toEqual([comp('a')]);
    });
  });

  describe('skipped members', () => {
    it('a skipped member is passed over: the group is its other member', () => {
      const saga = inGroup(OPTS, ['c']);
      expect(saga.outstanding()).toEqual([fwd('b')]);
      expect(saga.reply('b').commands).toEqual([fwd('d')]);
      expect(saga.reply('d', 'FAILED', 'D_FAILED').commands).toEqual([comp('b')]);
      expect(saga.reply('b').commands).toEqual([comp('a')]);
      saga.reply('a');
      expect(saga.statuses()).toEqual(['COMPENSATED', 'COMPENSATED', 'SKIPPED', 'FAILED']);
    });

    it('a group whose members are all skipped is passed over', () => {
      const saga = new Saga(GROUPED, OPTS, ['b', 'c']);
      expect(saga.reply('a').commands).toEqual([fwd('d')]);
      expect(saga.reply('d', 'FAILED', 'D_FAILED').commands).toEqual([comp('a')]);
      expect(saga.history().filter((h) => h.startsWith('STEP_SKIPPED'))).toEqual([
        'STEP_SKIPPED b',
        'STEP_SKIPPED c',
      ]);
    });
  });

  describe('postponement per command', () => {
    it('one member is postponed (queued) while the other answers; each keeps its own deadline', () => {
      const saga = inGroup();
      const issued = saga.cmd('b').issuedAt!;
      const d = saga.timeout('b', { queued: true });
      expect(d).toMatchObject({ changed: true, deferred: true, commands: [] });
      expect(saga.cmd('b')).toMatchObject({ postponed: 1, deadlineAt: issued + 2 * OPTS.stepTimeoutMs });
      expect(saga.cmd('c').postponed).toBeUndefined();
      // The saga's deadline is the earliest: c's.
      expect(saga.state.deadlineAt).toBe(saga.cmd('c').deadlineAt);
      expect(saga.reply('c').commands).toEqual([]);
      expect(saga.state.deadlineAt).toBe(saga.cmd('b').deadlineAt);
      // Postponed again: twice as long; STEP_QUEUED once per command.
      saga.timeout('b', { queued: true });
      expect(saga.cmd('b')).toMatchObject({ postponed: 2 });
      expect(saga.history().filter((h) => h.startsWith('STEP_QUEUED'))).toEqual([
        'STEP_QUEUED b PARTICIPANT_BUSY',
      ]);
      expect(saga.reply('b').commands).toEqual([fwd('d')]);
    });

    it('a taken member has the step timeout from when it was taken, its sibling times out at its own', () => {
      const saga = inGroup();
      const takenAt = saga.cmd('c').issuedAt! + OPTS.stepTimeoutMs - 5;
      saga.timeout('c', { startedAt: takenAt });
      expect(saga.cmd('c').deadlineAt).toBe(takenAt + OPTS.stepTimeoutMs);
      saga.timeout('b');
      expect(saga.status('b')).toBe('TIMED_OUT');
      expect(saga.state.status).toBe('STARTED');
      saga.timeout('c', { startedAt: takenAt });
      expect(saga.state).toMatchObject({ status: 'COMPENSATING', failureReason: 'STEP_TIMEOUT' });
      expect(saga.outstanding()).toEqual([comp('c'), comp('b')]);
    });

    it('both members queued are postponed separately; STEP_QUEUED once for each', () => {
      const saga = inGroup();
      saga.timeout('b', { queued: true });
      saga.timeout('c', { queued: true });
      expect(saga.history().filter((h) => h.startsWith('STEP_QUEUED'))).toEqual([
        'STEP_QUEUED b PARTICIPANT_BUSY',
        'STEP_QUEUED c PARTICIPANT_BUSY',
      ]);
    });
  });
});

describe('start validates the stages', () => {
  it.each([
    ['a step missing', [['a'], ['b', 'c']]],
    ['a step twice', [['a'], ['b', 'c'], ['c', 'd']]],
    ['out of order', [['a'], ['c', 'b'], ['d']]],
    ['an empty stage', [['a'], [], ['b', 'c'], ['d']]],
    ['an unknown step', [['a'], ['b', 'c'], ['d', 'e']]],
  ])('refuses stages with %s', (_name, stages) => {
    expect(() => start({ ...GROUPED, stages }, 's', T0, OPTS)).toThrow(
      /grouped: its stages .* must list its steps a, b, c, d in order/,
    );
  });

  it('refuses a definition naming a step twice', () => {
    expect(() => start({ type: 'twice', steps: ['a', 'a'] }, 's', T0, OPTS)).toThrow(/names step a twice/);
  });

  it('stages of one step each give the same history as a definition without stages', () => {
    const run = (def: SagaDefinition) => {
      const saga = new Saga(def);
      saga.reply('a');
      saga.reply('b');
      saga.timeout('c');
      saga.reply('c');
      saga.reply('b');
      saga.reply('a');
      return saga;
    };
    const plain = run({ type: 'plain', steps: ['a', 'b', 'c', 'd'] });
    const staged = run({ type: 'plain', steps: ['a', 'b', 'c', 'd'], stages: [['a'], ['b'], ['c'], ['d']] });
    expect(staged.state.history).toEqual(plain.state.history);
    expect(staged.state.status).toBe('ABORTED');
    expect(plain.state.steps.every((s) => s.stage === undefined)).toBe(true);
  });
});

describe('documents written before `outstanding`', () => {
  /** A stored sequential saga awaiting b, as code before groups wrote it. */
  function legacy(): SagaState {
    const { state } = new Saga({ type: 'plain', steps: ['a', 'b'] });
    const { outstanding: _dropped, ...rest } = decide(
      state,
      { kind: 'reply', ...fwd('a'), outcome: 'SUCCEEDED' },
      T0 + 10,
      OPTS,
    ).state;
    return rest;
  }

  it('are read from awaiting and deadlineAt', () => {
    const doc = legacy();
    expect(outstandingOf(doc)).toEqual([
      { ...fwd('b'), issuedAt: T0 + 10, deadlineAt: T0 + 10 + OPTS.stepTimeoutMs },
    ]);
    const d = decide(doc, { kind: 'reply', ...fwd('b'), outcome: 'SUCCEEDED' }, T0 + 20, OPTS);
    expect(d.state).toMatchObject({ status: 'SUCCEEDED', outstanding: [], awaiting: null, deadlineAt: null });
    const t = decide(doc, { kind: 'timeout', ...fwd('b'), cause: 'deadline' }, doc.deadlineAt!, OPTS);
    expect(t.commands).toEqual([comp('b')]);
  });

  it('a stale `outstanding` (the document was last written by code that did not know it) yields to awaiting', () => {
    const saga = new Saga({ type: 'plain', steps: ['a', 'b'] });
    const stale = saga.state.outstanding;
    saga.reply('a');
    const doc: SagaState = { ...saga.state, outstanding: stale };
    expect(outstandingOf(doc).map(commandRef)).toEqual([fwd('b')]);
    expect(
      decide(doc, { kind: 'reply', ...fwd('b'), outcome: 'SUCCEEDED' }, saga.now + 1, OPTS).state.status,
    ).toBe('SUCCEEDED');
  });

  it('a FAILED document without failures resumes on the confirmation of its compensation', () => {
    const saga = new Saga({ type: 'plain', steps: ['a', 'b'] }, { ...OPTS, compensationMaxAttempts: 1 });
    saga.reply('a');
    saga.reply('b', 'FAILED', 'NO');
    saga.timeout('a');
    expect(saga.state.status).toBe('FAILED');
    const { failures: _dropped, outstanding: _o, ...doc } = saga.state;
    const d = decide(doc, { kind: 'reply', ...comp('a'), outcome: 'SUCCEEDED' }, saga.now + 1, OPTS);
    expect(d.state).toMatchObject({ status: 'ABORTED', failureReason: 'NO' });
  });
});
