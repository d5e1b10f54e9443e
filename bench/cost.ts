/**
 * What 1,000 successful sagas would cost on Google Cloud at list prices, from what the benchmark measured per saga:
 * Firestore document reads, writes and (TTL) deletes, Pub/Sub throughput, function invocations and compute.
 * The prices, their sources and the date they were looked up are in PRICES and bench/README.md ("Cost").
 * Free tiers are left out (they matter for a demo, not for a rate), and so are storage and network egress.
 */
import { round } from './stats';

export const PRICES = {
  lookedUp: '2026-12-01',
  region: 'us-central1 (Tier 1), the terraform default for the functions and for Firestore',
  firestore: {
    // Standard edition, regional us-central1. ASSUMED: the official page's per-location table did not render in the
    // copies available; these are the US-regional figures of secondary guides and half the nam5 multi-region
    // figures the official page shows ($0.06 / $0.18 / $0.02).
    readsPer100k: 0.03,
    writesPer100k: 0.09,
    deletesPer100k: 0.01,
  },
  pubsub: {
    // Message Delivery Basic; a minimum of 1000 bytes is billed per publish, push or pull request.
    usdPerTiB: 40,
    minBytesPerRequest: 1000,
  },
  run: {
    // Cloud Run functions (= Cloud Run pricing), Tier 1, request-based billing (CPU only during requests).
    usdPerVcpuSecond: 0.000024,
    usdPerGibSecond: 0.0000025,
    usdPerMillionRequests: 0.4,
  },
  instance: {
    // terraform/variables.tf function_settings defaults: cpu "1", memory "512Mi", concurrency 80.
    vcpu: 1,
    memGiB: 0.5,
  },
  stepFunctions: {
    // AWS Step Functions Standard, US East: $0.025 per 1,000 state transitions; a ten-transition saga.
    usdPer1000Transitions: 0.025,
    transitionsPerSaga: 10,
  },
} as const;

/** What one saga used, as measured (means over the phase's sagas). */
export interface SagaUsage {
  reads: number;
  writes: number;
  /** Documents a TTL policy deletes later (inbox records, idempotency keys): billed as deletes. */
  ttlDeletes: number;
  /** Messages published (each is one publish request and one push delivery). */
  messages: number;
  /** Mean size of a message as Pub/Sub bills it (data + attributes + ordering key + 20 + message id), bytes. */
  messageBytes: number;
  /** Function invocations: push deliveries handled plus POSTs answered (429s included). */
  invocations: number;
  /** CPU seconds of the function processes (not the emulators'). */
  cpuSeconds: number;
  /** Summed handler wall time, s (an instance at concurrency 1 is billed while it handles a request). */
  handlerSeconds: number;
}

export interface CostPer1000 {
  usage: SagaUsage;
  /** $ per 1,000 sagas by item. */
  firestoreReads: number;
  firestoreWrites: number;
  firestoreDeletes: number;
  pubsub: number;
  invocations: number;
  /**
   * Compute billed as the CPU the functions used (instances busy all the time they are billed, which concurrent
   * requests on one instance approach under load): vCPU-s = CPU s; GiB-s = CPU s ÷ vCPU × GiB. The lower bound.
   */
  computeByCpu: number;
  /**
   * Compute billed as if every request had its instance to itself for its whole wall time (concurrency 1):
   * instance seconds = max(handler wall time, CPU s ÷ vCPU), times vCPU and GiB. The upper bound: with concurrency
   * 80 overlapping requests share the billed instance time.
   */
  computeByRequest: number;
  /** Totals: with compute by CPU (the brief's figure) and by request time (what request-based billing charges). */
  totalByCpu: number;
  totalByRequest: number;
  /** Step Functions Standard for 1,000 ten-transition sagas (orchestration only, no participants or storage). */
  stepFunctions: number;
}

const r6 = (v: number): number => round(v, 6);

export function costPer1000(u: SagaUsage): CostPer1000 {
  const p = PRICES;
  const n = 1000;
  const fsReads = (u.reads * n * p.firestore.readsPer100k) / 100_000;
  const fsWrites = (u.writes * n * p.firestore.writesPer100k) / 100_000;
  const fsDeletes = (u.ttlDeletes * n * p.firestore.deletesPer100k) / 100_000;
  // One publish request and one push request per message, each billed at least minBytesPerRequest.
  const billedBytes = u.messages * n * 2 * Math.max(p.pubsub.minBytesPerRequest, u.messageBytes);
  const pubsub = (billedBytes / 2 ** 40) * p.pubsub.usdPerTiB;
  const invocations = (u.invocations * n * p.run.usdPerMillionRequests) / 1_000_000;
  const { vcpu, memGiB } = p.instance;
  const byCpu =
    u.cpuSeconds * n * p.run.usdPerVcpuSecond + (u.cpuSeconds / vcpu) * memGiB * n * p.run.usdPerGibSecond;
  const instanceSeconds = Math.max(u.handlerSeconds, u.cpuSeconds / vcpu);
  const byRequest = instanceSeconds * n * (vcpu * p.run.usdPerVcpuSecond + memGiB * p.run.usdPerGibSecond);
  const common = fsReads + fsWrites + fsDeletes + pubsub + invocations;
  return {
    usage: u,
    firestoreReads: r6(fsReads),
    firestoreWrites: r6(fsWrites),
    firestoreDeletes: r6(fsDeletes),
    pubsub: r6(pubsub),
    invocations: r6(invocations),
    computeByCpu: r6(byCpu),
    computeByRequest: r6(byRequest),
    totalByCpu: round(common + byCpu, 4),
    totalByRequest: round(common + byRequest, 4),
    stepFunctions: round(p.stepFunctions.usdPer1000Transitions * p.stepFunctions.transitionsPerSaga, 4),
  };
}

/** CPU seconds of the function processes in a phase's CPU table (labels `fn <target>`). */
export function functionCpuSeconds(cpu: Record<string, number>): number {
  return Object.entries(cpu)
    .filter(([label]) => label.startsWith('fn '))
    .reduce((s, [, v]) => s + v, 0);
}
