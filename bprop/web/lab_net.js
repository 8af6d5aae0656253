/* bprop lab's network: feedforward, BP1–BP4 and mini-batch SGD, as bprop computes them.
 *
 * A second implementation of bprop/backprop.py, network.py and train.py in JavaScript, for the
 * lab page (and anything else that runs JavaScript: node, a notebook widget).  Names and order
 * follow the Python: `feedforwardTrace`, `feedforward`, `deltas`, `backprop`, `update`,
 * `step`, `epochOrder`.  The notation is the book's (Nielsen ch. 2, and the seeds):
 *
 *     z^l = w^l a^(l−1) + b^l,    a^l = σ(z^l),    δ^l = ∂C/∂z^l
 *     BP1  δ^L = ∇_a C ⊙ σ'(z^L)
 *     BP2  δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l)
 *     BP3  ∂C/∂b^l_j = δ^l_j
 *     BP4  ∂C/∂w^l_jk = a^(l−1)_k δ^l_j
 *
 * Data holds one example per ROW, as in bprop: a mini-batch of m examples is a matrix
 * (m, n_l) and goes through a layer as one product z = a wᵀ + b.  `weights[i]` is w^(i+2), of
 * shape (n_(i+2), n_(i+1)), so entry [j, k] is w_jk.  A matrix is {rows, cols, data} with data
 * a Float64Array in row-major order.  JavaScript numbers are float64, like bprop's default,
 * and the arithmetic is done in the order NumPy does it, so the two agree to rounding.
 *
 * This module computes only.  It never touches the page (no DOM), never draws, never reads
 * files; the lab's drawing and controls live in lab.js.
 */
(function (root, factory) {
  "use strict";
  if (typeof module !== "undefined" && module.exports) module.exports = factory();
  else root.bpropNet = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // -- matrices (row-major, one example per row) --------------------------------------------

  function matrix(rows, cols, data) {
    return { rows, cols, data: data || new Float64Array(rows * cols) };
  }

  function fromRows(rows) {
    const m = matrix(rows.length, rows.length ? rows[0].length : 0);
    rows.forEach((r, i) => m.data.set(r, i * m.cols));
    return m;
  }

  function toRows(m) {
    const out = [];
    for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
    return out;
  }

  function copy(m) {
    return matrix(m.rows, m.cols, new Float64Array(m.data));
  }

  function get(m, i, j) {
    return m.data[i * m.cols + j];
  }

  /** a wᵀ: (m, n) by (p, n) → (m, p).  The weighted input z = a wᵀ of a layer. */
  function matmulT(a, w) {
    const out = matrix(a.rows, w.rows);
    const n = a.cols,
      A = a.data,
      W = w.data,
      O = out.data;
    for (let i = 0; i < a.rows; i++) {
      const ai = i * n;
      for (let j = 0; j < w.rows; j++) {
        const wj = j * n;
        let s = 0;
        for (let k = 0; k < n; k++) s += A[ai + k] * W[wj + k];
        O[i * w.rows + j] = s;
      }
    }
    return out;
  }

  /** a b: (m, n) by (n, p) → (m, p).  BP2's δ^(l+1) w^(l+1) in row form. */
  function matmul(a, b) {
    const out = matrix(a.rows, b.cols);
    const n = a.cols,
      p = b.cols,
      A = a.data,
      B = b.data,
      O = out.data;
    for (let i = 0; i < a.rows; i++) {
      for (let j = 0; j < p; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += A[i * n + k] * B[k * p + j];
        O[i * p + j] = s;
      }
    }
    return out;
  }

  /** aᵀ b: (m, p) by (m, n) → (p, n).  BP4 summed over the mini-batch, δᵀ a. */
  function tmatmul(a, b) {
    const out = matrix(a.cols, b.cols);
    const m = a.rows,
      p = a.cols,
      n = b.cols,
      A = a.data,
      B = b.data,
      O = out.data;
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let x = 0; x < m; x++) s += A[x * p + j] * B[x * n + k];
        O[j * n + k] = s;
      }
    }
    return out;
  }

  /** Σ of v[lo..hi) as NumPy adds a contiguous run (pairwise, 8 partial sums per block). */
  function pairwiseSum(v, lo, hi) {
    const n = hi - lo;
    if (n < 8) {
      let s = 0;
      for (let i = lo; i < hi; i++) s += v[i];
      return s;
    }
    if (n <= 128) {
      const r = [v[lo], v[lo + 1], v[lo + 2], v[lo + 3], v[lo + 4], v[lo + 5], v[lo + 6], v[lo + 7]];
      let i = 8;
      for (; i < n - (n % 8); i += 8) for (let q = 0; q < 8; q++) r[q] += v[lo + i + q];
      let s = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
      for (; i < n; i++) s += v[lo + i];
      return s;
    }
    let half = Math.floor(n / 2);
    half -= half % 8;
    return pairwiseSum(v, lo, lo + half) + pairwiseSum(v, lo + half, hi);
  }

  /** Σ_x δ^x_j over the rows (the examples): (m, n) → Float64Array(n), summed in order. */
  function columnSums(m) {
    const out = new Float64Array(m.cols);
    for (let x = 0; x < m.rows; x++) for (let j = 0; j < m.cols; j++) out[j] += m.data[x * m.cols + j];
    return out;
  }

  /** Rows `rows` of m, in that order: a mini-batch gathered from the training set. */
  function takeRows(m, rows) {
    const out = matrix(rows.length, m.cols);
    rows.forEach((r, i) => out.data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
    return out;
  }

  // -- activations σ and σ', side by side (bprop/activations.py) ----------------------------

  const LEAKY_SLOPE = 0.01;

  /** An element-wise activation: σ(z) and σ'(z, a), with a = σ(z) passed in. */
  function elementwise(name, fn, prime, maxPrime) {
    return {
      name,
      elementwise: true,
      maxPrime,
      fn,
      prime,
      /** a = σ(z), element by element: (m, n). */
      forward(z) {
        const a = matrix(z.rows, z.cols);
        for (let i = 0; i < z.data.length; i++) a.data[i] = fn(z.data[i]);
        return a;
      },
      /** g ⊙ σ'(z), the factor shared by BP1 and BP2; g is overwritten and returned. */
      delta(z, a, g) {
        for (let i = 0; i < g.data.length; i++) g.data[i] *= prime(z.data[i], a.data[i]);
        return g;
      },
    };
  }

  // σ(z) = 1 / (1 + e^(−z)); NumPy computes e^(−z), adds 1, takes the reciprocal.
  const sigmoid = elementwise(
    "sigmoid",
    (z) => 1 / (Math.exp(-z) + 1),
    (z, a) => a * (1 - a),
    0.25,
  );
  const tanh = elementwise("tanh", Math.tanh, (z, a) => 1 - a * a, 1);
  const relu = elementwise(
    "relu",
    (z) => (z > 0 ? z : z === z ? 0 : z),
    (z) => (z > 0 ? 1 : 0),
    1,
  );
  const leakyRelu = elementwise(
    "leaky_relu",
    (z) => (z > 0 ? z : LEAKY_SLOPE * z),
    (z) => (z > 0 ? 1 : LEAKY_SLOPE),
    1,
  );
  const identity = elementwise(
    "identity",
    (z) => z,
    () => 1,
    1,
  );

  /** Softmax over each row: not element-wise, so BP1 multiplies by its Jacobian. */
  const softmax = {
    name: "softmax",
    elementwise: false,
    maxPrime: 0.25,
    /** softmax(z)_j = e^(z_j − max z) / Σ_k e^(z_k − max z), row by row. */
    forward(z) {
      const a = matrix(z.rows, z.cols);
      const n = z.cols;
      for (let i = 0; i < z.rows; i++) {
        let top = -Infinity;
        for (let j = 0; j < n; j++) top = Math.max(top, z.data[i * n + j]);
        for (let j = 0; j < n; j++) a.data[i * n + j] = Math.exp(z.data[i * n + j] - top);
        const s = pairwiseSum(a.data, i * n, (i + 1) * n);
        for (let j = 0; j < n; j++) a.data[i * n + j] /= s;
      }
      return a;
    },
    /** The diagonal of the Jacobian, a_j (1 − a_j): shown, never used for δ. */
    prime(z, a) {
      return a * (1 - a);
    },
    /** δ_j = Σ_k g_k ∂a_k/∂z_j = a_j (g_j − Σ_k g_k a_k); J = diag(a) − a aᵀ is symmetric. */
    delta(z, a, g) {
      const n = g.cols;
      for (let i = 0; i < g.rows; i++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += g.data[i * n + k] * a.data[i * n + k];
        for (let j = 0; j < n; j++) {
          g.data[i * n + j] -= dot;
          g.data[i * n + j] *= a.data[i * n + j];
        }
      }
      return g;
    },
  };

  const ACTIVATIONS = { sigmoid, tanh, relu, leaky_relu: leakyRelu, identity, softmax };

  // -- costs and BP1 (bprop/costs.py) -------------------------------------------------------

  /** x · ln y with 0 · ln 0 = 0: a target of 0 contributes nothing. */
  function xlogy(x, y) {
    return x === 0 ? 0 : x * Math.log(y);
  }

  /** A cost: C_x per row, its gradient ∇_a C_x, and BP1. */
  function makeCost(name, perRow, nablaA, exactDelta, outputsInUnitInterval) {
    return {
      name,
      exactDelta,
      outputsInUnitInterval,
      /** C_x of each row: (m, n_L) → Float64Array(m). */
      fn(a, y) {
        const out = new Float64Array(a.rows);
        const n = a.cols,
          t = new Float64Array(n);
        for (let i = 0; i < a.rows; i++) out[i] = perRow(a.data, y.data, i * n, n, t);
        return out;
      },
      nablaA,
      /** The mean cost C = (1/m) Σ_x C_x. */
      mean(a, y) {
        const c = this.fn(a, y);
        return pairwiseSum(c, 0, c.length) / c.length;
      },
      /** True when δ^L = a − y exactly (the cost's simplification with this output σ). */
      isExact(act) {
        return exactDelta.includes(act.name) && ACTIVATIONS[act.name] === act;
      },
      /** BP1: δ^L = ∇_a C ⊙ σ'(z^L), shape (m, n_L). */
      delta(z, a, y, act) {
        if (this.isExact(act)) return subtract(a, y);
        return act.delta(z, a, nablaA(a, y));
      },
    };
  }

  function subtract(a, y) {
    const d = matrix(a.rows, a.cols);
    for (let i = 0; i < d.data.length; i++) d.data[i] = a.data[i] - y.data[i];
    return d;
  }

  const quadratic = makeCost(
    "quadratic",
    (a, y, o, n) => {
      let s = 0; // C_x = ½‖y − a‖²
      for (let j = 0; j < n; j++) s += (a[o + j] - y[o + j]) * (a[o + j] - y[o + j]);
      return 0.5 * s;
    },
    subtract, // ∇_a C_x = a − y
    [],
    false,
  );

  const crossEntropy = makeCost(
    "cross-entropy",
    (a, y, o, n, t) => {
      // C_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]
      for (let j = 0; j < n; j++) t[j] = xlogy(y[o + j], a[o + j]) + xlogy(1 - y[o + j], 1 - a[o + j]);
      return -pairwiseSum(t, 0, n);
    },
    (a, y) => {
      const g = matrix(a.rows, a.cols);
      for (let i = 0; i < g.data.length; i++) {
        g.data[i] = (a.data[i] - y.data[i]) / (a.data[i] * (1 - a.data[i]));
      }
      return g;
    },
    ["sigmoid"],
    true,
  );

  const logLikelihood = makeCost(
    "log-likelihood",
    (a, y, o, n, t) => {
      for (let j = 0; j < n; j++) t[j] = xlogy(y[o + j], a[o + j]); // C_x = −ln a_y, one-hot y
      return -pairwiseSum(t, 0, n);
    },
    (a, y) => {
      const g = matrix(a.rows, a.cols);
      for (let i = 0; i < g.data.length; i++) g.data[i] = y.data[i] === 0 ? 0 : -y.data[i] / a.data[i];
      return g;
    },
    ["softmax"],
    true,
  );

  const COSTS = { quadratic, "cross-entropy": crossEntropy, "log-likelihood": logLikelihood };

  // -- the math of the network (bprop/backprop.py) -------------------------------------------

  /** The forward pass keeping every layer: zs[i] = z^(i+2), activations[i] = a^(i+1). */
  function feedforwardTrace(weights, biases, acts, x) {
    let a = x;
    const zs = [],
      activations = [x];
    for (let i = 0; i < weights.length; i++) {
      const z = matmulT(a, weights[i]); // z^l = w^l a^(l−1) + b^l, as rows: (m, n_l)
      addBias(z, biases[i]);
      a = acts[i].forward(z); // a^l = σ(z^l): (m, n_l)
      zs.push(z);
      activations.push(a);
    }
    return { zs, activations };
  }

  /** The output a^L for inputs x (m, n_1): shape (m, n_L). */
  function feedforward(weights, biases, acts, x) {
    const t = feedforwardTrace(weights, biases, acts, x);
    return t.activations[t.activations.length - 1];
  }

  function addBias(z, b) {
    for (let i = 0; i < z.rows; i++) for (let j = 0; j < z.cols; j++) z.data[i * z.cols + j] += b[j];
  }

  /** δ^l of every layer with weights, by BP1 and BP2: delta[i] = δ^(i+2), (m, n_(i+2)). */
  function deltas(weights, acts, cost, zs, activations, y) {
    const L = weights.length;
    const delta = new Array(L);
    // BP1: δ^L = ∇_a C ⊙ σ'(z^L), one row per example: (m, n_L)
    delta[L - 1] = cost.delta(zs[L - 1], activations[L], y, acts[L - 1]);
    for (let i = L - 2; i >= 0; i--) {
      // BP2: δ^l = ((w^(l+1))ᵀ δ^(l+1)) ⊙ σ'(z^l); as rows, δ^(l+1) w^(l+1): (m, n_l)
      delta[i] = acts[i].delta(zs[i], activations[i + 1], matmul(delta[i + 1], weights[i + 1]));
    }
    return delta;
  }

  /**
   * Gradient of the mean cost C = (1/m) Σ_x C_x over a mini-batch x (m, n_1), y (m, n_L).
   *
   * Returns {nablaB, nablaW, output} as bprop.backprop.backprop does, and the trace the lab
   * shows beside them: {zs, activations, delta}.
   */
  function backprop(weights, biases, acts, cost, x, y) {
    const m = x.rows;
    const { zs, activations } = feedforwardTrace(weights, biases, acts, x);
    const delta = deltas(weights, acts, cost, zs, activations, y);
    const nablaB = [],
      nablaW = [];
    for (let i = 0; i < weights.length; i++) {
      // BP3: ∂C/∂b^l = δ^l, averaged over the m examples: (n_l,)
      const nb = columnSums(delta[i]);
      for (let j = 0; j < nb.length; j++) nb[j] /= m;
      nablaB.push(nb);
      // BP4: ∂C/∂w^l_jk = a^(l−1)_k δ^l_j, summed over the examples as δᵀ a: (n_l, n_(l−1))
      const nw = tmatmul(delta[i], activations[i]);
      for (let q = 0; q < nw.data.length; q++) nw.data[q] /= m;
      nablaW.push(nw);
    }
    return { nablaB, nablaW, output: activations[activations.length - 1], zs, activations, delta };
  }

  /** Predicted class per row: argmax of a^L, or a^L > ½ for a single output. */
  function decide(a) {
    const out = new Int32Array(a.rows);
    for (let i = 0; i < a.rows; i++) {
      if (a.cols === 1) {
        out[i] = a.data[i] > 0.5 ? 1 : 0;
        continue;
      }
      let best = 0;
      for (let j = 1; j < a.cols; j++) if (a.data[i * a.cols + j] > a.data[i * a.cols + best]) best = j;
      out[i] = best;
    }
    return out;
  }

  /** Row i has a 1 in column labels[i]: (m, n), the seeds' vectorized_result. */
  function oneHot(labels, n) {
    const y = matrix(labels.length, n);
    for (let i = 0; i < labels.length; i++) y.data[i * n + labels[i]] = 1;
    return y;
  }

  // -- random numbers: the page's own, seeded -----------------------------------------------

  /** A seeded generator (splitmix32 seeding sfc32): uniform(), normal(), integer(n). */
  function rng(seed) {
    const seeds = Array.isArray(seed) ? seed : [seed];
    let h = 0x9e3779b9;
    const mix = () => {
      h = (h + 0x9e3779b9) | 0;
      let t = h;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      return (t ^ (t >>> 16)) >>> 0;
    };
    for (const s of seeds) h ^= Math.imul((s >>> 0) ^ Math.floor(s / 4294967296), 0x27d4eb2f);
    let a = mix(),
      b = mix(),
      c = mix(),
      d = mix();
    const next = () => {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return t >>> 0;
    };
    for (let i = 0; i < 12; i++) next();
    let spare = null;
    const uniform = () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
    return {
      uniform,
      /** A standard normal draw (Marsaglia's polar method). */
      normal() {
        if (spare !== null) {
          const s = spare;
          spare = null;
          return s;
        }
        let u, v, s;
        do {
          u = 2 * uniform() - 1;
          v = 2 * uniform() - 1;
          s = u * u + v * v;
        } while (s >= 1 || s === 0);
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        spare = v * f;
        return u * f;
      },
      /** A whole number in 0 … n − 1. */
      integer(n) {
        return Math.floor(uniform() * n);
      },
    };
  }

  /** A random permutation of 0 … n − 1 (Fisher–Yates). */
  function permutation(r, n) {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = r.integer(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  const INITIALISATIONS = ["standard", "scaled", "glorot", "he"];

  /**
   * Random {biases, weights} for `sizes` by bprop's schemes: standard w, b ~ N(0, 1); scaled
   * w ~ N(0, 1/n_in), b ~ N(0, 1); glorot w ~ U(±√(6/(n_in + n_out))), b = 0; he
   * w ~ N(0, 2/n_in), b = 0.  Drawn from the page's generator, biases first as bprop does.
   */
  function initialParameters(sizes, init, seed) {
    const r = rng(seed);
    const biases = [],
      weights = [];
    for (let i = 1; i < sizes.length; i++) {
      const b = new Float64Array(sizes[i]);
      if (init === "standard" || init === "scaled") for (let j = 0; j < b.length; j++) b[j] = r.normal();
      biases.push(b);
    }
    for (let i = 1; i < sizes.length; i++) {
      const nIn = sizes[i - 1],
        nOut = sizes[i];
      const w = matrix(nOut, nIn);
      for (let q = 0; q < w.data.length; q++) {
        if (init === "standard") w.data[q] = r.normal();
        else if (init === "scaled") w.data[q] = r.normal() / Math.sqrt(nIn);
        else if (init === "glorot") w.data[q] = (2 * r.uniform() - 1) * Math.sqrt(6 / (nIn + nOut));
        else w.data[q] = r.normal() * Math.sqrt(2 / nIn);
      }
      weights.push(w);
    }
    return { biases, weights };
  }

  /**
   * A network: sizes (input first), σ per layer with weights, a cost, and its parameters.
   * options: {init, seed} draw the parameters; {weights, biases} (arrays of rows / of
   * numbers, as bprop exports them) set them instead.  Throws an Error saying what is wrong
   * for an invalid combination, with bprop's rules and words.
   */
  function Network(sizes, activations, cost, options) {
    const opts = options || {};
    if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new Error("sizes must list at least two positive layer widths, input first, e.g. [2, 4, 2]");
    }
    const names = typeof activations === "string" ? sizes.slice(1).map(() => activations) : activations;
    if (names.length !== sizes.length - 1) {
      throw new Error(
        `give one activation per layer with weights (${sizes.length - 1}), got ${names.length}`,
      );
    }
    this.sizes = sizes.slice();
    this.activations = names.map((n) => lookup(ACTIVATIONS, n, "activation"));
    this.cost = lookup(COSTS, cost, "cost");
    checkPairing(this.activations, this.cost);
    this.init = opts.init || "standard";
    if (!INITIALISATIONS.includes(this.init)) throw new Error(`unknown init ${this.init}`);
    if (opts.weights) {
      this.weights = opts.weights.map((w) => fromRows(w));
      this.biases = opts.biases.map((b) => Float64Array.from(b));
    } else {
      const p = initialParameters(this.sizes, this.init, opts.seed || 0);
      this.weights = p.weights;
      this.biases = p.biases;
    }
  }

  function lookup(registry, name, what) {
    if (!Object.prototype.hasOwnProperty.call(registry, name)) {
      throw new Error(`unknown ${what} ${name}; choose one of: ${Object.keys(registry).join(", ")}`);
    }
    return registry[name];
  }

  function checkPairing(acts, cost) {
    for (const act of acts.slice(0, -1)) {
      if (!act.elementwise) {
        throw new Error(`${act.name} can only be the output layer's activation; use it as output_activation`);
      }
    }
    const out = acts[acts.length - 1];
    if (cost.outputsInUnitInterval && out.name !== "sigmoid" && out.name !== "softmax") {
      const e = new Error(
        `the ${cost.name} cost takes logarithms of the outputs, so it needs outputs in (0, 1):` +
          ` use a sigmoid or softmax output layer, not ${out.name}`,
      );
      e.rule = { cost: cost.name, act: out.name }; // for a page that says it in other words
      throw e;
    }
  }

  Network.prototype.feedforward = function (x) {
    return feedforward(this.weights, this.biases, this.activations, x);
  };

  Network.prototype.backprop = function (x, y) {
    return backprop(this.weights, this.biases, this.activations, this.cost, x, y);
  };

  /** C over the rows of x: the mean of C_x, plus (λ/2n) Σ w² when lmbda > 0. */
  Network.prototype.totalCost = function (x, y, lmbda) {
    return this.cost.mean(this.feedforward(x), y) + this.weightCost(lmbda, x.rows);
  };

  /** The L2 term of the cost over n examples, (λ/2n) Σ w² (0 without λ). */
  Network.prototype.weightCost = function (lmbda, n) {
    if (!lmbda) return 0;
    let sq = 0;
    for (const w of this.weights)
      sq += pairwiseSum(
        w.data.map((v) => v * v),
        0,
        w.data.length,
      );
    return ((0.5 * lmbda) / n) * sq;
  };

  /** A copy of the parameters: {weights, biases}, to rewind to. */
  Network.prototype.parameters = function () {
    return { weights: this.weights.map(copy), biases: this.biases.map((b) => Float64Array.from(b)) };
  };

  Network.prototype.setParameters = function (p) {
    this.weights = p.weights.map(copy);
    this.biases = p.biases.map((b) => Float64Array.from(b));
  };

  // -- training (bprop/train.py) ------------------------------------------------------------

  /**
   * Where training is: the next mini-batch ({epoch, batch}) and the momentum terms
   * (velocityW, velocityB; null without momentum), like bprop.train.TrainState.
   */
  function TrainState(seed) {
    this.seed = seed;
    this.epoch = 0;
    this.batch = 0;
    this.velocityW = null;
    this.velocityB = null;
  }

  /** The order of the n training examples in `epoch`: a pure function of its arguments. */
  function epochOrder(seed, epoch, n, shuffle) {
    if (shuffle === false) return Array.from({ length: n }, (_, i) => i);
    return permutation(rng([seed, epoch, 0x5eed]), n);
  }

  /**
   * Apply one gradient step in place, as bprop.train._update (the gradients are consumed):
   *   w → (1 − ηλ/n) w − η ∂C/∂w,  b → b − η ∂C/∂b;  with momentum μ:
   *   v → μv − η(∂C/∂w + (λ/n) w),  w → w + v  (and likewise for b, without the λ term).
   */
  function update(net, nablaB, nablaW, eta, lmbdaOverN, momentum, updateBiases, state) {
    if (momentum && state.velocityW === null) {
      state.velocityW = net.weights.map((w) => matrix(w.rows, w.cols));
      state.velocityB = net.biases.map((b) => new Float64Array(b.length));
    }
    for (let i = 0; i < net.weights.length; i++) {
      const w = net.weights[i].data,
        nw = nablaW[i].data;
      if (momentum) {
        const v = state.velocityW[i].data; // v → μv − η(∇C + (λ/n) w);  w → w + v
        for (let q = 0; q < w.length; q++) {
          v[q] *= momentum;
          let g = nw[q];
          if (lmbdaOverN) g += lmbdaOverN * w[q];
          g *= eta;
          v[q] -= g;
          w[q] += v[q];
        }
      } else {
        const decay = 1 - eta * lmbdaOverN; // weight decay: (1 − ηλ/n) w
        for (let q = 0; q < w.length; q++) {
          if (lmbdaOverN) w[q] *= decay;
          w[q] -= nw[q] * eta; // w → w − (η/m) Σ_x δ (a^(l−1))ᵀ
        }
      }
    }
    if (!updateBiases) return;
    for (let i = 0; i < net.biases.length; i++) {
      const b = net.biases[i],
        nb = nablaB[i];
      for (let j = 0; j < b.length; j++) {
        const g = nb[j] * eta;
        if (momentum) {
          const v = state.velocityB[i];
          v[j] *= momentum;
          v[j] -= g;
          b[j] += v[j];
        } else {
          b[j] -= g; // b → b − (η/m) Σ_x δ
        }
      }
    }
  }

  /**
   * One mini-batch of SGD, bprop's textbook step: BP1–BP4 by `backprop` over the rows `rows`
   * of (x, y), then `update`.  opts: {eta, lmbda, momentum, n (training-set size),
   * updateBiases}.  Returns backprop's result plus cost (Σ_x C_x over the mini-batch); the
   * parameters are left as they were when that sum is not finite (divergence).
   */
  function step(net, x, y, rows, opts, state) {
    const xb = takeRows(x, rows),
      yb = takeRows(y, rows);
    const bp = backprop(net.weights, net.biases, net.activations, net.cost, xb, yb);
    const c = net.cost.fn(bp.output, yb);
    bp.cost = pairwiseSum(c, 0, c.length);
    bp.x = xb;
    bp.y = yb;
    if (Number.isFinite(bp.cost)) {
      // update consumes the gradients it is given; the copies keep bp's for the caller.
      const nablaB = bp.nablaB.map((b) => Float64Array.from(b)),
        nablaW = bp.nablaW.map(copy);
      const lmbdaOverN = (opts.lmbda || 0) / opts.n;
      update(
        net,
        nablaB,
        nablaW,
        opts.eta,
        lmbdaOverN,
        opts.momentum || 0,
        opts.updateBiases !== false,
        state,
      );
    }
    return bp;
  }

  /** The rows of the next mini-batch of size m, and where it is in its epoch. */
  function nextBatch(state, n, m, shuffle) {
    const order = epochOrder(state.seed, state.epoch, n, shuffle);
    return order.slice(state.batch * m, (state.batch + 1) * m);
  }

  /** Move the state past one mini-batch (into the next epoch after the last one). */
  function advance(state, n, m) {
    state.batch += 1;
    if (state.batch * m >= n) {
      state.epoch += 1;
      state.batch = 0;
    }
  }

  return {
    matrix,
    fromRows,
    toRows,
    copy,
    get,
    matmulT,
    matmul,
    tmatmul,
    pairwiseSum,
    columnSums,
    takeRows,
    LEAKY_SLOPE,
    ACTIVATIONS,
    COSTS,
    INITIALISATIONS,
    feedforwardTrace,
    feedforward,
    deltas,
    backprop,
    decide,
    oneHot,
    rng,
    permutation,
    initialParameters,
    Network,
    checkPairing,
    TrainState,
    epochOrder,
    update,
    step,
    nextBatch,
    advance,
  };
});
