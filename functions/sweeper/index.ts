import { pushHandler } from '../../shared/runtime/http/push-handler';
import { tickSchema } from '../../shared/runtime/messages';
import { parseMessage } from '../../shared/runtime/push';
import { TOPICS } from '../../shared/topology';
import { context } from '../context';
import { sweep } from '../../shared/runtime/sweeper';

/** Triggered by a tick on `saga-ticks` (Cloud Scheduler in the cloud, a timer in the local harness). */
export const sweeper = pushHandler(
  TOPICS.sagaTicks,
  context,
  async (push) => {
    parseMessage(push, tickSchema);
    const report = await sweep(context());
    if (report.errors > 0) context().log.warn('sweep had errors; the next tick retries them', { ...report });
  },
  // A tick starts no trace: what the sweeper does for a saga is a span in that saga's trace.
  { traceRoot: false },
);
