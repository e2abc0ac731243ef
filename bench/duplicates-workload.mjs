// People with planted duplicates for the duplicate-detection benchmark: each person is an
// anonymous visitor who told us a name, an email, a phone and a postal code; some people were
// entered a second time with a typo or swapped names, sometimes with the same email address at
// another domain. (Copies sharing an identifier would be merged by identity resolution, not by
// the scan, so copies here share none.)
import { rng } from "./workload.mjs";

const SYLLABLES = ["ka", "lo", "mi", "ra", "den", "sel", "tor", "vin", "ba", "chi", "el", "mar", "no", "pe", "qui", "su", "ti", "ul", "ya", "zo"];

export function peopleWithDuplicates({ people: size, planted, seed = 11 }) {
  const random = rng(seed);
  const name = (parts) => {
    let out = "";
    for (let i = 0; i < parts; i++) out += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    return out[0].toUpperCase() + out.slice(1);
  };
  const typo = (s) => {
    const k = 1 + Math.floor(random() * (s.length - 2));
    return random() < 0.5 ? s.slice(0, k) + s[k + 1] + s[k] + s.slice(k + 2) : s.slice(0, k) + s.slice(k + 1);
  };
  const people = [];
  for (let i = 0; i < size; i++) {
    const firstName = name(2);
    const lastName = name(3);
    const phone = `+336${String(10_000_000 + Math.floor(random() * 89_999_999))}`;
    people.push({ id: `dp-${i}`, traits: { firstName, lastName, email: `${firstName}.${lastName}${i}@mail.example`.toLowerCase(), phone, address: { postalCode: String(10000 + Math.floor(random() * 900)) } } });
  }
  const truth = [];
  const clusters = new Map();
  for (let d = 0; d < planted; d++) {
    const original = people[Math.floor(random() * size)];
    const t = original.traits;
    const kind = d % 3;
    const traits =
      kind === 0
        ? { firstName: t.firstName, lastName: typo(t.lastName), email: t.email.replace("mail.example", "other.example"), address: t.address }
        : kind === 1
          ? { firstName: t.lastName, lastName: t.firstName, address: t.address }
          : { firstName: typo(t.firstName), lastName: t.lastName, email: t.email.replace("mail.example", "work.example"), address: t.address };
    const copy = { id: `dp-copy-${d}`, traits };
    people.push(copy);
    const cluster = clusters.get(original.id) ?? [original.id];
    for (const other of cluster) truth.push([other, copy.id]);
    clusters.set(original.id, [...cluster, copy.id]);
  }
  return { people, truth };
}
