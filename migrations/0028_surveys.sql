-- Surveys in email (issue 25): definitions, and customers per answer (WITHOUT ROWID: one written row per upsert).
CREATE TABLE `survey_answers` (
	`survey_id` text NOT NULL,
	`answer` text NOT NULL,
	`customers` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`survey_id`, `answer`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `surveys` (
	`id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
ALTER TABLE `customers` ADD `surveys` text;