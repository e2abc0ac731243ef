/** Ingest limits, the same as Segment's HTTP Tracking API. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
export const MAX_BATCH_MESSAGES = 2500;
/** Queue messages may be 128 KB; stay under it with room for the pack envelope. */
export const MAX_PACK_BYTES = 120 * 1024;
/** `sendBatch` takes at most 100 messages and 256 KB in total. */
export const MAX_SEND_BATCH_MESSAGES = 100;
export const MAX_SEND_BATCH_BYTES = 250 * 1024;
/** How much of a refused message's raw payload the quarantine keeps. */
export const MAX_QUARANTINE_RAW_BYTES = 32 * 1024;
/** What a kept payload may take inside a pack once escaped as a JSON string (see `rejection`). */
export const MAX_KEPT_ESCAPED_BYTES = 64 * 1024;
