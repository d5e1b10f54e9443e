import { pushHandler } from '../../shared/runtime/http/push-handler';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { parseCommand } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { hotelsParticipant } from './service';

export const hotels = pushHandler(TOPICS.hotelCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, hotelsParticipant(ctx.db), parseCommand(push));
});
