/**
 * Preloaded into each function process by `npm run bench -- --cpu-prof DIR` (NODE_OPTIONS=--require …; node does
 * not allow --cpu-prof there): samples the process with the inspector's profiler and writes
 * DIR/<function>.<pid>.cpuprofile when the process exits (the functions framework exits on SIGTERM).
 */
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';

const dir = process.env.SAGA_BENCH_CPU_PROF_DIR;
if (dir) {
  const target = /--target=(\S+)/.exec(process.argv.join(' '))?.[1] ?? 'node';
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 1000 }, () => session.post('Profiler.start')),
  );
  process.once('exit', () => {
    // In-process inspector messages are dispatched synchronously, so this completes before the process is gone.
    session.post('Profiler.stop', (err, result) => {
      if (!err)
        fs.writeFileSync(
          path.join(dir, `${target}.${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
    });
  });
}
