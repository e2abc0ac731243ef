-- Segments (issue 6). Members, stats and versions are WITHOUT ROWID: one written row each (see schema.ts).
CREATE TABLE `segment_members` (
	`segment_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`entered_at` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `customer_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `segment_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`cursor` text DEFAULT '' NOT NULL,
	`profiles` integer DEFAULT 0 NOT NULL,
	`changed` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `segment_stats` (
	`segment_id` text NOT NULL,
	`day` integer NOT NULL,
	`entered` integer DEFAULT 0 NOT NULL,
	`exited` integer DEFAULT 0 NOT NULL,
	`size` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `segment_versions` (
	`segment_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `version`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `segments` (
	`id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`enabled` integer NOT NULL,
	`size` integer DEFAULT 0 NOT NULL,
	`members_since` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
ALTER TABLE `customers` ADD `aggregates` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `customers` ADD `segments` text DEFAULT '{}' NOT NULL;