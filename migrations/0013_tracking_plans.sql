CREATE TABLE `tracking_plans` (
	`id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE TABLE `tracking_violations` (
	`source_id` text NOT NULL,
	`message_id` text NOT NULL,
	`received_at` integer NOT NULL,
	`plan_id` text NOT NULL,
	`plan_version` integer NOT NULL,
	`event_name` text NOT NULL,
	`action` text NOT NULL,
	`unplanned` integer NOT NULL,
	`violations` text NOT NULL,
	PRIMARY KEY(`source_id`, `message_id`)
);
