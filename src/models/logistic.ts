/**
 * Logistic regression, small and dependency-free, for the predictive scores: standardized
 * features, full-batch gradient descent with L2, plus the metrics training reports (AUC,
 * calibration by score decile). Pure: `npm run train` runs it in Node, tests in workerd.
 */

export interface LogisticModel {
  means: number[];
  stds: number[];
  weights: number[];
  bias: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function predict(model: LogisticModel, x: readonly number[]): number {
  let z = model.bias;
  for (let i = 0; i < model.weights.length; i++) z += model.weights[i]! * (((x[i] ?? 0) - model.means[i]!) / model.stds[i]!);
  return sigmoid(z);
}

export function train(xs: readonly (readonly number[])[], ys: readonly number[], options: { epochs?: number; rate?: number; l2?: number } = {}): LogisticModel {
  const n = xs.length;
  const d = xs[0]?.length ?? 0;
  const means = Array.from({ length: d }, (_, j) => xs.reduce((s, x) => s + x[j]!, 0) / Math.max(1, n));
  const stds = Array.from({ length: d }, (_, j) => Math.sqrt(xs.reduce((s, x) => s + (x[j]! - means[j]!) ** 2, 0) / Math.max(1, n)) || 1);
  const z = xs.map((x) => x.map((v, j) => (v - means[j]!) / stds[j]!));
  const weights = new Array<number>(d).fill(0);
  const positives = ys.reduce((s, y) => s + y, 0);
  // Start at the base rate: fewer epochs to converge.
  let bias = Math.log(Math.max(1, positives) / Math.max(1, n - positives));
  const { epochs = 400, rate = 0.5, l2 = 1e-3 } = options;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const grad = new Array<number>(d).fill(0);
    let gradBias = 0;
    for (let i = 0; i < n; i++) {
      let s = bias;
      for (let j = 0; j < d; j++) s += weights[j]! * z[i]![j]!;
      const err = sigmoid(s) - ys[i]!;
      gradBias += err;
      for (let j = 0; j < d; j++) grad[j]! += err * z[i]![j]!;
    }
    for (let j = 0; j < d; j++) weights[j]! -= rate * (grad[j]! / n + l2 * weights[j]!);
    bias -= rate * (gradBias / n);
  }
  return { means, stds, weights, bias };
}

/** Area under the ROC curve: the chance a random positive scores above a random negative (ties half). */
export function auc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (order[k]![1] === 1) {
      rankSum += rank;
      positives++;
    }
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Per score decile: how many, the mean predicted score, and the rate actually observed. */
export function calibration(scores: readonly number[], labels: readonly number[], bins = 10): { bin: number; n: number; predicted: number; observed: number }[] {
  const out = Array.from({ length: bins }, (_, bin) => ({ bin, n: 0, predicted: 0, observed: 0 }));
  scores.forEach((s, i) => {
    const b = out[Math.min(bins - 1, Math.floor(s * bins))]!;
    b.n++;
    b.predicted += s;
    b.observed += labels[i]!;
  });
  return out.filter((b) => b.n > 0).map((b) => ({ bin: b.bin, n: b.n, predicted: b.predicted / b.n, observed: b.observed / b.n }));
}
