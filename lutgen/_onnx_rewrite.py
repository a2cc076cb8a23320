"""Putting compiled tables into an ONNX model: each activation becomes a ``Gather``.

In a QDQ model the chain DequantizeLinear -> activation -> QuantizeLinear becomes::

    codes (int8) -> Cast(int32) -> Sub(min code) -> Gather(table) -> codes (int8)

where ``table`` is an initializer holding ``Table.eval_int`` over every input code, so
ONNX Runtime computes exactly what the hardware does. A side the model does not quantise
gets its own QuantizeLinear (input) or DequantizeLinear (output) with the table's format.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rewrite_model", "check_lookups", "every_code"]

_NUMPY = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "uint16": np.uint16}
_ONNX_TYPE = {"uint8": 2, "int8": 3, "uint16": 4, "int16": 5}  # TensorProto elem types


def _storage(fmt) -> str:
    return f"{'' if fmt.signed else 'u'}int{fmt.bits}"


def every_code(fmt) -> np.ndarray:
    """Every code of ``fmt``, ascending (int64)."""
    return np.arange(fmt.min_code, fmt.max_code + 1, dtype=np.int64)


def _check_format(fmt, what: str) -> None:
    from .errors import ModelError

    if not fmt.is_affine or _storage(fmt) not in _NUMPY:
        raise ModelError(f"{what} format {fmt} cannot be an ONNX tensor; --write-model needs "
                         "int8(...), uint8(...), int16(...) or uint16(...) formats")


def rewrite_model(model, acts, tables):
    """A copy of ``model`` with activation ``acts[i]`` replaced by ``tables[i]``.

    ``acts`` are :func:`lutgen.onnx.read_model`'s activations of this very ModelProto.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from ._onnx_graph import GraphView

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    view = GraphView(model.graph)  # the nodes of ``acts`` are the original model's
    drop: set[int] = set()
    new_nodes: list[tuple[int, list]] = []  # (position of the activation's last node, nodes)
    inits = []
    for act, table in zip(acts, tables):
        fin, fout = table.in_format, table.out_format
        _check_format(fin, "input")
        _check_format(fout, "output")
        tag = act.name
        region = act.region
        nodes = []
        # the input codes: the DequantizeLinear's input, else a QuantizeLinear of our own
        dq = view.producer.get(region.reads[0])
        if dq is not None and dq.op_type == "DequantizeLinear" and act.in_quant is not None:
            codes = dq.input[0]
        else:
            codes = f"{tag}_codes_in"
            inits += [numpy_helper.from_array(np.array(fin.scale, np.float32), f"{tag}_in_scale"),
                      numpy_helper.from_array(np.array(fin.zero_point, _NUMPY[_storage(fin)]),
                                              f"{tag}_in_zero_point")]
            nodes.append(helper.make_node("QuantizeLinear", [region.reads[0], f"{tag}_in_scale",
                                                             f"{tag}_in_zero_point"], [codes],
                                          name=f"{tag}_quantize"))
        entries = np.asarray(table.eval_int(every_code(fin)), dtype=_NUMPY[_storage(fout)])
        inits += [numpy_helper.from_array(entries, f"{tag}_table"),
                  numpy_helper.from_array(np.array(-fin.min_code, np.int32), f"{tag}_offset")]
        nodes += [
            helper.make_node("Cast", [codes], [f"{tag}_codes_i32"], to=TensorProto.INT32,
                             name=f"{tag}_cast"),
            helper.make_node("Add", [f"{tag}_codes_i32", f"{tag}_offset"], [f"{tag}_index"],
                             name=f"{tag}_index"),
        ]
        q = next((c for c in view.consumers.get(region.root, [])
                  if c.op_type == "QuantizeLinear"), None) if act.out_quant is not None else None
        others = [c for c in view.consumers.get(region.root, []) if c is not q]
        result = q.output[0] if q is not None else f"{tag}_codes_out"
        nodes.append(helper.make_node("Gather", [f"{tag}_table", f"{tag}_index"], [result],
                                      axis=0, name=f"{tag}_lookup"))
        if q is not None:
            drop.add(id(q))
        if q is None or others or view.is_output(region.root):
            inits += [numpy_helper.from_array(np.array(fout.scale, np.float32),
                                              f"{tag}_out_scale"),
                      numpy_helper.from_array(np.array(fout.zero_point, _NUMPY[_storage(fout)]),
                                              f"{tag}_out_zero_point")]
            nodes.append(helper.make_node("DequantizeLinear", [result, f"{tag}_out_scale",
                                                               f"{tag}_out_zero_point"],
                                          [region.root], name=f"{tag}_dequantize"))
        drop.update(id(n) for n in region.nodes)
        last = max(view.order[id(n)] for n in region.nodes)
        new_nodes.append((last, nodes))
    placed = {}
    for last, nodes in new_nodes:
        placed.setdefault(last, []).extend(nodes)
    kept = []
    for i, n in enumerate(view.nodes):
        if id(n) not in drop:
            kept.append(n)
        kept.extend(placed.get(i, []))
    kept = _prune(kept, graph)
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(inits)
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    keep_inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_inits)
    return out


def _prune(nodes, graph):
    """``nodes`` without those whose outputs nothing reads (the old chain's leftovers)."""
    outputs = {o.name for o in graph.output}
    while True:
        read = {i for n in nodes for i in n.input} | outputs
        alive = [n for n in nodes if any(o in read for o in n.output if o)]
        if len(alive) == len(nodes):
            return nodes
        nodes = alive


def check_lookups(model, acts, tables) -> int:
    """Run each table's Cast -> Add -> Gather of the rewritten ``model`` in ONNX Runtime over
    every input code; ModelError unless it equals ``eval_int``. Returns the codes checked."""
    import onnxruntime as ort
    from onnx import helper

    from .errors import ModelError

    checked = 0
    for act, table in zip(acts, tables):
        tag, fin = act.name, table.in_format
        names = (f"{tag}_cast", f"{tag}_index", f"{tag}_lookup")
        nodes = [n for n in model.graph.node if n.name in names]
        wanted = {i for n in nodes for i in n.input}
        inits = [t for t in model.graph.initializer if t.name in wanted]
        codes, result = nodes[0].input[0], nodes[-1].output[0]
        graph = helper.make_graph(
            nodes, "lookup",
            [helper.make_tensor_value_info(codes, _ONNX_TYPE[_storage(fin)], [None])],
            [helper.make_tensor_value_info(result, _ONNX_TYPE[_storage(table.out_format)],
                                           [None])], inits)
        probe = helper.make_model(graph, opset_imports=list(model.opset_import))
        session = ort.InferenceSession(probe.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        x = every_code(fin)
        got = session.run(None, {codes: x.astype(_NUMPY[_storage(fin)])})[0]
        want = table.eval_int(x)
        if not np.array_equal(np.asarray(got, dtype=np.int64), want):
            bad = int(np.flatnonzero(np.asarray(got, dtype=np.int64) != want)[0])
            raise ModelError(f"table {tag}: ONNX Runtime's Gather gives {int(got[bad])} at "
                             f"input code {int(x[bad])}, eval_int {int(want[bad])}")
        checked += x.size
    return checked
