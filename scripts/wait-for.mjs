// Polls `check` every half second until it returns something truthy or `seconds` pass; returns its
// last answer (falsy on time-out). For the demo scripts, which wait for the pipeline.
export async function waitFor(check, seconds) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}
