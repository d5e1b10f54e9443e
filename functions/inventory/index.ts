import { pushHandler } from '../../shared/http/push-handler';
import { commandSchema } from '../../shared/messages';
import { runTxParticipant } from '../../shared/participant';
import { parseMessage } from '../../shared/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { inventoryParticipant } from './service';

export const inventory = pushHandler(TOPICS.inventoryCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, inventoryParticipant(ctx.db), parseMessage(push, commandSchema));
});
