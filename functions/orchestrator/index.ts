import { pushHandler } from '../../shared/runtime/http/push-handler';
import { parseReply } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';

export const orchestrator = pushHandler(TOPICS.sagaReplies, context, async (push) => {
  await context().orchestrator.onReply(parseReply(push));
});
