/**
 * The open pixel of a block, `GET /v1/o/{block}?t=…[&m=<message>&d=<delivery>&tr=<trigger>]`
 * (docs/engagement.md, docs/experiments.md): every open by a proven customer becomes an `Email
 * Opened` event classified at the edge (person, machine open, scanner, with the reason); a
 * person's open of a block under experiment is also the experiment's exposure. A link that proves
 * no customer, or an unknown block, gets the same pixel as any other.
 */
import type { Context } from "hono";
import type { App } from "../api/app";
import type { AppEnv } from "../api/context";
import { route } from "../api/route";
import { chooseVariant } from "../experiments/serving";
import { readConfig } from "../model/config";
import type { CustomerProfile } from "../profiles/document";
import { findCustomer } from "../profiles/read";
import { personalizationAllowed } from "./consent";
import { currentManifest } from "./manifest";
import { messageRefsOf } from "./message-refs";
import { classifyRequester } from "./requesters";
import { exposeIfFirst } from "./exposure-routes";
import { AUTH, LinkQuery, NO_STORE, provenRef } from "./serve-routes";
import { recordOpen } from "../ingest/email-open";
import { log } from "../kernel/log";
import { z } from "zod";

/** What the ESP may add to the pixel's URL to say which message was opened (unsigned: it names no customer). */
const PixelQuery = LinkQuery.extend({
  m: z.string().max(200).optional().describe("The ESP's message id (recorded as email_id)"),
  d: z.string().max(200).optional().describe("Rapport's delivery id of a triggered message"),
  tr: z.string().max(64).optional().describe("The trigger that sent it"),
});

export function registerOpenPixelRoute(app: App): void {
  route(
    app,
    {
      method: "get",
      path: "/v1/o/{block}",
      tag: "Content",
      scope: "signed",
      auth: AUTH,
      summary: "Open pixel of a block (a 1×1 GIF, never cached): records an Email Opened event classified as a person's, a machine open (Apple Mail Privacy Protection) or a scanner's (prefetch, HEAD, known agents), with the reason; a person's open of a block under experiment is its exposure. Every link, good or bad, gets the same answer.",
      query: PixelQuery,
      responses: { 200: { description: "A transparent 1×1 GIF", contentType: "image/gif" } },
    },
    openPixel,
  );
}

/** A transparent 1×1 GIF. */
const PIXEL = Uint8Array.from(atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"), (ch) => ch.charCodeAt(0));

/** The open pixel: the customer's classified open, and a person's first exposure to the block's running experiment. */
async function openPixel(c: Context<AppEnv>): Promise<Response> {
  const headers = { "content-type": "image/gif", ...NO_STORE };
  const id = c.req.param("block")!;
  const manifest = await currentManifest(c.env);
  if (!manifest.blocks[id]) return c.body(PIXEL, 200, headers);
  const requester = classifyRequester(c.req.method, c.req.raw.headers);
  const ref = await provenRef(c, id).catch(() => null);
  const found = ref === null ? null : await findCustomer(c.env, ref, (p) => c.executionCtx.waitUntil(p));
  if (!found) return c.body(PIXEL, 200, headers);
  const profile = JSON.parse(found.body) as CustomerProfile;
  // A customer who declined personalization is not measured either.
  if (!personalizationAllowed(profile, readConfig(c.env).contentConsentCategories)) return c.body(PIXEL, 200, headers);
  const experiment = manifest.experiments?.[id];
  const exposed = experiment ? profile.experiments?.[experiment.id]?.variant : undefined;
  const choice = experiment ? chooseVariant(experiment, found.id, exposed) : null;
  const open = {
    block: id,
    ...messageRefsOf(c.req.query()),
    ...(choice?.counts ? { experiment: { id: choice.experiment, variant: choice.variant } } : {}),
    requester,
    userAgent: c.req.header("user-agent") ?? null,
    ip: c.req.header("cf-connecting-ip") ?? null,
  };
  c.executionCtx.waitUntil(recordOpen(c.env, profile, open, c.get("requestId")).catch((err: unknown) => log("error", "content.open_not_recorded", { block: id, error: String(err) })));
  if (experiment && choice) exposeIfFirst(c, experiment, { ...choice, customerId: found.id, profile, exposedBefore: exposed !== undefined }, requester, "pixel");
  return c.body(PIXEL, 200, headers);
}
