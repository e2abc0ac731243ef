CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_idx` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`traits` text DEFAULT '{}' NOT NULL,
	`trait_times` text DEFAULT '{}' NOT NULL,
	`counters` text DEFAULT '{}' NOT NULL,
	`event_count` integer DEFAULT 0 NOT NULL,
	`first_seen_at` integer,
	`last_seen_at` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`queue` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_error` text,
	`received_at` integer NOT NULL,
	`replayed_at` integer
);
--> statement-breakpoint
CREATE TABLE `event_chunks` (
	`id` integer PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`min_ts` integer NOT NULL,
	`max_ts` integer NOT NULL,
	`message_ids` text NOT NULL,
	`events` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `event_chunks_customer_idx` ON `event_chunks` (`customer_id`);--> statement-breakpoint
CREATE TABLE `identities` (
	`key` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`customer_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `identities_customer_idx` ON `identities` (`customer_id`);--> statement-breakpoint
CREATE TABLE `pack_failures` (
	`pack_id` text PRIMARY KEY NOT NULL,
	`error` text NOT NULL,
	`attempts` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `quarantine` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`received_at` integer NOT NULL,
	`source_id` text NOT NULL,
	`endpoint` text NOT NULL,
	`reason` text NOT NULL,
	`errors` text NOT NULL,
	`raw` text NOT NULL,
	`truncated` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `quarantine_id_idx` ON `quarantine` (`id`);