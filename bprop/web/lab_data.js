/* bprop lab's 2-D data sets: points (x₁, x₂) in the square [−1, 1]² and their classes.
 *
 * circle (a disc inside a ring), xor (the four quadrants), two spirals, and gaussian blobs
 * of 2–5 classes, each drawn from a seeded generator (lab_net.js's rng) so a seed gives the
 * same points every time; `noise` (0 … 0.5) blurs the classes into each other.  `split`
 * makes the train/test split.  The user's own CSV arrives already prepared by bprop (see
 * bprop/lab.py) and only goes through `split`.
 *
 * This module computes only: no DOM, no drawing.
 */
(function (root, factory) {
  "use strict";
  if (typeof module !== "undefined" && module.exports) module.exports = factory();
  else root.bpropData = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const KINDS = ["circle", "xor", "spirals", "blobs"];

  /** Points of a disc (class 0) inside a ring (class 1). */
  function circle(n, noise, r) {
    const X = [],
      y = [];
    for (let i = 0; i < n; i++) {
      const inner = i % 2 === 0;
      const radius = inner ? 0.45 * Math.sqrt(r.uniform()) : 0.6 + 0.35 * r.uniform();
      const angle = 2 * Math.PI * r.uniform();
      X.push([
        radius * Math.cos(angle) + noise * r.normal() * 0.5,
        radius * Math.sin(angle) + noise * r.normal() * 0.5,
      ]);
      y.push(inner ? 0 : 1);
    }
    return { X, y, nClasses: 2 };
  }

  /** Points in the four quadrants: class 1 where x₁ and x₂ have the same sign. */
  function xor(n, noise, r) {
    const X = [],
      y = [];
    for (let i = 0; i < n; i++) {
      let a = 2 * r.uniform() - 1,
        b = 2 * r.uniform() - 1;
      a += a > 0 ? 0.05 : -0.05; // a thin gap on the axes
      b += b > 0 ? 0.05 : -0.05;
      y.push(a * b > 0 ? 1 : 0);
      X.push([clamp(a + noise * r.normal() * 0.5), clamp(b + noise * r.normal() * 0.5)]);
    }
    return { X, y, nClasses: 2 };
  }

  /** Two interleaved spirals, one per class. */
  function spirals(n, noise, r) {
    const X = [],
      y = [];
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      const t = r.uniform();
      const radius = 0.08 + 0.85 * t;
      const angle = 1.25 * 2 * Math.PI * t + Math.PI * c;
      X.push([
        radius * Math.sin(angle) + noise * r.normal() * 0.3,
        radius * Math.cos(angle) + noise * r.normal() * 0.3,
      ]);
      y.push(c);
    }
    return { X, y, nClasses: 2 };
  }

  /** Gaussian blobs of k classes, their centres evenly spaced on a circle. */
  function blobs(n, noise, r, k) {
    const X = [],
      y = [];
    for (let i = 0; i < n; i++) {
      const c = i % k;
      const angle = (2 * Math.PI * c) / k + Math.PI / 4;
      const sd = 0.12 + 0.6 * noise;
      X.push([
        clamp(0.55 * Math.cos(angle) + sd * r.normal()),
        clamp(0.55 * Math.sin(angle) + sd * r.normal()),
      ]);
      y.push(c);
    }
    return { X, y, nClasses: k };
  }

  function clamp(v) {
    return Math.min(Math.max(v, -1), 1);
  }

  /**
   * A data set of n points: kind one of KINDS; noise in [0, 0.5]; classes (blobs only);
   * r a generator from bpropNet.rng.  Returns {X (rows of [x₁, x₂]), y (labels), nClasses}.
   */
  function make(kind, n, noise, classes, r) {
    if (kind === "circle") return circle(n, noise, r);
    if (kind === "xor") return xor(n, noise, r);
    if (kind === "spirals") return spirals(n, noise, r);
    if (kind === "blobs") return blobs(n, noise, r, classes);
    throw new Error(`unknown data set ${kind}; choose one of: ${KINDS.join(", ")}`);
  }

  /** Shuffle the points with r and put the share testFraction of them in the test part. */
  function split(data, testFraction, r, permutation) {
    const n = data.y.length;
    const order = permutation(r, n);
    const nTest = Math.min(Math.max(Math.round(n * testFraction), 1), n - 1);
    const pick = (idx) => ({ X: idx.map((i) => data.X[i]), y: idx.map((i) => data.y[i]) });
    return { test: pick(order.slice(0, nTest)), train: pick(order.slice(nTest)), nClasses: data.nClasses };
  }

  return { KINDS, make, split };
});
