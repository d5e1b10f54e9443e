/**
 * `npm run seed -- <file.json>`: upserts the file's customers, products, flights, hotels and car classes into the Firestore named by the
 * environment (GOOGLE_CLOUD_PROJECT, FIRESTORE_EMULATOR_HOST; real Firestore with ADC when the host is empty).
 */
import * as path from 'node:path';
import { configOrExit } from '../shared/runtime/config';
import { firestoreClient } from './clients';
import { describeSeed, loadSeedFile, seedData, SeedFileError, type SeedData } from './seed';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined || process.argv.length > 3) {
    process.stderr.write('usage: npm run seed -- <file.json>\n');
    process.exit(2);
  }
  const cfg = configOrExit();
  let data: SeedData;
  try {
    data = loadSeedFile(path.resolve(process.env.INIT_CWD ?? process.cwd(), file));
  } catch (err) {
    if (!(err instanceof SeedFileError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  // On the emulator, skip the client library's GCE metadata-server probe (slow, and warns).
  if (cfg.firestoreEmulatorHost !== null) process.env.METADATA_SERVER_DETECTION ??= 'none';
  const firestore = firestoreClient(cfg.projectId, cfg.firestoreEmulatorHost);
  try {
    const target = cfg.firestoreEmulatorHost ?? 'Google Cloud Firestore';
    const summary = await seedData(firestore, data);
    process.stdout.write(`Seeded project ${cfg.projectId} at ${target} from ${file}:\n`);
    for (const c of data.customers) {
      process.stdout.write(
        `  customer ${c.customerId}: creditLimitCents=${c.creditLimitCents} creditUsedCents=0\n`,
      );
    }
    for (const p of data.products) process.stdout.write(`  product ${p.sku}: available=${p.available}\n`);
    for (const f of data.flights) process.stdout.write(`  flight ${f.flightId}: seatsAvailable=${f.seats}\n`);
    for (const h of data.hotels) process.stdout.write(`  hotel ${h.hotelId}: roomsAvailable=${h.rooms}\n`);
    for (const c of data.cars) process.stdout.write(`  car class ${c.carClass}: available=${c.available}\n`);
    process.stdout.write(`${describeSeed(summary)} upserted\n`);
  } finally {
    await firestore.terminate();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
