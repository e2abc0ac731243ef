ALTER TABLE `customers` ADD `recent_ids` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `recent_length` integer;