-- The pipeline minute by minute (issue 26): the console's charts and the alerts on lag, freshness and volume.
CREATE TABLE `pipeline_minutes` (
	`minute` integer PRIMARY KEY NOT NULL,
	`batches` integer DEFAULT 0 NOT NULL,
	`received` integer DEFAULT 0 NOT NULL,
	`applied` integer DEFAULT 0 NOT NULL,
	`duplicates` integer DEFAULT 0 NOT NULL,
	`quarantined` integer DEFAULT 0 NOT NULL,
	`lag_max_ms` integer DEFAULT 0 NOT NULL,
	`fresh_1s` integer DEFAULT 0 NOT NULL,
	`fresh_5s` integer DEFAULT 0 NOT NULL,
	`fresh_30s` integer DEFAULT 0 NOT NULL,
	`fresh_slow` integer DEFAULT 0 NOT NULL
);
