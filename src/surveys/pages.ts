/** The small pages a survey link answers with: thank you, confirm (when in doubt), not valid. */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const htmlPage = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#222;color:#fff;cursor:pointer}</style></head><body>${body}</body></html>`;

export const thankYouPage = (question: string, label: string, thankYou: string) => htmlPage("Thank you", `<p>${escapeHtml(question)}</p><p><strong>${escapeHtml(label)}</strong></p><p id="thanks">${escapeHtml(thankYou)}</p>`);

/** One more click: a link scanner follows links, it does not press buttons. */
export const confirmPage = (question: string, label: string, fields: Record<string, string>) =>
  htmlPage(
    "Confirm your answer",
    `<p>${escapeHtml(question)}</p><form method="post"><p>Your answer: <strong>${escapeHtml(label)}</strong></p>${Object.entries(fields)
      .map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`)
      .join("")}<button type="submit" id="confirm">Confirm</button></form>`,
  );

export const notValidPage = () => htmlPage("Link not valid", "<p>This link is no longer valid.</p>");
