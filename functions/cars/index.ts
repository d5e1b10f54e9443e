import { pushHandler } from '../../shared/runtime/http/push-handler';
import { runTxParticipant } from '../../shared/runtime/participants/transactional';
import { parseCommand } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { carsParticipant } from './service';

export const cars = pushHandler(TOPICS.carCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, carsParticipant(ctx.db), parseCommand(push));
});
