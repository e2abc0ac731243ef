import { describe, expect, it } from "vitest";
import { answerDeltas, applySurveyAnswers, mergeSurveyAnswers } from "../../src/profiles/survey-answers";
import { admin, api, bearer, eventually, ingest, KEYS, profileWhen, uid } from "../helpers";
import { ev } from "../trigger-helpers";
import { fetchUrl, linksOf as blockLinks, putBlock } from "../content-helpers";

const CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const click = { "user-agent": CHROME, "sec-fetch-user": "?1", "sec-fetch-mode": "navigate" };

async function survey(extra: Record<string, unknown> = {}) {
  const id = uid("nps").replaceAll("-", "_");
  const res = await admin(`/v1/surveys/${id}`, { method: "PUT", body: JSON.stringify({ question: "How likely are you to recommend us?", answers: ["0", "5", "9", "10"].map((v) => ({ value: v, label: v })), ...extra }) });
  expect(res.status).toBe(201);
  return id;
}

async function customer() {
  const userId = uid("reader");
  await ingest("/v1/identify", { userId, traits: { email: `${userId}@example.com` } });
  await profileWhen(userId, () => true);
  return userId;
}

const linksOf = async (id: string, userId: string) => ((await (await admin(`/v1/surveys/${id}/links?customer=${userId}`)).json()) as { answers: Record<string, string>; amp: { actionXhr: string; t: string } });
const path = (url: string) => new URL(url).pathname + new URL(url).search;
const results = async (id: string) => (await (await admin(`/v1/surveys/${id}/results`)).json()) as { respondents: number; answers: { value: string; customers: number; share: number | null }[] };

describe("survey answers on the profile", () => {
  const answered = (survey: string, answer: string, at: string, msg: string) => ev({ type: "track", event: "Survey Answered", userId: "u", messageId: msg, timestamp: at, sourceId: "rapport-content", properties: { survey_id: survey, answer } });

  it("keep the latest answer whatever the order, merge to the later, and move customers between answers", () => {
    const a = answered("nps", "5", "2026-06-01T10:00:00Z", "m1");
    const b = answered("nps", "9", "2026-06-02T10:00:00Z", "m2");
    expect(applySurveyAnswers(undefined, [a, b])).toEqual(applySurveyAnswers(undefined, [b, a]));
    expect(applySurveyAnswers(undefined, [b, a])?.nps?.[0]).toBe("9");
    // A client cannot answer for a customer.
    expect(applySurveyAnswers(undefined, [{ ...a, sourceId: "key_write" }])).toBeUndefined();
    const one = applySurveyAnswers(undefined, [a]);
    const other = applySurveyAnswers(undefined, [b]);
    expect(mergeSurveyAnswers(one, other)).toEqual(mergeSurveyAnswers(other, one));
    // Two respondents merged: one customer, holding the later answer.
    expect(answerDeltas([one, other], mergeSurveyAnswers(one, other)).sort((x, y) => x.answer.localeCompare(y.answer))).toEqual([{ survey: "nps", answer: "5", d: -1 }]);
    expect(answerDeltas([one], applySurveyAnswers(one, [b])).sort((x, y) => x.answer.localeCompare(y.answer))).toEqual([
      { survey: "nps", answer: "5", d: -1 },
      { survey: "nps", answer: "9", d: 1 },
    ]);
  });
});

describe("one-click survey links", () => {
  it("record a person's click as the trait and an event, let them change it, and count customers per answer", async () => {
    const id = await survey();
    const userId = await customer();
    const links = await linksOf(id, userId);
    const res = await api(path(`${links.answers["9"]}&m=msg-7`), { headers: click });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(await res.text()).toContain("Thank you, your answer is saved.");
    const profile = await profileWhen(userId, (p) => p.traits[`survey_${id}`] === "9");
    expect(profile.counters.events["Survey Answered"]).toBe(1);
    await eventually(async () => (await results(id)).respondents === 1 && true, "one respondent");

    // The person changes their mind: one customer, now on the new answer.
    await api(path(links.answers["10"]!), { headers: click });
    await profileWhen(userId, (p) => p.traits[`survey_${id}`] === "10");
    const r = await eventually(async () => {
      const now = await results(id);
      return now.answers.find((a) => a.value === "10")?.customers === 1 ? now : null;
    }, "the answer moved");
    expect(r.respondents).toBe(1);
    expect(r.answers.find((a) => a.value === "9")?.customers).toBe(0);
    expect(r.answers.find((a) => a.value === "10")?.share).toBe(1);

    // Erased, the customer's answer leaves the results.
    expect((await admin(`/v1/customers/${userId}`, { method: "DELETE" })).status).toBe(200);
    expect((await results(id)).respondents).toBe(0);
  });

  it("record nothing for a scanner, a prefetch or a HEAD: they get a confirm page, and only its button records", async () => {
    const id = await survey();
    const userId = await customer();
    const links = await linksOf(id, userId);
    const scanner = await api(path(links.answers["0"]!), { headers: { "user-agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)" } });
    expect(await scanner.text()).toContain('id="confirm"');
    expect((await api(path(links.answers["0"]!), { method: "HEAD" })).status).toBe(200);
    // A browser without a user's click (a prefetch of the link): confirm, not record.
    const prefetch = await api(path(links.answers["0"]!), { headers: { "user-agent": CHROME, "sec-purpose": "prefetch" } });
    expect(await prefetch.text()).toContain('id="confirm"');
    const form = new URLSearchParams({ t: links.amp.t });
    const confirmed = await api(path(links.answers["5"]!).split("?")[0]!, { method: "POST", headers: { "user-agent": CHROME, "content-type": "application/x-www-form-urlencoded" }, body: form });
    expect(await confirmed.text()).toContain("Thank you");
    const profile = await profileWhen(userId, (p) => p.traits[`survey_${id}`] !== undefined);
    expect(profile.traits[`survey_${id}`]).toBe("5");
    expect(profile.counters.events["Survey Answered"]).toBe(1);
  });

  it("say 'not valid' for a forged link or an answer the survey does not have, and record nothing", async () => {
    const id = await survey();
    const userId = await customer();
    const links = await linksOf(id, userId);
    const forged = links.answers["9"]!.replace(/t=[^&]+/, "t=cus_x.AAAAAAAAAAAAAAAAAAAAAA");
    expect(await (await api(path(forged), { headers: click })).text()).toContain("no longer valid");
    expect(await (await api(path(links.answers["9"]!.replace("/9?", "/7?")), { headers: click })).text()).toContain("no longer valid");
    expect((await results(id)).respondents).toBe(0);
  });

  it("take an AMP form's answer with AMP for Email's CORS headers", async () => {
    const id = await survey();
    const userId = await customer();
    const links = await linksOf(id, userId);
    const body = new FormData();
    body.set("answer", "10");
    body.set("t", links.amp.t);
    const res = await api(path(links.amp.actionXhr), { method: "POST", headers: { "amp-email-sender": "news@shop.example", origin: "https://mail.google.com" }, body });
    expect(res.status).toBe(200);
    expect(res.headers.get("amp-email-allow-sender")).toBe("news@shop.example");
    expect(await res.json()).toMatchObject({ ok: true, answer: "10" });
    await profileWhen(userId, (p) => p.traits[`survey_${id}`] === "10");
  });

  it("are usable in segment rules through the trait", async () => {
    const id = await survey();
    const userId = await customer();
    const segment = uid("promoters").toLowerCase();
    expect((await admin(`/v1/segments/${segment}`, { method: "PUT", body: JSON.stringify({ name: "Promoters", rule: { trait: `survey_${id}`, op: "in", value: ["9", "10"] } }) })).status).toBe(201);
    const links = await linksOf(id, userId);
    await api(path(links.answers["10"]!), { headers: click });
    const profile = await profileWhen(userId, (p) => p.segments.includes(segment));
    expect(profile.traits[`survey_${id}`]).toBe("10");
  });

  it("come out of a block's template for the customer and the message, and the answer names the message", async () => {
    const id = await survey();
    const userId = await customer();
    const block = uid("ask");
    expect((await putBlock(block, { html: `<p>Would you recommend us?</p>{% for v in (9..10) %}<a href="{{ "${id}" | survey_url: v }}">{{ v }}</a>{% endfor %}` })).status).toBe(201);
    const { token } = await blockLinks(block, userId);
    const html = await (await fetchUrl(`${token.html}&d=dlv_survey&tr=post-purchase`)).text();
    const link = /href="([^"]*\/v1\/s\/[^"]*\/10\?[^"]*)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    expect(link).toContain("d=dlv_survey");
    expect((await api(path(link), { headers: click })).status).toBe(200);
    const events = await eventually(async () => {
      const res = (await (await api(`/v1/customers/${userId}/events?limit=20`, { headers: { authorization: bearer(KEYS.read) } })).json()) as { events: { event?: string; properties?: Record<string, unknown> }[] };
      const found = res.events.filter((e) => e.event === "Survey Answered");
      return found.length === 1 ? found : null;
    }, "the answer event");
    expect(events[0]!.properties).toMatchObject({ survey_id: id, answer: "10", delivery_id: "dlv_survey", trigger_id: "post-purchase", via: "link", engagement_class: "human" });
  });
});
