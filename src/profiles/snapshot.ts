/**
 * Profile snapshots in KV: `customer:<id>` holds the served document, `identity:<key>` the master
 * id an identifier belongs to (written once, when the identity is first seen). KV costs $5 per
 * million writes and allows one write per second per key, so the pipeline writes a customer's
 * snapshot at most once per consumer batch.
 */
import type { CustomerProfile } from "./document";

export const snapshotKey = (customerId: string) => `customer:${customerId}`;
export const identityKey = (key: string) => `identity:${key}`;

export async function readSnapshot(kv: KVNamespace, customerId: string): Promise<CustomerProfile | null> {
  return kv.get<CustomerProfile>(snapshotKey(customerId), "json");
}

export async function readIdentityOwner(kv: KVNamespace, key: string): Promise<string | null> {
  return kv.get(identityKey(key));
}

export async function writeSnapshot(kv: KVNamespace, doc: CustomerProfile): Promise<void> {
  await kv.put(snapshotKey(doc.id), JSON.stringify(doc), { metadata: { version: doc.version } });
}

export async function writeIdentityOwner(kv: KVNamespace, key: string, customerId: string): Promise<void> {
  await kv.put(identityKey(key), customerId);
}
