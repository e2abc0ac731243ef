-- Alerting (issue 26): rules, each rule's alert per subject, the history of notifications; deliveries by update time (the failure-rate alert reads a window).
CREATE TABLE `alert_history` (
	`seq` integer PRIMARY KEY NOT NULL,
	`rule_id` text NOT NULL,
	`subject` text NOT NULL,
	`action` text NOT NULL,
	`at` integer NOT NULL,
	`value` real NOT NULL,
	`dedup_key` text NOT NULL,
	`outcomes` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_history_at_idx` ON `alert_history` (`at`);--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE TABLE `alert_states` (
	`rule_id` text NOT NULL,
	`subject` text NOT NULL,
	`status` text NOT NULL,
	`since` integer NOT NULL,
	`dedup_key` text NOT NULL,
	`value` real NOT NULL,
	`notified_at` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`rule_id`, `subject`)
);
--> statement-breakpoint
CREATE INDEX `deliveries_updated_idx` ON `deliveries` (`updated_at`);