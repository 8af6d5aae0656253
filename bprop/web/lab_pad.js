/* bprop lab's digit pad: draw a digit, see it prepared, fed forward and classified.
 *
 * The drawing is prepared by bpropImages exactly as bprop predict prepares an image, then
 * fed through the model (784 inputs) by bpropNet.feedforwardTrace; the view shows the 28×28
 * input, every layer's activations, the outputs bprop predict reports, and the first
 * layer's weights as 28×28 images.  The model's parameters arrive as base64 of their exact
 * float64 (or float32) values.
 */
(function (root) {
  "use strict";
  root.bpropPad = function (app) {
    const { N, IM, DATA, $, t } = app;
    const { el, v, fill, rgb, signColour, percent, legendSign } = root.bpropView;

    const pad = { net: null, input: null, trace: null, neuron: 0, source: null, images: [] };

    function decodeFloats(b64, dtype) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const view = new DataView(bytes.buffer);
      const size = dtype === "float32" ? 4 : 8;
      const out = new Float64Array(bytes.length / size);
      for (let i = 0; i < out.length; i++)
        out[i] = size === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
      return out;
    }

    function loadModel() {
      const m = DATA.model;
      const net = new N.Network(m.sizes, m.activations, m.cost, { init: "glorot", seed: 0 });
      net.weights = m.weights.map((b64, i) =>
        N.matrix(m.sizes[i + 1], m.sizes[i], decodeFloats(b64, m.dtype)),
      );
      net.biases = m.biases.map((b64) => decodeFloats(b64, m.dtype));
      pad.net = net;
      if (DATA.images) {
        const bytes = Uint8Array.from(atob(DATA.images.pixels), (c) => c.charCodeAt(0));
        pad.images = DATA.images.labels.map((c, i) => ({
          label: c,
          pixels: bytes.subarray(784 * i, 784 * (i + 1)),
        }));
      }
    }

    function padCanvas() {
      return $("pad-canvas");
    }

    function clearPad() {
      const ctx = padCanvas().getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, 280, 280);
      pad.input = null;
      pad.source = null;
      drawPad();
    }

    /** Prepare the drawing as bprop predict would, run the network, redraw; returns the ms. */
    function padUpdate() {
      const t0 = performance.now();
      const c = padCanvas();
      const rgba = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      const g = IM.grayFromRGBA(rgba, c.width, c.height);
      const x = DATA.model.style === "fashion-mnist" ? IM.toFashionMnist(g) : IM.toMnist(g);
      pad.input = x;
      pad.source = x ? "drawing" : null;
      drawPad();
      return performance.now() - t0;
    }

    function loadExample(n) {
      const img = pad.images[n];
      pad.input = Float64Array.from(img.pixels, (p) => p / 255);
      pad.source = n;
      const ctx = padCanvas().getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, 280, 280);
      for (let p = 0; p < 784; p++) {
        const g = 255 - img.pixels[p];
        if (g === 255) continue;
        ctx.fillStyle = `rgb(${g},${g},${g})`;
        ctx.fillRect((p % 28) * 10, Math.floor(p / 28) * 10, 10, 10);
      }
      drawPad();
    }

    /** How bprop predict reports an output: softmax outputs are probabilities (a percentage);
     * other outputs a^L are shown as they are, "a = 0.998", for they are not probabilities. */
    function softmaxOutputs() {
      return pad.net.activations[pad.net.activations.length - 1].name === "softmax";
    }

    function outputText(q) {
      return softmaxOutputs() ? percent(q) : `a = ${q.toFixed(3)}`;
    }

    function drawPad() {
      const m = DATA.model;
      const inputCtx = $("pad-input").getContext("2d");
      inputCtx.fillStyle = "#000";
      inputCtx.fillRect(0, 0, 168, 168);
      $("pad-source").textContent =
        pad.source === null
          ? ""
          : pad.source === "drawing"
            ? t("drawing")
            : t("from_test", { i: pad.source + 1, c: m.class_names[pad.images[pad.source].label] });
      if (pad.input === null) {
        pad.trace = null;
        $("answer").replaceChildren(el("p", { class: "note" }, t("blank")));
        drawPadLayers();
        drawNeuronDetail();
        return;
      }
      for (let p = 0; p < 784; p++) {
        const g = Math.round(255 * pad.input[p]);
        inputCtx.fillStyle = `rgb(${g},${g},${g})`;
        inputCtx.fillRect((p % 28) * 6, Math.floor(p / 28) * 6, 6, 6);
      }
      const x = N.matrix(1, 784, Float64Array.from(pad.input));
      pad.trace = N.feedforwardTrace(pad.net.weights, pad.net.biases, pad.net.activations, x);
      const a = pad.trace.activations[pad.trace.activations.length - 1].data;
      const p = Float64Array.from(a);
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
      const bars = Array.from(p, (q, c) =>
        el(
          "div",
          { class: `bar${c === best ? " best" : ""}`, "data-class": c },
          el("span", { class: "name" }, m.class_names[c]),
          el(
            "span",
            { class: "track" },
            (() => {
              const f = el("span", { class: "fill" });
              f.style.width = `${Math.max(0, Math.min(1, q)) * 100}%`;
              return f;
            })(),
          ),
          el("span", { class: "p" }, softmaxOutputs() ? percent(q) : q.toFixed(3)),
        ),
      );
      $("answer").replaceChildren(
        el(
          "p",
          { class: "verdict", id: "verdict", "data-class": best },
          t("answer", { name: m.class_names[best], p: outputText(p[best]) }),
        ),
        ...bars,
        ...(softmaxOutputs() ? [] : [el("p", { class: "note" }, t("outputs_note"))]),
      );
      drawPadLayers();
      drawNeuronDetail();
    }

    function drawPadLayers() {
      const box = $("pad-layers");
      const sizes = pad.net.sizes;
      const rows = [];
      for (let l = 2; l < sizes.length; l++) {
        const n = sizes[l - 1],
          cols = Math.ceil(Math.sqrt(n)),
          cell = 14;
        const c = el("canvas", {
          width: cols * cell,
          height: Math.ceil(n / cols) * cell,
          class: "layer-grid",
          "data-layer": l,
        });
        const ctx = c.getContext("2d");
        const a = pad.trace ? pad.trace.activations[l - 1].data : null;
        const actName = pad.net.activations[l - 2].name;
        const scale =
          ["sigmoid", "tanh", "softmax"].includes(actName) || !a
            ? 1
            : Math.max(1e-12, ...Array.from(a, Math.abs));
        const px = [0, 0, 0, 0];
        for (let j = 0; j < n; j++) {
          signColour(a ? a[j] / scale : 0, px, 0);
          ctx.fillStyle = rgb(px);
          ctx.fillRect((j % cols) * cell, Math.floor(j / cols) * cell, cell - 1, cell - 1);
          if (l === 2 && j === pad.neuron) {
            ctx.strokeStyle = "#000";
            ctx.lineWidth = 2;
            ctx.strokeRect((j % cols) * cell + 1, Math.floor(j / cols) * cell + 1, cell - 3, cell - 3);
          }
        }
        if (l === 2) {
          c.addEventListener("click", (e) => {
            const r = c.getBoundingClientRect();
            const j =
              Math.floor(((e.clientY - r.top) * c.height) / r.height / cell) * cols +
              Math.floor(((e.clientX - r.left) * c.width) / r.width / cell);
            if (j < n) pickNeuron(j);
          });
        }
        rows.push(
          el(
            "div",
            { class: "pad-layer" },
            el("div", { class: "layer-name" }, `${t("layer", { l })}: ${actName}, ${t("neurons", { n })}`),
            c,
          ),
        );
      }
      box.replaceChildren(...rows, legendSign(t));
    }

    const TILE = 42; // a hidden neuron's 28×28 weights, drawn this many pixels wide
    let tiles = null; // every neuron's tile, drawn once (the weights never change)

    function drawWeightTiles() {
      const W = pad.net.weights[0],
        n = W.rows,
        cols = Math.min(n, 10);
      tiles = document.createElement("canvas");
      tiles.width = cols * TILE;
      tiles.height = Math.ceil(n / cols) * TILE;
      const ctx = tiles.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      const img = ctx.createImageData(28, 28);
      const tmp = document.createElement("canvas");
      tmp.width = tmp.height = 28;
      for (let j = 0; j < n; j++) {
        const row = W.data.subarray(j * 784, (j + 1) * 784);
        let top = 0;
        for (const w of row) top = Math.max(top, Math.abs(w));
        for (let p = 0; p < 784; p++) signColour(row[p] / (top || 1), img.data, 4 * p);
        tmp.getContext("2d").putImageData(img, 0, 0);
        ctx.drawImage(tmp, (j % cols) * TILE + 1, Math.floor(j / cols) * TILE + 1, TILE - 2, TILE - 2);
      }
      const c = $("pad-weights");
      c.width = tiles.width;
      c.height = tiles.height;
      c.onclick = (e) => {
        const r = c.getBoundingClientRect();
        const j =
          Math.floor(((e.clientY - r.top) * c.height) / r.height / TILE) * cols +
          Math.floor(((e.clientX - r.left) * c.width) / r.width / TILE);
        if (j < n) pickNeuron(j);
      };
      showTiles();
    }

    /** The tiles, the chosen neuron's outlined. */
    function showTiles() {
      const c = $("pad-weights"),
        ctx = c.getContext("2d"),
        cols = Math.min(pad.net.weights[0].rows, 10);
      ctx.clearRect(0, 0, c.width, c.height);
      ctx.drawImage(tiles, 0, 0);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 2;
      ctx.strokeRect(
        (pad.neuron % cols) * TILE + 1,
        Math.floor(pad.neuron / cols) * TILE + 1,
        TILE - 2,
        TILE - 2,
      );
    }

    function pickNeuron(j) {
      pad.neuron = j;
      showTiles();
      drawPadLayers();
      drawNeuronDetail();
    }

    function drawNeuronDetail() {
      const j = pad.neuron,
        W = pad.net.weights[0];
      const row = W.data.subarray(j * 784, (j + 1) * 784);
      const big = (values, key) => {
        const c = el("canvas", { width: 140, height: 140, class: "big", "data-key": key });
        const ctx = c.getContext("2d");
        let top = 0;
        for (const w of values) top = Math.max(top, Math.abs(w));
        const px = [0, 0, 0, 0];
        for (let p = 0; p < 784; p++) {
          signColour(values[p] / (top || 1), px, 0);
          ctx.fillStyle = rgb(px);
          ctx.fillRect((p % 28) * 5, Math.floor(p / 28) * 5, 5, 5);
        }
        return c;
      };
      const kids = [];
      if (pad.trace) {
        const z = N.get(pad.trace.zs[0], 0, j),
          a = N.get(pad.trace.activations[1], 0, j);
        kids.push(
          el("p", { id: "detail-line" }, fill(t("detail"), { j: String(j + 1), z: v("z", z), a: v("a", a) })),
        );
        const wx = row.map((w, p) => w * pad.input[p]);
        kids.push(
          el(
            "div",
            { class: "row" },
            el("figure", {}, big(row, "w"), el("figcaption", {}, t("detail_w"))),
            el("figure", {}, big(wx, "wx"), el("figcaption", {}, t("detail_wx"))),
          ),
        );
      } else {
        kids.push(el("p", { id: "detail-line" }, fill(t("detail"), { j: String(j + 1), z: "—", a: "—" })));
        kids.push(
          el("div", { class: "row" }, el("figure", {}, big(row, "w"), el("figcaption", {}, t("detail_w")))),
        );
      }
      $("neuron-detail").replaceChildren(...kids);
    }

    function buildExamples() {
      const box = $("examples");
      box.replaceChildren(
        ...pad.images.map((img, n) => {
          const c = el("canvas", {
            width: 28,
            height: 28,
            class: "thumb",
            title: DATA.model.class_names[img.label],
            "data-n": n,
          });
          const ctx = c.getContext("2d");
          const id = ctx.createImageData(28, 28);
          for (let p = 0; p < 784; p++) {
            id.data[4 * p] = id.data[4 * p + 1] = id.data[4 * p + 2] = 255 - img.pixels[p];
            id.data[4 * p + 3] = 255;
          }
          ctx.putImageData(id, 0, 0);
          c.addEventListener("click", () => loadExample(n));
          return c;
        }),
      );
    }

    function setupPadDrawing() {
      const c = padCanvas(),
        ctx = c.getContext("2d");
      let last = null,
        queued = false;
      const point = (e) => {
        const r = c.getBoundingClientRect();
        return [((e.clientX - r.left) * c.width) / r.width, ((e.clientY - r.top) * c.height) / r.height];
      };
      const schedule = () => {
        if (queued) return;
        queued = true;
        requestAnimationFrame(() => {
          queued = false;
          padUpdate();
        });
      };
      c.addEventListener("pointerdown", (e) => {
        e.preventDefault();
        c.setPointerCapture(e.pointerId);
        if (pad.source !== null && pad.source !== "drawing") {
          ctx.fillStyle = "#fff";
          ctx.fillRect(0, 0, 280, 280);
        }
        last = point(e);
        ctx.fillStyle = "#000";
        ctx.beginPath();
        ctx.arc(last[0], last[1], 9, 0, 2 * Math.PI);
        ctx.fill();
        schedule();
      });
      c.addEventListener("pointermove", (e) => {
        if (last === null) return;
        const p = point(e);
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 18;
        ctx.lineCap = "round";
        ctx.lineJoin = "round";
        ctx.beginPath();
        ctx.moveTo(last[0], last[1]);
        ctx.lineTo(p[0], p[1]);
        ctx.stroke();
        last = p;
        schedule();
      });
      const end = () => {
        last = null;
      };
      c.addEventListener("pointerup", end);
      c.addEventListener("pointercancel", end);
    }

    function load() {
      loadModel();
      buildExamples();
      drawWeightTiles();
    }

    return {
      load,
      setup: setupPadDrawing,
      draw: drawPad,
      update: padUpdate,
      loadExample,
      clear: clearPad,
      pad,
    };
  };
})(typeof self !== "undefined" ? self : this);
