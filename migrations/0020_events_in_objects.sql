-- Events move from D1 into each customer's Durable Object (docs/scaling.md). A row's
-- `event_seq` is NULL while its events are still here (moved the first time the pipeline
-- touches the customer), then the watermark of the object's event chunks.
ALTER TABLE `customers` ADD `event_seq` integer;--> statement-breakpoint
ALTER TABLE `merges` ADD `events_moved_at` integer;--> statement-breakpoint
-- Earlier merges combined the events in D1 already: nothing for the survivors' objects to take in.
UPDATE `merges` SET `events_moved_at` = `created_at`;
