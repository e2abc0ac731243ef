/**
 * Customers' answers to surveys in email (surveys/, docs/engagement.md "Surveys"), on the profile:
 * per survey the latest answer by event time (a person may change it), from Rapport's own `Survey
 * Answered` events (a client cannot send one). The answer is also written as the trait
 * `survey_<id>` (profiles/apply.ts), so segment rules and templates read it like any trait. Pure,
 * and independent of arrival order.
 */
import type { StoredEvent } from "../model/events";
import { isInternalSource } from "../model/events";

export const SURVEY_ANSWERED = "Survey Answered";

/** Survey id → [answer, event time ms, messageId]. */
export type SurveyAnswers = Record<string, [string, number, string]>;

export const surveyTrait = (surveyId: string) => `survey_${surveyId}`;

export function surveyAnswerOf(e: StoredEvent): { survey: string; answer: string } | null {
  if (e.type !== "track" || e.event !== SURVEY_ANSWERED || !isInternalSource(e.sourceId)) return null;
  const { survey_id: survey, answer } = e.properties ?? {};
  return typeof survey === "string" && typeof answer === "string" ? { survey, answer } : null;
}

const newer = (a: [string, number, string], b: [string, number, string] | undefined) => !b || a[1] > b[1] || (a[1] === b[1] && a[2] > b[2]);

export function applySurveyAnswers(state: SurveyAnswers | undefined, events: readonly StoredEvent[]): SurveyAnswers | undefined {
  let next: SurveyAnswers | undefined;
  for (const e of events) {
    const a = surveyAnswerOf(e);
    if (!a) continue;
    const held: [string, number, string] = [a.answer, Date.parse(e.timestamp), e.messageId];
    if (!newer(held, (next ?? state)?.[a.survey])) continue;
    next ??= { ...state };
    next[a.survey] = held;
  }
  return next ?? state;
}

/** Two profiles of one person: per survey the later answer. Commutative. */
export function mergeSurveyAnswers(a: SurveyAnswers | undefined, b: SurveyAnswers | undefined): SurveyAnswers | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: SurveyAnswers = { ...a };
  for (const [id, held] of Object.entries(b)) if (newer(held, out[id])) out[id] = held;
  return out;
}

/**
 * How a write changes the count of customers holding each answer: the answers of the profiles it
 * replaces (the survivor and those it absorbs) leave, the new profile's come. A merge of two
 * respondents leaves one; a changed answer moves one customer from the old to the new.
 */
export function answerDeltas(before: readonly (SurveyAnswers | undefined)[], after: SurveyAnswers | undefined): { survey: string; answer: string; d: number }[] {
  const d = new Map<string, number>();
  const add = (answers: SurveyAnswers | undefined, n: number) => {
    for (const [survey, [answer]] of Object.entries(answers ?? {})) {
      const key = JSON.stringify([survey, answer]);
      d.set(key, (d.get(key) ?? 0) + n);
    }
  };
  for (const b of before) add(b, -1);
  add(after, 1);
  return [...d]
    .filter(([, n]) => n !== 0)
    .map(([key, n]) => {
      const [survey, answer] = JSON.parse(key) as [string, string];
      return { survey, answer, d: n };
    });
}
