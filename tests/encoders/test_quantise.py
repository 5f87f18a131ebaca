"""Per-token int8 quantisation on small graphs: exact arithmetic, batch independence, sharing."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from classifier.encoders import quantise
from classifier.encoders.quantise import (
    ACTIVATION_MAX_RAW,
    NARROWEST_ACCUMULATOR_MAX,
    RECIPE,
    RECIPE_ID,
    WEIGHT_MAX,
    float_twin,
    kernel_self_test,
    largest_pair_sum,
    quantise_per_token,
    quantise_weights,
)


def _two_layer_model(path, rng) -> dict[str, np.ndarray]:
    """x -> MatMul(W1) -> Relu -> MatMul(W2), and x -> MatMul(W3) (shares W1's input)."""
    weights = {
        "W1": rng.normal(size=(16, 24)).astype(np.float32),
        "W2": rng.normal(size=(24, 8)).astype(np.float32),
        "W3": rng.normal(size=(16, 8)).astype(np.float32),
    }
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["y"]),
        helper.make_node("MatMul", ["x", "W3"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 16])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", 8]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, ["b", "t", 8]),
        ],
        [numpy_helper.from_array(w, name) for name, w in weights.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return weights


def _per_token_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    w_q, w_scale = quantise_weights(w)
    scale = np.maximum(np.abs(x).max(axis=-1, keepdims=True), 1e-8) / 127.0
    x_q = np.clip(np.round(x / scale), -127, 127)
    return (x_q @ w_q.astype(np.float32)) * w_scale * scale


def _session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_weights_are_symmetric_per_column_and_close():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 10)).astype(np.float32)
    w[:, 3] = 0.0  # a dead column must not divide by zero
    w_q, scale = quantise_weights(w)
    assert w_q.dtype == np.int8 and scale.shape == (10,) and np.abs(w_q).max() == WEIGHT_MAX
    assert np.all(w_q[:, 3] == 0)
    assert np.abs(w_q * scale - w).max() <= scale.max() / 2 + 1e-7


def test_the_quantised_graph_computes_per_token_int8(tmp_path):
    rng = np.random.default_rng(1)
    weights = _two_layer_model(tmp_path / "fp32.onnx", rng)
    assert quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx") == 3
    model = onnx.load(str(tmp_path / "int8.onnx"))
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 3 and "MatMul" not in ops
    assert ops.count("QuantizeLinear") == 2  # W1 and W3 share their input's quantisation
    assert not {"W1", "W2", "W3"} & {init.name for init in model.graph.initializer}

    x = rng.normal(size=(3, 5, 16)).astype(np.float32)
    x[1, 2] *= 40.0  # one loud token must not coarsen the others
    y, z = _session(tmp_path / "int8.onnx").run(None, {"x": x})
    np.testing.assert_allclose(z, _per_token_reference(x, weights["W3"]), rtol=1e-4, atol=1e-4)
    hidden = np.maximum(_per_token_reference(x, weights["W1"]), 0)
    np.testing.assert_allclose(y, _per_token_reference(hidden, weights["W2"]), rtol=1e-3, atol=1e-3)
    exact = np.maximum(x @ weights["W1"], 0) @ weights["W2"]
    assert np.abs(y - exact).max() / np.abs(exact).max() < 0.05


def test_a_token_gets_the_same_output_whatever_else_is_in_the_batch(tmp_path):
    rng = np.random.default_rng(2)
    _two_layer_model(tmp_path / "fp32.onnx", rng)
    quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    session = _session(tmp_path / "int8.onnx")
    alone = rng.normal(size=(1, 4, 16)).astype(np.float32)
    noisy = rng.normal(size=(5, 4, 16)).astype(np.float32) * 100.0
    noisy[2] = alone[0]
    y_alone = session.run(None, {"x": alone})[0]
    y_batch = session.run(None, {"x": noisy})[0]
    np.testing.assert_array_equal(y_batch[2], y_alone[0])


def test_all_zero_activations_give_zeros_not_nan(tmp_path):
    _two_layer_model(tmp_path / "fp32.onnx", np.random.default_rng(3))
    quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    y, z = _session(tmp_path / "int8.onnx").run(None, {"x": np.zeros((1, 3, 16), np.float32)})
    assert np.all(y == 0) and np.all(z == 0)


def test_the_int8_fingerprint_names_the_recipe(monkeypatch):
    """Heads trained on another recipe's vectors must not pass for heads trained on these."""
    import classifier.encoders.exports as exports

    source = "ab" * 32
    today = exports.encoder_fingerprint(source, "onnx-int8")
    assert today != source and exports.encoder_fingerprint(source, "onnx") == source
    monkeypatch.setattr(exports, "RECIPE_ID", RECIPE_ID + "-changed")
    assert exports.encoder_fingerprint(source, "onnx-int8") != today


def test_siblings_with_biases_become_one_product_with_the_same_results(tmp_path):
    """Q, K and V share their input: one wide product and a Split, bit for bit the same."""
    rng = np.random.default_rng(4)
    names = ("q", "k", "v")
    weights = {n: rng.normal(size=(16, 12)).astype(np.float32) for n in names}
    biases = {n: rng.normal(size=12).astype(np.float32) for n in names}
    nodes = []
    for n in names:
        nodes += [
            helper.make_node("MatMul", ["x", f"W{n}"], [f"m{n}"]),
            helper.make_node("Add", [f"m{n}", f"b{n}"], [n]),
        ]
    inits = [numpy_helper.from_array(weights[n], f"W{n}") for n in names]
    inits += [numpy_helper.from_array(biases[n], f"b{n}") for n in names]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["b", "t", 12]) for n in names]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 16])],
        outputs,
        inits,
    )
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
        str(tmp_path / "fp32.onnx"),
    )
    assert quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx") == 3
    ops = [node.op_type for node in onnx.load(str(tmp_path / "int8.onnx")).graph.node]
    assert ops.count("MatMulIntegerToFloat") == 1 and ops.count("Split") == 1
    assert "MatMul" not in ops and ops.count("Add") == 1
    x = rng.normal(size=(2, 3, 16)).astype(np.float32)
    got = _session(tmp_path / "int8.onnx").run(None, {"x": x})
    for n, out in zip(names, got, strict=True):
        expected = _per_token_reference(x, weights[n]) + biases[n]
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_no_pair_of_products_can_saturate_the_narrowest_accumulator():
    """By arithmetic, whatever the CPU: x86 without VNNI adds pairs of u8*s8 into int16.

    The recipe's raw activation bytes reach 255 (128 + 127) and its weights +-64; the old
    recipe's 8-bit weights (+-127) made pairs of up to 64,770.
    """
    assert ACTIVATION_MAX_RAW == 255 and NARROWEST_ACCUMULATOR_MAX == 32767
    assert largest_pair_sum() == 2 * 255 * WEIGHT_MAX == RECIPE["largest_pair_sum"]
    assert largest_pair_sum() <= NARROWEST_ACCUMULATOR_MAX
    assert largest_pair_sum(weight_max=127) > NARROWEST_ACCUMULATOR_MAX  # the v1 recipe


def test_a_recipe_that_could_saturate_is_refused(tmp_path, monkeypatch):
    _two_layer_model(tmp_path / "fp32.onnx", np.random.default_rng(5))
    monkeypatch.setattr(quantise, "WEIGHT_MAX", 127)
    with pytest.raises(ValueError, match="int16"):
        quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")


def _saturating_model(path, rng, k=64, n=8) -> np.ndarray:
    """One MatMul whose weights put +-max in every row of two columns."""
    w = rng.normal(size=(k, n)).astype(np.float32)
    w[:, 0], w[:, 1] = 1.0, -1.0  # quantised to +64 / -64 in every row
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", n])],
        [numpy_helper.from_array(w, "W")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return w


def test_worst_case_values_are_computed_exactly(tmp_path):
    """Tokens whose every activation quantises to 255, against columns of +-64: the pairs that
    saturated vpmaddubsw under the 8-bit recipe. numpy is the oracle."""
    rng = np.random.default_rng(6)
    w = _saturating_model(tmp_path / "fp32.onnx", rng)
    quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    x = rng.normal(size=(4, 6, 64)).astype(np.float32)
    x[0] = 3.0  # every activation at the top of its scale: raw byte 255 everywhere
    x[1, :, ::2] = 5.0
    x[2] = -2.0
    got = _session(tmp_path / "int8.onnx").run(None, {"x": x})[0]
    np.testing.assert_allclose(got, _per_token_reference(x, w), rtol=1e-5, atol=1e-5)


def test_the_float_twin_computes_the_int8_graph_exactly(tmp_path):
    rng = np.random.default_rng(7)
    _two_layer_model(tmp_path / "fp32.onnx", rng)
    quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    assert float_twin(tmp_path / "int8.onnx", tmp_path / "twin.onnx") == 3
    ops = [node.op_type for node in onnx.load(str(tmp_path / "twin.onnx")).graph.node]
    assert "MatMulIntegerToFloat" not in ops and ops.count("MatMul") == 3
    x = rng.normal(size=(3, 5, 16)).astype(np.float32) * 4
    x[0] = 2.0
    int8 = _session(tmp_path / "int8.onnx").run(None, {"x": x})
    twin = _session(tmp_path / "twin.onnx").run(None, {"x": x})
    for a, b in zip(int8, twin, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_float_twin_refuses_sums_fp32_cannot_hold_exactly(tmp_path, monkeypatch):
    monkeypatch.setattr(quantise, "WEIGHT_MAX", 127)
    monkeypatch.setattr(quantise, "NARROWEST_ACCUMULATOR_MAX", 2**31 - 1)
    _saturating_model(tmp_path / "fp32.onnx", np.random.default_rng(8), k=1100)
    quantise_per_token(tmp_path / "fp32.onnx", tmp_path / "int8.onnx")
    with pytest.raises(ValueError, match="not exact in fp32"):
        float_twin(tmp_path / "int8.onnx", tmp_path / "twin.onnx")


def test_the_kernel_self_test_passes_here_and_sees_saturation_where_there_is_one():
    """The recipe's ranges are exact on every CPU; 8-bit weights are exact only with VNNI/AMX,
    and the self-test must say which (it runs at every int8 load)."""
    from classifier.cpu import cpu_info

    assert kernel_self_test() == []
    assert kernel_self_test(threads=1) == []
    old = kernel_self_test(weight_max=127)
    if "int16" in cpu_info().int8_kernel:
        assert old and all("values wrong" in problem for problem in old)
    elif "int32" in cpu_info().int8_kernel:
        assert old == []
