-- A source has one tracking plan. The API checks that before it saves, but two saves at the same
-- moment could both pass the check; this guard checks again inside the write itself, which D1
-- runs one at a time, so the second of them aborts. Every save is an upsert (INSERT … ON CONFLICT
-- DO UPDATE), and SQLite fires BEFORE INSERT triggers for an upsert that ends up updating too.
CREATE TRIGGER tracking_plans_one_per_source
BEFORE INSERT ON tracking_plans
WHEN NEW.deleted_at IS NULL AND EXISTS (
  SELECT 1 FROM tracking_plans AS p, json_each(p.definition, '$.sources') AS s
  WHERE p.id <> NEW.id AND p.deleted_at IS NULL AND s.value IN (SELECT value FROM json_each(NEW.definition, '$.sources'))
)
BEGIN
  SELECT RAISE(ABORT, 'rapport_source_taken');
END;
