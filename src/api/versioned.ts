/**
 * Saving a versioned definition from a route: a stale `If-Match` is a 412 that says the current
 * version, and two saves racing for the same version number (the version row's primary key
 * refuses the second) are a 409 to retry.
 */
import { VersionMismatch } from "../db/versions";
import { ApiError } from "../kernel/errors";
import { errorText } from "../kernel/log";

export async function saveVersioned<T>(what: string, id: string, save: () => Promise<T>): Promise<T> {
  try {
    return await save();
  } catch (err) {
    if (err instanceof VersionMismatch) throw new ApiError("precondition_failed", `${what} ${id} is at version ${err.current}; reload it and apply your change again`, [], { currentVersion: err.current });
    if (errorText(err).includes("UNIQUE constraint failed")) throw new ApiError("conflict", `${what} ${id} was saved concurrently; retry`);
    throw err;
  }
}
