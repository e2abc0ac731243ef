/**
 * The queues of a deployment by exact name, and what each one carries. Names are `rapport-<role>`
 * plus the deployment's QUEUE_SUFFIX (`rapport-events-production`); wrangler.toml declares the
 * same names. A message from a queue not in this table is a configuration error: it is retried,
 * never guessed at (a prefix test let `rapport-events-dlq` be read as `rapport-events`).
 */
import { readConfig } from "../model/config";
import { eventQueueTail } from "./event-queues";

export const QUEUE_ROLES = ["events", "events-dlq", "deliveries", "deliveries-dlq", "jobs", "jobs-dlq"] as const;
export type QueueRole = (typeof QUEUE_ROLES)[number];

export const queueName = (role: QueueRole, suffix: string) => `rapport-${role}${suffix}`;

/**
 * Each queue name of this deployment and its role (a handful of names: built per batch, nothing
 * to cache). The second and later events queues (`rapport-events-1` …, EVENT_QUEUES) are events
 * queues too.
 */
export function queueRoles(env: Env): ReadonlyMap<string, QueueRole> {
  const { queueSuffix, eventQueues } = readConfig(env);
  const roles = new Map<string, QueueRole>(QUEUE_ROLES.map((role) => [queueName(role, queueSuffix), role]));
  for (let i = 1; i < eventQueues; i++) roles.set(`rapport-events${eventQueueTail(i)}${queueSuffix}`, "events");
  return roles;
}

/** `rapport-events-<n>` + suffix, n from 1 to 99: the shape of every events queue after the first. */
const numberedEventsQueue = (queue: string, suffix: string) => queue.endsWith(suffix) && /^rapport-events-[1-9][0-9]?$/.test(queue.slice(0, queue.length - suffix.length));

/**
 * The role of a queue by its exact name, or undefined when this deployment has no such queue.
 * Every numbered events queue is consumed as one, whatever EVENT_QUEUES says now: after a
 * deployment lowers it, the messages still on a queue it no longer sends to are still applied.
 */
export function roleOfQueue(env: Env, queue: string): QueueRole | undefined {
  const role = queueRoles(env).get(queue);
  if (role) return role;
  return numberedEventsQueue(queue, readConfig(env).queueSuffix) ? "events" : undefined;
}
