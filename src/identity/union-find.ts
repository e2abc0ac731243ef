/** Union-find over string ids (path compression on find): which ids have been joined, transitively. */
export class UnionFind {
  private parent = new Map<string, string>();

  /** The representative of x's set (x itself until joined with another). */
  find(x: string): string {
    let root = x;
    while (this.parent.has(root) && this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(x, root);
    return root;
  }

  /** Joins the sets of a and b; a's representative stays the representative. */
  union(a: string, b: string): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra !== rb) this.parent.set(rb, ra);
  }
}
