/** Locates the repository root relative to this file (works from emulator/ under ts-jest and dist/emulator/). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The functions framework's CLI entry point (its package.json `bin`). */
export function functionsFrameworkMain(root: string = repoRoot()): string {
  const pkgDir = path.join(root, 'node_modules', '@google-cloud', 'functions-framework');
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
  };
  return path.join(pkgDir, pkg.bin?.['functions-framework'] ?? 'build/src/main.js');
}
