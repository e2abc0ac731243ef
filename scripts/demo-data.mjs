// Demo customers for a fresh local installation: a shopper who browsed anonymously, signed up
// and bought; another whose cart was abandoned five hours ago (the cart-abandonment recipe
// fires for her at start-up, unless it is night in UTC: then at 08:00); an anonymous visitor.
export function demoBatch(now = Date.now()) {
  const t = (minutesAgo) => new Date(now - minutesAgo * 60_000).toISOString();
  return {
    batch: [
      { type: "page", anonymousId: "demo-anon-ada", name: "Home", messageId: "demo-1", timestamp: t(120) },
      { type: "track", anonymousId: "demo-anon-ada", event: "Product Viewed", properties: { product_id: "sku-42", name: "Linen shirt", price: 59 }, messageId: "demo-2", timestamp: t(118) },
      { type: "identify", anonymousId: "demo-anon-ada", userId: "demo-ada", traits: { email: "ada@example.com", firstName: "Ada", lastName: "Lovelace", plan: "vip" }, messageId: "demo-3", timestamp: t(115) },
      { type: "track", userId: "demo-ada", event: "Order Completed", properties: { order_id: "o-1", revenue: 59, currency: "EUR" }, messageId: "demo-4", timestamp: t(110) },
      { type: "identify", userId: "demo-grace", traits: { email: "grace@example.com", firstName: "Grace" }, messageId: "demo-5", timestamp: t(302) },
      { type: "track", userId: "demo-grace", event: "Product Added", properties: { product_id: "sku-7", name: "Wool scarf", price: 35 }, messageId: "demo-6", timestamp: t(300) },
      { type: "track", userId: "demo-grace", event: "Checkout Started", properties: { value: 35, products: [{ product_id: "sku-7", name: "Wool scarf", price: 35 }] }, messageId: "demo-7", timestamp: t(299) },
      { type: "page", anonymousId: "demo-anon-visitor", name: "Sale", messageId: "demo-8", timestamp: t(5) },
    ],
  };
}
