import { describe, expect, it } from "vitest";
import { DUPLICATE_THRESHOLDS, findDuplicates, scorePair, type PersonRecord } from "../src/identity/duplicates";

/** mulberry32 */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Names built from syllables: a name space about as varied as a real customer base, with
// namesakes and near-namesakes among the 2,000 people.
const SYLLABLES = ["ka", "lo", "mi", "ra", "den", "sel", "tor", "vin", "ba", "chi", "el", "mar", "no", "pe", "qui", "su", "ti", "ul", "ya", "zo"];
const name = (random: () => number, parts: number) => {
  let out = "";
  for (let i = 0; i < parts; i++) out += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
  return out[0]!.toUpperCase() + out.slice(1);
};

/** People, and copies of some of them entered again with typos, swapped names or another email. */
function dataset(size: number, planted: number, seed = 7) {
  const random = rng(seed);
  const people: PersonRecord[] = [];
  for (let i = 0; i < size; i++) {
    const first = name(random, 2);
    const last = name(random, 3);
    const digits = String(100_000_000 + Math.floor(random() * 899_999_999));
    people.push({ id: `p${i}`, firstName: first, lastName: last, emails: [`${first}.${last}${i}@mail.example`.toLowerCase()], phones: [`+33${digits}`], postalCode: String(10000 + Math.floor(random() * 900)), userIds: [] });
  }
  const truth = new Set<string>();
  const clusters = new Map<string, string[]>();
  const typo = (s: string) => {
    const k = 1 + Math.floor(random() * (s.length - 2));
    return random() < 0.5 ? s.slice(0, k) + s[k + 1] + s[k] + s.slice(k + 2) : s.slice(0, k) + s.slice(k + 1);
  };
  for (let d = 0; d < planted; d++) {
    const original = people[Math.floor(random() * size)]!;
    const id = `d${d}`;
    const kind = d % 3;
    const copy: PersonRecord = { id, emails: [], phones: [], userIds: [] };
    if (kind === 0) Object.assign(copy, { firstName: original.firstName, lastName: typo(original.lastName!), emails: [original.emails[0]!.replace("mail.example", "other.example")], postalCode: original.postalCode });
    if (kind === 1) Object.assign(copy, { firstName: original.lastName, lastName: original.firstName, postalCode: original.postalCode, phones: [original.phones[0]!.replace("+33", "+3")] });
    if (kind === 2) Object.assign(copy, { firstName: typo(original.firstName!), lastName: original.lastName, phones: [original.phones[0]!.replace("+33", "+44")] });
    people.push(copy);
    // Copies of one person are duplicates of it and of each other.
    const cluster = clusters.get(original.id) ?? [original.id];
    for (const other of cluster) truth.add([other, id].sort().join("|"));
    clusters.set(original.id, [...cluster, id]);
  }
  return { people, truth };
}

describe("duplicate detection", () => {
  it("scores a typo in a name with the same postal code and email local part as a likely duplicate", () => {
    const a = { id: "a", firstName: "Grace", lastName: "Hopper", emails: ["grace.hopper@navy.example"], phones: [], postalCode: "10001", userIds: [] };
    const b = { id: "b", firstName: "Grace", lastName: "Hoper", emails: ["grace.hopper@mail.example"], phones: [], postalCode: "10001", userIds: [] };
    const candidate = scorePair(a, b)!;
    expect(candidate.score).toBeGreaterThanOrEqual(DUPLICATE_THRESHOLDS.autoMerge);
    expect(candidate.reasons).toEqual(expect.arrayContaining(["same_postal_code", "same_email_local_part", expect.stringMatching(/^names_similar/)]));
  });

  it("never proposes two profiles with different userIds, nor different people in one family", () => {
    const a = { id: "a", firstName: "Ada", lastName: "Lovelace", emails: [], phones: [], postalCode: "1", userIds: ["u1"] };
    expect(scorePair(a, { ...a, id: "b", userIds: ["u2"] })).toBeNull();
    expect(scorePair({ ...a, userIds: [] }, { id: "c", firstName: "Byron", lastName: "Lovelace", emails: [], phones: [], postalCode: "1", userIds: [] })).toBeNull();
  });

  it("finds planted duplicates with precision ≥ 0.98 and recall ≥ 0.90 at the review threshold", () => {
    const { people, truth } = dataset(2000, 150);
    const found = findDuplicates(people);
    const keys = new Set(found.map((c) => `${c.a}|${c.b}`));
    const truePositives = [...keys].filter((k) => truth.has(k)).length;
    const precision = truePositives / keys.size;
    const recall = truePositives / truth.size;
    expect(precision).toBeGreaterThanOrEqual(0.98);
    expect(recall).toBeGreaterThanOrEqual(0.9);
  });
});
