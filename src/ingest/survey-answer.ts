/**
 * A customer's answer to a survey in email, recorded as Rapport's own `Survey Answered` event
 * through the same Queue as any event: the profile keeps it as the trait `survey_<id>` (the last
 * answer wins) and counts it in the survey's results (profiles/survey-answers.ts).
 */
import { newId } from "../kernel/crypto";
import type { Requester } from "../content/requesters";
import { messageProperties, type MessageRefs } from "../content/message-refs";
import type { CustomerProfile } from "../profiles/document";
import { SURVEY_ANSWERED } from "../profiles/survey-answers";
import { queueCustomerEvent } from "./customer-event";

export interface Answer extends MessageRefs {
  survey: string;
  question: string;
  answer: string;
  /** `link` (a click a browser made), `confirm` (the confirm button), `amp` (an AMP form). */
  via: "link" | "confirm" | "amp";
  requester: Requester;
  userAgent: string | null;
  ip: string | null;
}

export function recordAnswer(env: Env, profile: CustomerProfile, a: Answer, requestId: string): Promise<boolean> {
  const properties = {
    survey_id: a.survey,
    question: a.question,
    answer: a.answer,
    via: a.via,
    ...messageProperties(a),
    engagement_class: a.requester.kind,
    engagement_reason: a.requester.reason,
  };
  return queueCustomerEvent(env, profile, { event: SURVEY_ANSWERED, messageId: newId("sva"), properties, userAgent: a.userAgent, ip: a.ip }, requestId);
}
