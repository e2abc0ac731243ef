-- The shop's engagement by local hour (issue 25): the population curve of send-time estimates, summed over every database.
CREATE TABLE `send_time_hours` (
	`hour` integer PRIMARY KEY NOT NULL,
	`weight` real DEFAULT 0 NOT NULL
);
