/**
 * Packing small ingest requests together (docs/scaling.md, "Packing at the edge"). A storefront's
 * request carries one to a few events; sent as it comes, each is a queue message of its own
 * (three billed Queues operations), and each consumer batch of 100 messages then holds 100-odd
 * events and writes once in every shard. An `IngestBuffer` object gathers the small requests of
 * many shoppers for up to INGEST_PACK_WAIT_MS or INGEST_PACK_EVENTS events, sends them as one
 * pack, and only then answers every request it holds: nobody hears "success" before their events
 * are on the queue (at least once, as before; a client that retries is deduplicated by messageId).
 *
 * Why an object and not the Worker itself: a Worker request may not settle another request's
 * promise with its own I/O, and an isolate serves few requests at a time anyway. All requests to
 * one object share its I/O, so one send can answer them all. Nothing is stored: a buffer that is
 * reset loses only unanswered requests, whose clients retry.
 */
import { DurableObject } from "cloudflare:workers";
import type { RejectedMessage, StoredEvent, ViolationRecord } from "../model/events";
import { readConfig } from "../model/config";
import { packEvents } from "./pack";
import { sendPacks } from "./send";

/** What one request adds to a buffer: its source's events, refusals and tracking-plan violations. */
export interface BufferedRequest {
  sourceId: string;
  receivedAt: string;
  events: StoredEvent[];
  rejected: RejectedMessage[];
  violations: ViolationRecord[];
}

/** The requests of one source gathered for the next pack, and what they wait on. */
interface Gathering {
  items: number;
  /** The earliest receipt of the gathered requests: the pack's age (freshness) counts from it. */
  receivedAt: string;
  events: StoredEvent[];
  rejected: RejectedMessage[];
  violations: ViolationRecord[];
  timer: ReturnType<typeof setTimeout> | undefined;
  sent: Promise<void>;
  settle: (error?: unknown) => void;
}

export class IngestBuffer extends DurableObject<Env> {
  /** By source: a pack has one source (the consumer and the quarantine read it from the pack). */
  private readonly gathering = new Map<string, Gathering>();
  /** Packs sent since the object started: what packing saves is seen in it (the tests read it). */
  private packsSent = 0;

  /** Adds a request's messages; resolves once the pack holding them is on the event queue `queue`. */
  async add(request: BufferedRequest, queue: number): Promise<void> {
    const { ingestPackEvents, ingestPackWaitMs } = readConfig(this.env);
    const key = `${request.sourceId}\u0000${queue}`;
    let g = this.gathering.get(key);
    if (!g) {
      g = gatheringOf(request.receivedAt);
      this.gathering.set(key, g);
      const started = g;
      started.timer = setTimeout(() => void this.flush(key, started, request.sourceId, queue), ingestPackWaitMs);
    }
    g.events.push(...request.events);
    g.rejected.push(...request.rejected);
    g.violations.push(...request.violations);
    g.items += request.events.length + request.rejected.length;
    if (request.receivedAt < g.receivedAt) g.receivedAt = request.receivedAt;
    const sent = g.sent;
    if (g.items >= ingestPackEvents) void this.flush(key, g, request.sourceId, queue);
    return sent;
  }

  /** How many packs this object has sent (tests check that requests were packed together). */
  async stats(): Promise<{ packsSent: number }> {
    return { packsSent: this.packsSent };
  }

  private async flush(key: string, g: Gathering, sourceId: string, queue: number): Promise<void> {
    // The timer and the count can both call: the first one sends.
    if (this.gathering.get(key) !== g) return;
    this.gathering.delete(key);
    clearTimeout(g.timer);
    try {
      const packs = packEvents(g.events, g.rejected, { sourceId, receivedAt: g.receivedAt }, g.violations);
      await sendPacks(this.env, queue, packs);
      this.packsSent += packs.length;
      g.settle();
    } catch (err) {
      g.settle(err);
    }
  }
}

function gatheringOf(receivedAt: string): Gathering {
  let settle: (error?: unknown) => void = () => {};
  const sent = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  // Rejections are handled by each waiting request; this keeps an unawaited copy from being reported.
  sent.catch(() => {});
  return { items: 0, receivedAt, events: [], rejected: [], violations: [], timer: undefined, sent, settle };
}
