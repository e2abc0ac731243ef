/**
 * Identities, the vocabulary of identity resolution: an identity key is `kind:value`
 * (`user_id:42`, `anonymous_id:3f2c…`, `email:ada@example.com`, `phone:+33612345678`,
 * `external:shopify_customer_id:8123`). How events name them is `identity/keys.ts`.
 */

export const IDENTITY_KINDS = ["user_id", "anonymous_id", "email", "phone", "external"] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export interface Identity {
  key: string;
  kind: IdentityKind;
  value: string;
}

/** An identity from a kind and a value; emails are lower-cased, external types too. */
export function identity(kind: IdentityKind, value: string): Identity {
  let v = value.trim();
  if (kind === "email") v = v.toLowerCase();
  if (kind === "external") {
    const colon = v.indexOf(":");
    if (colon > 0) v = `${v.slice(0, colon).toLowerCase()}${v.slice(colon)}`;
  }
  return { key: `${kind}:${v}`, kind, value: v };
}

/** `user_id:42` → { kind: "user_id", value: "42" }: a stored key back to its identity. */
export function identityFromKey(key: string): Identity {
  const colon = key.indexOf(":");
  return { key, kind: key.slice(0, colon) as IdentityKind, value: key.slice(colon + 1) };
}
