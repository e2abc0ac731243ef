-- The audience of price drops and restocks, one row per product and day (a JSON array of the
-- day's viewers, sorted and distinct) instead of one per product and customer: a consumer batch
-- writes a row per product and day it saw viewed, however many customers viewed it.
-- WITHOUT ROWID: the primary key is the table (no second index, billed as a second row).
CREATE TABLE `product_viewers` (
	`product_id` text NOT NULL,
	`day` integer NOT NULL,
	`customers` text NOT NULL,
	PRIMARY KEY(`product_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
-- The views recorded so far, each on the day of its customer's latest view of the product.
INSERT INTO `product_viewers` (`product_id`, `day`, `customers`)
	SELECT product_id, day, json_group_array(customer_id) FROM (
		SELECT product_id, viewed_at / 86400000 AS day, customer_id FROM product_views ORDER BY product_id, day, customer_id
	) GROUP BY product_id, day;
--> statement-breakpoint
DROP TABLE `product_views`;
