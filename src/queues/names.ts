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

/** The role of a queue by its exact name, or undefined when this deployment has no such queue. */
export const roleOfQueue = (env: Env, queue: string): QueueRole | undefined => queueRoles(env).get(queue);
