-- Engagement reports (issue 25): daily rows per trigger, block and variant, WITHOUT ROWID (one written row per upsert; see schema.ts).
CREATE TABLE `engagement_daily` (
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`day` integer NOT NULL,
	`delivered` integer DEFAULT 0 NOT NULL,
	`reached` integer DEFAULT 0 NOT NULL,
	`opens` integer DEFAULT 0 NOT NULL,
	`unique_opens` integer DEFAULT 0 NOT NULL,
	`machine_opens` integer DEFAULT 0 NOT NULL,
	`clicks` integer DEFAULT 0 NOT NULL,
	`unique_clicks` integer DEFAULT 0 NOT NULL,
	`scanner_clicks` integer DEFAULT 0 NOT NULL,
	`conversions` integer DEFAULT 0 NOT NULL,
	`revenue` integer DEFAULT 0 NOT NULL,
	`unsubscribes` integer DEFAULT 0 NOT NULL,
	`complaints` integer DEFAULT 0 NOT NULL,
	`treated` integer DEFAULT 0 NOT NULL,
	`held` integer DEFAULT 0 NOT NULL,
	`treated_conversions` integer DEFAULT 0 NOT NULL,
	`held_conversions` integer DEFAULT 0 NOT NULL,
	`treated_revenue` integer DEFAULT 0 NOT NULL,
	`held_revenue` integer DEFAULT 0 NOT NULL,
	`treated_revenue_sq` real DEFAULT 0 NOT NULL,
	`held_revenue_sq` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`dimension`, `key`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `customers` ADD `engagement` text;