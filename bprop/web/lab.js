/* bprop lab: the page's state, its training, its controls and its frame loop.
 *
 * Every setting is in one object, `state`; the network, the data and where training is are in
 * `lab`.  The math is lab_net.js (bpropNet), the pad's preprocessing lab_images.js
 * (bpropImages), the 2-D data sets lab_data.js (bpropData), the words lab_words.js; the views
 * (lab_playground.js, lab_inspect.js, lab_pad.js) draw.  This file trains only through
 * bpropNet.step, so the page's training is bprop's.  Text from the user's files (class names,
 * the data set's name) only ever goes in as text, never as HTML.
 */
(function () {
  "use strict";
  const N = bpropNet,
    IM = bpropImages,
    D = bpropData;
  const DATA = JSON.parse(document.getElementById("lab-data").textContent);
  const $ = (id) => document.getElementById(id);

  let lang = DATA.lang === "zh" ? "zh" : "en";
  /** The words for `key` in the page's language. */
  const t = (key, vars) => bpropWords.words(lang, key, vars);
  const { el, short } = bpropView;

  // -- the state: every setting in one object ------------------------------------------------

  const ACT_NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"];
  const OUT_NAMES = ["sigmoid", "softmax", "tanh", "relu", "leaky_relu", "identity"];
  const MAX_HIDDEN = 6,
    MAX_NEURONS = 8;

  const state = {
    tab: "playground",
    data: {
      kind: DATA.playground ? "csv" : "circle",
      classes: 3,
      points: 500,
      noise: 0.1,
      testShare: 0.3,
      seed: 1,
    },
    hidden: [
      { n: 4, act: "tanh" },
      { n: 4, act: "tanh" },
    ],
    output: "softmax",
    cost: "log-likelihood",
    init: "standard",
    seed: 1,
    eta: 0.3,
    lmbda: 0,
    momentum: 0,
    batch: 10,
    speed: 5,
    showTest: false,
    playing: false,
    selected: null, // {kind: "weight", i, j, k} (w^(i+2)_jk) or {kind: "neuron", l, j}
    example: 0, // which example of the mini-batch the inspector shows
    stage: null, // the step mode's stage, or null
  };

  // -- the model: network, data, and where training is --------------------------------------

  const lab = {
    net: null,
    initial: null,
    train: null, // {X, Y, labels}
    test: null,
    nClasses: 2,
    ts: null, // bpropNet.TrainState
    updates: 0,
    history: [], // {updates, train, test}
    diverged: null,
    fixedBatch: null, // rows given through bpropLab.load (the tests), instead of the shuffle
  };

  function matrixOf(rows) {
    return N.fromRows(rows);
  }

  function setData(split) {
    lab.nClasses = split.nClasses;
    const part = (p) => ({ X: matrixOf(p.X), Y: N.oneHot(p.y, split.nClasses), labels: p.y });
    lab.train = part(split.train);
    lab.test = part(split.test);
  }

  function makeData() {
    const s = state.data;
    const r = N.rng([s.seed, 17]);
    let all;
    if (s.kind === "csv") {
      const p = DATA.playground;
      all = { X: p.X, y: p.y, nClasses: p.class_names.length };
    } else {
      all = D.make(s.kind, s.points, s.noise, s.classes, r);
    }
    setData(D.split(all, s.testShare, r, N.permutation));
  }

  function sizes() {
    return [2, ...state.hidden.map((h) => h.n), lab.nClasses];
  }

  function className(c) {
    if (DATA.playground && state.data.kind === "csv") return DATA.playground.class_names[c];
    return String(c);
  }

  function activationNames() {
    return [...state.hidden.map((h) => h.act), state.output];
  }

  /** A new network from the settings; false (and a message) when bprop would refuse it. */
  function makeNetwork() {
    try {
      lab.net = new N.Network(sizes(), activationNames(), state.cost, { init: state.init, seed: state.seed });
    } catch (e) {
      const why = e.rule
        ? t("rule_unit_interval", { cost: t(`cost_${e.rule.cost}`), act: e.rule.act })
        : e.message;
      say(t("pairing", { why }), true);
      return false;
    }
    lab.initial = lab.net.parameters();
    restart();
    return true;
  }

  /** Back to the initial weights, the first mini-batch, an empty history. */
  function restart() {
    lab.net.setParameters(lab.initial);
    lab.ts = new N.TrainState(state.seed);
    lab.updates = 0;
    lab.history = [];
    lab.diverged = null;
    state.stage = state.stage === null ? null : 0;
    record();
    say("");
  }

  function options() {
    return { eta: state.eta, lmbda: state.lmbda, momentum: state.momentum, n: lab.train.X.rows };
  }

  function batchSize() {
    return Math.min(Math.max(1, state.batch), lab.train.X.rows);
  }

  /** The rows of the next mini-batch (what Step will train on, what Inspect shows). */
  function currentRows() {
    if (lab.fixedBatch) return lab.fixedBatch;
    return N.nextBatch(lab.ts, lab.train.X.rows, batchSize(), true);
  }

  /** BP1–BP4 on the next mini-batch, without updating anything. */
  function currentBackprop() {
    const rows = currentRows();
    const x = N.takeRows(lab.train.X, rows),
      y = N.takeRows(lab.train.Y, rows);
    const bp = lab.net.backprop(x, y);
    const c = lab.net.cost.fn(bp.output, y);
    bp.costs = c;
    bp.x = x;
    bp.y = y;
    bp.rows = rows;
    return bp;
  }

  /** The parameters (and velocities) after the update of `bp`, computed by bpropNet.update. */
  function preview(bp) {
    const copy = {
      weights: lab.net.weights.map(N.copy),
      biases: lab.net.biases.map((b) => Float64Array.from(b)),
    };
    const ts = {
      velocityW: lab.ts.velocityW && lab.ts.velocityW.map(N.copy),
      velocityB: lab.ts.velocityB && lab.ts.velocityB.map((b) => Float64Array.from(b)),
    };
    const o = options();
    N.update(
      copy,
      bp.nablaB.map((b) => Float64Array.from(b)),
      bp.nablaW.map(N.copy),
      o.eta,
      o.lmbda / o.n,
      o.momentum,
      true,
      ts,
    );
    return { weights: copy.weights, biases: copy.biases, velocityW: ts.velocityW, velocityB: ts.velocityB };
  }

  /** Train on one mini-batch; false when the cost was not finite (nothing is updated then). */
  function trainOne() {
    if (lab.diverged) return false;
    const rows = currentRows();
    const bp = N.step(lab.net, lab.train.X, lab.train.Y, rows, options(), lab.ts);
    if (!Number.isFinite(bp.cost)) {
      lab.diverged = bp.cost;
      state.playing = false;
      say(t("diverged", { c: bp.cost, eta: state.eta, eta10: state.eta / 10 }), true);
      return false;
    }
    N.advance(lab.ts, lab.train.X.rows, batchSize());
    lab.updates += 1;
    return true;
  }

  function accuracy(split) {
    const out = lab.net.feedforward(split.X);
    const d = N.decide(out);
    let hits = 0;
    for (let i = 0; i < d.length; i++) hits += d[i] === split.labels[i] ? 1 : 0;
    return { cost: lab.net.cost.mean(out, split.Y), accuracy: hits / d.length };
  }

  /** Note the train and test cost now (the train cost with bprop's (λ/2n) Σ w² term). */
  function record() {
    const tr = accuracy(lab.train),
      te = accuracy(lab.test);
    const trainCost = tr.cost + lab.net.weightCost(state.lmbda, lab.train.X.rows); // bprop's total_cost
    lab.history.push({
      updates: lab.updates,
      train: trainCost,
      test: te.cost,
      atr: tr.accuracy,
      ate: te.accuracy,
    });
    if (lab.history.length > 600)
      lab.history = lab.history.filter((_, i) => i % 2 === 0 || i === lab.history.length - 1);
  }

  // -- messages ------------------------------------------------------------------------------

  function say(text, bad) {
    const m = $("message");
    m.textContent = text;
    m.className = bad ? "bad" : "";
  }

  // -- the controls --------------------------------------------------------------------------

  function fillSelect(id, values, label, current) {
    const s = $(id);
    s.replaceChildren(
      ...values.map((v) => el("option", { value: v, selected: v === current ? "selected" : null }, label(v))),
    );
  }

  function translate() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-t]").forEach((e) => (e.textContent = t(e.dataset.t)));
    document.querySelectorAll("[data-t-title]").forEach((e) => (e.title = t(e.dataset.tTitle)));
    document
      .querySelectorAll("#langs button")
      .forEach((b) => b.classList.toggle("on", b.dataset.lang === lang));
    const kinds = [...(DATA.playground ? ["csv"] : []), ...D.KINDS];
    fillSelect("dataset", kinds, (k) => (k === "csv" ? DATA.playground.name : t(`ds_${k}`)), state.data.kind);
    fillSelect("cost", Object.keys(N.COSTS), (c) => t(`cost_${c}`), state.cost);
    fillSelect("init", N.INITIALISATIONS, (i) => t(`init_${i}`), state.init);
    $("pad-none").textContent = t("pad_none");
    if (DATA.model) {
      const m = DATA.model;
      $("pad-none").textContent = t("model_line", {
        name: m.name,
        sizes: m.sizes.join("-"),
        acts: m.activations.join(", "),
        ds: m.dataset || "",
      });
      document.querySelector("[data-t=sees_note]").textContent = t(
        m.style === "fashion-mnist" ? "sees_note_fashion" : "sees_note",
      );
    }
  }

  function dataNote() {
    const p = DATA.playground,
      note = $("data-note");
    $("classes-row").hidden = state.data.kind !== "blobs";
    for (const id of ["points", "noise", "data-seed"])
      $(id).closest("label").hidden = state.data.kind === "csv";
    if (state.data.kind === "csv") {
      const [[a1, b1], [a2, b2]] = p.ranges;
      note.textContent = t("csv_note", {
        name: p.name,
        n: p.y.length,
        k: p.class_names.length,
        a1: short(a1),
        b1: short(b1),
        a2: short(a2),
        b2: short(b2),
      });
    } else note.textContent = "";
    $("noise-v").textContent = `${Math.round(state.data.noise * 100)}%`;
    $("test-share-v").textContent = `${Math.round(state.data.testShare * 100)}%`;
  }

  function number(id, min, fallback) {
    // a control's value, or fallback when it is no good
    const x = Number($(id).value);
    return Number.isFinite(x) && x >= min ? x : fallback;
  }

  function wire() {
    document
      .querySelectorAll("#tabs button")
      .forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
    document.querySelectorAll("#langs button").forEach((b) =>
      b.addEventListener("click", () => {
        lang = b.dataset.lang;
        translate();
        refresh(true);
        if (DATA.model) padView.draw();
      }),
    );
    $("play").addEventListener("click", () => {
      state.playing = !state.playing && !lab.diverged;
      state.stage = null;
      refresh(false);
    });
    $("step").addEventListener("click", () => {
      state.playing = false;
      if (trainOne()) record();
      refresh(false);
    });
    $("reset").addEventListener("click", () => {
      state.playing = false;
      restart();
      refresh(false);
    });
    $("speed").addEventListener("change", () => (state.speed = Number($("speed").value)));
    const dataChange = () => {
      state.data.kind = $("dataset").value;
      state.data.classes = Number($("classes").value);
      state.data.points = Number($("points").value);
      state.data.noise = Number($("noise").value) / 100;
      state.data.testShare = Number($("test-share").value) / 100;
      state.data.seed = number("data-seed", 0, state.data.seed);
      makeData();
      if (!makeNetwork()) return;
      refresh(true);
    };
    for (const id of ["dataset", "classes", "points", "data-seed"])
      $(id).addEventListener("change", dataChange);
    for (const id of ["noise", "test-share"]) $(id).addEventListener("input", dataChange);
    $("cost").addEventListener("change", () => {
      const before = state.cost;
      state.cost = $("cost").value;
      if (!makeNetwork()) {
        state.cost = before;
        $("cost").value = before;
      }
      refresh(true);
    });
    $("init").addEventListener("change", () => {
      state.init = $("init").value;
      makeNetwork();
      refresh(true);
    });
    $("seed").addEventListener("change", () => {
      state.seed = number("seed", 0, state.seed);
      makeNetwork();
      refresh(true);
    });
    // η, λ, μ and m change how training goes on from here; the weights stay.
    const setting = (id, key, ok, words, after) =>
      $(id).addEventListener("change", () => {
        const x = Number($(id).value);
        if ($(id).value.trim() !== "" && Number.isFinite(x) && ok(x)) {
          state[key] = x;
          say("");
          if (after) after();
        } else {
          say(t(words), true);
          $(id).value = String(state[key]);
        }
        refresh(false);
      });
    setting("eta", "eta", (x) => x > 0, "bad_eta");
    setting("lmbda", "lmbda", (x) => x >= 0, "bad_lmbda");
    setting("momentum", "momentum", (x) => x >= 0 && x < 1, "bad_momentum");
    setting(
      "batch",
      "batch",
      (x) => Number.isInteger(x) && x >= 1,
      "bad_batch",
      () => {
        lab.ts.batch = 0; // the epoch starts over in mini-batches of the new size
      },
    );
    $("show-test").addEventListener("change", () => {
      state.showTest = $("show-test").checked;
      refresh(false);
    });
    $("layer-plus").addEventListener("click", () => playground.layers(+1));
    $("layer-minus").addEventListener("click", () => playground.layers(-1));
    $("step-start").addEventListener("click", () => {
      state.stage = state.stage === null ? 0 : null;
      state.playing = false;
      refresh(false);
    });
    $("step-prev").addEventListener("click", () => {
      if (state.stage > 0) state.stage -= 1;
      refresh(false);
    });
    $("step-next").addEventListener("click", () => inspect.stepForward());
    const canvas = $("net-canvas"),
      tip = $("tooltip");
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return playground.hitTest(e.clientX - r.left, e.clientY - r.top);
    };
    canvas.addEventListener("mousemove", (e) => {
      const hit = at(e);
      tip.hidden = !hit;
      if (!hit) return;
      tip.textContent = playground.describe(hit);
      const r = canvas.getBoundingClientRect();
      tip.style.left = `${e.clientX - r.left + 12}px`;
      tip.style.top = `${e.clientY - r.top + 12}px`;
    });
    canvas.addEventListener("mouseleave", () => (tip.hidden = true));
    canvas.addEventListener("click", (e) => {
      const hit = at(e);
      if (!hit) return;
      state.playing = false;
      state.selected = hit;
      state.stage = null;
      showTab("inspect");
    });
    window.addEventListener("resize", () => refresh(true));
    if (DATA.model) {
      $("pad-clear").addEventListener("click", () => padView.clear());
      padView.setup();
    }
  }

  function showTab(tab) {
    state.tab = tab;
    document
      .querySelectorAll("#tabs button")
      .forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === tab)));
    for (const id of ["playground", "inspect", "pad"]) $(id).hidden = id !== tab;
    $("toolbar").hidden = tab === "pad";
    $("message").hidden = tab === "pad";
    if (tab === "pad" && DATA.model) padView.draw();
    refresh(tab === "playground");
  }

  // -- drawing, frame by frame ---------------------------------------------------------------

  let relayout = true;

  /** Redraw what is on screen; `structure` when the network or the page's size changed. */
  function refresh(structure) {
    if (structure) relayout = true;
    if (state.tab === "playground") {
      if (relayout && $("playground").offsetParent !== null) {
        playground.computeLayout();
        relayout = false;
      }
      if (playground.hasLayout()) playground.draw();
      if (structure) playground.drawLegends();
    }
    if (state.tab === "inspect") inspect.draw();
    dataNote();
    playground.drawCounters();
  }

  /** One frame while playing: `speed` mini-batches, then every heat map and the chart. */
  function frame() {
    if (state.playing) tick();
    requestAnimationFrame(frame);
  }

  /** A frame's work: `speed` mini-batches, the costs, and every heat map and chart redrawn. */
  function tick() {
    for (let s = 0; s < state.speed && trainOne(); s++);
    record();
    refresh(false);
  }

  /** Write the settings into the controls, so the page shows what `state` holds. */
  function syncControls() {
    const d = state.data;
    const pairs = [
      ["dataset", d.kind],
      ["classes", d.classes],
      ["points", d.points],
      ["noise", d.noise * 100],
      ["test-share", d.testShare * 100],
      ["data-seed", d.seed],
      ["cost", state.cost],
      ["eta", state.eta],
      ["lmbda", state.lmbda],
      ["momentum", state.momentum],
      ["batch", state.batch],
      ["init", state.init],
      ["seed", state.seed],
      ["speed", state.speed],
    ];
    for (const [id, value] of pairs) $(id).value = String(value);
    $("show-test").checked = state.showTest;
  }

  // -- for the tests and the benchmark: the page's state and a way to set it -----------------

  window.bpropLab = {
    state,
    lab,
    N,
    /**
     * Load a network and data: {sizes, activations, cost, weights, biases (as bprop
     * exports them), X (rows), y (labels), eta, lmbda, momentum, and either batch (rows of X:
     * every step trains on them) or mini_batch_size (steps shuffle as usual); test: {X, y}
     * (by default X and y)}.
     */
    load(p) {
      state.playing = false;
      state.hidden = p.sizes.slice(1, -1).map((n, i) => ({ n, act: p.activations[i] }));
      state.output = p.activations[p.activations.length - 1];
      state.cost = p.cost;
      state.eta = p.eta;
      state.lmbda = p.lmbda || 0;
      state.momentum = p.momentum || 0;
      state.batch = p.batch ? p.batch.length : p.mini_batch_size;
      state.example = 0;
      state.selected = null;
      state.stage = null;
      const nClasses = p.sizes[p.sizes.length - 1];
      setData({ train: { X: p.X, y: p.y }, test: p.test || { X: p.X, y: p.y }, nClasses });
      lab.fixedBatch = p.batch || null;
      lab.net = new N.Network(p.sizes, p.activations, p.cost, { weights: p.weights, biases: p.biases });
      lab.initial = lab.net.parameters();
      restart();
      syncControls();
      refresh(true);
    },
    /**
     * Change settings as the controls would: {data: {kind, points, noise, testShare, classes,
     * seed}, hidden: [{n, act}], output, cost, init, seed, eta, lmbda, momentum, batch, speed}.
     * A new network and data set are made from them.
     */
    set(settings) {
      state.playing = false;
      const { data, ...rest } = settings;
      Object.assign(state.data, data || {});
      Object.assign(state, rest);
      lab.fixedBatch = null;
      makeData();
      const ok = makeNetwork();
      syncControls();
      refresh(true);
      return ok;
    },
    tick,
    select: (item) => inspect.select(item),
    trainOne,
    refresh,
    padUpdate: () => padView.update(),
    loadExample: (n) => padView.loadExample(n),
    clearPad: () => padView.clear(),
    /** The labels of the pad's test images, in the order of their thumbnails. */
    pictures: () => padView.pad.images.map((img) => img.label),
    /** The pad's network (bpropNet.Network). */
    padNetwork: () => padView.pad.net,
    /** The pad's 28×28 input (784 numbers), or null when nothing is drawn. */
    padInput: () => (padView.pad.input ? Array.from(padView.pad.input) : null),
    showTab,
    parameters: () => ({
      weights: lab.net.weights.map(N.toRows),
      biases: lab.net.biases.map((b) => Array.from(b)),
    }),
  };

  // -- start ---------------------------------------------------------------------------------

  const app = {
    N,
    IM,
    D,
    DATA,
    $,
    t,
    state,
    lab,
    say,
    refresh,
    makeNetwork,
    activationNames,
    className,
    options,
    batchSize,
    currentRows,
    currentBackprop,
    preview,
    trainOne,
    record,
    ACT_NAMES,
    OUT_NAMES,
    MAX_HIDDEN,
    MAX_NEURONS,
  };
  const playground = bpropPlayground(app),
    inspect = bpropInspect(app),
    padView = bpropPad(app);

  makeData();
  makeNetwork();
  $("pad-main").hidden = !DATA.model;
  if (DATA.model) padView.load();
  translate();
  wire();
  showTab(DATA.tab || "playground");
  if (DATA.model) padView.clear();
  // A network trained in Python (bprop.notebook.lab), with its points: the playground opens on it.
  if (DATA.network) window.bpropLab.load(DATA.network);
  requestAnimationFrame(frame);
})();
