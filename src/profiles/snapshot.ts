/**
 * Profile snapshots in KV: `customer:<id>` holds the served document, `identity:<key>` the master
 * id an identifier belongs to (written by the read path, the first time it is looked up). KV costs
 * $5 per million writes and allows one write per second per key, so the pipeline writes a
 * customer's snapshot at most once per consumer batch.
 */
import type { CustomerProfile } from "./document";

export const snapshotKey = (customerId: string) => `customer:${customerId}`;
export const identityKey = (key: string) => `identity:${key}`;

export async function readSnapshot(kv: KVNamespace, customerId: string): Promise<CustomerProfile | null> {
  return kv.get<CustomerProfile>(snapshotKey(customerId), "json");
}

/** The snapshot as stored (no parse and re-serialize on the hot read path) and its version. */
export async function readSnapshotText(kv: KVNamespace, customerId: string): Promise<{ body: string; version: number } | null> {
  const { value, metadata } = await kv.getWithMetadata<{ version: number }>(snapshotKey(customerId), "text");
  if (value === null) return null;
  return { body: value, version: metadata?.version ?? (JSON.parse(value) as CustomerProfile).version };
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
