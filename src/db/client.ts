import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** The drizzle client over the D1 binding. Cheap to create: one per request or batch. */
export function database(d1: D1Database) {
  return drizzle(d1, { schema });
}
export type Database = ReturnType<typeof database>;
