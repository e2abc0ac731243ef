// The baseline of `npm run bench`: a worker that does nothing but answer a fixed JSON document of
// about the size of a profile, on the same runtime (wrangler dev / workerd) as Rapport.
const body = JSON.stringify({
  id: "cus_000000000000000000000000",
  userId: "trivial",
  traits: { email: "trivial@example.com", firstName: "Tri", lastName: "Vial", plan: "pro" },
  counters: { types: { page: 10, track: 20, identify: 1 }, events: { "Product Viewed": 12, "Order Completed": 2 } },
  eventCount: 31,
});

export default {
  fetch() {
    return new Response(body, { headers: { "content-type": "application/json" } });
  },
};
