/**
 * `/console`: the web console, served by the same Worker (docs/console.md). Server-rendered pages
 * (Hono JSX) read through the capabilities' own functions; charts are drawn in the browser by
 * uPlot, bundled with the Worker and served from /console/assets (no CDN). Sign-in with an admin
 * key (acts) or a read key (looks only); see ./auth.ts for the session and CSRF rules.
 */
import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { deleteCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import uplotCss from "uplot/dist/uPlot.min.css";
import uplotJs from "uplot/dist/uPlot.iife.min.js";
import { authenticate } from "../api/auth";
import type { App } from "../api/app";
import { CONSOLE_SESSION_MS, endConsoleSession, startConsoleSession } from "../keys/console-sessions";
import { describeError, log } from "../kernel/log";
import { readConfig } from "../model/config";
import { isWriteConflict } from "../db/write-conflict";
import { replayDelivery } from "../delivery/store";
import { UnmergeConflict, unmerge } from "../pipeline/unmerge";
import { forgetOwners } from "../profiles/read";
import { getDeadLetter, replayDeadLetter, replayPending } from "../queues/dead-letters";
import consoleJs from "./assets/console.js.txt";
import { CONSOLE_CSS } from "./assets/styles";
import { COOKIE, COOKIE_OPTIONS, formWithToken, safeNext, signedIn } from "./auth";
import type { ConsoleEnv } from "./context";
import { alertsPage } from "./pages/alerts";
import { contentPage, contentPreview } from "./pages/content";
import { dataQualityPage } from "./pages/data-quality";
import { segmentExport, segmentPage, segmentsPage } from "./pages/segments";
import { triggersPage } from "./pages/triggers";
import { pipelinePage } from "./pages/pipeline";
import { profilesPage } from "./pages/profiles";
import { Layout } from "./ui";

const ASSETS: Record<string, [string, string]> = {
  "uplot.js": [uplotJs, "text/javascript; charset=utf-8"],
  "uplot.css": [uplotCss, "text/css; charset=utf-8"],
  "console.js": [consoleJs, "text/javascript; charset=utf-8"],
  "console.css": [CONSOLE_CSS, "text/css; charset=utf-8"],
};

export function registerConsoleRoutes(app: App): void {
  const ui = new Hono<ConsoleEnv>();
  // A block's preview is the email's HTML on the console's origin: registered before the pages'
  // headers, it is sent as a sandbox of its own (no script, no same-origin rights), even when
  // opened directly rather than in the Content page's sandboxed frame.
  ui.get("/content/preview", signedIn, contentPreview);
  // Pages run only the Worker's own scripts; nothing else may frame them or be loaded from elsewhere.
  ui.use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", "data:", "blob:", "https:"], frameSrc: ["'self'"], frameAncestors: ["'self'"], formAction: ["'self'"] },
      referrerPolicy: "same-origin",
    }),
  );
  // Form posts from another origin are refused before anything reads them (the cookie is SameSite=Strict too).
  ui.use(csrf());
  ui.onError((err, c) => {
    // Hono's own refusals (the cross-origin check) keep their status.
    if (err instanceof HTTPException) return err.getResponse();
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    log("error", "console.error", { requestId, path: c.req.path, ...describeError(err) });
    return c.html(
      <Layout title="Something went wrong" page={null} session={null}>
        <p>The console could not show this page. Request id: {requestId}</p>
      </Layout>,
      500,
    );
  });

  ui.get("/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) return c.notFound();
    return c.body(asset[0], 200, { "content-type": asset[1], "cache-control": "public, max-age=3600" });
  });

  ui.get("/sign-in", (c) => signInPage(c, safeNext(c.req.query("next"))));
  ui.post("/sign-in", async (c) => {
    const body = await c.req.parseBody();
    const plaintext = typeof body.key === "string" ? body.key.trim() : "";
    const next = safeNext(typeof body.next === "string" ? body.next : undefined);
    const key = await authenticate(c.env, plaintext, ["admin", "read"]).catch(() => null);
    if (!key) return signInPage(c, next, "That key is not an active admin or read key.", 401);
    const { token } = await startConsoleSession(c.env.DB, key, plaintext);
    setCookie(c, COOKIE, token, { ...COOKIE_OPTIONS, maxAge: CONSOLE_SESSION_MS / 1000 });
    log("info", "console.signed_in", { keyId: key.id, kind: key.kind });
    return c.redirect(next, 303);
  });

  ui.use("*", signedIn);
  ui.post("/sign-out", async (c) => {
    if (!(await formWithToken(c))) return c.text("This form has expired: reload the page.", 403);
    await endConsoleSession(c.env.DB, c.get("token"));
    deleteCookie(c, COOKIE, COOKIE_OPTIONS);
    // Signed in by Access: Access ends its own session.
    const access = readConfig(c.env).access;
    if (c.get("session").via === "access" && access) return c.redirect(`${access.teamDomain}/cdn-cgi/access/logout`, 303);
    return c.redirect("/console/sign-in", 303);
  });

  ui.get("/", (c) => c.redirect("/console/pipeline", 303));
  ui.get("/pipeline", (c) => pipelinePage(c, replayNotice(c.req.query("replayed"))));
  ui.get("/profiles", profilesPage);
  ui.get("/segments", segmentsPage);
  ui.get("/segments/:id", segmentPage);
  ui.get("/segments/:id/export", segmentExport);
  ui.get("/triggers", (c) => triggersPage(c, c.req.query("replayed") === "1" ? "Delivery queued again under the same delivery id." : undefined));
  ui.get("/content", contentPage);
  ui.get("/data-quality", dataQualityPage);
  ui.get("/alerts", alertsPage);

  ui.post("/pipeline/dead-letters/replay", adminAction, async (c) => {
    const replayed = await replayPending(c.env, 500);
    return c.redirect(`/console/pipeline?replayed=${replayed.length}`, 303);
  });
  ui.post("/pipeline/dead-letters/:id/replay", adminAction, async (c) => {
    const letter = await getDeadLetter(c.env.DB, c.req.param("id"));
    // Replayed already (a second click, or another admin): nothing is sent twice.
    if (!letter || letter.replayedAt) return c.redirect("/console/pipeline?replayed=0", 303);
    await replayDeadLetter(c.env, letter);
    return c.redirect("/console/pipeline?replayed=1", 303);
  });

  ui.post("/profiles/merges/:mergedId/unmerge", adminAction, async (c) => {
    const mergedId = c.req.param("mergedId");
    const back = (outcome: string) => c.redirect(`/console/profiles?${new URLSearchParams({ q: mergedId, unmerged: outcome })}`, 303);
    try {
      const result = await unmerge(c.env, mergedId);
      if (!result) return back("none");
      forgetOwners(result.restoredIdentities);
      return back("done");
    } catch (err) {
      // Someone's events moved the profiles meanwhile: nothing half-done, the admin tries again.
      if (err instanceof UnmergeConflict || isWriteConflict(err)) return back("conflict");
      throw err;
    }
  });

  ui.post("/triggers/deliveries/:id/replay", adminAction, async (c) => {
    // A delivered one is not sent again (the replay function refuses it).
    await replayDelivery(c.env, c.req.param("id"));
    return c.redirect("/console/triggers?replayed=1#log", 303);
  });

  app.route("/console", ui);
}

/** Actions: an admin session, and the session's CSRF token in the form. */
const adminAction = createMiddleware<ConsoleEnv>(async (c, next) => {
  if (c.get("session").role !== "admin") return c.text("Read-only sessions cannot do this.", 403);
  if (!(await formWithToken(c))) return c.text("This form has expired: reload the page.", 403);
  await next();
});

function replayNotice(replayed: string | undefined) {
  if (replayed === undefined || !/^\d+$/.test(replayed)) return undefined;
  const n = Number(replayed);
  return { text: n === 0 ? "Nothing replayed: that dead letter was replayed already." : `Replayed ${n} dead letter${n === 1 ? "" : "s"}: back on their queues.` };
}

function signInPage(c: Context<ConsoleEnv>, next: string, error?: string, status: 200 | 401 = 200) {
  return c.html(
    <Layout title="Sign in" page={null} session={null}>
      <form method="post" action="/console/sign-in" class="signin">
        {error && <div class="notice error">{error}</div>}
        <label for="key">Admin key (or a read key, to look without acting)</label>
        <input id="key" name="key" type="password" autocomplete="off" required placeholder="ak_…" />
        <input type="hidden" name="next" value={next} />
        <button type="submit">Sign in</button>
      </form>
    </Layout>,
    status,
  );
}
