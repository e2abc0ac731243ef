/**
 * The simulated shop's catalog: 120 products in 8 categories and 6 brands, the same in every run
 * (no randomness), with ids `sku-1001`… that stay clear of the demo catalog's. Shoppers favour a
 * category, and within a category the first products are the popular ones.
 */

export interface SimProduct {
  product_id: string;
  sku: string;
  name: string;
  category: string;
  brand: string;
  price: number;
  url: string;
  image_url: string;
}

const CATEGORIES: Record<string, { items: string[]; base: number }> = {
  shirts: { items: ["Linen shirt", "Oxford shirt", "Flannel shirt", "Denim shirt", "Poplin shirt"], base: 45 },
  trousers: { items: ["Chinos", "Wide-leg trousers", "Cargo trousers", "Pleated trousers"], base: 65 },
  dresses: { items: ["Wrap dress", "Shirt dress", "Slip dress", "Knit dress"], base: 85 },
  shoes: { items: ["Canvas sneakers", "Leather boots", "Loafers", "Sandals", "Running shoes"], base: 90 },
  bags: { items: ["Leather tote", "Canvas backpack", "Crossbody bag", "Weekender"], base: 110 },
  accessories: { items: ["Wool scarf", "Merino beanie", "Leather belt", "Sunglasses", "Silk scarf"], base: 25 },
  knitwear: { items: ["Merino sweater", "Cashmere cardigan", "Cable knit", "Wool vest"], base: 95 },
  outerwear: { items: ["Denim jacket", "Rain coat", "Wool coat", "Puffer jacket"], base: 160 },
};
const COLOURS = ["navy", "black", "olive", "sand", "white", "rust"];
const BRANDS = ["Northwind", "Atelier Nord", "Maison Clair", "Fieldwork", "Kestrel", "Oda"];

function build(): SimProduct[] {
  const out: SimProduct[] = [];
  for (const [category, { items, base }] of Object.entries(CATEGORIES)) {
    for (let k = 0; k < 15; k++) {
      const n = 1001 + out.length;
      const item = items[k % items.length]!;
      const colour = COLOURS[(k + n) % COLOURS.length]!;
      const id = `sku-${n}`;
      out.push({ product_id: id, sku: id, name: `${item}, ${colour}`, category, brand: BRANDS[(n * 7) % BRANDS.length]!, price: base + ((n * 13) % 9) * 5 - 0.01, url: `https://shop.example/products/${id}`, image_url: `https://shop.example/images/${id}.jpg` });
    }
  }
  return out;
}

export const CATALOG: readonly SimProduct[] = build();
export const CATEGORY_NAMES = Object.keys(CATEGORIES);
export const productsIn = (category: string) => CATALOG.filter((p) => p.category === category);
