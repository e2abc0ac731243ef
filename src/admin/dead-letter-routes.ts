/** `/v1/admin/dead-letters` (admin keys): queue messages that exhausted their retries, and their replay. */
import type { App } from "../api/app";
import { IdParam, route } from "../api/route";
import { ApiError } from "../kernel/errors";
import { getDeadLetter, listDeadLetters, replayDeadLetter, replayPending } from "../queues/dead-letters";
import { DeadLetterQuery, PageQuery, ReplayQuery } from "./schemas";

const TAG = "Admin";

export function registerDeadLetterRoutes(app: App): void {
  route(app, { method: "get", path: "/v1/admin/dead-letters", tag: TAG, scope: "admin", summary: "Queue messages that exhausted their retries, or could not be read", query: DeadLetterQuery, responses: { 200: "A page" } }, async (c, { query: q }) =>
    c.json(await listDeadLetters(c.env.DB, { limit: q.limit, before: q.before, pendingOnly: q.status === "pending" })),
  );

  // Before `/{id}`: `replay` is not a dead letter's id.
  route(app, { method: "post", path: "/v1/admin/dead-letters/replay", tag: TAG, scope: "admin", summary: "Replay every pending dead letter (up to limit)", query: PageQuery, responses: { 200: "Replayed" } }, async (c, { query: { limit } }) => {
    const replayed = await replayPending(c.env, limit);
    return c.json({ replayed: replayed.length, items: replayed });
  });

  route(app, { method: "get", path: "/v1/admin/dead-letters/{id}", tag: TAG, scope: "admin", summary: "One dead letter", params: IdParam, responses: { 200: "The dead letter", 404: "No such dead letter" } }, async (c, { params: { id } }) => {
    const letter = await getDeadLetter(c.env.DB, id);
    if (!letter) throw new ApiError("not_found", `No dead letter ${id}`);
    return c.json(letter);
  });

  route(
    app,
    { method: "post", path: "/v1/admin/dead-letters/{id}/replay", tag: TAG, scope: "admin", summary: "Put a dead letter back on its queue", params: IdParam, query: ReplayQuery, responses: { 200: "Replayed", 404: "No such dead letter", 409: "Already replayed (force=true replays it again)" } },
    async (c, { params: { id }, query: { force } }) => {
      const letter = await getDeadLetter(c.env.DB, id);
      if (!letter) throw new ApiError("not_found", `No dead letter ${id}`);
      if (letter.replayedAt && !force) throw new ApiError("conflict", `Dead letter ${letter.id} was replayed at ${letter.replayedAt}; add ?force=true to replay it again`);
      return c.json(await replayDeadLetter(c.env, letter));
    },
  );

}
