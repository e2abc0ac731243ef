// The document both baselines of `npm run bench` answer (bench/trivial/worker.js from memory,
// bench/trivial-kv/worker.js from KV): a profile as Rapport serves it to the benchmark's reads
// (2.2 to 2.7 KB; this one 2.2 KB), so that the servers send the same amount of data: the local
// runtime gzips every answer, and that costs per byte. (Until session 9 it was a 330-byte
// document, which made the baseline's answers cheaper than a profile's.)
export const profileDocument = JSON.stringify({
  id: "cus_01a20ff348fe0633be0e6d5c1a40",
  userId: "user-288",
  email: "shopper288@example.com",
  phone: null,
  identities: { userIds: ["user-288"], anonymousIds: ["anon-288"], emails: ["shopper288@example.com"], phones: [], externalIds: [] },
  traits: { email: "shopper288@example.com", firstName: "Shopper288", plan: "regular" },
  traitsUpdatedAt: { email: "2026-11-01T00:05:30.834Z", firstName: "2026-11-01T00:05:30.834Z", plan: "2026-11-01T00:05:30.834Z" },
  traitSources: {},
  traitIssues: {},
  consent: null,
  counters: { types: { page: 1, track: 2, identify: 1 }, events: { "Product Viewed": 2 } },
  eventCount: 4,
  firstSeenAt: "2026-11-01T00:04:50.789Z",
  lastSeenAt: "2026-11-01T00:05:30.834Z",
  computed: { orderCount: 0, totalRevenue: {}, averageOrderValue: {}, currency: null, firstOrderAt: null, lastOrderAt: null, engagementScore: 1.31, engagementAsOf: "2026-11-24T23:45:31.902Z", favouriteCategory: "shirts", favouriteBrand: null },
  scores: { purchasePropensity: null, churnRisk: null, models: {}, rfm: null, historicalClv: 0, predictedClv: 0, clvCurrency: null, asOf: "2026-11-24T23:45:31.902Z" },
  computedTraits: {},
  segments: [],
  session: {
    current: { id: "ses_mvx2iz1h", startedAt: "2026-11-01T00:04:50.789Z", lastActivityAt: "2026-11-01T00:05:30.834Z", expiresAt: "2026-11-01T00:35:30.834Z", events: 4, pageViews: 1, landingPage: "https://shop.example/products?ref=anon-2", referrer: "https://www.google.com/" },
    sessionCount: 1,
    lastActivityAt: "2026-11-01T00:05:30.834Z",
    recentViews: [
      { productId: "sku-65", name: "Product 65", price: 75, category: "shoes", viewedAt: "2026-11-01T00:05:10.259Z" },
      { productId: "sku-88", name: "Product 88", price: 98, category: "shirts", viewedAt: "2026-11-01T00:05:08.084Z" },
    ],
    cart: { items: [], itemCount: 0, value: 0, updatedAt: null },
    lastOrderAt: null,
    purchased: [],
    device: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36", type: "desktop", os: "Linux", locale: "en-GB" },
    page: { url: "https://shop.example/products?ref=anon-2", path: null, title: null, referrer: "https://www.google.com/" },
    timeZone: null,
  },
  version: 2,
  updatedAt: "2026-11-24T23:45:31.902Z",
  contentToken: "cus_01a20ff348fe0633be0e6d5c1a40.LbMatP_2EMgcxz9gnV8xfA",
});
