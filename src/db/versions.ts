/** Versioned definitions (triggers, content blocks): saving over someone else's save is refused. */

/** A save that expected another version than the one stored. */
export class VersionMismatch extends Error {
  constructor(readonly current: number) {
    super(`The definition is at version ${current}`);
  }
}
