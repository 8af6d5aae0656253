/* bprop lab's words: every label and sentence of the page, in English and Chinese, and the
 * way it writes numbers (bprop.explain's: 9 decimals, trailing zeros dropped).
 *
 * One entry per key: [English, 中文], with {name} places that the page fills in.  The Chinese
 * follows the terms of the seeds' article and of bprop explain (权值, 截距项, 隐含层, 学习速率,
 * 误差函数).  No DOM here: lab.js puts the words into the page.
 */
(function (root, factory) {
  "use strict";
  if (typeof module !== "undefined" && module.exports) module.exports = factory();
  else root.bpropWords = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const WORDS = {
    tab_playground: ["Playground", "训练场"],
    tab_inspect: ["Inspect", "逐项查看"],
    tab_pad: ["Digit pad", "手写板"],
    reset: ["Reset", "重置"],
    reset_tip: [
      "Back to the same initial weights and the first mini-batch",
      "回到相同的初始权值和第一个小批量",
    ],
    play: ["Play", "开始"],
    pause: ["Pause", "暂停"],
    step: ["Step", "单步"],
    step_tip: ["Train on one mini-batch", "用一个小批量训练一次"],
    speed: ["mini-batches per frame", "每帧小批量数"],
    counters: [
      "epoch {e} · mini-batch {b} of {nb} · {s} updates",
      "第 {e} 轮 · 第 {b}/{nb} 个小批量 · 共更新 {s} 次",
    ],
    costs: [
      "cost: train {tr}, test {te} · accuracy: train {atr}, test {ate}",
      "误差: 训练 {tr}, 测试 {te} · 正确率: 训练 {atr}, 测试 {ate}",
    ],
    h_data: ["Data", "数据"],
    dataset: ["Data set", "数据集"],
    ds_circle: ["circle", "圆环"],
    ds_xor: ["XOR", "异或"],
    ds_spirals: ["two spirals", "双螺旋"],
    ds_blobs: ["gaussian blobs", "高斯团"],
    classes: ["Classes", "类别数"],
    points: ["Points", "样本点数"],
    noise: ["Noise", "噪声"],
    test_share: ["Test share", "测试集比例"],
    data_seed: ["Data seed", "数据种子"],
    csv_note: [
      "{name}: {n} points, {k} classes; x₁ scaled from [{a1}, {b1}], x₂ from [{a2}, {b2}] to [−1, 1].",
      "{name}: {n} 个样本点, {k} 类; x₁ 由 [{a1}, {b1}]、x₂ 由 [{a2}, {b2}] 线性缩放到 [−1, 1].",
    ],
    h_training: ["Training", "训练"],
    cost: ["Cost", "误差函数"],
    cost_quadratic: ["quadratic", "平方误差"],
    "cost_cross-entropy": ["cross-entropy", "交叉熵"],
    "cost_log-likelihood": ["log-likelihood", "对数似然"],
    eta: ["Learning rate η", "学习速率 η"],
    lmbda: ["L2 regularisation λ", "L2 正则化 λ"],
    momentum: ["Momentum μ", "动量 μ"],
    batch: ["Mini-batch size m", "小批量大小 m"],
    init: ["Initial weights", "初始权值"],
    init_standard: ["standard N(0,1)", "standard N(0,1)"],
    init_scaled: ["scaled N(0,1/n)", "scaled N(0,1/n)"],
    init_glorot: ["glorot", "glorot"],
    init_he: ["he", "he"],
    seed: ["Weight seed", "权值种子"],
    h_network: ["Network", "网络"],
    layer_plus: ["Add a hidden layer", "增加一个隐含层"],
    layer_minus: ["Remove a hidden layer", "去掉一个隐含层"],
    hidden_layers: ["{n} hidden layers", "{n} 个隐含层"],
    neuron_plus: ["Add a neuron", "增加一个神经元"],
    neuron_minus: ["Remove a neuron", "去掉一个神经元"],
    input_layer: ["input", "输入层"],
    output_layer: ["output", "输出层"],
    hidden_n: ["hidden {n}", "隐含层 {n}"],
    neurons: ["{n} neurons", "{n} 个神经元"],
    legend_maps: [
      "Each square: what the neuron computes, a = σ(z), over the whole input plane (x₁ across, x₂ up).",
      "每个方块: 该神经元在整个输入平面上的输出 a = σ(z) (x₁ 向右, x₂ 向上).",
    ],
    legend_values: ["negative", "负"],
    legend_zero: ["0", "0"],
    legend_positive: ["positive", "正"],
    legend_lines: ["Lines: weights, thickness = |w|.", "连线: 权值, 粗细 = |w|."],
    legend_click: [
      "Hover over a square or a line to read its bias or weight; click it to see all its numbers in Inspect.",
      "把鼠标移到方块或连线上可看到截距项或权值; 点击它, 在“逐项查看”中看到它的全部数值.",
    ],
    legend_circles: [
      "Circles: the neurons, coloured by their activation a on the example shown.",
      "圆圈: 神经元, 颜色表示它对当前样本的激活值 a.",
    ],
    legend_unbounded: [
      "ReLU, leaky ReLU and identity maps are scaled to their largest |a|.",
      "ReLU、leaky ReLU 和 identity 的方块按各自最大的 |a| 缩放.",
    ],
    h_output: ["Output: the decision regions", "输出: 分类区域"],
    decision_note: [
      "Colour: the class the network picks (its largest output); paler where it is less sure.",
      "颜色: 网络选出的类别 (输出最大的神经元); 越淡表示越不确定.",
    ],
    show_test: ["show the test points (outlined)", "显示测试样本 (带黑边)"],
    class_n: ["class {n}", "类别 {n}"],
    h_cost: ["Cost during training", "训练过程中的误差"],
    chart_train: ["train C (mean C_x + (λ/2n) Σ w²)", "训练集 C (C_x 的平均 + (λ/2n) Σ w²)"],
    chart_test: ["test C (mean C_x)", "测试集 C (C_x 的平均)"],
    updates: ["updates", "更新次数"],
    diverged: [
      "Training diverged: the cost became {c}. The learning rate η = {eta} is too large for this network: try {eta10}. Press Reset.",
      "训练发散: 误差变成了 {c}. 学习速率 η = {eta} 对这个网络太大了: 试试 {eta10}. 请按重置.",
    ],
    batch_info: [
      "The next mini-batch: number {b} of epoch {e}, m = {m} examples. Every number below is computed for it, before the update.",
      "下一个小批量: 第 {e} 轮的第 {b} 个, m = {m} 个样本. 下面的每个数都是对它计算的, 在更新之前.",
    ],
    example: ["Example", "样本"],
    example_of: ["x = ({x1}, {x2}), class {c}", "x = ({x1}, {x2}), 类别 {c}"],
    inspect_hint: [
      "Click a weight (a line) or a neuron (a circle) to see its numbers, or walk one update in step mode.",
      "点击一个权值 (连线) 或一个神经元 (圆圈) 查看它的数值, 或用单步演示走完一次更新.",
    ],
    step_start: ["Step mode: walk one update", "单步演示: 走完一次更新"],
    step_stop: ["Leave step mode", "退出单步演示"],
    st_forward: ["Forward pass, layer {l}", "前向传播, 第 {l} 层"],
    st_cost: ["Cost", "误差"],
    st_bp1: ["BP1: the output error δᴸ", "BP1: 输出层误差 δᴸ"],
    st_bp2: ["BP2: the error of layer {l}", "BP2: 第 {l} 层的误差"],
    st_bp3: ["BP3: the biases' gradient", "BP3: 截距项的梯度"],
    st_bp4: ["BP4: the weights' gradient", "BP4: 权值的梯度"],
    st_update: ["The update", "更新"],
    fwd_text: [
      "Each neuron j of layer {l} adds up its weighted inputs and applies σ = {act}:",
      "第 {l} 层的每个神经元 j 把加权输入相加, 再经过激活函数 σ = {act}:",
    ],
    cost_text: [
      "The cost of this example, and the mean over the mini-batch:",
      "这个样本的误差, 以及整个小批量的平均误差:",
    ],
    bp1_text: ["The error of the output layer, one neuron at a time:", "输出层的误差, 逐个神经元:"],
    bp1_simplified: [
      "With this cost and output activation σ′ cancels: δᴸ = aᴸ − y.",
      "对这种误差函数和输出层激活函数, σ′ 恰好约去: δᴸ = aᴸ − y.",
    ],
    bp1_softmax: [
      "Softmax is not element-wise: δ^L_j = a_j (∂C/∂a_j − Σ_k ∂C/∂a_k a_k), its whole Jacobian.",
      "softmax 不是逐元素的函数: δ^L_j = a_j (∂C/∂a_j − Σ_k ∂C/∂a_k a_k), 用到整个雅可比矩阵.",
    ],
    bp2_text: [
      "The errors of layer {n} flow back along the weights into layer {l}:",
      "第 {n} 层的误差沿着权值传回第 {l} 层:",
    ],
    bp3_text: [
      "Each bias's gradient is its neuron's δ, averaged over the m = {m} examples of the mini-batch:",
      "每个截距项的梯度就是它的神经元的 δ, 对小批量的 m = {m} 个样本取平均:",
    ],
    bp4_text: [
      "Each weight's gradient: the input it carries times the δ it feeds, averaged over the m = {m} examples (row j, column k):",
      "每个权值的梯度: 它传递的输入乘以它所连接的神经元的 δ, 对 m = {m} 个样本取平均 (第 j 行, 第 k 列):",
    ],
    update_text: [
      "w → {wrule}, b → {brule}; η = {eta}, λ = {lmbda}, μ = {mu}, n = {n} training points. Press ▶ to apply it.",
      "w → {wrule}, b → {brule}; η = {eta}, λ = {lmbda}, μ = {mu}, n = {n} 个训练样本. 按 ▶ 执行这次更新.",
    ],
    applied: ["Applied: the network moved on to the next mini-batch.", "已更新: 网络转到下一个小批量."],
    layer: ["Layer {l}", "第 {l} 层"],
    w_title: [
      "Weight {w}: from neuron {k} of layer {lp} to neuron {j} of layer {l}",
      "权值 {w}: 从第 {lp} 层的神经元 {k} 到第 {l} 层的神经元 {j}",
    ],
    w_bp4: [
      "BP4, averaged over the m = {m} examples of the mini-batch:",
      "BP4, 对小批量的 m = {m} 个样本取平均:",
    ],
    w_update: [
      "The update (η = {eta}, λ = {lmbda}, μ = {mu}, n = {n}):",
      "更新 (η = {eta}, λ = {lmbda}, μ = {mu}, n = {n}):",
    ],
    n_title_in: ["Input neuron {j}", "输入神经元 {j}"],
    n_title: [
      "Neuron {j} of layer {l} ({kind}), example {x} of the mini-batch",
      "第 {l} 层 ({kind}) 的神经元 {j}, 小批量中的样本 {x}",
    ],
    hidden: ["hidden", "隐含层"],
    output: ["output", "输出层"],
    n_bp1: ["BP1 (an output neuron):", "BP1 (输出层神经元):"],
    n_bp2: [
      "BP2: its output goes to {q} neurons, so their errors flow back and add up:",
      "BP2: 它的输出传给 {q} 个神经元, 它们的误差传回来相加:",
    ],
    n_bp3: ["BP3, averaged over the mini-batch:", "BP3, 对小批量取平均:"],
    mean: ["mean", "平均"],
    col_x: ["x", "样本"],
    pad_none: [
      "The digit pad needs a model with 784 inputs: write the page with bprop lab --model RUN (a run folder or model .npz trained on MNIST or Fashion-MNIST).",
      "手写板需要一个 784 个输入的模型: 用 bprop lab --model RUN 生成本页 (RUN 是在 MNIST 或 Fashion-MNIST 上训练的运行目录或模型 .npz 文件).",
    ],
    h_draw: ["Draw here", "在这里书写"],
    clear: ["Clear", "清除"],
    h_examples: ["Test images: click one to load it", "测试图片: 点击载入"],
    from_test: ["test image {i} (label {c})", "测试图片 {i} (标签 {c})"],
    drawing: ["your drawing", "你的书写"],
    h_sees: ["What the network sees", "网络看到的输入"],
    sees_note: [
      "Prepared as bprop predict prepares an image: greyscale, inverted, cropped, fitted in 20×20, centred by centre of mass in 28×28.",
      "与 bprop predict 处理图片的方式相同: 灰度, 反色, 裁剪, 缩放到 20×20, 按重心放进 28×28.",
    ],
    sees_note_fashion: [
      "Prepared as bprop predict prepares an image: greyscale, inverted, cropped, fitted in 28×28 and centred.",
      "与 bprop predict 处理图片的方式相同: 灰度, 反色, 裁剪, 缩放到 28×28 并居中.",
    ],
    blank: ["Draw a digit (or click a test image).", "写一个数字 (或点击一张测试图片)."],
    h_answer: ["The network's answer", "网络的回答"],
    answer: ["{name}  ({p})", "{name}  ({p})"],
    outputs_note: [
      "The bars are the output neurons' activations a, not probabilities: sigmoid outputs need not sum to 1.",
      "条形是输出神经元的激活值 a, 不是概率: sigmoid 输出之和不必为 1.",
    ],
    h_layers: ["Activations, layer by layer", "各层的激活值"],
    h_weights: [
      "The first layer's weights, one 28×28 image per hidden neuron",
      "第一层的权值, 每个隐含神经元一张 28×28 图",
    ],
    weights_note: [
      "Blue: positive weight, orange: negative; each image scaled to its largest |w|. Click one (or a neuron above) to see its weights and its activation on the drawing.",
      "蓝色: 正权值, 橙色: 负权值; 每张图按各自最大的 |w| 缩放. 点击一张 (或上面的一个神经元), 查看它的权值和它对当前输入的激活值.",
    ],
    detail: [
      "Hidden neuron {j} of layer 2: z = Σ_k w_jk x_k + b_j = {z}, a = σ(z) = {a}",
      "第 2 层的隐含神经元 {j}: z = Σ_k w_jk x_k + b_j = {z}, a = σ(z) = {a}",
    ],
    detail_w: ["its weights w_jk", "它的权值 w_jk"],
    detail_wx: ["w_jk x_k on this input", "w_jk x_k (对当前输入)"],
    model_line: ["Model {name}: {sizes}, {acts}; {ds}", "模型 {name}: {sizes}, {acts}; {ds}"],
    bad_eta: ["The learning rate η must be a number > 0.", "学习速率 η 必须是大于 0 的数."],
    bad_lmbda: ["λ (L2 regularisation) must be a number ≥ 0.", "λ (L2 正则化) 必须是不小于 0 的数."],
    bad_momentum: ["The momentum μ must be in [0, 1).", "动量 μ 必须在 [0, 1) 之内."],
    bad_batch: ["The mini-batch size m must be a whole number ≥ 1.", "小批量大小 m 必须是不小于 1 的整数."],
    rule_unit_interval: [
      "the {cost} cost takes logarithms of the outputs, so it needs outputs in (0, 1): use a sigmoid or softmax output layer, not {act}",
      "{cost}误差函数要对输出取对数, 所以输出必须在 (0, 1) 之内: 输出层请用 sigmoid 或 softmax, 而不是 {act}",
    ],
    pairing: ["Not allowed: {why}", "不允许: {why}"],
  };

  /** The words for `key` in `lang` ("en" or "zh"), {name} places filled from vars. */
  function words(lang, key, vars) {
    const w = WORDS[key];
    let s = w ? w[lang === "zh" ? 1 : 0] : key;
    if (vars) for (const k of Object.keys(vars)) s = s.split(`{${k}}`).join(String(vars[k]));
    return s;
  }

  /**
   * A number as bprop.explain.number writes it: rounded to 9 decimals (halves to even, as
   * Python's format does), trailing zeros dropped, −0 as 0.
   */
  function number(value) {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
    let s = value.toFixed(9);
    // toFixed rounds an exact half away from zero, Python's format to even.  A value with an
    // exact half at the 10th decimal is an odd multiple of 2^−10: there, an odd last digit
    // (rounded away) is moved one unit back towards zero.
    const t = value * 1024,
      lastOdd = (s.charCodeAt(s.length - 1) - 48) % 2 === 1;
    if (Number.isInteger(t) && t % 2 !== 0 && Math.abs(value) < 1e15 && lastOdd) s = stepDown(s);
    s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s === "-0" || s === "" ? "0" : s;
  }

  /** The 9-decimal string s with its magnitude lowered by one unit in the last place. */
  function stepDown(s) {
    const neg = s.startsWith("-");
    const digits = (neg ? s.slice(1) : s).replace(".", "");
    let out = (BigInt(digits) - 1n).toString().padStart(10, "0");
    out = out.slice(0, -9) + "." + out.slice(-9);
    return (neg ? "-" : "") + out;
  }

  return { WORDS, words, number };
});
