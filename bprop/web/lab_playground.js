/* bprop lab's playground view: the network with a heat map per neuron, the decision regions,
 * the cost curves and the layer controls.
 *
 * bpropPlayground(app) draws what app (lab.js) holds: app.state (the settings), app.lab (the
 * network, the data, where training is).  Every heat map comes from one forward pass of the
 * whole grid of input points through bpropNet.feedforwardTrace; nothing here trains.
 */
(function (root) {
  "use strict";
  root.bpropPlayground = function (app) {
    const { N, state, lab, $, t, activationNames, className, makeNetwork, refresh, batchSize } = app;
    const { ACT_NAMES, OUT_NAMES, MAX_HIDDEN, MAX_NEURONS } = app;
    const { el, rgb, POS, NEG, CLASS_COLOURS, CLASS_RGB, signColour, percent, short, legendSign } =
      root.bpropView;
    const { subText, supText, wText } = root.bpropView;
    const fmt = root.bpropWords.number;

    const GRID = 40; // the input plane is sampled on GRID × GRID points for the heat maps
    const gridX = (() => {
      const g = N.matrix(GRID * GRID, 2);
      for (let r = 0; r < GRID; r++) {
        for (let c = 0; c < GRID; c++) {
          g.data[2 * (r * GRID + c)] = -1 + (2 * (c + 0.5)) / GRID; // x₁ across
          g.data[2 * (r * GRID + c) + 1] = 1 - (2 * (r + 0.5)) / GRID; // x₂ up
        }
      }
      return g;
    })();
    const mapCanvas = document.createElement("canvas");
    mapCanvas.width = mapCanvas.height = GRID;
    const mapCtx = mapCanvas.getContext("2d");
    const mapImage = mapCtx.createImageData(GRID, GRID);

    const NODE = 40; // side of a neuron's heat map in the diagram, in CSS pixels
    let layout = null; // where each neuron and weight is drawn: rebuilt with the network

    function computeLayout() {
      const canvas = $("net-canvas");
      const width = Math.max(320, Math.min(canvas.parentElement.clientWidth || 520, 640));
      const sz = lab.net.sizes;
      const height = Math.max(...sz) * (NODE + 12) + 24;
      const cols = sz.length;
      const xs = sz.map((_, l) => Math.round(24 + NODE / 2 + ((width - 48 - NODE) * l) / (cols - 1)));
      const nodes = sz.map((n, l) =>
        Array.from({ length: n }, (_, j) => ({
          x: xs[l],
          y: Math.round(height / 2 + (j - (n - 1) / 2) * (NODE + 12)),
        })),
      );
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
      layout = { width, height, xs, nodes, dpr };
      buildLayerControls();
    }

    function valueScale(actName, a, n, j) {
      if (actName === "sigmoid" || actName === "tanh" || actName === "softmax") return 1;
      let top = 0;
      for (let p = 0; p < a.rows; p++) top = Math.max(top, Math.abs(a.data[p * n + j]));
      return top || 1;
    }

    /** Paint neuron j of a layer's activations over the grid into the small map canvas. */
    function paintMap(a, j, scale) {
      const n = a.cols,
        px = mapImage.data;
      for (let p = 0; p < GRID * GRID; p++) signColour(a.data[p * n + j] / scale, px, 4 * p);
      mapCtx.putImageData(mapImage, 0, 0);
    }

    function drawNetwork(trace) {
      const canvas = $("net-canvas"),
        ctx = canvas.getContext("2d");
      const { nodes, dpr } = layout;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, layout.width, layout.height);
      // Edges first, under the maps: colour by the sign of w, width by |w|.
      const W = lab.net.weights;
      for (let i = 0; i < W.length; i++) {
        for (let j = 0; j < W[i].rows; j++) {
          for (let k = 0; k < W[i].cols; k++) {
            const w = W[i].data[j * W[i].cols + k];
            const a = nodes[i][k],
              b = nodes[i + 1][j];
            ctx.strokeStyle = rgb(w >= 0 ? POS : NEG);
            ctx.globalAlpha = 0.35 + 0.6 * Math.min(Math.abs(w) / 2, 1);
            ctx.lineWidth = 0.5 + 3.5 * Math.min(Math.abs(w) / 2, 1);
            ctx.beginPath();
            ctx.moveTo(a.x + NODE / 2, a.y);
            ctx.bezierCurveTo((a.x + b.x) / 2, a.y, (a.x + b.x) / 2, b.y, b.x - NODE / 2, b.y);
            ctx.stroke();
          }
        }
      }
      ctx.globalAlpha = 1;
      ctx.imageSmoothingEnabled = true;
      const acts = activationNames();
      trace.activations.forEach((a, l) => {
        for (let j = 0; j < a.cols; j++) {
          const scale = l === 0 ? 1 : valueScale(acts[l - 1], a, a.cols, j);
          paintMap(a, j, scale);
          const p = nodes[l][j];
          ctx.drawImage(mapCanvas, p.x - NODE / 2, p.y - NODE / 2, NODE, NODE);
          const sel =
            state.selected &&
            state.selected.kind === "neuron" &&
            state.selected.l === l + 1 &&
            state.selected.j === j;
          ctx.strokeStyle = sel ? "#000" : "#888";
          ctx.lineWidth = sel ? 2 : 1;
          ctx.strokeRect(p.x - NODE / 2 + 0.5, p.y - NODE / 2 + 0.5, NODE - 1, NODE - 1);
        }
      });
      // Labels: a^l_j under layer names would crowd; the input neurons are named x₁, x₂.
      ctx.fillStyle = "#333";
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "right";
      ctx.fillText("x₁", nodes[0][0].x - NODE / 2 - 4, nodes[0][0].y + 4);
      ctx.fillText("x₂", nodes[0][1].x - NODE / 2 - 4, nodes[0][1].y + 4);
    }

    function drawDecision(trace) {
      const canvas = $("decision"),
        ctx = canvas.getContext("2d");
      const out = trace.activations[trace.activations.length - 1];
      const K = out.cols,
        px = mapImage.data;
      for (let p = 0; p < GRID * GRID; p++) {
        let best = 0,
          second = -Infinity;
        for (let c = 1; c < K; c++) if (out.data[p * K + c] > out.data[p * K + best]) best = c;
        for (let c = 0; c < K; c++) if (c !== best) second = Math.max(second, out.data[p * K + c]);
        const sure = Math.min(Math.max(out.data[p * K + best] - second, 0), 1);
        const mix = 0.18 + 0.55 * sure,
          col = CLASS_RGB[best % CLASS_RGB.length];
        px[4 * p] = 255 + (col[0] - 255) * mix;
        px[4 * p + 1] = 255 + (col[1] - 255) * mix;
        px[4 * p + 2] = 255 + (col[2] - 255) * mix;
        px[4 * p + 3] = 255;
      }
      mapCtx.putImageData(mapImage, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(mapCanvas, 0, 0, canvas.width, canvas.height);
      const S = canvas.width;
      const dot = (X, labels, outline) => {
        for (let i = 0; i < X.rows; i++) {
          const x = ((X.data[2 * i] + 1) / 2) * S,
            y = ((1 - X.data[2 * i + 1]) / 2) * S;
          ctx.beginPath();
          ctx.arc(x, y, 3.2, 0, 2 * Math.PI);
          ctx.fillStyle = CLASS_COLOURS[labels[i] % CLASS_COLOURS.length];
          ctx.fill();
          ctx.lineWidth = outline ? 1.6 : 1;
          ctx.strokeStyle = outline ? "#000" : "#fff";
          ctx.stroke();
        }
      };
      dot(lab.train.X, lab.train.labels, false);
      if (state.showTest) dot(lab.test.X, lab.test.labels, true);
      // Axes: the square is [−1, 1]², x₁ across and x₂ up.
      ctx.fillStyle = "#333";
      ctx.font = "11px system-ui, sans-serif";
      ctx.textAlign = "left";
      ctx.fillText("x₂ ↑", 4, 12);
      ctx.textAlign = "right";
      ctx.fillText("x₁ →", S - 4, S - 5);
    }

    function drawChart() {
      const canvas = $("chart"),
        ctx = canvas.getContext("2d");
      const W = canvas.width,
        H = canvas.height,
        pad = { l: 44, r: 8, t: 8, b: 22 };
      ctx.clearRect(0, 0, W, H);
      const h = lab.history;
      const top = Math.max(
        1e-9,
        ...h.map((p) =>
          Math.max(Number.isFinite(p.train) ? p.train : 0, Number.isFinite(p.test) ? p.test : 0),
        ),
      );
      const last = Math.max(1, h.length ? h[h.length - 1].updates : 1);
      const X = (u) => pad.l + ((W - pad.l - pad.r) * u) / last;
      const Y = (c) => H - pad.b - ((H - pad.t - pad.b) * Math.min(c, top)) / top;
      ctx.strokeStyle = "#bbb";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(pad.l, pad.t);
      ctx.lineTo(pad.l, H - pad.b);
      ctx.lineTo(W - pad.r, H - pad.b);
      ctx.stroke();
      ctx.fillStyle = "#555";
      ctx.font = "10px system-ui, sans-serif";
      ctx.textAlign = "right";
      ctx.fillText(short(top), pad.l - 4, pad.t + 8);
      ctx.fillText("0", pad.l - 4, H - pad.b);
      ctx.textAlign = "center";
      ctx.fillText(`${last} ${t("updates")}`, (pad.l + W - pad.r) / 2, H - 6);
      const line = (key, colour, dash) => {
        ctx.strokeStyle = colour;
        ctx.setLineDash(dash);
        ctx.lineWidth = 1.8;
        ctx.beginPath();
        h.forEach((p, i) => (i ? ctx.lineTo(X(p.updates), Y(p[key])) : ctx.moveTo(X(p.updates), Y(p[key]))));
        ctx.stroke();
        ctx.setLineDash([]);
      };
      line("test", "#888", [5, 3]);
      line("train", "#222", []);
    }

    function drawCounters() {
      const nb = Math.ceil(lab.train.X.rows / batchSize());
      const p = lab.history[lab.history.length - 1];
      $("counters").replaceChildren(
        el("span", {}, t("counters", { e: lab.ts.epoch + 1, b: lab.ts.batch + 1, nb, s: lab.updates })),
        el("br"),
        el(
          "span",
          {},
          t("costs", { tr: short(p.train), te: short(p.test), atr: percent(p.atr), ate: percent(p.ate) }),
        ),
      );
      $("play").textContent = state.playing ? `⏸ ${t("pause")}` : `▶ ${t("play")}`;
    }

    function drawPlayground() {
      const trace = N.feedforwardTrace(lab.net.weights, lab.net.biases, lab.net.activations, gridX);
      drawNetwork(trace);
      drawDecision(trace);
      drawChart();
    }

    function buildLayerControls() {
      const box = $("layer-controls");
      box.replaceChildren();
      box.style.width = `${layout.width}px`;
      box.style.height = "54px";
      const at = (l, ...kids) => {
        const d = el("div", { class: "layer-ctl" }, ...kids);
        d.style.left = `${layout.xs[l]}px`;
        box.append(d);
      };
      at(0, el("div", { class: "layer-name" }, t("input_layer")), el("div", { class: "note" }, "x₁, x₂"));
      state.hidden.forEach((h, i) => {
        const sel = el(
          "select",
          { "aria-label": t("hidden_n", { n: i + 1 }) },
          ACT_NAMES.map((a) => el("option", { value: a, selected: a === h.act ? "selected" : null }, a)),
        );
        sel.addEventListener("change", () => {
          const before = h.act;
          h.act = sel.value;
          if (!makeNetwork()) h.act = before;
          refresh(true);
        });
        const plus = el("button", { title: t("neuron_plus"), on: { click: () => neurons(i, +1) } }, "+");
        const minus = el("button", { title: t("neuron_minus"), on: { click: () => neurons(i, -1) } }, "−");
        plus.disabled = h.n >= MAX_NEURONS;
        minus.disabled = h.n <= 1;
        at(
          i + 1,
          el("div", { class: "layer-name" }, t("hidden_n", { n: i + 1 })),
          el("div", {}, minus, el("span", { class: "count" }, String(h.n)), plus),
          sel,
        );
      });
      const out = el(
        "select",
        { "aria-label": t("output_layer") },
        OUT_NAMES.map((a) => el("option", { value: a, selected: a === state.output ? "selected" : null }, a)),
      );
      out.addEventListener("change", () => {
        const before = state.output;
        state.output = out.value;
        if (!makeNetwork()) state.output = before;
        refresh(true);
      });
      at(
        state.hidden.length + 1,
        el("div", { class: "layer-name" }, t("output_layer")),
        el("div", { class: "note" }, t("neurons", { n: lab.nClasses })),
        out,
      );
      $("layer-count").textContent = t("hidden_layers", { n: state.hidden.length });
      $("layer-plus").disabled = state.hidden.length >= MAX_HIDDEN;
      $("layer-minus").disabled = state.hidden.length === 0;
    }

    function neurons(i, d) {
      const h = state.hidden[i];
      h.n = Math.min(Math.max(h.n + d, 1), MAX_NEURONS);
      makeNetwork();
      refresh(true);
    }

    function layers(d) {
      if (d > 0 && state.hidden.length < MAX_HIDDEN) {
        const last = state.hidden[state.hidden.length - 1];
        state.hidden.push({ n: last ? last.n : 4, act: last ? last.act : "tanh" });
      }
      if (d < 0 && state.hidden.length > 0) state.hidden.pop();
      makeNetwork();
      refresh(true);
    }

    /** What is under the pointer in the diagram: a neuron or a weight (its bezier's middle). */
    function hitTest(x, y) {
      const { nodes } = layout;
      for (let l = 0; l < nodes.length; l++) {
        for (let j = 0; j < nodes[l].length; j++) {
          const p = nodes[l][j];
          if (Math.abs(x - p.x) <= NODE / 2 && Math.abs(y - p.y) <= NODE / 2)
            return { kind: "neuron", l: l + 1, j };
        }
      }
      let best = null,
        dist = 6;
      const W = lab.net.weights;
      for (let i = 0; i < W.length; i++) {
        for (let j = 0; j < W[i].rows; j++) {
          for (let k = 0; k < W[i].cols; k++) {
            const a = nodes[i][k],
              b = nodes[i + 1][j];
            for (let s = 0; s <= 16; s++) {
              const u = s / 16,
                x0 = a.x + NODE / 2,
                x1 = b.x - NODE / 2,
                mx = (a.x + b.x) / 2;
              const bx =
                (1 - u) ** 3 * x0 + 3 * (1 - u) ** 2 * u * mx + 3 * (1 - u) * u * u * mx + u ** 3 * x1;
              const by =
                (1 - u) ** 3 * a.y + 3 * (1 - u) ** 2 * u * a.y + 3 * (1 - u) * u * u * b.y + u ** 3 * b.y;
              const d = Math.hypot(bx - x, by - y);
              if (d < dist) {
                dist = d;
                best = { kind: "weight", i, j, k };
              }
            }
          }
        }
      }
      return best;
    }

    function describe(hit) {
      if (hit.kind === "weight") {
        return `${wText(hit.i + 2, hit.j, hit.k)} = ${fmt(N.get(lab.net.weights[hit.i], hit.j, hit.k))}`;
      }
      if (hit.l === 1) return `x${subText(hit.j + 1)}`;
      return `a${supText(hit.l)}${subText(hit.j + 1)}, b${supText(hit.l)}${subText(hit.j + 1)} = ${fmt(lab.net.biases[hit.l - 2][hit.j])}`;
    }

    function drawLegends() {
      $("net-legend").replaceChildren(
        el("div", {}, legendSign(t)),
        el("div", {}, t("legend_lines")),
        el("div", {}, t("legend_click")),
        el("div", { class: "note" }, t("legend_maps")),
        el("div", { class: "note" }, t("legend_unbounded")),
      );
      const names = Array.from({ length: lab.nClasses }, (_, c) => className(c));
      $("class-legend").replaceChildren(
        el(
          "div",
          {},
          names.map((name, c) => {
            const sw = el("span", { class: "swatch" });
            sw.style.background = CLASS_COLOURS[c % CLASS_COLOURS.length];
            return el(
              "span",
              { class: "cls" },
              sw,
              state.data.kind === "csv" ? name : t("class_n", { n: name }),
            );
          }),
        ),
        el("div", { class: "note" }, t("decision_note")),
      );
      const line = (colour, dash, text) => {
        const s = el("span", { class: "line" });
        s.style.borderTop = `2px ${dash ? "dashed" : "solid"} ${colour}`;
        return el("span", { class: "cls" }, s, text);
      };
      $("chart-legend").replaceChildren(
        line("#222", false, t("chart_train")),
        line("#888", true, t("chart_test")),
      );
    }

    return {
      layers,
      computeLayout,
      draw: drawPlayground,
      drawLegends,
      drawCounters,
      hitTest,
      describe,
      hasLayout: () => layout !== null,
    };
  };
})(typeof self !== "undefined" ? self : this);
