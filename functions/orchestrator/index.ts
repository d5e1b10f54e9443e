import { pushHandler } from '../../shared/http/push-handler';
import { replySchema } from '../../shared/messages';
import { parseMessage } from '../../shared/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';

export const orchestrator = pushHandler(TOPICS.sagaReplies, context, async (push) => {
  await context().orchestrator.onReply(parseMessage(push, replySchema));
});
