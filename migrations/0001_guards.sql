-- Optimistic concurrency for profile writes. The consumer reads a profile at version N and
-- writes it back with version N + 1. If another consumer invocation wrote in between, the row
-- is already at N + 1 and this trigger aborts the whole D1 batch (a transaction), so the dedupe
-- marks, identities and profile change roll back together and the consumer re-reads and retries.
CREATE TRIGGER customers_version_guard
BEFORE UPDATE OF version ON customers
WHEN NEW.version <> OLD.version + 1
BEGIN
  SELECT RAISE(ABORT, 'rapport_version_conflict');
END;
--> statement-breakpoint
-- A writer that read an existing customer writes it back with version > 1. If the row is gone
-- (the customer was erased meanwhile), its upsert would insert it again: abort instead. An
-- upsert that updates does not fire AFTER INSERT triggers.
CREATE TRIGGER customers_no_resurrection
AFTER INSERT ON customers
WHEN NEW.version > 1
BEGIN
  SELECT RAISE(ABORT, 'rapport_version_conflict');
END;
--> statement-breakpoint
-- An identifier of an erased customer cannot be attached to anyone, even by a consumer that read
-- before the erasure.
CREATE TRIGGER identities_not_suppressed
BEFORE INSERT ON identities
WHEN EXISTS (SELECT 1 FROM suppressions WHERE key = NEW.key)
BEGIN
  SELECT RAISE(ABORT, 'rapport_suppressed');
END;
