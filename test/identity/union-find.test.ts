import { describe, expect, it } from "vitest";
import { UnionFind } from "../../src/identity/union-find";

describe("UnionFind", () => {
  it("joins sets transitively and keeps the first set's representative", () => {
    const sets = new UnionFind();
    sets.union("a", "b");
    sets.union("c", "d");
    expect(sets.find("b")).toBe("a");
    expect(sets.find("a")).not.toBe(sets.find("c"));
    sets.union("b", "d");
    expect(new Set(["a", "b", "c", "d"].map((x) => sets.find(x)))).toEqual(new Set(["a"]));
    expect(sets.find("e")).toBe("e");
  });
});
