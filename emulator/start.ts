/**
 * `npm start`: the whole stack on the emulators, function output forwarded with a `[fn]` prefix.
 * Ctrl-C / SIGINT / SIGTERM stops everything it started.
 */
import { ConfigError } from '../shared/runtime/config';
import { describeSeed, SeedFileError } from './seed';
import { startStack, type Stack } from './stack';

function describe(stack: Stack): string {
  const emu = (e: Stack['emulators']['pubsub']): string =>
    `${e.host} (${e.started ? `started in ${e.startupMs} ms, log ${e.logFile}` : 'reused'})`;
  const fns = Object.entries(stack.ports)
    .map(([k, p]) => `${k}:${p}`)
    .join(' ');
  const recreated = stack.provisioned.subscriptionsRecreated;
  return [
    `Project: ${stack.config.projectId}`,
    `Pub/Sub emulator: ${emu(stack.emulators.pubsub)}`,
    `Firestore emulator: ${emu(stack.emulators.firestore)}`,
    `Functions: ${fns} (log ${stack.logFile})`,
    `Tracing: ${stack.traceDir !== null ? `local, spans in ${stack.traceDir}` : stack.config.tracing}`,
    `Seeded: ${stack.seeded ? describeSeed(stack.seeded) : 'nothing'}`,
    ...(recreated.length === 0
      ? []
      : [
          `Re-created subscriptions (their undelivered messages are dropped; the sweeper recovers the sagas): ${recreated
            .map((r) => `${r.name} (${r.reason})`)
            .join(', ')}`,
        ]),
  ].join('\n');
}

async function main(): Promise<void> {
  let stack: Stack | undefined;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stdout.write(`${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    // While starting, main() stops the stack once startStack returns (it cleans up itself on failure).
    if (stack) void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    stack = await startStack({ verbose: true });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SeedFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the signal handler meanwhile
  if (stopping) {
    await stack.stop();
    process.exit(0);
  }
  process.stdout.write(`${describe(stack)}\n`);
  process.stdout.write(`API: ${stack.apiUrl}\n`);
  process.stdout.write(`Console: ${stack.consoleUrl}\n`);
  process.stdout.write('Ready: saga stack is running (Ctrl-C to stop)\n');
}

void main();
