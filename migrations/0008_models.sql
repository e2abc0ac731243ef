-- Predictive models (issue 6): versions, and score distributions per day for drift. WITHOUT ROWID: one written row each.
CREATE TABLE `models` (
	`name` text NOT NULL,
	`version` integer NOT NULL,
	`model` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`name`, `version`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `score_stats` (
	`name` text NOT NULL,
	`version` integer NOT NULL,
	`day` integer NOT NULL,
	`n` integer NOT NULL,
	`sum` real NOT NULL,
	`buckets` text NOT NULL,
	PRIMARY KEY(`name`, `version`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `customers` ADD `scores` text;