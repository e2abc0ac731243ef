/**
 * The open pixel of a block under experiment, `GET /v1/o/{block}` (docs/experiments.md): a
 * person's open records their exposure; machines (content/requesters.ts) never do, and a link that
 * proves no customer gets the same pixel as any other.
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
import { classifyRequester } from "./requesters";
import { exposeIfFirst } from "./exposure-routes";
import { AUTH, LinkQuery, NO_STORE, provenRef } from "./serve-routes";

export function registerOpenPixelRoute(app: App): void {
  route(
    app,
    {
      method: "get",
      path: "/v1/o/{block}",
      tag: "Content",
      scope: "signed",
      auth: AUTH,
      summary: "Open pixel of a block under experiment (a 1×1 GIF, never cached): a person's open records the experiment exposure once; machine opens (Apple Mail Privacy Protection, scanners, prefetch, HEAD) do not. Every link, good or bad, gets the same answer.",
      query: LinkQuery,
      responses: { 200: { description: "A transparent 1×1 GIF", contentType: "image/gif" } },
    },
    openPixel,
  );
}

/** A transparent 1×1 GIF. */
const PIXEL = Uint8Array.from(atob("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"), (ch) => ch.charCodeAt(0));

/** The open pixel: records a person's first exposure to the block's running experiment. */
async function openPixel(c: Context<AppEnv>): Promise<Response> {
  const headers = { "content-type": "image/gif", ...NO_STORE };
  const id = c.req.param("block")!;
  const manifest = await currentManifest(c.env);
  const experiment = manifest.experiments?.[id];
  const requester = classifyRequester(c.req.method, c.req.raw.headers);
  if (!experiment || requester.kind !== "human") return c.body(PIXEL, 200, headers);
  const ref = await provenRef(c, id).catch(() => null);
  const found = ref === null ? null : await findCustomer(c.env, ref, (p) => c.executionCtx.waitUntil(p));
  if (found) {
    const profile = JSON.parse(found.body) as CustomerProfile;
    const exposed = profile.experiments?.[experiment.id]?.variant;
    if (personalizationAllowed(profile, readConfig(c.env).contentConsentCategories)) {
      const choice = chooseVariant(experiment, found.id, exposed);
      exposeIfFirst(c, experiment, { ...choice, customerId: found.id, profile, exposedBefore: exposed !== undefined }, requester, "pixel");
    }
  }
  return c.body(PIXEL, 200, headers);
}

