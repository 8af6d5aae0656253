/* bprop lab's drawing helpers: elements, symbols, numbers and colours, shared by its views.
 *
 * Elements are built with el()/svg(), whose text always goes in as text, never as HTML, so
 * nothing from a user's file can add markup.  A number is shown by v(): bprop's 9-decimal form
 * (bpropWords.number, as bprop.explain writes it), tagged with data-key for the tests.  Colours:
 * blue is a positive weight or activation, orange a negative one; classes have their own.
 * No state and no math here.
 */
(function (root) {
  "use strict";
  const fmt = root.bpropWords.number;

  /** An element: el("td", {class: "v"}, "text", child, …); text always as text, never HTML. */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "on") for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
      else e.setAttribute(k, v);
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(
        typeof kid === "string" || typeof kid === "number" ? document.createTextNode(String(kid)) : kid,
      );
    }
    return e;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, v);
    for (const kid of kids.flat())
      if (kid) e.append(typeof kid === "string" ? document.createTextNode(kid) : kid);
    return e;
  }

  /** A shown number: bprop's 9-decimal form, tagged with what it is (data-key) for the tests. */
  function v(key, value) {
    return el("span", { class: "v", "data-key": key }, fmt(value));
  }

  /** v(), in parentheses when negative: for a factor or a term after the first. */
  function vp(key, value) {
    return value < 0 || Object.is(value, -0) ? el("span", {}, "(", v(key, value), ")") : v(key, value);
  }

  /** A number as text, in parentheses when negative. */
  const fp = (value) => (fmt(value).startsWith("-") ? `(${fmt(value)})` : fmt(value));

  const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹",
    SUB = "₀₁₂₃₄₅₆₇₈₉";
  const supText = (s) => String(s).replace(/\d/g, (d) => SUP[+d]);
  const subText = (s) => String(s).replace(/\d/g, (d) => SUB[+d]);

  /** The text's {name} places replaced by parts[name] (strings or elements): a list for el(). */
  function fill(text, parts) {
    return text.split(/(\{[a-z_]+\})/).map((piece) => {
      const m = /^\{([a-z_]+)\}$/.exec(piece);
      return m && m[1] in parts ? parts[m[1]] : piece;
    });
  }

  /** A symbol with Nielsen's indices as HTML: base^sup_sub (w³₁₂ is sym("w", "12", 3)). */
  function sym(base, sub, sup) {
    return el(
      "span",
      { class: "sym" },
      base,
      sup !== undefined && sup !== "" ? el("sup", {}, String(sup)) : null,
      sub !== undefined && sub !== "" ? el("sub", {}, String(sub)) : null,
    );
  }

  /** The indices jk of a weight, with a comma where one has two digits. */
  const jk = (j, k) => (j >= 9 || k >= 9 ? `${j + 1},${k + 1}` : `${j + 1}${k + 1}`);
  const wText = (l, j, k) => `w${supText(l)}${subText(jk(j, k))}`;

  /** Σ of the values, correctly rounded (as Python's math.fsum, which bprop.explain uses). */
  function fsum(values) {
    const partials = [];
    for (let x of values) {
      let i = 0;
      for (let y of partials) {
        if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
        const hi = x + y,
          lo = y - (hi - x);
        if (lo) partials[i++] = lo;
        x = hi;
      }
      partials.length = i;
      partials.push(x);
    }
    let n = partials.length,
      hi = 0,
      lo = 0;
    if (n > 0) {
      hi = partials[--n];
      while (n > 0) {
        const x = hi,
          y = partials[--n];
        hi = x + y;
        const yr = hi - x;
        lo = y - yr;
        if (lo) break;
      }
      if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
        const y = lo * 2,
          x = hi + y;
        if (y === x - hi) hi = x;
      }
    }
    return hi;
  }

  // Colours: weights and activations by sign (blue +, orange −); classes from their own set.
  const POS = [33, 102, 172],
    NEG = [230, 97, 1],
    WHITE = [255, 255, 255];
  const CLASS_COLOURS = [
    "#7b3294",
    "#1b7837",
    "#c51b7d",
    "#8c6d00",
    "#00838f",
    "#5d4037",
    "#3949ab",
    "#d81b60",
  ];
  const CLASS_RGB = CLASS_COLOURS.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));

  /** The colour of a value t in [−1, 1]: orange − … white 0 … blue +. */
  function signColour(t, out, o) {
    const s = Math.min(Math.abs(t), 1),
      c = t >= 0 ? POS : NEG;
    out[o] = WHITE[0] + (c[0] - WHITE[0]) * s;
    out[o + 1] = WHITE[1] + (c[1] - WHITE[1]) * s;
    out[o + 2] = WHITE[2] + (c[2] - WHITE[2]) * s;
    out[o + 3] = 255;
  }

  const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
  const percent = (p) => `${(100 * p).toFixed(1)}%`;
  const short = (x) => (Number.isFinite(x) ? x.toFixed(Math.abs(x) < 10 ? 4 : 2) : String(x));

  function legendSign(t) {
    const bar = el("canvas", { width: 120, height: 10, class: "ramp" });
    const ctx = bar.getContext("2d");
    const px = [0, 0, 0, 0];
    for (let i = 0; i < 120; i++) {
      signColour((i - 59.5) / 59.5, px, 0);
      ctx.fillStyle = rgb(px);
      ctx.fillRect(i, 0, 1, 10);
    }
    return el(
      "span",
      { class: "sign-legend" },
      el("span", {}, t("legend_values")),
      bar,
      el("span", {}, t("legend_positive")),
    );
  }

  root.bpropView = {
    el,
    fill,
    vp,
    fp,
    svg,
    v,
    sym,
    supText,
    subText,
    jk,
    wText,
    fsum,
    POS,
    NEG,
    CLASS_COLOURS,
    CLASS_RGB,
    signColour,
    rgb,
    percent,
    short,
    legendSign,
  };
})(typeof self !== "undefined" ? self : this);
