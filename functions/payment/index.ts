import { pushHandler } from '../../shared/runtime/http/push-handler';
import { parseCommand } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { PaymentService } from './service';

export const payment = pushHandler(TOPICS.paymentCommands, context, async (push) => {
  const ctx = context();
  await new PaymentService(ctx.db, ctx, ctx.gateway).handle(parseCommand(push));
});
