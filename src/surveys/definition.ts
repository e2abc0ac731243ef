/**
 * A survey in email (issue 25, docs/engagement.md "Surveys"): one question, its answers, the
 * block it appears in (for the response rate) and the thank-you text. Each answer is a signed
 * one-click link (`/v1/s/{survey}/{answer}?t=<content token>`) or an AMP form's choice; the
 * customer's answer becomes the trait `survey_<id>` (the last answer wins) and a `Survey
 * Answered` event.
 */
import { z } from "zod";

export const SurveyId = z.string().regex(/^[a-z0-9][a-z0-9_]{0,47}$/, "must be 1–48 lower-case letters, digits or _");

export const SurveyDefinition = z.object({
  question: z.string().min(1).max(500),
  answers: z
    .array(z.object({ value: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "must be 1–40 letters, digits, - or _"), label: z.string().min(1).max(200) }))
    .min(2)
    .max(20)
    .refine((a) => new Set(a.map((x) => x.value)).size === a.length, "answer values must differ"),
  /** The content block the survey is in: its recipients are the survey's (response rate). */
  block: z.string().min(1).max(64).optional(),
  thankYou: z.string().min(1).max(500).default("Thank you, your answer is saved."),
});
export type SurveyDefinition = z.infer<typeof SurveyDefinition>;

/** The trait a survey's answer is kept in. */
export const surveyTrait = (surveyId: string) => `survey_${surveyId}`;
