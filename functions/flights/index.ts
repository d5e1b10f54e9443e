import { pushHandler } from '../../shared/runtime/http/push-handler';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { parseCommand } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { flightsParticipant } from './service';

export const flights = pushHandler(TOPICS.flightCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, flightsParticipant(ctx.db), parseCommand(push));
});
