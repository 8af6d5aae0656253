"""The words of ``bprop explain`` in English and Chinese (the seeds' own terms).

This module holds strings only: the translations table :data:`_T`, the errata's explanations,
and the helpers that pick a language's string and fill in its placeholders.  It computes and
formats no numbers (callers pass them in already written out) and knows nothing of the
derivation, the article's figures or any output format.
"""

from __future__ import annotations

from typing import Any

LANGS = ("en", "zh")


def _li(lang: str) -> int:
    """The index of ``lang`` in :data:`LANGS` (ValueError naming the choices if unknown)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose one of: {', '.join(LANGS)}")
    return LANGS.index(lang)


def _t(key: str, lang: str, **kw: Any) -> str:
    """The string ``key`` of :data:`_T` in ``lang``, its ``{placeholders}`` filled from ``kw``."""
    return _T[key][_li(lang)].format(**kw)


def _cost_name(cost: str, lang: str) -> str:
    """A cost's name as the text says it (its registered name where there is no translation)."""
    key = f"cost_{cost}"
    return _t(key, lang) if key in _T else cost


# Every sentence, heading and column name: key → (English, Chinese).
_T: dict[str, tuple[str, str]] = {
    "title": ("Backpropagation, step by step", "反向传播: 逐步演算"),
    "title_matrix": ("Backpropagation in matrix form (BP1–BP4)", "反向传播的矩阵形式 (BP1–BP4)"),
    "setup": ("The network", "网络"),
    "sizes": (
        "Layers: {sizes} neurons (input layer, {hidden}output layer).",
        "各层神经元个数: {sizes} (输入层, {hidden}输出层).",
    ),
    "hidden_n": ("{n} hidden layer(s), ", "{n} 个隐含层, "),
    "act": (
        "Activation function: {act}; cost: {cost}; learning rate η = {eta}.",
        "激活函数: {act}; 误差函数: {cost}; 学习速率 η = {eta}.",
    ),
    "example": ("Inputs {x}; targets {y}.", "输入数据 {x}; 目标输出 {y}."),
    "initial": ("Initial weights and biases:", "初始权值和截距项:"),
    "rounding": (
        "Every number below is computed by bprop in double precision and shown rounded to 9 "
        "decimal places, trailing zeros dropped, as the article prints them.",
        "以下每个数都由 bprop 以双精度计算, 显示时舍入到 9 位小数并去掉末尾的 0, 与原文的写法一致.",
    ),
    "step1": ("Step 1  Forward pass", "第 1 步  前向传播"),
    "step2": ("Step 2  Backward pass", "第 2 步  反向传播"),
    "in_to_hidden": ("Input layer → hidden layer", "输入层 ----> 隐含层"),
    "hidden_to_out": ("Hidden layer → output layer", "隐含层 ----> 输出层"),
    "in_to_out": ("Input layer → output layer", "输入层 ----> 输出层"),
    "hidden_to_hidden": ("Hidden layer {a} → hidden layer {b}", "隐含层 {a} ----> 隐含层 {b}"),
    "in_to_hidden_n": ("Input layer → hidden layer {b}", "输入层 ----> 隐含层 {b}"),
    "hidden_n_to_out": ("Hidden layer {a} → output layer", "隐含层 {a} ----> 输出层"),
    "weighted_sum": ("Weighted input of neuron {n}:", "计算神经元 {n} 的输入加权和:"),
    "output_of": (
        "Output of neuron {n} (activation function {act}):",
        "神经元 {n} 的输出 (激活函数为 {act}):",
    ),
    "forward_done": (
        "The forward pass is done: the output is {out}, the target {y}.",
        "这样前向传播的过程就结束了, 我们得到输出值为 {out}, 与目标值 {y} 比较.",
    ),
    "total_error": ("Total error", "计算总误差"),
    "error_def": (
        "The error of each output neuron, and their sum:",
        "分别计算每个输出的误差, 总误差为它们之和:",
    ),
    "update_out": ("Weight update, hidden layer → output layer", "隐含层 ----> 输出层的权值更新"),
    "update_out_direct": (
        "Weight update, input layer → output layer",
        "输入层 ----> 输出层的权值更新",
    ),
    "update_layer": ("Weight update, {a} → {b}", "{a} ----> {b}的权值更新"),
    "input_layer": ("input layer", "输入层"),
    "output_layer": ("output layer", "输出层"),
    "hidden_layer": ("hidden layer", "隐含层"),
    "hidden_layer_n": ("hidden layer {n}", "隐含层 {n}"),
    "chain_rule": (
        "By the chain rule, the effect of {w} on the total error:",
        "用链式法则求总误差对 {w} 的偏导, 即 {w} 对整体误差产生了多少影响:",
    ),
    "delta_def": (
        "The error of neuron {n}, δ = ∂E/∂net, so that ∂E/∂w = δ · (the input of w):",
        "用 δ 表示神经元 {n} 的误差, δ = ∂E/∂net, 于是 ∂E/∂w = δ · (w 的输入):",
    ),
    "delta_simplified": (
        "With this cost and output activation σ' cancels: δ = out − target.",
        "对这种误差函数和输出层激活函数, σ' 恰好约去: δ = out − target.",
    ),
    "delta_softmax": (
        "Softmax is not element-wise; δ uses its whole Jacobian.",
        "softmax 不是逐元素的函数, δ 要用它的整个雅可比矩阵.",
    ),
    "update": ("Update (η is the learning rate):", "更新权值 (η 是学习速率):"),
    "paths": (
        "{n} passes its output to {m} neurons, so the errors from all of them are summed:",
        "{n} 的输出会接受来自下一层 {m} 个神经元的误差, 所以都要计算, 然后相加:",
    ),
    "bias_fixed": (
        "The biases are held fixed, as in the article (one bias per layer, never updated: its "
        "program's train() changes only the weights); --update-biases updates each neuron's "
        "bias by BP3.",
        "截距项保持不变, 与原文一致 (同一层共享一个截距项, 从不更新: 程序的 train() 只更新权值); "
        "用 --update-biases 可按 BP3 逐个神经元更新.",
    ),
    "bias_fixed_generic": (
        "The biases are held fixed (use --update-biases to update them).",
        "截距项保持不变 (用 --update-biases 可以更新它们).",
    ),
    "bias_update": ("Bias update (BP3: ∂E/∂b = δ):", "截距项的更新 (BP3: ∂E/∂b = δ):"),
    "after": ("Error after the update", "更新权值之后的误差"),
    "after_text": (
        "Feeding the inputs forward again with the updated weights:",
        "用更新后的权值重新做一次前向传播:",
    ),
    "after_output": (
        "output {out}; the total error falls from {e0} to {e1}.",
        "输出为 {out}; 总误差由 {e0} 下降至 {e1}.",
    ),
    "after_output_up": (
        "output {out}; the total error rises from {e0} to {e1}.",
        "输出为 {out}; 总误差由 {e0} 上升至 {e1}.",
    ),
    "after_article": (
        "The article prints {printed} here: see the errata.",
        "原文此处写的是 {printed}: 见勘误.",
    ),
    "errata": (
        "Errata: where the article's figures differ from exact arithmetic",
        "勘误: 原文中与精确计算不符之处",
    ),
    "errata_intro": (
        "Every figure the article prints was checked against bprop's exact "
        "arithmetic.  Differences, and the likely cause:",
        "原文给出的每一个数都已与 bprop 的精确计算核对. 不符之处及可能的原因:",
    ),
    "col_where": ("where", "位置"),
    "col_printed": ("article prints", "原文"),
    "col_exact": ("exact (or correct)", "精确值 (或正确写法)"),
    "col_cause": ("likely cause", "可能的原因"),
    "col_step": ("step", "迭代次数"),
    "col_error": ("total error", "总误差"),
    "steps_title": ("Error per step: {n} updates", "每次迭代后的误差: 共 {n} 次"),
    "steps_text": (
        "Network {sizes}, activation function {act}, cost {cost}, learning rate "
        "η = {eta}; one update per step on the one example{bias}.",
        "网络 {sizes}, 激活函数 {act}, 误差函数 {cost}, 学习速率 η = {eta}; 每次迭代用这一个"
        "样本更新一次{bias}.",
    ),
    "steps_bias": (", biases held fixed", ", 截距项保持不变"),
    "steps_article": (
        "The article prints {printed} after 10,000 updates; exact arithmetic gives "
        "{exact} (see the errata of `bprop explain`).",
        "原文给出迭代 10000 次后的总误差为 {printed}; 精确计算得到 {exact} "
        "(见 `bprop explain` 的勘误).",
    ),
    "m_forward": ("Forward pass: {eq}", "前向传播: {eq}"),
    "m_cost": ("Cost", "误差"),
    "m_backward": ("Backward pass: the four equations", "反向传播: 四个基本公式"),
    "m_bp1": ("BP1, the error of the output layer:", "BP1, 输出层的误差:"),
    "m_bp2": (
        "BP2, the error of layer {l} from layer {n}:",
        "BP2, 由第 {n} 层的误差求第 {l} 层的误差:",
    ),
    "m_bp3": ("BP3, the gradient of the biases of layer {l}:", "BP3, 第 {l} 层截距项的梯度:"),
    "m_bp4": ("BP4, the gradient of the weights of layer {l}:", "BP4, 第 {l} 层权值的梯度:"),
    "m_update": ("Update: {eq}", "权值更新: {eq}"),
    "m_bias_update": ("and the biases, {eq}:", "截距项: {eq}:"),
    "html_hint": (
        "Hover over or click a weight to see its chain-rule path and derivation.",
        "将鼠标移到某个权值上或点击它, 查看它的链式法则路径和推导过程.",
    ),
    "html_panel": ("Derivation of the weight", "权值的推导"),
    "cost_quadratic": ("squared error E = Σ ½(target − out)²", "平方误差 E = Σ ½(target − out)²"),
    "cost_cross-entropy": ("cross-entropy", "交叉熵"),
    "cost_log-likelihood": ("log-likelihood", "对数似然"),
    "act_custom": ("σ", "σ"),
}


# Each erratum of the article (bprop.explain.article): key → ((where, in English and Chinese),
# (likely cause, in English and Chinese)); {reproduced} is the figure the cause gives, computed.
_ERRATA_TEXT: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "output_vector_o1": (
        ("output vector after the forward pass, first entry", "前向传播后的输出向量, 第一个分量"),
        (
            "a copying typo (two digits changed): the line just above prints out_o1 = 0.75136507",
            "抄写笔误(两位数字写错): 紧挨着的上一行刚算出 out_o1 = 0.75136507",
        ),
    ),
    "dEo2_dout_h1": (
        ("∂E_o2/∂out_h1 in the hidden layer", "隐含层中的 ∂E_o2/∂out_h1"),
        (
            "double rounding: δ_o2 = -0.0380982365… was rounded to 9 decimals (-0.038098237) "
            "before "
            "multiplying by w7 = 0.5, which gives {reproduced}; the sum 0.036350306 is unaffected",
            "两次舍入: 先把 δ_o2 = -0.0380982365… 舍入到 9 位小数 (-0.038098237), 再乘以 w7 = 0.5, "
            "得到 {reproduced}; 两者之和 0.036350306 不受影响",
        ),
    ),
    "E_after_1": (
        ("E_total after the first update", "第一次迭代之后的总误差 E_total"),
        (
            "the hidden layer's error was backpropagated through the already-updated w5…w8 "
            "instead of "
            "the old ones, which gives exactly {reproduced}; the article's own hand calculation "
            "(w1⁺ "
            "with w5 = 0.40) and its own program use the old weights and give the exact figure.  "
            "The "
            "figures match its reference 4 (Mazur, 2015), the example's source",
            "隐含层的误差是用已经更新过的 w5…w8 (而不是原来的) 反向传播的, 这样算恰好得到 "
            "{reproduced}; "
            "文中手算 w1⁺ 时用的是原来的 w5 = 0.40, 文末的程序也用原来的权值, 两者都得到精确值. "
            "这些数字与参考文献 4 (Mazur, 2015, 这个例子的出处) 中的相同",
        ),
    ),
    "E_after_10000": (
        ("E_total after 10,000 updates", "迭代 10000 次后的总误差"),
        (
            "the same slip as after the first update (δ of the hidden layer from the updated "
            "w5…w8), "
            "repeated 10,000 times: that gives exactly {reproduced}",
            "与第一次迭代后相同的错误 (用更新后的 w5…w8 计算隐含层的 δ), 重复 10000 次恰好得到 "
            "{reproduced}",
        ),
    ),
    "out_o1_after_10000": (
        ("out_o1 after 10,000 updates", "迭代 10000 次后的输出 out_o1"),
        (
            "the same slip (δ of the hidden layer from the updated w5…w8) gives exactly "
            "{reproduced}",
            "同一错误 (用更新后的 w5…w8 计算隐含层的 δ) 恰好得到 {reproduced}",
        ),
    ),
    "out_o2_after_10000": (
        ("out_o2 after 10,000 updates", "迭代 10000 次后的输出 out_o2"),
        (
            "the same slip (δ of the hidden layer from the updated w5…w8) gives exactly "
            "{reproduced}",
            "同一错误 (用更新后的 w5…w8 计算隐含层的 δ) 恰好得到 {reproduced}",
        ),
    ),
    "program_target_o2": (
        (
            "the target of o2 in the article's program (nn.train([0.05, 0.1], [0.01, 0.09]))",
            "文末程序中 o2 的目标值 (nn.train([0.05, 0.1], [0.01, 0.09]))",
        ),
        (
            "a typo for the text's 0.99: as printed, the program trains towards [0.01, 0.09] and "
            "ends "
            "at E_total = {reproduced} after 10,000 updates",
            "是正文中 0.99 的笔误: 照原样运行, 程序会朝 [0.01, 0.09] 训练, 10000 次迭代后 E_total "
            "= {reproduced}",
        ),
    ),
    "out_h1_in_sigma_prime": (
        (
            "out_h1 in the line ∂out_h1/∂net_h1 = out_h1(1 - out_h1)",
            "∂out_h1/∂net_h1 = out_h1(1 - out_h1) 一行中的 out_h1",
        ),
        (
            "not an error: printed with 8 decimals (its 9th digit dropped); the result "
            "0.241300709 is "
            "the exact one",
            "不是错误: 只印了 8 位小数 (丢了第 9 位); 结果 0.241300709 是精确的",
        ),
    ),
    "w2+": (
        ("w2⁺", "w2⁺"),
        (
            "not an error: printed with 8 decimals (its 9th digit dropped)",
            "不是错误: 只印了 8 位小数 (丢了第 9 位)",
        ),
    ),
    "w3+": (
        ("w3⁺", "w3⁺"),
        (
            "not an error: printed with 8 decimals (its 9th digit dropped)",
            "不是错误: 只印了 8 位小数 (丢了第 9 位)",
        ),
    ),
    "w4+": (
        ("w4⁺", "w4⁺"),
        (
            "not an error: printed with 8 decimals (its 9th digit dropped)",
            "不是错误: 只印了 8 位小数 (丢了第 9 位)",
        ),
    ),
    "heading_hidden": (
        ("heading of the third part of Step 2", "反向传播一节第 3 部分的标题"),
        (
            "the weights w1…w4 run from the input layer to the hidden layer",
            "w1…w4 是从输入层到隐含层的权值",
        ),
    ),
    "h1_output_name": (
        ("Step 1, the output of h1", "前向传播一节中 h1 的输出"),
        (
            "o_1 is the name of the first output neuron; the output of h1 is out_h1 (the formula "
            "next "
            "to it says so)",
            "o_1 是第一个输出层神经元的名字; h1 的输出应记作 out_h1 (紧接着的公式也这样写)",
        ),
    ),
    "original_input": (
        (
            "after 10,000 updates, the vector the outputs are compared with",
            "迭代 10000 次后与输出比较的向量",
        ),
        (
            "[0.01, 0.99] are the targets (the desired outputs), not the inputs (0.05, 0.10)",
            "[0.01, 0.99] 是目标输出, 不是输入 (0.05, 0.10)",
        ),
    ),
}
