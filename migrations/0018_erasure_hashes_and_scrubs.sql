CREATE TABLE `archive_scrubs` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`keys` text,
	`from_day` text NOT NULL,
	`to_day` text NOT NULL,
	`day` text NOT NULL,
	`cursor` text NOT NULL,
	`objects` integer DEFAULT 0 NOT NULL,
	`rewritten` integer DEFAULT 0 NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`removed` integer DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
ALTER TABLE `identities` ADD `key_hash` text;--> statement-breakpoint
-- Suppressions now hold keyed hashes of identifiers (`hmac:…`), and new identities carry theirs:
-- the guard against attaching an erased identifier compares either (rows from before hashing
-- still hold the identifier itself until the daily job hashes them).
DROP TRIGGER IF EXISTS identities_not_suppressed;
--> statement-breakpoint
CREATE TRIGGER identities_not_suppressed
BEFORE INSERT ON identities
WHEN EXISTS (SELECT 1 FROM suppressions WHERE key = NEW.key OR key = NEW.key_hash)
BEGIN
  SELECT RAISE(ABORT, 'rapport_suppressed');
END;
