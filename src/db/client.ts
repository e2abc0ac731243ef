import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const clients = new WeakMap<D1Database, ReturnType<typeof create>>();
const create = (d1: D1Database) => drizzle(d1, { schema });

/** The drizzle client over the D1 binding, built once per binding (building it maps the schema). */
export function database(d1: D1Database) {
  let db = clients.get(d1);
  if (!db) {
    db = create(d1);
    clients.set(d1, db);
  }
  return db;
}
export type Database = ReturnType<typeof database>;
