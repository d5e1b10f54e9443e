import { pushHandler } from '../../shared/http/push-handler';
import { commandSchema } from '../../shared/messages';
import { runTxParticipant } from '../../shared/participant';
import { parseMessage } from '../../shared/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { creditParticipant } from './service';

export const credit = pushHandler(TOPICS.creditCommands, context, async (push) => {
  const ctx = context();
  await runTxParticipant(ctx, creditParticipant(ctx.db), parseMessage(push, commandSchema));
});
