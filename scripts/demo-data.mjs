// Demo customers for a fresh local installation: a shopper who browsed anonymously, signed up
// and bought; another whose cart was abandoned five hours ago (the cart-abandonment recipe
// fires for her at start-up, unless it is night in UTC: then at 08:00); an anonymous visitor.
export function demoBatch(now = Date.now()) {
  const t = (minutesAgo) => new Date(now - minutesAgo * 60_000).toISOString();
  return {
    batch: [
      { type: "page", anonymousId: "demo-anon-ada", name: "Home", messageId: "demo-1", timestamp: t(120) },
      { type: "track", anonymousId: "demo-anon-ada", event: "Product Viewed", properties: { product_id: "sku-42", name: "Linen shirt", price: 59 }, messageId: "demo-2", timestamp: t(118) },
      { type: "track", anonymousId: "demo-anon-ada", event: "Product Viewed", properties: { product_id: "sku-11", name: "Leather tote", price: 149 }, messageId: "demo-9", timestamp: t(117) },
      { type: "track", anonymousId: "demo-anon-ada", event: "Product Viewed", properties: { product_id: "sku-19", name: "Canvas sneakers", price: 79 }, messageId: "demo-10", timestamp: t(116) },
      { type: "identify", anonymousId: "demo-anon-ada", userId: "demo-ada", traits: { email: "ada@example.com", firstName: "Ada", lastName: "Lovelace", plan: "vip" }, messageId: "demo-3", timestamp: t(115) },
      { type: "track", userId: "demo-ada", event: "Order Completed", properties: { order_id: "o-1", revenue: 59, currency: "EUR", products: [{ product_id: "sku-42", name: "Linen shirt", price: 59, quantity: 1 }] }, messageId: "demo-4", timestamp: t(110) },
      { type: "identify", userId: "demo-grace", traits: { email: "grace@example.com", firstName: "Grace" }, messageId: "demo-5", timestamp: t(302) },
      { type: "track", userId: "demo-grace", event: "Product Added", properties: { product_id: "sku-7", name: "Wool scarf", price: 35 }, messageId: "demo-6", timestamp: t(300) },
      { type: "track", userId: "demo-grace", event: "Checkout Started", properties: { value: 35, products: [{ product_id: "sku-7", name: "Wool scarf", price: 35 }] }, messageId: "demo-7", timestamp: t(299) },
      { type: "page", anonymousId: "demo-anon-visitor", name: "Sale", messageId: "demo-8", timestamp: t(5) },
    ],
  };
}

/**
 * Messages a storefront got wrong, sent once with the demo so that the quarantine (the console's
 * Pipeline and Data quality pages) shows what refusals look like: each kept with its reason.
 */
export function demoRefused(now = Date.now()) {
  return {
    batch: [
      { type: "track", anonymousId: "demo-anon-visitor", properties: { product_id: "sku-7" }, messageId: "demo-bad-1", timestamp: new Date(now).toISOString() },
      { type: "identify", traits: { email: "someone@example.com" }, messageId: "demo-bad-2" },
      { type: "track", event: "Product Viewed", anonymousId: "demo-anon-visitor", timestamp: "yesterday", messageId: "demo-bad-3" },
    ],
  };
}

/** The demo shop's catalog: what content blocks show (names, prices, pictures, stock). */
export function demoCatalog() {
  const product = (id, name, price, extra = {}) => ({ product_id: id, name, price, currency: "EUR", url: `https://shop.example/products/${id}`, image_url: `https://shop.example/images/${id}.jpg`, in_stock: true, ...extra });
  return {
    products: [
      product("sku-42", "Linen shirt", 59),
      product("sku-11", "Leather tote", 149),
      product("sku-19", "Canvas sneakers", 79, { in_stock: false }),
      product("sku-7", "Wool scarf", 35),
      product("sku-3", "Merino beanie", 29),
      product("sku-23", "Denim jacket", 119),
    ],
  };
}
