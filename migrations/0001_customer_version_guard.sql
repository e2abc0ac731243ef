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
