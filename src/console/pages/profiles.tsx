/**
 * Profiles: find a customer by any identifier (user id, master id, email:…, phone:…,
 * anonymous_id:…, external:<type>:<id>, or a bare email address), then everything Rapport holds on
 * them: identities, traits, computed traits, scores, segments, live session, consent, send time,
 * merges, pending trigger timers and a timeline of their events. Read through the same functions
 * as the API (the KV snapshot or D1, the customer's session object).
 */
import type { Context } from "hono";
import { loadCustomerEvents } from "../../profiles/events";
import { mergesInto } from "../../profiles/merges";
import { findCustomer } from "../../profiles/read";
import { sessionStub } from "../../sessions/contract";
import type { ConsoleEnv } from "../context";
import { Action, Json, Layout, Table, when } from "../ui";

const UNMERGED: Record<string, { text: string; error?: boolean }> = {
  done: { text: "Unmerged: the customer merged away is back on their own, and both profiles were derived again from their events." },
  none: { text: "Nothing to unmerge: that merge was undone already.", error: true },
  conflict: { text: "The profiles changed while unmerging; nothing was changed. Try again.", error: true },
};

const TIMELINE = 100;

/** A bare address is looked up as an email: what someone pastes into a search box. */
export function refOf(q: string): string {
  const t = q.trim();
  return /^[^\s:@]+@[^\s:@]+\.[^\s:@]+$/.test(t) ? `email:${t.toLowerCase()}` : t;
}

export async function profilesPage(c: Context<ConsoleEnv>) {
  const session = c.get("session");
  const q = (c.req.query("q") ?? "").slice(0, 512);
  const found = q ? await findCustomer(c.env, refOf(q), (p) => c.executionCtx.waitUntil(p)) : null;
  const search = (
    <form method="get" action="/console/profiles" class="search">
      <input type="search" name="q" value={q} placeholder="user id, email, phone:+44…, anonymous_id:…, cus_…" aria-label="Customer identifier" autofocus />
      <button type="submit">Find</button>
    </form>
  );
  if (!found)
    return c.html(
      <Layout title="Profiles" page="profiles" session={session}>
        {search}
        {q ? <div class="notice error">No customer matches {q}.</div> : <p class="muted">Any identifier finds the customer it belongs to, merged or not.</p>}
      </Layout>,
      q ? 404 : 200,
    );
  const doc = JSON.parse(found.body) as Record<string, unknown> & { id: string };
  const unmerged = UNMERGED[c.req.query("unmerged") ?? ""];
  const [events, merges, triggers] = await Promise.all([loadCustomerEvents(c.env, found.id), mergesInto(c.env, found.id), sessionStub(c.env, found.id).triggers()]);
  const identities = (doc.identities ?? {}) as Record<string, unknown[]>;
  return c.html(
    <Layout title={`Profile ${doc.id}`} page="profiles" session={session}>
      {unmerged && <div class={unmerged.error ? "notice error" : "notice"}>{unmerged.text}</div>}
      {search}
      <div class="grid2">
        <section>
          <h2>Identity</h2>
          <KeyValues
            value={{
              id: doc.id,
              userId: doc.userId,
              email: doc.email,
              phone: doc.phone,
              ...Object.fromEntries(Object.entries(identities).map(([k, v]) => [k, v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ")])),
              firstSeenAt: doc.firstSeenAt,
              lastSeenAt: doc.lastSeenAt,
              eventCount: doc.eventCount,
              version: doc.version,
              served: found.source,
            }}
          />
        </section>
        <section>
          <h2>Traits</h2>
          <KeyValues value={doc.traits} />
        </section>
        <section>
          <h2>Computed traits</h2>
          <KeyValues value={{ ...(doc.computed as object), ...(doc.computedTraits as object) }} />
        </section>
        <section>
          <h2>Scores</h2>
          <KeyValues value={doc.scores} />
        </section>
        <section>
          <h2>Segments</h2>
          {(doc.segments as string[] | undefined)?.length ? (
            <p>
              {(doc.segments as string[]).map((s) => (
                <>
                  <a class="pill" href={`/console/segments/${encodeURIComponent(s)}`}>
                    {s}
                  </a>{" "}
                </>
              ))}
            </p>
          ) : (
            <p class="muted">In no segment.</p>
          )}
          <h2>Consent</h2>
          <KeyValues value={doc.consent} />
          <h2>Best time to send</h2>
          <KeyValues value={doc.sendTime} />
        </section>
        <section>
          <h2>Live session</h2>
          <KeyValues value={doc.session} />
        </section>
      </div>
      <h2>Pending trigger timers ({triggers.timers.length})</h2>
      <Table
        empty="No timer pending."
        head={["Trigger", "Item", "Started by", "Fires at"]}
        rows={triggers.timers.map((t) => [`${t.trigger_id} v${t.trigger_version}`, t.item_key, t.start_event, when(t.fire_at ?? t.due_at)])}
      />
      <h2>Trigger history</h2>
      <Table empty="No trigger has fired for this customer." head={["At", "Trigger", "Outcome", "Reason"]} rows={triggers.firings.slice(0, 50).map((f) => [when(f.at), f.trigger_id, f.outcome, f.reason ?? ""])} />
      <h2>Merges ({merges.length})</h2>
      <Table
        id="merges"
        empty="No customer merged into this one."
        head={["At", "Merged id", "Because of", "Keys", ""]}
        rows={merges.map((m) => [
          when(m.createdAt),
          m.mergedId,
          m.cause.messageId,
          m.cause.keys.join(", "),
          <Action session={session} action={`/console/profiles/merges/${encodeURIComponent(m.mergedId)}/unmerge`} label="Unmerge" confirm={`Undo the merge of ${m.mergedId}? Both customers are derived again from their events.`} />,
        ])}
      />
      <h2>Timeline (newest {Math.min(TIMELINE, events.length)} of {events.length})</h2>
      <Table
        id="timeline"
        empty="No events stored."
        head={["Time", "Type", "Event", "Source", "Properties"]}
        rows={events.slice(0, TIMELINE).map((e) => [when(e.timestamp), e.type, e.event ?? e.name ?? "", e.sourceId, <Json value={e.properties ?? e.traits ?? {}} />])}
      />
    </Layout>,
  );
}

const KeyValues = ({ value }: { value: unknown }) => {
  const entries = value && typeof value === "object" ? Object.entries(value).filter(([, v]) => v !== null && v !== undefined && v !== "") : [];
  if (entries.length === 0) return <p class="muted">None.</p>;
  return <Table empty="None." head={["Field", "Value"]} rows={entries.map(([k, v]) => [<b>{k}</b>, <Json value={v} />])} />;
};
