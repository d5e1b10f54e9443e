/** Every saga type the orchestrator can run. Adding a saga type = adding a binding here; the engine is untouched. */
import type { SagaBinding } from './binding';
import { orderPlacement } from './order-placement';

// Bindings are stored type-erased; each one validates its own data with its dataSchema.
const BINDINGS: Record<string, SagaBinding<unknown>> = {
  [orderPlacement.definition.type]: orderPlacement as unknown as SagaBinding<unknown>,
};

export function bindingFor(type: string): SagaBinding<unknown> | undefined {
  return BINDINGS[type];
}
