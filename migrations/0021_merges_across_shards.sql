ALTER TABLE `customers` ADD `absorbed` text;--> statement-breakpoint
ALTER TABLE `merges` ADD `finished_at` integer;--> statement-breakpoint
-- Survivors of earlier merges list the customers they absorbed, and whether their events moved
-- into the survivor's object yet (merges.events_moved_at; 0: not yet). Earlier merges were one
-- transaction: all finished.
UPDATE `customers` SET `absorbed` = (
  SELECT json_group_object(`merged_id`, coalesce(`events_moved_at`, 0)) FROM `merges` WHERE `merges`.`survivor_id` = `customers`.`id`
) WHERE `id` IN (SELECT `survivor_id` FROM `merges`);--> statement-breakpoint
UPDATE `merges` SET `finished_at` = `created_at`;
