-- Console sign-ins (issue 26): a token hash per session, bound to the hash of the key that signed in.
CREATE TABLE `console_sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`key_hash` text NOT NULL,
	`role` text NOT NULL,
	`csrf` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
) WITHOUT ROWID;
