/* bprop lab's inspect view: every number of the next mini-batch step, and step mode.
 *
 * Click a weight: w^l_jk, the inputs a^(l−1)_k and errors δ^l_j of the mini-batch's examples,
 * ∂C/∂w^l_jk by BP4 (their products averaged) and the update.  Click a neuron: z, a = σ(z),
 * σ′(z) and δ by BP1 or BP2, term by term, for one example.  Step mode walks one update as the
 * seeds' article does: the forward pass layer by layer, the cost, BP1, BP2 per layer, BP3,
 * BP4 and the update, highlighting what each equation touches.  The numbers are bpropNet's
 * backprop of that mini-batch; nothing here computes a gradient.
 */
(function (root) {
  "use strict";
  root.bpropInspect = function (app) {
    const { N, state, lab, $, t, activationNames, className, refresh, batchSize, currentRows } = app;
    const { currentBackprop, preview, options, trainOne, record, say } = app;
    const {
      el,
      svg,
      v,
      vp,
      fp,
      sym,
      jk,
      wText,
      supText,
      subText,
      fsum,
      rgb,
      POS,
      NEG,
      signColour,
      legendSign,
    } = root.bpropView;
    const fmt = root.bpropWords.number;

    function stages() {
      const L = lab.net.sizes.length;
      const list = [];
      for (let l = 2; l <= L; l++) list.push({ kind: "forward", l });
      list.push({ kind: "cost" }, { kind: "bp1" });
      for (let l = L - 1; l >= 2; l--) list.push({ kind: "bp2", l });
      list.push({ kind: "bp3" }, { kind: "bp4" }, { kind: "update" });
      return list;
    }

    function stageTitle(s) {
      if (s.kind === "forward") return t("st_forward", { l: s.l });
      if (s.kind === "bp2") return t("st_bp2", { l: s.l });
      return t(`st_${s.kind}`);
    }

    /** The inspector's diagram: circles for neurons, lines for weights, ids for highlighting. */
    function drawInspectSvg(bp) {
      const sz = lab.net.sizes;
      const gapX = 150,
        gapY = 62,
        r = 19;
      const height = Math.max(...sz) * gapY + 30,
        width = (sz.length - 1) * gapX + 110;
      const pos = (l, j) => [55 + (l - 1) * gapX, height / 2 + (j - (sz[l - 1] - 1) / 2) * gapY];
      const root = svg("svg", {
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        id: "inspect-net",
        role: "img",
      });
      const W = lab.net.weights;
      for (let i = 0; i < W.length; i++) {
        for (let j = 0; j < W[i].rows; j++) {
          for (let k = 0; k < W[i].cols; k++) {
            const w = N.get(W[i], j, k);
            const [x1, y1] = pos(i + 1, k),
              [x2, y2] = pos(i + 2, j);
            const sel =
              state.selected &&
              state.selected.kind === "weight" &&
              state.selected.i === i &&
              state.selected.j === j &&
              state.selected.k === k;
            const g = svg(
              "g",
              {
                class: `edge${sel ? " sel" : ""}`,
                id: `edge-${i + 2}-${j + 1}-${k + 1}`,
                "data-layer": i + 2,
              },
              svg("title", {}, `${wText(i + 2, j, k)} = ${fmt(w)}`),
              svg("line", {
                class: "vis",
                x1,
                y1,
                x2,
                y2,
                stroke: rgb(w >= 0 ? POS : NEG),
                "stroke-width": 0.8 + 3.2 * Math.min(Math.abs(w) / 2, 1),
              }),
              svg("line", { class: "hit", x1, y1, x2, y2 }),
            );
            activate(g, () => select({ kind: "weight", i, j, k }));
            root.append(g);
          }
        }
      }
      const L = sz.length;
      for (let l = 1; l <= L; l++) {
        for (let j = 0; j < sz[l - 1]; j++) {
          const [x, y] = pos(l, j);
          const a = N.get(bp.activations[l - 1], state.example, j);
          const name = l === 1 ? `x${subText(j + 1)}` : `a${supText(l)}${subText(j + 1)}`;
          const kind = l === 1 ? "input" : l === L ? "output" : "hidden";
          const sel =
            state.selected &&
            state.selected.kind === "neuron" &&
            state.selected.l === l &&
            state.selected.j === j;
          const scale = l === 1 || ["sigmoid", "tanh", "softmax"].includes(activationNames()[l - 2]) ? 1 : 2;
          const fill = [0, 0, 0, 0];
          signColour(a / scale, fill, 0);
          const g = svg(
            "g",
            { class: `node ${kind}${sel ? " sel" : ""}`, id: `node-${l}-${j + 1}`, "data-layer": l },
            svg("title", {}, `${name} = ${fmt(a)}`),
            svg("circle", { cx: x, cy: y, r, fill: rgb(fill) }),
            svg("text", { x, y: y + 4, "text-anchor": "middle" }, name),
          );
          activate(g, () => select({ kind: "neuron", l, j }));
          root.append(g);
        }
      }
      const focused = document.activeElement && document.activeElement.id;
      $("inspect-svg").replaceChildren(root);
      if (focused && root.querySelector(`#${focused}`)) root.querySelector(`#${focused}`).focus();
    }

    /** Click, or Enter / Space from the keyboard (the element takes the focus with Tab). */
    function activate(g, f) {
      g.setAttribute("tabindex", "0");
      g.addEventListener("click", f);
      g.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          f();
        }
      });
    }

    function highlight(stage) {
      const root = $("inspect-net");
      if (!root) return;
      root.classList.toggle("dim", stage !== null);
      root.querySelectorAll(".hl").forEach((e) => e.classList.remove("hl"));
      if (stage === null) return;
      const L = lab.net.sizes.length;
      const mark = (sel) => root.querySelectorAll(sel).forEach((e) => e.classList.add("hl"));
      const nodes = (l) => mark(`.node[data-layer="${l}"]`);
      const edges = (l) => mark(`.edge[data-layer="${l}"]`);
      if (stage.kind === "forward") {
        nodes(stage.l - 1);
        edges(stage.l);
        nodes(stage.l);
      } else if (stage.kind === "cost" || stage.kind === "bp1") nodes(L);
      else if (stage.kind === "bp2") {
        nodes(stage.l);
        edges(stage.l + 1);
        nodes(stage.l + 1);
      } else if (stage.kind === "bp3") for (let l = 2; l <= L; l++) nodes(l);
      else if (stage.kind === "bp4" || stage.kind === "update") {
        for (let l = 1; l <= L; l++) nodes(l);
        for (let l = 2; l <= L; l++) edges(l);
      }
    }

    function select(item) {
      state.selected = item;
      state.stage = null;
      refresh(false);
    }

    const eq = (...parts) => el("div", { class: "eq" }, ...parts);
    const para = (text) => el("p", {}, text);

    /** A table: header cells, then rows of cells (strings or elements). */
    function table(head, rows, cls) {
      return el(
        "table",
        { class: cls || "nums" },
        el(
          "tr",
          {},
          head.map((h) => el("th", {}, h)),
        ),
        rows.map((r) =>
          el(
            "tr",
            { class: r.cls || null },
            (r.cells || r).map((c) => el("td", {}, c)),
          ),
        ),
      );
    }

    function activationOf(l) {
      return lab.net.activations[l - 2];
    }

    function weightPanel(bp, sel) {
      const { i, j, k } = sel;
      const l = i + 2,
        m = bp.x.rows;
      const w = N.get(lab.net.weights[i], j, k);
      const aPrev = bp.activations[i],
        delta = bp.delta[i];
      const aSym = () => (l === 2 ? sym("x", k + 1) : sym("a", k + 1, l - 1));
      const dSym = () => sym("δ", j + 1, l);
      const rows = [];
      for (let x = 0; x < m; x++) {
        const a = N.get(aPrev, x, k),
          d = N.get(delta, x, j);
        rows.push({
          cls: x === state.example ? "cur" : null,
          cells: [String(x + 1), v(`a_in/${x}`, a), v(`delta/${x}`, d), v(`prod/${x}`, a * d)],
        });
      }
      rows.push({ cls: "total", cells: [t("mean"), "", "", v("grad", N.get(bp.nablaW[i], j, k))] });
      const next = preview(bp);
      const upd = [];
      const o = options();
      if (o.momentum) {
        upd.push(
          eq(
            sym("v", jk(j, k), l),
            "⁺ = μ",
            sym("v", jk(j, k), l),
            " − η(∂C/∂",
            sym("w", jk(j, k), l),
            " + (λ/n)",
            sym("w", jk(j, k), l),
            ") = ",
            v("velocity", N.get(next.velocityW[i], j, k)),
          ),
        );
        upd.push(
          eq(
            sym("w", jk(j, k), l),
            "⁺ = ",
            sym("w", jk(j, k), l),
            " + ",
            sym("v", jk(j, k), l),
            "⁺ = ",
            v("updated", N.get(next.weights[i], j, k)),
          ),
        );
      } else {
        upd.push(
          eq(
            sym("w", jk(j, k), l),
            "⁺ = (1 − ηλ/n)",
            sym("w", jk(j, k), l),
            " − η ∂C/∂",
            sym("w", jk(j, k), l),
            " = ",
            v("updated", N.get(next.weights[i], j, k)),
          ),
        );
      }
      return [
        el("h3", {}, t("w_title", { w: wText(l, j, k), k: k + 1, lp: l - 1, j: j + 1, l })),
        eq(sym("w", jk(j, k), l), " = ", v("w", w)),
        para(t("w_bp4", { m })),
        eq(
          "∂C/∂",
          sym("w", jk(j, k), l),
          " = (1/m) Σ",
          el("sub", {}, "x"),
          " ",
          aSym(),
          " ",
          dSym(),
          " = ",
          v("grad_eq", N.get(bp.nablaW[i], j, k)),
        ),
        table([t("col_x"), aSym(), dSym(), el("span", {}, aSym(), " ", dSym())], rows),
        para(t("w_update", { eta: state.eta, lmbda: state.lmbda, mu: state.momentum, n: o.n })),
        ...upd,
      ];
    }

    function neuronPanel(bp, sel) {
      const { l, j } = sel;
      const L = lab.net.sizes.length,
        x = state.example;
      if (l === 1) {
        return [
          el("h3", {}, t("n_title_in", { j: j + 1 })),
          eq(sym("x", j + 1), " = ", v("out", N.get(bp.activations[0], x, j))),
        ];
      }
      const i = l - 2,
        act = activationOf(l);
      const z = N.get(bp.zs[i], x, j),
        a = N.get(bp.activations[l - 1], x, j);
      const delta = N.get(bp.delta[i], x, j);
      const out = [
        el("h3", {}, t("n_title", { j: j + 1, l, kind: t(l === L ? "output" : "hidden"), x: x + 1 })),
      ];
      const terms = [];
      const nIn = lab.net.sizes[l - 2];
      for (let k = 0; k < nIn; k++) {
        terms.push(
          el(
            "span",
            {},
            k
              ? vp(`in_w/${k}`, N.get(lab.net.weights[i], j, k))
              : v(`in_w/${k}`, N.get(lab.net.weights[i], j, k)),
            " · ",
            vp(`in_a/${k}`, N.get(bp.activations[i], x, k)),
            k < nIn - 1 ? " + " : "",
          ),
        );
      }
      out.push(
        eq(
          sym("z", j + 1, l),
          " = Σ",
          el("sub", {}, "k"),
          " ",
          sym("w", `${j + 1}k`, l),
          " ",
          l === 2 ? sym("x", "k") : sym("a", "k", l - 1),
          " + ",
          sym("b", j + 1, l),
        ),
      );
      out.push(eq(" = ", ...terms, " + ", v("bias", lab.net.biases[i][j]), " = ", v("net", z)));
      out.push(
        eq(
          sym("a", j + 1, l),
          " = σ(",
          sym("z", j + 1, l),
          ") = ",
          act.name,
          "(",
          fmt(z),
          ") = ",
          v("out", a),
        ),
      );
      const prime = act.elementwise ? act.prime(z, a) : null;
      if (prime !== null) out.push(eq("σ′(", sym("z", j + 1, l), ") = ", v("prime", prime)));
      if (l === L) {
        out.push(para(t("n_bp1")));
        const g = lab.net.cost.nablaA(N.takeRows(bp.activations[L - 1], [x]), N.takeRows(bp.y, [x]));
        const dOut = g.data[j];
        out.push(eq("∂C/∂", sym("a", j + 1, l), " = ", v("d_out", dOut)));
        if (lab.net.cost.isExact(act)) {
          out.push(para(t("bp1_simplified")));
          out.push(
            eq(
              sym("δ", j + 1, l),
              " = ",
              sym("a", j + 1, l),
              " − ",
              sym("y", j + 1),
              " = ",
              fmt(a),
              " − ",
              v("target", N.get(bp.y, x, j)),
              " = ",
              v("delta", delta),
            ),
          );
        } else if (!act.elementwise) {
          out.push(para(t("bp1_softmax")));
          out.push(eq(sym("δ", j + 1, l), " = ", v("delta", delta)));
        } else {
          out.push(
            eq(
              sym("δ", j + 1, l),
              " = ∂C/∂",
              sym("a", j + 1, l),
              " · σ′(",
              sym("z", j + 1, l),
              ") = ",
              fmt(dOut),
              " · ",
              fp(prime),
              " = ",
              v("delta", delta),
            ),
          );
        }
      } else {
        const nNext = lab.net.sizes[l];
        out.push(para(t("n_bp2", { q: nNext })));
        const rows = [],
          parts = [];
        for (let q = 0; q < nNext; q++) {
          const w = N.get(lab.net.weights[i + 1], q, j),
            d = N.get(bp.delta[i + 1], x, q);
          rows.push([
            String(q + 1),
            v(`path/${q}/w`, w),
            v(`path/${q}/delta`, d),
            v(`path/${q}/value`, d * w),
          ]);
          parts.push(d * w);
        }
        out.push(
          table(
            [
              "q",
              sym("w", `q${j + 1}`, l + 1),
              sym("δ", "q", l + 1),
              el("span", {}, sym("w", `q${j + 1}`, l + 1), " ", sym("δ", "q", l + 1)),
            ],
            rows,
          ),
        );
        const dOut = fsum(parts);
        out.push(
          eq(
            "∂C/∂",
            sym("a", j + 1, l),
            " = Σ",
            el("sub", {}, "q"),
            " ",
            sym("w", `q${j + 1}`, l + 1),
            " ",
            sym("δ", "q", l + 1),
            " = ",
            v("d_out", dOut),
          ),
        );
        out.push(
          eq(
            sym("δ", j + 1, l),
            " = ∂C/∂",
            sym("a", j + 1, l),
            " · σ′(",
            sym("z", j + 1, l),
            ") = ",
            fmt(dOut),
            " · ",
            fp(prime),
            " = ",
            v("delta", delta),
          ),
        );
      }
      out.push(para(t("n_bp3")));
      out.push(
        eq(
          "∂C/∂",
          sym("b", j + 1, l),
          " = (1/m) Σ",
          el("sub", {}, "x"),
          " ",
          sym("δ", j + 1, l),
          " = ",
          v("nabla_b", bp.nablaB[i][j]),
        ),
      );
      return out;
    }

    function stagePanel(bp, stage) {
      const x = state.example,
        L = lab.net.sizes.length,
        m = bp.x.rows;
      const out = [el("h3", {}, stageTitle(stage))];
      if (stage.kind === "forward") {
        const l = stage.l,
          i = l - 2;
        out.push(
          eq(
            sym("z", "", l),
            " = ",
            sym("w", "", l),
            " ",
            sym("a", "", l - 1),
            " + ",
            sym("b", "", l),
            ",   ",
            sym("a", "", l),
            " = σ(",
            sym("z", "", l),
            ")",
          ),
        );
        out.push(para(t("fwd_text", { l, act: activationOf(l).name })));
        const rows = [];
        for (let j = 0; j < lab.net.sizes[l - 1]; j++) {
          rows.push([
            String(j + 1),
            v(`z/${l}/${j}`, N.get(bp.zs[i], x, j)),
            v(`a/${l}/${j}`, N.get(bp.activations[l - 1], x, j)),
          ]);
        }
        out.push(table(["j", sym("z", "j", l), sym("a", "j", l)], rows));
      } else if (stage.kind === "cost") {
        out.push(para(t("cost_text")));
        const rows = [];
        for (let j = 0; j < lab.net.sizes[L - 1]; j++) {
          rows.push([
            String(j + 1),
            v(`a/${L}/${j}`, N.get(bp.activations[L - 1], x, j)),
            v(`y/${j}`, N.get(bp.y, x, j)),
          ]);
        }
        out.push(table(["j", sym("a", "j", L), sym("y", "j")], rows));
        out.push(eq(sym("C", "x"), " = ", v("cost_x", bp.costs[x])));
        out.push(
          eq(
            "C = (1/m) Σ",
            el("sub", {}, "x"),
            " ",
            sym("C", "x"),
            " = ",
            v("cost", N.pairwiseSum(bp.costs, 0, m) / m),
          ),
        );
      } else if (stage.kind === "bp1") {
        const act = activationOf(L);
        out.push(eq(sym("δ", "", "L"), " = ∇", el("sub", {}, "a"), "C ⊙ σ′(", sym("z", "", "L"), ")"));
        out.push(para(t("bp1_text")));
        if (lab.net.cost.isExact(act)) out.push(para(t("bp1_simplified")));
        else if (!act.elementwise) out.push(para(t("bp1_softmax")));
        const g = lab.net.cost.nablaA(N.takeRows(bp.activations[L - 1], [x]), N.takeRows(bp.y, [x]));
        const rows = [];
        for (let j = 0; j < lab.net.sizes[L - 1]; j++) {
          const z = N.get(bp.zs[L - 2], x, j),
            a = N.get(bp.activations[L - 1], x, j);
          rows.push([
            String(j + 1),
            v(`d_out/${L}/${j}`, g.data[j]),
            act.elementwise ? v(`prime/${L}/${j}`, act.prime(z, a)) : "—",
            v(`delta/${L}/${j}`, N.get(bp.delta[L - 2], x, j)),
          ]);
        }
        out.push(
          table(
            [
              "j",
              el("span", {}, "∂C/∂", sym("a", "j", L)),
              el("span", {}, "σ′(", sym("z", "j", L), ")"),
              sym("δ", "j", L),
            ],
            rows,
          ),
        );
      } else if (stage.kind === "bp2") {
        const l = stage.l,
          i = l - 2,
          act = activationOf(l);
        out.push(
          eq(
            sym("δ", "", l),
            " = ((",
            sym("w", "", l + 1),
            ")",
            el("sup", {}, "T"),
            " ",
            sym("δ", "", l + 1),
            ") ⊙ σ′(",
            sym("z", "", l),
            ")",
          ),
        );
        out.push(para(t("bp2_text", { l, n: l + 1 })));
        const rows = [];
        for (let j = 0; j < lab.net.sizes[l - 1]; j++) {
          const parts = [];
          for (let q = 0; q < lab.net.sizes[l]; q++)
            parts.push(N.get(bp.delta[i + 1], x, q) * N.get(lab.net.weights[i + 1], q, j));
          const z = N.get(bp.zs[i], x, j),
            a = N.get(bp.activations[l - 1], x, j);
          rows.push([
            String(j + 1),
            v(`d_out/${l}/${j}`, fsum(parts)),
            v(`prime/${l}/${j}`, act.prime(z, a)),
            v(`delta/${l}/${j}`, N.get(bp.delta[i], x, j)),
          ]);
        }
        out.push(
          table(
            [
              "j",
              el("span", {}, "Σ", el("sub", {}, "q"), " ", sym("w", "qj", l + 1), " ", sym("δ", "q", l + 1)),
              el("span", {}, "σ′(", sym("z", "j", l), ")"),
              sym("δ", "j", l),
            ],
            rows,
          ),
        );
      } else if (stage.kind === "bp3") {
        out.push(eq("∂C/∂", sym("b", "j", "l"), " = ", sym("δ", "j", "l")));
        out.push(para(t("bp3_text", { m })));
        for (let l = 2; l <= L; l++) {
          const rows = Array.from(bp.nablaB[l - 2], (g, j) => [String(j + 1), v(`nabla_b/${l}/${j}`, g)]);
          out.push(
            el("h4", {}, t("layer", { l })),
            table(["j", el("span", {}, "∂C/∂", sym("b", "j", l))], rows),
          );
        }
      } else if (stage.kind === "bp4") {
        out.push(eq("∂C/∂", sym("w", "jk", "l"), " = ", sym("a", "k", "l−1"), " ", sym("δ", "j", "l")));
        out.push(para(t("bp4_text", { m })));
        for (let l = 2; l <= L; l++)
          out.push(el("h4", {}, t("layer", { l })), matrixTable(bp.nablaW[l - 2], `nabla_w/${l}`));
      } else {
        const next = preview(bp),
          o = options();
        const wrule = o.momentum ? "w + v, v → μv − η(∂C/∂w + (λ/n) w)" : "(1 − ηλ/n) w − η ∂C/∂w";
        const brule = o.momentum ? "b + v, v → μv − η ∂C/∂b" : "b − η ∂C/∂b";
        out.push(
          para(
            t("update_text", {
              wrule,
              brule,
              eta: state.eta,
              lmbda: state.lmbda,
              mu: state.momentum,
              n: o.n,
            }),
          ),
        );
        for (let l = 2; l <= L; l++) {
          out.push(el("h4", {}, t("layer", { l })), matrixTable(next.weights[l - 2], `w_new/${l}`));
          out.push(
            table(
              ["j", el("span", {}, sym("b", "j", l), "⁺")],
              Array.from(next.biases[l - 2], (b, j) => [String(j + 1), v(`b_new/${l}/${j}`, b)]),
            ),
          );
        }
      }
      return out;
    }

    function matrixTable(mat, key) {
      const head = ["j \\ k"];
      for (let k = 0; k < mat.cols; k++) head.push(String(k + 1));
      const rows = [];
      for (let j = 0; j < mat.rows; j++) {
        const r = [String(j + 1)];
        for (let k = 0; k < mat.cols; k++) r.push(v(`${key}/${j}/${k}`, N.get(mat, j, k)));
        rows.push(r);
      }
      return table(head, rows, "nums matrix");
    }

    function drawInspect() {
      const bp = currentBackprop();
      const m = bp.x.rows;
      state.example = Math.min(state.example, m - 1);
      const nb = Math.ceil(lab.train.X.rows / batchSize());
      $("batch-info").replaceChildren(
        el("p", {}, t("batch_info", { b: `${lab.ts.batch + 1}/${nb}`, e: lab.ts.epoch + 1, m })),
      );
      const picker = $("example-picker");
      const row = bp.rows[state.example];
      const xs = [N.get(lab.train.X, row, 0), N.get(lab.train.X, row, 1)];
      picker.replaceChildren(
        el("span", {}, `${t("example")} `),
        el("button", { class: "tool", id: "ex-prev", on: { click: () => pickExample(-1) } }, "◀"),
        el("strong", { id: "ex-num" }, ` ${state.example + 1} / ${m} `),
        el("button", { class: "tool", id: "ex-next", on: { click: () => pickExample(+1) } }, "▶"),
        el(
          "span",
          { class: "note" },
          "  ",
          t("example_of", { x1: fmt(xs[0]), x2: fmt(xs[1]), c: className(lab.train.labels[row]) }),
        ),
      );
      drawInspectSvg(bp);
      $("step-start").textContent = state.stage === null ? t("step_start") : t("step_stop");
      $("step-prev").disabled = state.stage === null || state.stage === 0;
      $("step-next").disabled = state.stage === null;
      const list = stages();
      $("stages").replaceChildren(
        ...list.map((s, n) =>
          el(
            "li",
            {
              class: n === state.stage ? "cur" : null,
              on: {
                click: () => {
                  state.stage = n;
                  refresh(false);
                },
              },
            },
            stageTitle(s),
          ),
        ),
      );
      $("stages").hidden = state.stage === null;
      let content;
      if (state.stage !== null) content = stagePanel(bp, list[state.stage]);
      else if (state.selected && state.selected.kind === "weight") content = weightPanel(bp, state.selected);
      else if (state.selected) content = neuronPanel(bp, state.selected);
      else content = [para(t("inspect_hint"))];
      $("panel").replaceChildren(...content);
      highlight(state.stage === null ? null : list[state.stage]);
      $("inspect-legend").replaceChildren(
        el("div", {}, legendSign(t)),
        el("div", {}, t("legend_lines")),
        el("div", {}, t("legend_circles")),
      );
    }

    function pickExample(d) {
      const m = currentRows().length;
      state.example = (state.example + d + m) % m;
      refresh(false);
    }

    function stepForward() {
      const list = stages();
      if (state.stage === null) return;
      if (state.stage < list.length - 1) state.stage += 1;
      else {
        if (trainOne()) {
          record();
          say(t("applied"));
        }
        state.stage = 0;
      }
      refresh(false);
    }

    return { draw: drawInspect, select, stepForward };
  };
})(typeof self !== "undefined" ? self : this);
