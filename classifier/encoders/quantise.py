"""Per-token int8 quantisation of an ONNX encoder: batch-independent, and exact on every CPU.

onnxruntime's dynamic quantisation scales activations per tensor, that is over every token of
every headline in a call, so a headline's vector depends on the other headlines it is encoded
with: on 2,000 NYT headlines, encoding them in calls of 32 rather than one by one changed the
top topic of 1.2-1.6% of them. A service that batches concurrent requests would then answer the
same headline differently from one moment to the next.

Here each token's activations get their own scale (its largest absolute value / 127), computed
in the graph at run time, so a vector depends on its own headline only (identical bits whatever
the batch). Weights are int8, symmetric, per output channel, **in [-64, 64]** (7 bits). Each
``MatMul`` with a constant weight becomes::

    ReduceMax, ReduceMin -> per-token scale          (once per distinct input: Q, K, V share it)
    Mul(x, 127 / max|x|) -> QuantizeLinear(1, 128)   uint8 activations, symmetric around 128
    MatMulIntegerToFloat(x_q, W_q, 1, w_scale, 128)  onnxruntime's u8 x s8 kernel, times w_scale
    Mul(., per-token scale)

Why 7-bit weights: on x86 CPUs without VNNI (AVX2, and AVX-512 before Cascade Lake)
onnxruntime's u8 x s8 kernel multiplies with ``vpmaddubsw``, which adds each *pair* of u8*s8
products into one **saturating int16**. With 8-bit weights a pair reaches 2 * 255 * 127 = 64,770,
and on an AMD EPYC 14 of 120 outputs of a small test graph were wrong by up to 14.0, while a
VNNI CPU (int32 accumulation) computed them exactly: the same export gave other vectors on other
machines. With weights in [-64, 64] the largest pair is 2 * 255 * 64 = 32,640 <= 32,767, so no
kernel (``vpmaddubsw``, VNNI's ``vpdpbusd``, AMX tiles, ARM's ``udot``/``umull``) can saturate,
and :func:`largest_pair_sum` states that bound as arithmetic the tests check. Against fp32 on
1,000 NYT headlines the mean cosine is 0.9962 (the saturating 8-bit recipe: 0.9964 on AVX2).

Q, K and V, which read the same input, become one product with their weights side by side,
then a ``Split``: per-column scales make that the same arithmetic (identical vectors) in fewer,
wider calls. The other operations (attention scores, softmax, GELU, layer norms, the embedding
tables) stay in fp32. Needs only ``onnx`` and numpy; onnxruntime runs the result.

Two checks make "exact" something a machine shows rather than something we claim:
:func:`float_twin` writes the same quantised arithmetic with fp32 ``MatMul`` (exact, because
every partial sum is an integer below 2**24), which the exporter compares with the int8 graph on
the machine at hand; :func:`kernel_self_test` runs onnxruntime's integer kernel on worst-case
values at every load and compares it with numpy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

# The value ranges of the recipe, as the integer kernels see them: activations are stored as
# uint8 around ZERO_POINT (the kernel multiplies the raw bytes, 1..255, and subtracts the zero
# point's share afterwards), weights as int8 in [-WEIGHT_MAX, WEIGHT_MAX].
ACTIVATION_LEVELS = 127  # per side: x / scale lies in [-127, 127]
ZERO_POINT = 128
ACTIVATION_MAX_RAW = ZERO_POINT + ACTIVATION_LEVELS  # 255
WEIGHT_MAX = 64
# The narrowest accumulator of any onnxruntime u8 x s8 kernel: vpmaddubsw (x86 without VNNI)
# adds two u8*s8 products into one saturating int16. VNNI, AMX and ARM accumulate in int32.
NARROWEST_ACCUMULATOR_MAX = 2**15 - 1
# The float twin sums integer products in fp32: exact while every partial sum is below 2**24.
FLOAT_EXACT_MAX = 2**24

# Identifies the arithmetic: part of the int8 encoder fingerprint, so heads trained on vectors
# of another recipe are told apart and old exports are made again.
RECIPE: dict[str, Any] = {
    "name": "per-token-int8",
    "version": 2,
    "weights": f"int8 in [-{WEIGHT_MAX}, {WEIGHT_MAX}], symmetric, per output channel",
    "activations": "uint8, symmetric around 128, one scale per token computed at run time",
    "ops": "MatMul with a constant weight",
    "largest_pair_sum": 2 * ACTIVATION_MAX_RAW * WEIGHT_MAX,
}
RECIPE_ID = f"{RECIPE['name']}-v{RECIPE['version']}"

_PREFIX = "ht_q"


def largest_pair_sum(activation_max: int | None = None, weight_max: int | None = None) -> int:
    """The largest |a1*w1 + a2*w2| the integer kernels can meet with these value ranges.

    Must not exceed :data:`NARROWEST_ACCUMULATOR_MAX`, or x86 CPUs without VNNI saturate where
    others do not.
    """
    activation_max = ACTIVATION_MAX_RAW if activation_max is None else activation_max
    return 2 * activation_max * (WEIGHT_MAX if weight_max is None else weight_max)


def quantise_weights(
    weight: np.ndarray, weight_max: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights in [-weight_max, weight_max] (the recipe's) and one fp32 scale per column."""
    weight_max = WEIGHT_MAX if weight_max is None else weight_max
    weight = np.asarray(weight, dtype=np.float32)
    scale = np.abs(weight).max(axis=0) / float(weight_max)
    scale[scale == 0] = 1.0
    quantised = np.clip(np.round(weight / scale), -weight_max, weight_max).astype(np.int8)
    return quantised, scale.astype(np.float32)


def quantise_per_token(source: Path, target: Path) -> int:
    """Write ``source`` with its weight MatMuls in per-token int8 to ``target``; returns how many."""
    import onnx
    from onnx import helper, numpy_helper

    if largest_pair_sum() > NARROWEST_ACCUMULATOR_MAX:
        raise ValueError(
            f"the recipe's products reach {largest_pair_sum()} in a pair, more than the "
            f"{NARROWEST_ACCUMULATOR_MAX} an int16 accumulator holds"
        )
    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    graph.initializer.extend(
        [
            numpy_helper.from_array(
                np.array(1 / ACTIVATION_LEVELS, np.float32), f"{_PREFIX}_inv127"
            ),
            numpy_helper.from_array(
                np.array(float(ACTIVATION_LEVELS), np.float32), f"{_PREFIX}_127"
            ),
            numpy_helper.from_array(np.array(1e-8, np.float32), f"{_PREFIX}_eps"),
            numpy_helper.from_array(np.array(1.0, np.float32), f"{_PREFIX}_one"),
            numpy_helper.from_array(np.array(ZERO_POINT, np.uint8), f"{_PREFIX}_zp"),
        ]
    )
    one, zero_point = f"{_PREFIX}_one", f"{_PREFIX}_zp"
    quantised_inputs: dict[str, tuple[str, str]] = {}
    siblings = _biased_siblings(graph, weights)
    done_with: set[str] = set()  # output names of nodes folded into a fused one
    nodes: list[Any] = []
    replaced_weights: set[str] = set()
    count = 0
    for node in graph.node:
        if node.output and node.output[0] in done_with:
            continue
        if node.op_type != "MatMul" or node.input[1] not in weights:
            nodes.append(node)
            continue
        x = node.input[0]
        if x not in quantised_inputs:
            q = f"{_PREFIX}{len(quantised_inputs)}"
            nodes += [
                helper.make_node("ReduceMax", [x], [f"{q}_max"], axes=[-1], keepdims=1),
                helper.make_node("ReduceMin", [x], [f"{q}_min"], axes=[-1], keepdims=1),
                helper.make_node("Neg", [f"{q}_min"], [f"{q}_negmin"]),
                helper.make_node(
                    "Max", [f"{q}_max", f"{q}_negmin", f"{_PREFIX}_eps"], [f"{q}_absmax"]
                ),
                helper.make_node("Mul", [f"{q}_absmax", f"{_PREFIX}_inv127"], [f"{q}_scale"]),
                helper.make_node("Div", [f"{_PREFIX}_127", f"{q}_absmax"], [f"{q}_inverse"]),
                helper.make_node("Mul", [x, f"{q}_inverse"], [f"{q}_scaled"]),
                helper.make_node("QuantizeLinear", [f"{q}_scaled", one, zero_point], [f"{q}_u8"]),
            ]
            quantised_inputs[x] = (f"{q}_u8", f"{q}_scale")
        x_u8, x_scale = quantised_inputs[x]
        group = siblings.get(x)
        w = f"{_PREFIX}_w{count}"
        if group and group[0][0] is node:
            # Q, K and V read the same input: one product with their weights side by side, then
            # split. Per-column weight scales make it the same arithmetic, in fewer, wider calls.
            matrices = [numpy_helper.to_array(weights[m.input[1]]) for m, _, _ in group]
            biases = [numpy_helper.to_array(weights[b]) for _, _, b in group]
            graph.initializer.extend(
                [
                    numpy_helper.from_array(np.concatenate(biases).astype(np.float32), f"{w}_bias"),
                    numpy_helper.from_array(
                        np.array([m.shape[1] for m in matrices], np.int64), f"{w}_split"
                    ),
                ]
            )
            nodes += _int8_product(
                graph, np.concatenate(matrices, axis=1), w, x_u8, x_scale, f"{w}_scaled"
            )
            nodes += [
                helper.make_node("Add", [f"{w}_scaled", f"{w}_bias"], [f"{w}_biased"]),
                helper.make_node(
                    "Split",
                    [f"{w}_biased", f"{w}_split"],
                    [add.output[0] for _, add, _ in group],
                    axis=-1,
                ),
            ]
            for matmul, add, bias in group:
                replaced_weights.update((matmul.input[1], bias))
                done_with.update((matmul.output[0], add.output[0]))
            count += len(group)
            continue
        replaced_weights.add(node.input[1])
        weight = numpy_helper.to_array(weights[node.input[1]])
        nodes += _int8_product(graph, weight, w, x_u8, x_scale, node.output[0])
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    still_used = {name for node in graph.node for name in node.input}
    kept = [
        init
        for init in graph.initializer
        if init.name not in replaced_weights or init.name in still_used
    ]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(target))
    logger.info("quantised %d MatMuls (%d shared inputs) per token", count, len(quantised_inputs))
    return count


def _int8_product(
    graph: Any, weight: np.ndarray, name: str, x_u8: str, x_scale: str, output: str
) -> list[Any]:
    """``output = (x_u8 - 128) @ W_int8 * w_scale * x_scale``: the int8 weights go into the graph."""
    from onnx import helper, numpy_helper

    w_int8, w_scale = quantise_weights(weight)
    graph.initializer.extend(
        [
            numpy_helper.from_array(w_int8, f"{name}_int8"),
            numpy_helper.from_array(w_scale, f"{name}_scale"),
        ]
    )
    return [
        helper.make_node(
            "MatMulIntegerToFloat",
            [x_u8, f"{name}_int8", f"{_PREFIX}_one", f"{name}_scale", f"{_PREFIX}_zp"],
            [f"{name}_out"],
            domain="com.microsoft",
        ),
        helper.make_node("Mul", [f"{name}_out", x_scale], [output]),
    ]


def _biased_siblings(graph: Any, weights: dict[str, Any]) -> dict[str, list[tuple[Any, Any, str]]]:
    """Weight MatMuls that share an input and each feed only ``Add(constant bias)``, by input.

    Only groups of two or more, in graph order; their (MatMul, Add, bias name) triples.
    """
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    groups: dict[str, list[tuple[Any, Any, str]]] = {}
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            continue
        users = consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "Add":
            continue
        others = [name for name in users[0].input if name != node.output[0]]
        if len(others) != 1 or others[0] not in weights:
            continue
        if len(weights[others[0]].dims) != 1:
            continue
        groups.setdefault(node.input[0], []).append((node, users[0], others[0]))
    return {x: members for x, members in groups.items() if len(members) > 1}


# -- the checks: a float twin of the graph, and a self-test of the integer kernel ----------
def float_twin(source: Path, target: Path) -> int:
    """Write the int8 graph at ``source`` with each integer product done in fp32; returns how many.

    ``MatMulIntegerToFloat(a, W, 1, s, zp)`` becomes ``MatMul(float(a) - zp, float(W)) * s``:
    the same integers, summed in fp32, where every partial sum is an integer below 2**24 and so
    exact. Run by onnxruntime beside the int8 graph it is the oracle for the whole encoder on
    the machine at hand, independent of which integer kernel that machine picks.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    nodes: list[Any] = []
    zero_points: dict[str, str] = {}
    count = 0
    for node in graph.node:
        if node.op_type != "MatMulIntegerToFloat" or node.domain != "com.microsoft":
            nodes.append(node)
            continue
        a, w, a_scale, w_scale, a_zp = list(node.input)[:5]
        w_int = numpy_helper.to_array(weights[w])
        bound = w_int.shape[0] * ACTIVATION_LEVELS * int(np.abs(w_int.astype(np.int64)).max())
        if bound >= FLOAT_EXACT_MAX:
            raise ValueError(f"{w}: sums up to {bound} are not exact in fp32")
        name = f"{_PREFIX}_twin{count}"
        graph.initializer.append(numpy_helper.from_array(w_int.astype(np.float32), f"{name}_w"))
        if a_zp not in zero_points:
            zero_points[a_zp] = f"{name}_zp"
            nodes.append(helper.make_node("Cast", [a_zp], [f"{name}_zp"], to=TensorProto.FLOAT))
        nodes += [
            helper.make_node("Cast", [a], [f"{name}_a"], to=TensorProto.FLOAT),
            helper.make_node("Sub", [f"{name}_a", zero_points[a_zp]], [f"{name}_centred"]),
            helper.make_node("MatMul", [f"{name}_centred", f"{name}_w"], [f"{name}_acc"]),
            helper.make_node("Mul", [f"{name}_acc", a_scale], [f"{name}_acc1"]),
            helper.make_node("Mul", [f"{name}_acc1", w_scale], [node.output[0]]),
        ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(target))
    return count


# Shapes of the encoder's products (rows x inner x outputs) at the sizes the kernels tile by:
# one token, a few, many; the 384- and 1536-wide inner dimensions of MiniLM's layers.
_SELF_TEST_SHAPES = ((1, 384, 64), (7, 384, 96), (37, 1536, 48), (3, 1536, 160))


def kernel_self_test(
    threads: int | None = None, weight_max: int | None = None, seed: int = 0
) -> list[str]:
    """Run onnxruntime's u8 x s8 product on worst-case values; what differs from numpy.

    Rows of 255 against columns of +-weight_max, and random rows, for each of a few shapes.
    An empty list means this machine's kernel computes the recipe exactly; with 8-bit weights
    the list is not empty on x86 CPUs without VNNI. Takes a few milliseconds.
    """
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    weight_max = WEIGHT_MAX if weight_max is None else weight_max
    rng = np.random.default_rng(seed)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = int(threads)
    problems = []
    for m, k, n in _SELF_TEST_SHAPES:
        a = rng.integers(0, ACTIVATION_MAX_RAW + 1, size=(m, k)).astype(np.uint8)
        a[0] = ACTIVATION_MAX_RAW
        w = rng.integers(-weight_max, weight_max + 1, size=(k, n)).astype(np.int8)
        w[:, 0], w[:, 1] = weight_max, -weight_max
        scale = np.ones(n, np.float32)
        graph = helper.make_graph(
            [
                helper.make_node(
                    "MatMulIntegerToFloat",
                    ["a", "w", "one", "scale", "zp"],
                    ["y"],
                    domain="com.microsoft",
                )
            ],
            "self_test",
            [helper.make_tensor_value_info("a", TensorProto.UINT8, [m, k])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
            [
                numpy_helper.from_array(w, "w"),
                numpy_helper.from_array(np.array(1.0, np.float32), "one"),
                numpy_helper.from_array(scale, "scale"),
                numpy_helper.from_array(np.array(ZERO_POINT, np.uint8), "zp"),
            ],
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        )
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        got = session.run(None, {"a": a})[0]
        expected = (a.astype(np.int64) - ZERO_POINT) @ w.astype(np.int64)
        wrong = int(np.sum(got != expected))
        if wrong:
            problems.append(
                f"{m}x{k}x{n}: {wrong} of {got.size} values wrong "
                f"(by up to {float(np.abs(got - expected).max()):g})"
            )
    return problems
