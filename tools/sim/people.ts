/**
 * Simulated people: names, email addresses, phone numbers and postal addresses in four countries.
 * Email domains are the reserved `example` ones (RFC 2606), so a simulated address can never reach
 * anyone's mailbox, whatever a trigger's destination does with it. Emails and phones are built
 * from a serial number through a bijection, so two simulated people never share one by accident:
 * a shared identifier would make identity resolution merge strangers, which is not what a
 * simulated population should test.
 */
import type { Rng } from "./random.ts";

const FIRST_NAMES = [
  "Ada", "Adam", "Agnès", "Alice", "Amélie", "Anna", "Anne", "Antoine", "Arthur", "Ben", "Camille", "Charlotte", "Chloé", "Clara", "Daniel", "David",
  "Elena", "Elias", "Emily", "Emma", "Ethan", "Felix", "Finn", "Florian", "François", "Grace", "Hannah", "Hélène", "Henry", "Hugo", "Inès", "Isabel",
  "Jack", "Jakob", "James", "Jana", "Jonas", "Jules", "Julia", "Jürgen", "Karl", "Katharina", "Laura", "Léa", "Leon", "Lina", "Louis", "Louise",
  "Lucas", "Lukas", "Manon", "Marie", "Martin", "Mathilde", "Max", "Mia", "Michael", "Noah", "Nora", "Oliver", "Olivia", "Oscar", "Paul", "Pauline",
  "Raphaël", "Rose", "Samuel", "Sarah", "Sophie", "Stefan", "Thomas", "Tobias", "Victor", "William", "Yasmin", "Zoé", "Sebastian", "Margaux", "Nathan", "Greta",
];
const LAST_NAMES = [
  "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
  "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
  "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange",
  "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Johnson", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes",
  "Edwards", "Green", "Hall", "Wood", "Harris", "Lewis", "Clarke", "Jackson", "Miller", "Anderson", "Moore", "Lovelace", "Hopper", "Turing", "Lamarr", "Noether",
  "Kowalski", "Novak", "Rossi", "Ferrari", "Jansen", "De Vries", "Nielsen", "Larsen", "Costa", "Silva", "Santos", "Fernández", "López", "Martínez", "O'Brien", "Murphy",
];
export const EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example", "post.example", "inbox.example"];

export interface Address {
  city: string;
  postalCode: string;
  country: string;
}

interface Country {
  code: string;
  weight: number;
  locale: string;
  cities: [string, (rng: Rng) => string][];
  /** A valid mobile number (libphonenumber-js), one per serial. */
  phone: (serial: number, salt: number) => string;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const US_AREA_CODES = ["212", "415", "312", "206", "512", "617", "303", "404", "213", "305"];
const GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ";

const COUNTRIES: Country[] = [
  {
    code: "FR",
    weight: 0.35,
    locale: "fr-FR",
    cities: [["Paris", (r) => `750${pad(1 + r.int(20), 2)}`], ["Lyon", (r) => `6900${1 + r.int(9)}`], ["Marseille", (r) => `130${pad(1 + r.int(16), 2)}`], ["Lille", (r) => `590${pad(r.int(10) * 10, 2)}`], ["Bordeaux", (r) => `330${pad(r.int(10) * 10, 2)}`], ["Nantes", (r) => `440${pad(r.int(10) * 10, 2)}`], ["Toulouse", (r) => `310${pad(r.int(10) * 10, 2)}`]],
    phone: (serial, salt) => `+336${serialDigits(serial, salt)}`,
  },
  {
    code: "DE",
    weight: 0.25,
    locale: "de-DE",
    cities: [["Berlin", (r) => `10${pad(115 + r.int(800), 3)}`], ["Hamburg", (r) => `20${pad(95 + r.int(900), 3)}`], ["München", (r) => `80${pad(331 + r.int(600), 3)}`], ["Köln", (r) => `50${pad(667 + r.int(300), 3)}`], ["Frankfurt am Main", (r) => `60${pad(306 + r.int(300), 3)}`], ["Leipzig", (r) => `04${pad(103 + r.int(300), 3)}`]],
    phone: (serial, salt) => `+49176${serialDigits(serial, salt)}`,
  },
  {
    code: "GB",
    weight: 0.2,
    locale: "en-GB",
    cities: [["London", (r) => `${r.pick(["N", "E", "SE", "SW", "W", "NW"])}${1 + r.int(19)} ${1 + r.int(9)}${r.pick([...GB_LETTERS])}${r.pick([...GB_LETTERS])}`], ["Manchester", (r) => `M${1 + r.int(40)} ${1 + r.int(9)}${r.pick([...GB_LETTERS])}${r.pick([...GB_LETTERS])}`], ["Bristol", (r) => `BS${1 + r.int(16)} ${1 + r.int(9)}${r.pick([...GB_LETTERS])}${r.pick([...GB_LETTERS])}`], ["Leeds", (r) => `LS${1 + r.int(28)} ${1 + r.int(9)}${r.pick([...GB_LETTERS])}${r.pick([...GB_LETTERS])}`]],
    phone: (serial, salt) => `+4474${serialDigits(serial, salt)}`,
  },
  {
    code: "US",
    weight: 0.2,
    locale: "en-US",
    cities: [["New York", (r) => `100${pad(1 + r.int(40), 2)}`], ["San Francisco", (r) => `941${pad(2 + r.int(30), 2)}`], ["Chicago", (r) => `606${pad(1 + r.int(60), 2)}`], ["Seattle", (r) => `981${pad(1 + r.int(40), 2)}`], ["Austin", (r) => `787${pad(1 + r.int(50), 2)}`]],
    // Area code, then an exchange from 200 and a line: 8 × 10^7 numbers, one per serial.
    phone: (serial, salt) => {
      const x = Number((BigInt(serial) * 48271n + BigInt(salt >>> 0)) % 80_000_000n);
      return `+1${US_AREA_CODES[x % 10]}${200 + Math.floor(x / 100_000)}${pad(Math.floor(x / 10) % 10_000, 4)}`;
    },
  },
];

export interface Person {
  firstName: string;
  lastName: string;
  email: string;
  phone?: string;
  address: Address;
  locale: string;
}

/** `Agnès` → `agnes`, `De Vries` → `devries`, `O'Brien` → `obrien`. */
export const ascii = (s: string) => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z]/g, "");

/** A number from a serial, the same serial always giving the same number and two serials never one. */
export function serialDigits(serial: number, salt: number, width = 8): string {
  // 48271 is prime, so `serial ↦ serial × 48271 + salt` is a bijection modulo 10^width.
  const mod = 10 ** width;
  return pad(Number((BigInt(serial) * 48271n + BigInt(salt >>> 0)) % BigInt(mod)), width);
}

/**
 * The number in someone's email address: the serial scrambled (an affine bijection modulo 10^w,
 * w its number of digits), so neighbouring serials (a shopper and their namesake) do not get
 * look-alike addresses (`ada.lovelace36`, `ada.lovelace37`) that no two real namesakes would have,
 * while two serials still never share one.
 */
export function emailNumber(serial: number, salt: number): string {
  const width = String(serial).length;
  return serialDigits(serial, salt, width);
}

/** The way people write their address: `ada.lovelace52`, `adalovelace52`, `a.lovelace52`, `ada_lovelace52`, `lovelace.ada52`. */
export function emailOf(rng: Rng, firstName: string, lastName: string, serial: number, salt: number): string {
  const [f, l] = [ascii(firstName), ascii(lastName)];
  const local = rng.pick([`${f}.${l}`, `${f}${l}`, `${f[0]}.${l}`, `${f}_${l}`, `${l}.${f}`]);
  return `${local}${emailNumber(serial, salt)}@${rng.pick(EMAIL_DOMAINS)}`;
}

export function countryOf(rng: Rng): Country {
  return COUNTRIES[rng.weighted(COUNTRIES.map((c) => c.weight))]!;
}

export function addressIn(rng: Rng, country: Country): Address {
  const [city, postal] = rng.pick(country.cities);
  return { city, postalCode: postal(rng), country: country.code };
}

/** Someone new. `serial` keeps their email and phone their own; `salt` varies them between runs. */
export function newPerson(rng: Rng, serial: number, salt: number, names: { firstName?: string; lastName?: string; address?: Address } = {}): Person {
  const country = names.address ? COUNTRIES.find((c) => c.code === names.address!.country)! : countryOf(rng);
  const firstName = names.firstName ?? rng.pick(FIRST_NAMES);
  const lastName = names.lastName ?? rng.pick(LAST_NAMES);
  const person: Person = { firstName, lastName, email: emailOf(rng, firstName, lastName, serial, salt), address: names.address ?? addressIn(rng, country), locale: country.locale };
  if (rng.chance(0.6)) person.phone = country.phone(serial, salt);
  return person;
}

/** Another first name than `not`. */
export function otherFirstName(rng: Rng, not: string): string {
  for (;;) {
    const name = rng.pick(FIRST_NAMES);
    if (ascii(name) !== ascii(not)) return name;
  }
}

/** Another city of the same country. */
export function elsewhere(rng: Rng, address: Address): Address {
  const country = COUNTRIES.find((c) => c.code === address.country)!;
  for (;;) {
    const next = addressIn(rng, country);
    if (next.postalCode !== address.postalCode) return next;
  }
}
