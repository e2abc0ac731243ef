CREATE TABLE `slot_moves` (
	`id` text PRIMARY KEY NOT NULL,
	`from_binding` text NOT NULL,
	`to_binding` text NOT NULL,
	`from_slot` integer NOT NULL,
	`to_slot` integer NOT NULL,
	`state` text NOT NULL,
	`table_name` text,
	`cursor` text,
	`copied` text DEFAULT '{}' NOT NULL,
	`verification` text,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
-- A slot move copies rows as they are (maintenance/slot-move.ts): its batches hold a row here
-- while they run, and the guards that protect the pipeline's writes let those copies through.
-- No other writer ever sees the row (each batch is one transaction and removes it).
CREATE TABLE `copying` (`one` integer PRIMARY KEY NOT NULL);
--> statement-breakpoint
DROP TRIGGER IF EXISTS customers_no_resurrection;
--> statement-breakpoint
CREATE TRIGGER customers_no_resurrection
AFTER INSERT ON customers
WHEN NEW.version > 1 AND NOT EXISTS (SELECT 1 FROM copying)
BEGIN
  SELECT RAISE(ABORT, 'rapport_version_conflict');
END;
--> statement-breakpoint
DROP TRIGGER IF EXISTS identities_not_suppressed;
--> statement-breakpoint
CREATE TRIGGER identities_not_suppressed
BEFORE INSERT ON identities
WHEN NOT EXISTS (SELECT 1 FROM copying) AND EXISTS (SELECT 1 FROM suppressions WHERE key = NEW.key OR key = NEW.key_hash)
BEGIN
  SELECT RAISE(ABORT, 'rapport_suppressed');
END;
