/**
 * Builds the one source archive every Cloud Function is deployed from: terraform/build/source.zip.
 *
 *   npm run package
 *
 * Contents: a fresh compile of the deployable code (tsconfig.build.json, without source maps) under `dist/`, the
 * package.json without its `scripts` (so the Cloud Functions buildpack installs dependencies and runs nothing else:
 * the code is already compiled) and package-lock.json.
 *
 * The archive is reproducible: entries sorted, fixed timestamps and permissions. The same tree gives the same bytes,
 * so the same sha256; terraform names the uploaded object after filesha256() of the archive, so a code change
 * redeploys every function and an unchanged tree changes nothing.
 *
 * The zip writer is ~60 lines on node:zlib (deflateRawSync) with its own CRC-32, instead of a dependency or a `zip`
 * binary that may not be installed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  name: string;
  data: Buffer;
}

const CRC_TABLE: readonly number[] = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** 1980-01-01 00:00:00, the earliest MS-DOS timestamp: every entry gets it, so the bytes depend on content only. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const VERSION_NEEDED = 20; // 2.0: deflate
const VERSION_MADE_BY = (3 << 8) | 20; // Unix, so the external attributes carry a file mode
const FILE_MODE = 0o100644;
const UTF8_FLAG = 0x0800;
const DEFLATE = 8;

/** A deterministic zip (deflate, no zip64): entries are written sorted by name. */
export function zip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sorted.length > 0xffff) throw new Error('too many entries for a zip without zip64');
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [i, entry] of sorted.entries()) {
    if (entry.name.startsWith('/') || entry.name.includes('\\') || entry.name.split('/').includes('..')) {
      throw new Error(`invalid zip entry name: ${entry.name}`);
    }
    if (i > 0 && sorted[i - 1]!.name === entry.name) throw new Error(`duplicate zip entry: ${entry.name}`);
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: 0
    central.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
    if (offset > 0xffffffff) throw new Error('archive too large for a zip without zip64');
  }
  const centralDirectory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDirectory, end]);
}

/** Names of the entries in a zip written by zip() (reads the central directory). For tests and checks. */
export function zipEntryNames(archive: Buffer): string[] {
  const endOffset = archive.length - 22;
  if (archive.readUInt32LE(endOffset) !== 0x06054b50) throw new Error('not a zip without comment');
  const count = archive.readUInt16LE(endOffset + 10);
  let p = archive.readUInt32LE(endOffset + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt central directory');
    const nameLength = archive.readUInt16LE(p + 28);
    const extraLength = archive.readUInt16LE(p + 30);
    const commentLength = archive.readUInt16LE(p + 32);
    names.push(archive.subarray(p + 46, p + 46 + nameLength).toString('utf8'));
    p += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

function filesUnder(dir: string, prefix: string): ZipEntry[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d): ZipEntry[] => {
    const full = path.join(dir, d.name);
    const name = `${prefix}/${d.name}`;
    if (d.isDirectory()) return filesUnder(full, name);
    if (d.isFile()) return [{ name, data: readFileSync(full) }];
    return [];
  });
}

/** package.json as deployed: no scripts, so the buildpack only installs dependencies. */
export function deployedPackageJson(source: string): string {
  const pkg = JSON.parse(source) as Record<string, unknown>;
  delete pkg.scripts;
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export interface PackageResult {
  archive: string;
  sha256: string;
  entries: number;
}

/** Compiles the deployable code into a scratch directory and writes the archive. */
export function packageSource(root: string, archive: string): PackageResult {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'saga-package-'));
  try {
    const outDir = path.join(scratch, 'dist');
    execFileSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc', { paths: [root] }),
        '-p',
        path.join(root, 'tsconfig.build.json'),
        '--outDir',
        outDir,
        '--sourceMap',
        'false',
        '--declaration',
        'false',
      ],
      { cwd: root, stdio: 'inherit' },
    );
    const main = path.join(outDir, 'functions', 'index.js');
    if (!existsSync(main)) throw new Error(`the build produced no ${path.relative(scratch, main)}`);
    const entries: ZipEntry[] = [
      ...filesUnder(outDir, 'dist'),
      {
        name: 'package.json',
        data: Buffer.from(deployedPackageJson(readFileSync(path.join(root, 'package.json'), 'utf8'))),
      },
      { name: 'package-lock.json', data: readFileSync(path.join(root, 'package-lock.json')) },
    ];
    const bytes = zip(entries);
    mkdirSync(path.dirname(archive), { recursive: true });
    writeFileSync(archive, bytes);
    return { archive, sha256: createHash('sha256').update(bytes).digest('hex'), entries: entries.length };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main(): void {
  const root = process.cwd();
  const result = packageSource(root, path.join(root, 'terraform', 'build', 'source.zip'));
  process.stdout.write(
    `wrote ${path.relative(root, result.archive)} (${result.entries} files)\nsha256 ${result.sha256}\n`,
  );
}

if (require.main === module) {
  main();
}
