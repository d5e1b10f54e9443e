import { pushHandler } from '../../shared/runtime/http/push-handler';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { parseCommand } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { inventoryParticipant } from './service';

export const inventory = pushHandler(TOPICS.inventoryCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, inventoryParticipant(ctx.db), parseCommand(push));
});
