/**
 * Survey answers from email (docs/engagement.md, "Surveys"). No key: the customer's content token
 * in the link proves who answers; a forged or stale link answers "not valid" and records nothing.
 *
 * - `GET /v1/s/{survey}/{answer}?t=…`: one click. A browser's own navigation (a person's click
 *   sends `Sec-Fetch-User: ?1`) records the answer and says thank you. Anything else (a link
 *   scanner, a prefetch, a HEAD, an old client): a confirm page, and nothing is recorded until its
 *   button is pressed (`POST`, the same URL).
 * - `POST /v1/s/{survey}/amp`: an AMP for Email form (`answer`, `t`), with AMP's CORS headers;
 *   answers JSON for `amp-mustache`.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { App } from "../api/app";
import type { AppEnv } from "../api/context";
import { route } from "../api/route";
import { ampHeaders } from "../content/amp";
import { verifyContentToken } from "../content/links";
import { type MessageRefs, messageRefsOf } from "../content/message-refs";
import { classifyRequester, type Requester } from "../content/requesters";
import { NO_STORE } from "../content/serve-routes";
import { recordAnswer, type Answer } from "../ingest/survey-answer";
import { log } from "../kernel/log";
import { readConfig } from "../model/config";
import type { CustomerProfile } from "../profiles/document";
import { findCustomer } from "../profiles/read";
import { confirmPage, notValidPage, thankYouPage } from "./pages";
import { getSurvey, type StoredSurvey } from "./store";

const HEADERS = { ...NO_STORE, "x-robots-tag": "noindex", "referrer-policy": "no-referrer" };
const AUTH = "The customer's content token in the link (`t`); a bad one records nothing";
const Refs = { m: z.string().max(200).optional(), d: z.string().max(200).optional(), tr: z.string().max(64).optional() };
const AnswerParams = z.object({ survey: z.string().max(64), answer: z.string().max(64) });

interface Found {
  survey: StoredSurvey;
  label: string;
  profile: CustomerProfile;
}

/** The survey, the answer's label and the proven customer; null when any is missing (the link is not valid). */
async function find(c: Context<AppEnv>, surveyId: string, answer: string, token: string | undefined): Promise<Found | null> {
  const survey = await getSurvey(c.env.DB, surveyId);
  const label = survey?.definition.answers.find((a) => a.value === answer)?.label;
  if (!survey || !label || !token) return null;
  const customerId = await verifyContentToken(readConfig(c.env).contentSecrets, token);
  const found = customerId ? await findCustomer(c.env, customerId, (p) => c.executionCtx.waitUntil(p)) : null;
  return found ? { survey, label, profile: JSON.parse(found.body) as CustomerProfile } : null;
}

async function record(c: Context<AppEnv>, f: Found, answer: string, via: Answer["via"], refs: MessageRefs, requester: Requester): Promise<void> {
  const a: Answer = { survey: f.survey.id, question: f.survey.definition.question, answer, via, ...refs, requester, userAgent: c.req.header("user-agent") ?? null, ip: c.req.header("cf-connecting-ip") ?? null };
  // Awaited: the thank-you page says the answer is saved.
  if (!(await recordAnswer(c.env, f.profile, a, c.get("requestId")))) log("warn", "surveys.answer_not_recorded", { survey: f.survey.id });
}

/** A person's own click in a browser: navigation the user started, not a scanner's or a prefetch. */
const personsClick = (c: Context<AppEnv>, requester: Requester) => requester.kind === "human" && c.req.header("sec-fetch-user") === "?1";

async function answerLink(c: Context<AppEnv>): Promise<Response> {
  const { survey: surveyId, answer } = c.req.param() as { survey: string; answer: string };
  const q = c.req.query();
  const f = await find(c, surveyId, answer, q.t);
  if (!f) return c.html(notValidPage(), 200, HEADERS);
  const requester = classifyRequester(c.req.method, c.req.raw.headers);
  const refs = messageRefsOf(q);
  if (c.req.method === "GET" && personsClick(c, requester)) {
    await record(c, f, answer, "link", refs, requester);
    return c.html(thankYouPage(f.survey.definition.question, f.label, f.survey.definition.thankYou), 200, HEADERS);
  }
  const fields: Record<string, string> = { t: q.t!, ...(refs.messageId ? { m: refs.messageId } : {}), ...(refs.deliveryId ? { d: refs.deliveryId } : {}), ...(refs.triggerId ? { tr: refs.triggerId } : {}) };
  return c.html(confirmPage(f.survey.definition.question, f.label, fields), 200, HEADERS);
}

async function confirmAnswer(c: Context<AppEnv>): Promise<Response> {
  const { survey: surveyId, answer } = c.req.param() as { survey: string; answer: string };
  const form = await c.req.parseBody();
  const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : undefined);
  const f = await find(c, surveyId, answer, text("t"));
  if (!f) return c.html(notValidPage(), 200, HEADERS);
  const requester = classifyRequester(c.req.method, c.req.raw.headers);
  // A scanner does not press buttons; one that did is still not a person.
  if (requester.kind !== "scanner") await record(c, f, answer, "confirm", messageRefsOf({ m: text("m") ?? "", d: text("d") ?? "", tr: text("tr") ?? "" }), requester);
  return c.html(thankYouPage(f.survey.definition.question, f.label, f.survey.definition.thankYou), 200, HEADERS);
}

async function ampAnswer(c: Context<AppEnv>): Promise<Response> {
  const url = new URL(c.req.url);
  const cors = ampHeaders({ headers: c.req.raw.headers, url }, readConfig(c.env).ampAllowedSenders);
  if (!cors) return c.json({ ok: false, message: "sender not allowed" }, 403, NO_STORE);
  const form = await c.req.parseBody();
  const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : undefined);
  const answer = text("answer") ?? "";
  const f = await find(c, c.req.param("survey")!, answer, text("t"));
  // amp-form shows submit-error for a non-2xx answer.
  if (!f) return c.json({ ok: false, message: "This survey link is not valid." }, 400, { ...NO_STORE, ...cors });
  const requester = classifyRequester(c.req.method, c.req.raw.headers);
  await record(c, f, answer, "amp", messageRefsOf({ m: text("m") ?? "", d: text("d") ?? "", tr: text("tr") ?? "" }), requester);
  return c.json({ ok: true, answer: f.label, message: f.survey.definition.thankYou }, 200, { ...NO_STORE, ...cors });
}

export function registerSurveyAnswerRoutes(app: App): void {
  // The AMP path first: `/v1/s/{survey}/amp` would otherwise be an answer named "amp".
  route(
    app,
    {
      method: "post",
      path: "/v1/s/{survey}/amp",
      tag: "Surveys",
      scope: "signed",
      auth: AUTH,
      summary: "An AMP for Email form's answer (fields `answer`, `t`, and optionally `m`, `d`, `tr`), with AMP's CORS headers (AMP-Email-Allow-Sender; AMP_ALLOWED_SENDERS); JSON for amp-mustache",
      responses: { 200: "Recorded", 400: "Not a valid link or answer", 403: "The AMP sender is not allowed" },
    },
    ampAnswer,
  );
  route(
    app,
    {
      method: "get",
      path: "/v1/s/{survey}/{answer}",
      tag: "Surveys",
      scope: "signed",
      auth: AUTH,
      summary: "One-click answer: a person's click in a browser records it and says thank you; anything else (scanners, prefetch, HEAD) gets a confirm page and records nothing until confirmed",
      params: AnswerParams,
      query: z.object({ t: z.string().max(300).optional().describe("The customer's content token"), ...Refs }),
      responses: { 200: { description: "A thank-you, confirm or not-valid page", contentType: "text/html" } },
    },
    answerLink,
  );
  route(
    app,
    {
      method: "post",
      path: "/v1/s/{survey}/{answer}",
      tag: "Surveys",
      scope: "signed",
      auth: AUTH,
      summary: "The confirm page's button: records the answer (form field `t`, and `m`, `d`, `tr`)",
      params: AnswerParams,
      responses: { 200: { description: "A thank-you or not-valid page", contentType: "text/html" } },
    },
    confirmAnswer,
  );
}
