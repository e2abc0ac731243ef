// talisman ships no type declarations; these cover the two functions Rapport uses.
declare module "talisman/metrics/jaro-winkler" {
  /** Jaro-Winkler similarity of two strings, from 0 (nothing alike) to 1 (equal). */
  const jaroWinkler: (a: string, b: string) => number;
  export default jaroWinkler;
}
declare module "talisman/phonetics/double-metaphone" {
  /** The primary and alternative Double Metaphone codes of a word. */
  const doubleMetaphone: (word: string) => [string, string];
  export default doubleMetaphone;
}
