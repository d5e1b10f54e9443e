import { pushHandler } from '../../shared/http/push-handler';
import { commandSchema } from '../../shared/messages';
import { parseMessage } from '../../shared/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { PaymentService } from './service';

export const payment = pushHandler(TOPICS.paymentCommands, context, async (push) => {
  const ctx = context();
  await new PaymentService(ctx.db, ctx, ctx.gateway).handle(parseMessage(push, commandSchema));
});
