/* bprop lab's digit pad: a drawing prepared exactly as `bprop predict` prepares an image.
 *
 * A port of the clean-image pipeline of bprop/images.py (to_mnist, to_fashion_mnist), step
 * for step and in NumPy's order of arithmetic, so the 28×28 input the page shows is the one
 * bprop would compute from the same drawing saved as a PNG:
 *
 *   1. greyscale, 1 = white (the RGBA pixels composited on white, ITU-R 601 luma);
 *   2. invert when the background (the median of the border pixels) is light, and scale so
 *      the background is 0 and full contrast is 1;
 *   3. drop faint noise (≤ 10 % of the strongest ink) and crop to the ink's bounding box;
 *   4. scale by area averaging so the longer side is 20 pixels (MNIST) or 28 (Fashion-MNIST);
 *   5. MNIST: place so the centre of mass falls on pixel (14, 14); Fashion-MNIST: centre the
 *      bounding box; 6. scale so the maximum is 1.
 *
 * An image is {h, w, data} with data a Float64Array, row by row.  This module computes only:
 * no DOM, no canvas (the page hands in the canvas's RGBA bytes).
 */
(function (root, factory) {
  "use strict";
  if (typeof module !== "undefined" && module.exports) module.exports = factory();
  else root.bpropImages = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const FIELD = 28;
  const MNIST_BOX = 20;
  const FASHION_SIZE = 28;
  const NOISE_FRACTION = 0.1;
  const MIN_CONTRAST = 0.1;

  function image(h, w, data) {
    return { h, w, data: data || new Float64Array(h * w) };
  }

  /** RGBA bytes (a canvas's ImageData) → greyscale in [0, 1], 1 = white, alpha on white. */
  function grayFromRGBA(rgba, w, h) {
    const g = image(h, w);
    for (let i = 0; i < w * h; i++) {
      const r = rgba[4 * i] / 255,
        gr = rgba[4 * i + 1] / 255,
        b = rgba[4 * i + 2] / 255;
      const alpha = rgba[4 * i + 3] / 255;
      const luma = r * 0.299 + gr * 0.587 + b * 0.114;
      g.data[i] = Math.min(Math.max(luma * alpha + (1 - alpha), 0), 1);
    }
    return g;
  }

  /** NumPy's sum of a contiguous run (pairwise, 8 partial sums per block of up to 128). */
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

  function median(values) {
    const s = Float64Array.from(values).sort();
    const n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** Ink: background 0, full contrast 1, inverted when the border's median is light. */
  function ink(g) {
    const { h, w, data } = g;
    const border = [];
    for (let x = 0; x < w; x++) border.push(data[x]);
    for (let x = 0; x < w; x++) border.push(data[(h - 1) * w + x]);
    for (let y = 1; y < h - 1; y++) border.push(data[y * w]);
    for (let y = 1; y < h - 1; y++) border.push(data[y * w + w - 1]);
    const bg = median(border);
    const out = image(h, w);
    for (let i = 0; i < data.length; i++) {
      const v = bg >= 0.5 ? (bg - data[i]) / bg : (data[i] - bg) / (1 - bg);
      out.data[i] = Math.min(Math.max(v, 0), 1);
    }
    return out;
  }

  /** The ink with faint noise removed, cropped to its bounding box; null when blank. */
  function trimmedInk(g) {
    const a = ink(g);
    let peak = 0;
    for (const v of a.data) peak = Math.max(peak, v);
    if (peak < MIN_CONTRAST) return null;
    let top = a.h,
      bottom = -1,
      left = a.w,
      right = -1;
    for (let y = 0; y < a.h; y++) {
      for (let x = 0; x < a.w; x++) {
        const i = y * a.w + x;
        if (a.data[i] <= NOISE_FRACTION * peak) a.data[i] = 0;
        else {
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
    }
    const out = image(bottom - top + 1, right - left + 1);
    for (let y = 0; y < out.h; y++) {
      for (let x = 0; x < out.w; x++) out.data[y * out.w + x] = a.data[(top + y) * a.w + left + x];
    }
    return out;
  }

  /**
   * (nOut, nIn) weights resampling a line of nIn pixels to nOut: shrinking averages areas
   * (each input pixel counts by its overlap with the output pixel's interval), enlarging
   * interpolates linearly between pixel centres.  Rows sum to 1.
   */
  function resampleMatrix(nIn, nOut) {
    const m = image(nOut, nIn);
    if (nOut === nIn) {
      for (let i = 0; i < nIn; i++) m.data[i * nIn + i] = 1;
      return m;
    }
    const s = nIn / nOut;
    for (let i = 0; i < nOut; i++) {
      for (let j = 0; j < nIn; j++) {
        let v;
        if (nOut < nIn) v = Math.min((i + 1) * s, j + 1) - Math.max(i * s, j);
        else v = 1 - Math.abs(j - ((i + 0.5) * s - 0.5));
        m.data[i * nIn + j] = Math.max(v, 0);
      }
      const total = pairwiseSum(m.data, i * nIn, (i + 1) * nIn);
      for (let j = 0; j < nIn; j++) m.data[i * nIn + j] /= total;
    }
    return m;
  }

  /** Scale a so its longer side is `size`, keeping the aspect ratio (≥ 1 pixel). */
  function resizeLongest(a, size) {
    const scale = size / Math.max(a.h, a.w);
    const outH = Math.min(size, Math.max(1, Math.floor(a.h * scale + 0.5)));
    const outW = Math.min(size, Math.max(1, Math.floor(a.w * scale + 0.5)));
    const rh = resampleMatrix(a.h, outH),
      rw = resampleMatrix(a.w, outW);
    const t = image(outH, a.w); // rh · a
    for (let i = 0; i < outH; i++) {
      for (let x = 0; x < a.w; x++) {
        let s = 0;
        for (let y = 0; y < a.h; y++) s += rh.data[i * a.h + y] * a.data[y * a.w + x];
        t.data[i * a.w + x] = s;
      }
    }
    const out = image(outH, outW); // (rh · a) · rwᵀ
    for (let i = 0; i < outH; i++) {
      for (let j = 0; j < outW; j++) {
        let s = 0;
        for (let x = 0; x < a.w; x++) s += t.data[i * a.w + x] * rw.data[j * a.w + x];
        out.data[i * outW + j] = s;
      }
    }
    return out;
  }

  function normalise(box) {
    let top = 0;
    for (const v of box.data) top = Math.max(top, v);
    for (let i = 0; i < box.data.length; i++) box.data[i] /= top;
  }

  function place(box, top, left) {
    const field = new Float64Array(FIELD * FIELD);
    for (let y = 0; y < box.h; y++) {
      for (let x = 0; x < box.w; x++) field[(top + y) * FIELD + left + x] = box.data[y * box.w + x];
    }
    return field;
  }

  /**
   * The 784 inputs MNIST would have made of the greyscale image g, row by row (ink high,
   * background 0, maximum 1, longer side 20, centre of mass on (14, 14)); null when blank.
   */
  function toMnist(g) {
    const trimmed = trimmedInk(g);
    if (trimmed === null) return null;
    const box = resizeLongest(trimmed, MNIST_BOX);
    normalise(box);
    const { h, w } = box;
    const rowSum = new Float64Array(h),
      colSum = new Float64Array(w);
    for (let y = 0; y < h; y++) rowSum[y] = pairwiseSum(box.data, y * w, (y + 1) * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) colSum[x] += box.data[y * w + x];
    const total = pairwiseSum(box.data, 0, box.data.length);
    let my = 0,
      mx = 0;
    for (let y = 0; y < h; y++) my += rowSum[y] * y;
    for (let x = 0; x < w; x++) mx += colSum[x] * x;
    const cy = my / total,
      cx = mx / total;
    const centre = FIELD / 2;
    const top = Math.min(Math.max(Math.floor(centre - cy + 0.5), 0), FIELD - h);
    const left = Math.min(Math.max(Math.floor(centre - cx + 0.5), 0), FIELD - w);
    return place(box, top, left);
  }

  /** The 784 inputs Fashion-MNIST would have made of g (longest edge 28); null when blank. */
  function toFashionMnist(g) {
    const trimmed = trimmedInk(g);
    if (trimmed === null) return null;
    const box = resizeLongest(trimmed, FASHION_SIZE);
    normalise(box);
    return place(box, Math.floor((FIELD - box.h + 1) / 2), Math.floor((FIELD - box.w + 1) / 2));
  }

  return {
    FIELD,
    image,
    grayFromRGBA,
    ink,
    trimmedInk,
    resampleMatrix,
    resizeLongest,
    toMnist,
    toFashionMnist,
  };
});
