/** The CLI's redrive: the runtime's (shared/runtime/redrive.ts), bound to this deployment's source topics. */
import type { PubSub } from '@google-cloud/pubsub';
import { redrive as redriveTo, type RedriveOptions, type RedriveResult } from '../shared/runtime/redrive';
import type { DeadLetterStore } from '../shared/runtime/store/dead-letters';
import { SOURCE_TOPICS } from '../shared/topology';

export type { RedriveResult };

export function redrive(
  store: DeadLetterStore,
  pubsub: PubSub,
  what: { all: true } | { id: string; force: boolean },
  opts: Omit<RedriveOptions, 'sourceTopics'> = {},
): Promise<RedriveResult[]> {
  return redriveTo(store, pubsub, what, { ...opts, sourceTopics: SOURCE_TOPICS });
}
