/**
 * The shipped trigger recipes (the JSON files in recipes/, loadable with
 * `npm run triggers:load`). Their destination points at the local demo receiver; change it to
 * your ESP's endpoint (docs/triggers.md).
 */
import browseAbandonment from "./recipes/browse-abandonment.json";
import cartAbandonment from "./recipes/cart-abandonment.json";
import postPurchase from "./recipes/post-purchase.json";
import winBack from "./recipes/win-back.json";
import priceDrop from "./recipes/price-drop.json";
import backInStock from "./recipes/back-in-stock.json";
import { TriggerDefinition } from "./definition";

const files = {
  "browse-abandonment": browseAbandonment,
  "cart-abandonment": cartAbandonment,
  "post-purchase": postPurchase,
  "win-back": winBack,
  "price-drop": priceDrop,
  "back-in-stock": backInStock,
} as const;

export type RecipeId = keyof typeof files;

/** Every recipe, validated (a broken recipe file fails at start-up, not when it is used). */
export const RECIPES: Record<RecipeId, TriggerDefinition> = Object.fromEntries(Object.entries(files).map(([id, json]) => [id, TriggerDefinition.parse(json)])) as Record<RecipeId, TriggerDefinition>;
