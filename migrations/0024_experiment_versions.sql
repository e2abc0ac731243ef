CREATE TABLE `experiment_versions` (
	`experiment_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`experiment_id`, `version`)
);
