/**
 * The declarations a deployment is made of, and everything derived from them.
 *
 * An application declares its participants (who performs steps: the command topic each listens on, whether its
 * commands are ordered) and its sagas (steps, each bound to a participant, a payload and an ordering key). From
 * these alone the runtime derives the messaging topology (topics, push subscriptions, dead-letter topics), which
 * function publishes where (hence IAM), and the routing of commands, replies, timeouts and dead letters. The runtime
 * itself names no saga and no participant.
 */
import type { z } from 'zod';
import type { SagaDefinition } from './engine/types';
import { UnknownDefinitionVersionError } from './errors';

/** A participant function: performs steps of any saga whose binding names it. */
export interface ParticipantDeclaration<P = unknown> {
  /** Function key, inbox namespace and exported target (e.g. `credit`, `flights`). */
  name: string;
  /** Folder under functions/ and deployed function name (lowercase letters, digits, hyphens). */
  folder: string;
  /** The topic its commands arrive on. */
  commandTopic: string;
  /** True when its commands carry ordering keys that must be honoured (per-entity serialization). */
  ordered: boolean;
  /** The payload every command to it carries. */
  payloadSchema: z.ZodType<P>;
}

/** Declares a participant (the identity function, for inference of the payload type). */
export function declareParticipant<P>(p: ParticipantDeclaration<P>): ParticipantDeclaration<P> {
  return p;
}

/** How one step of a saga reaches its participant. */
export interface StepBinding<D, P = unknown> {
  participant: ParticipantDeclaration<P>;
  /** The command payload, from the saga's data. */
  payload: (data: D) => P;
  orderingKey?: (data: D) => string;
  /** When the step applies (default: always). A step that does not apply is SKIPPED and never sent. */
  when?: (data: D) => boolean;
}

/** A saga type: its pure definition (for the engine), its data, and how each step reaches its participant. */
export interface SagaBinding<D> {
  definition: SagaDefinition;
  dataSchema: z.ZodType<D>;
  steps: { [step: string]: StepBinding<D> };
}

/** A binding with its data type erased: every function parses the stored data with the binding's own schema. */
export interface AnySagaBinding {
  definition: SagaDefinition;
  dataSchema: z.ZodType;
  steps: { [step: string]: AnyStepBinding };
}
export interface AnyStepBinding {
  participant: ParticipantDeclaration;
  payload: (data: unknown) => unknown;
  orderingKey?: (data: unknown) => string;
  when?: (data: unknown) => boolean;
}

/**
 * Declares a saga binding. `steps` are typed against each participant's payload schema (a payload mapping that does
 * not produce what the participant accepts does not compile); the result is type-erased without a cast, by
 * parsing the data with the binding's schema on every call.
 */
export function defineSaga<D>(binding: {
  definition: SagaDefinition;
  dataSchema: z.ZodType<D>;
  steps: { [step: string]: StepBinding<D> };
}): AnySagaBinding {
  const parse = (data: unknown): D => binding.dataSchema.parse(data);
  const steps: Record<string, AnyStepBinding> = {};
  for (const [name, s] of Object.entries(binding.steps)) {
    const { orderingKey, when } = s;
    steps[name] = {
      participant: s.participant,
      payload: (d) => s.payload(parse(d)),
      ...(orderingKey ? { orderingKey: (d: unknown) => orderingKey(parse(d)) } : {}),
      ...(when ? { when: (d: unknown) => when(parse(d)) } : {}),
    };
  }
  return { definition: binding.definition, dataSchema: binding.dataSchema, steps };
}

/** Types a step binding against its participant's payload: `payload` must return what the participant accepts. */
export function step<D, P>(b: StepBinding<D, P>): StepBinding<D> {
  return b;
}

/** The definition version a saga runs on: the one it recorded at start (documents older than versions: 1). */
export function definitionVersionOf(saga: { definitionVersion?: number | undefined }): number {
  return saga.definitionVersion ?? 1;
}

/** A binding's definition version (default 1). */
export function versionOf(binding: AnySagaBinding): number {
  return binding.definition.version ?? 1;
}

/** Every version of every saga type, and the participants. A saga runs to its end on the version it started with. */
export class Registry {
  /** type → version → binding. */
  private readonly byType = new Map<string, Map<number, AnySagaBinding>>();
  private readonly byName = new Map<string, ParticipantDeclaration>();

  constructor(decl: { sagas: readonly AnySagaBinding[]; participants: readonly ParticipantDeclaration[] }) {
    for (const p of decl.participants) {
      if (this.byName.has(p.name)) throw new Error(`participant ${p.name} is declared twice`);
      this.byName.set(p.name, p);
    }
    for (const b of decl.sagas) {
      const { type, stages } = b.definition;
      const version = versionOf(b);
      if (!Number.isInteger(version) || version < 1)
        throw new Error(`saga type ${type}: version ${version} is not a positive integer`);
      if (stages && stages.flat().join('\n') !== b.definition.steps.join('\n'))
        throw new Error(`saga type ${type} v${version}: its stages do not list its steps in order`);
      const versions = this.byType.get(type) ?? new Map<number, AnySagaBinding>();
      if (versions.has(version)) throw new Error(`saga type ${type} version ${version} is declared twice`);
      versions.set(version, b);
      this.byType.set(type, versions);
    }
  }

  /** The binding of one version of a saga type. */
  binding(type: string, version: number): AnySagaBinding | undefined {
    return this.byType.get(type)?.get(version);
  }

  /** The newest version of a saga type. */
  latest(type: string): AnySagaBinding | undefined {
    const v = this.versions(type);
    return v.length === 0 ? undefined : this.binding(type, v[v.length - 1]!);
  }

  /** The definition versions of a saga type this code knows, ascending (empty for an unknown type). */
  versions(type: string): number[] {
    return [...(this.byType.get(type)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Every saga type. */
  types(): string[] {
    return [...this.byType.keys()];
  }

  /**
   * The binding new sagas of `type` start on: the version `startVersions` names, else the newest. Undefined for an
   * unknown type or version (checked once at composition time: startVersionProblems).
   */
  startBinding(type: string, startVersions: ReadonlyMap<string, number>): AnySagaBinding | undefined {
    const v = startVersions.get(type);
    return v === undefined ? this.latest(type) : this.binding(type, v);
  }

  /** What is wrong with a start-version selection (SAGA_START_VERSIONS): unknown types or versions. */
  startVersionProblems(startVersions: ReadonlyMap<string, number>): string[] {
    const problems: string[] = [];
    for (const [type, version] of startVersions) {
      const known = this.versions(type);
      if (known.length === 0) problems.push(`unknown saga type ${type} (known: ${this.types().join(', ')})`);
      else if (!known.includes(version))
        problems.push(`saga type ${type} has no definition version ${version} (known: ${known.join(', ')})`);
    }
    return problems;
  }

  /**
   * The binding a saga runs on (its recorded definition version). Undefined for an unknown type; throws
   * UnknownDefinitionVersionError (retryable: the saga is held until code that knows the version runs) for a known
   * type of a version this code does not know.
   */
  bindingOf(saga: {
    sagaId: string;
    type: string;
    definitionVersion?: number | undefined;
  }): AnySagaBinding | undefined {
    const version = definitionVersionOf(saga);
    const binding = this.binding(saga.type, version);
    if (!binding && this.byType.has(saga.type)) {
      throw new UnknownDefinitionVersionError(saga.sagaId, saga.type, version, this.versions(saga.type));
    }
    return binding;
  }

  /** True when the saga's type is known but its definition version is not (such a saga is held, never advanced). */
  isUnknownVersion(saga: { type: string; definitionVersion?: number | undefined }): boolean {
    return this.byType.has(saga.type) && !this.binding(saga.type, definitionVersionOf(saga));
  }

  /** Every binding: every version of every saga type. */
  sagas(): AnySagaBinding[] {
    return [...this.byType.values()].flatMap((versions) => [...versions.values()]);
  }

  participants(): ParticipantDeclaration[] {
    return [...this.byName.values()];
  }

  participant(name: string): ParticipantDeclaration | undefined {
    return this.byName.get(name);
  }

  /** The participant that performs `step` of version `version` of saga type `type` (its inbox namespace is its name). */
  participantOf(type: string, step: string, version: number): ParticipantDeclaration | undefined {
    return this.binding(type, version)?.steps[step]?.participant;
  }

  /** The participants performing `step` of saga type `type` in any known version (distinct). */
  stepParticipants(type: string, step: string): ParticipantDeclaration[] {
    const found = new Set<ParticipantDeclaration>();
    for (const b of this.byType.get(type)?.values() ?? []) {
      const p = b.steps[step]?.participant;
      if (p) found.add(p);
    }
    return [...found];
  }

  /** The participant consuming a command topic. */
  participantOnTopic(topic: string): ParticipantDeclaration | undefined {
    return this.participants().find((p) => p.commandTopic === topic);
  }
}
