/**
 * This deployment's messaging topology, derived from the registry (see runtime/topology.ts): the local harness
 * (emulator/provision.ts) provisions exactly this, and terraform consumes it through the generated
 * terraform/topology.auto.tfvars.json (emulator/gen-terraform-topology.ts); a test fails when they drift.
 */
import { cars } from './participants/cars';
import { credit } from './participants/credit';
import { flights } from './participants/flights';
import { hotels } from './participants/hotels';
import { inventory } from './participants/inventory';
import { payment } from './participants/payment';
import { registry } from './registry';
import { deriveTopology, dlqTopicOf, DLQ_SUFFIX, RUNTIME_TOPICS } from './runtime/topology';
import type { FunctionSpec, SubscriptionSpec } from './runtime/topology';

export { dlqTopicOf, DLQ_SUFFIX };
export type { FunctionSpec, SubscriptionSpec };

export const topology = deriveTopology(registry);

/** Topic names by role (for tools and tests): the runtime's and each participant's command topic. */
export const TOPICS = {
  ...RUNTIME_TOPICS,
  creditCommands: credit.commandTopic,
  inventoryCommands: inventory.commandTopic,
  paymentCommands: payment.commandTopic,
  flightCommands: flights.commandTopic,
  hotelCommands: hotels.commandTopic,
  carCommands: cars.commandTopic,
} as const;

export const SOURCE_TOPICS: readonly string[] = topology.sourceTopics;
export const DLQ_TOPICS: readonly string[] = topology.dlqTopics;
export const ALL_TOPICS: readonly string[] = topology.allTopics;
export const FUNCTION_SPECS: readonly FunctionSpec[] = topology.functions;
export const SUBSCRIPTIONS: readonly SubscriptionSpec[] = topology.subscriptions;

export type FunctionKey = string;
export const FUNCTION_KEYS: readonly FunctionKey[] = topology.functions.map((f) => f.key);

/** Function name as deployed (Cloud Functions names: lowercase letters, digits, hyphens). */
export function deployedName(fn: FunctionKey): string {
  return topology.functions.find((f) => f.key === fn)?.folder ?? fn;
}

/** The function consuming a source topic through its push subscription (for a command topic: the participant). */
export function consumerOf(topic: string): FunctionKey | undefined {
  return topology.subscriptions.find((s) => s.topic === topic && s.deadLetterTopic !== null)?.consumer;
}
