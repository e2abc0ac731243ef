export interface GeneratedPerson {
  id: string;
  traits: { firstName: string; lastName: string; email?: string; phone?: string; address?: { postalCode: string } };
}
/** People with planted duplicates, and the ground truth: pairs of ids of the same person. */
export function peopleWithDuplicates(options: { people: number; planted: number; seed?: number }): { people: GeneratedPerson[]; truth: [string, string][] };
