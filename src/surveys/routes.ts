/**
 * `/v1/surveys` (admin keys): survey definitions, their results (customers per answer, share among
 * respondents, response rate among the block's recipients) and a customer's answer links.
 */
import { z } from "zod";
import type { App } from "../api/app";
import { registerDefinitionRoutes } from "../api/definition-routes";
import { IdParam, route } from "../api/route";
import { contentToken } from "../content/links";
import { shards } from "../db/shards";
import { ApiError } from "../kernel/errors";
import { isoOrNull } from "../kernel/time";
import { readConfig } from "../model/config";
import { findCustomer } from "../profiles/read";
import { sumsByDay } from "../reports/store";
import { recipientsOf } from "../reports/summary";
import { METRICS } from "../profiles/engagement";
import { SurveyDefinition, SurveyId, surveyTrait } from "./definition";
import { answerCounts, deleteSurvey, getSurvey, listSurveys, saveSurvey, type StoredSurvey } from "./store";

const TAG = "Surveys";
const DAY_MS = 86_400_000;
const view = (s: StoredSurvey) => ({ id: s.id, version: s.version, trait: surveyTrait(s.id), ...s.definition, createdAt: isoOrNull(s.createdAt), updatedAt: isoOrNull(s.updatedAt) });

async function requireSurvey(d1: D1Database, id: string): Promise<StoredSurvey> {
  const s = await getSurvey(d1, id);
  if (!s) throw new ApiError("not_found", `No survey ${id}`);
  return s;
}

export function registerSurveyRoutes(app: App): void {
  registerDefinitionRoutes(app, {
    path: "/v1/surveys",
    tag: TAG,
    noun: "Survey",
    listKey: "surveys",
    id: SurveyId,
    definition: SurveyDefinition,
    view,
    summaries: { list: "Surveys in email", put: 'Save a survey (If-Match: "<version>"): its question, answers, block and thank-you text', get: "One survey", delete: "Delete a survey (its answers stay on profiles)" },
    list: listSurveys,
    get: getSurvey,
    async save(c, id, definition, expectedVersion) {
      const { stored, created } = await saveSurvey(c.env.DB, id, definition, expectedVersion);
      return { stored, created };
    },
    delete: (c, id) => deleteSurvey(c.env.DB, id),
  });
  route(
    app,
    {
      method: "get",
      path: "/v1/surveys/{id}/results",
      tag: TAG,
      scope: "admin",
      summary: "Customers holding each answer now (a changed answer moves them), the share among respondents, and with a block the response rate among its recipients since the survey was created",
      params: IdParam,
      responses: { 200: "Results", 404: "No such survey" },
    },
    async (c, { params: { id } }) => {
      const s = await requireSurvey(c.env.DB, id);
      const map = shards(c.env);
      const counts = await answerCounts(map, s.id);
      const respondents = s.definition.answers.reduce((n, a) => n + Math.max(0, counts.get(a.value) ?? 0), 0);
      let recipients: number | null = null;
      if (s.definition.block) {
        const days = await sumsByDay(map, "block", s.definition.block, Math.floor(s.createdAt / DAY_MS), Math.floor(Date.now() / DAY_MS));
        const total = Object.fromEntries(METRICS.map((m) => [m, [...days.values()].reduce((n, d) => n + d[m], 0)])) as Parameters<typeof recipientsOf>[0];
        recipients = recipientsOf(total);
      }
      return c.json({
        id: s.id,
        question: s.definition.question,
        trait: surveyTrait(s.id),
        respondents,
        recipients,
        responseRate: recipients ? Math.round((respondents / recipients) * 10_000) / 10_000 : null,
        answers: s.definition.answers.map((a) => {
          const customers = Math.max(0, counts.get(a.value) ?? 0);
          return { value: a.value, label: a.label, customers, share: respondents > 0 ? Math.round((customers / respondents) * 10_000) / 10_000 : null };
        }),
      });
    },
  );
  route(
    app,
    {
      method: "get",
      path: "/v1/surveys/{id}/links",
      tag: TAG,
      scope: "admin",
      summary: "A customer's one-click answer links and the AMP form's action URL (what an email would carry)",
      params: IdParam,
      query: z.object({ customer: z.string().min(1).max(300).describe("Any customer ref the profile API takes") }),
      responses: { 200: "Links", 404: "No such survey or customer" },
    },
    async (c, { params: { id }, query }) => {
      const s = await requireSurvey(c.env.DB, id);
      const found = await findCustomer(c.env, query.customer);
      if (!found) throw new ApiError("not_found", `No customer ${query.customer}`);
      const secrets = readConfig(c.env).contentSecrets;
      if (secrets.length === 0) throw new ApiError("not_configured", "CONTENT_SECRETS is not set: no link can prove a customer");
      const t = encodeURIComponent(await contentToken(secrets, found.id));
      const origin = new URL(c.req.url).origin;
      return c.json({ survey: s.id, customerId: found.id, answers: Object.fromEntries(s.definition.answers.map((a) => [a.value, `${origin}/v1/s/${s.id}/${a.value}?t=${t}`])), amp: { actionXhr: `${origin}/v1/s/${s.id}/amp`, t: decodeURIComponent(t) } });
    },
  );
}
