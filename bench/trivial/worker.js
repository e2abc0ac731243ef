// The baseline of `npm run bench`: a worker that does nothing but answer a fixed JSON document
// (bench/trivial/document.js, a profile's size), on the same runtime (wrangler dev / workerd) as
// Rapport. The target for profile reads is a ratio to this worker.
import { profileDocument } from "./document.js";

export default {
  fetch() {
    return new Response(profileDocument, { headers: { "content-type": "application/json" } });
  },
};
