"""A small builder of ONNX nodes on top of skl2onnx's converter container.

A skl2onnx converter writes into a ``ModelComponentContainer`` with unique
names taken from a ``Scope``. ``Graph`` hides that bookkeeping so that an
inference layer reads as its formula: ``g.op("Add", g.op("MatMul", x, w), b)``.
Every float constant is stored in the graph's float type (float32 or float64,
chosen from the converted input), so a float64 model exported for float32
input computes in float32, as onnxruntime expects.
"""

import numpy as np
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
from skl2onnx.proto import onnx_proto

__all__ = ["Graph"]

_MIN_OPSET = 13

_PROTO_TYPES = {
    np.dtype(np.float32): onnx_proto.TensorProto.FLOAT,
    np.dtype(np.float64): onnx_proto.TensorProto.DOUBLE,
    np.dtype(np.int64): onnx_proto.TensorProto.INT64,
    np.dtype(object): onnx_proto.TensorProto.STRING,
}


class Graph:
    """Emit nodes and constants of one converted operator.

    Parameters
    ----------
    scope, container : skl2onnx ``Scope`` and ``ModelComponentContainer``
        The objects skl2onnx passes to a converter.
    operator : skl2onnx ``Operator``
        The operator being converted; its first input is the feature matrix.
    """

    def __init__(self, scope, operator, container):
        self._scope = scope
        self._container = container
        self.operator = operator
        double = isinstance(operator.inputs[0].type, DoubleTensorType)
        self.dtype = np.dtype(np.float64 if double else np.float32)
        if container.target_opset < _MIN_OPSET:
            raise NotImplementedError(
                f"fastopt's ONNX converters need target_opset >= {_MIN_OPSET} (Softmax and "
                f"ReduceSum over one axis), got {container.target_opset}")

    def options(self, defaults):
        """The converter options given to skl2onnx for this model, over ``defaults``."""
        return self._container.get_options(self.operator.raw_operator, defaults)

    def input(self):
        """The feature matrix, cast to the graph's float type if it is not a float tensor."""
        variable = self.operator.inputs[0]
        if isinstance(variable.type, (FloatTensorType, DoubleTensorType)):
            return variable.full_name
        return self.cast(variable.full_name, self.dtype)

    def cast(self, x, dtype, out=None):
        """``x`` converted to ``dtype`` (float32, float64 or int64)."""
        return self.op("Cast", x, to=_PROTO_TYPES[np.dtype(dtype)], out=out)

    def const(self, value, dtype=None):
        """Add ``value`` as an initializer (floats in the graph's type) and return its name."""
        value = np.asarray(value)
        if dtype is None:
            dtype = self.dtype if value.dtype.kind in "fc" else value.dtype
        value = value.astype(dtype)
        name = self._scope.get_unique_variable_name("c")
        content = value.ravel()
        if value.dtype == object:
            content = [str(v).encode("utf-8") for v in content]
        self._container.add_initializer(name, _PROTO_TYPES[value.dtype], list(value.shape),
                                        content)
        return name

    def op(self, op_type, *inputs, out=None, domain="", **attrs):
        """Add one node and return the name of its (single) output.

        ``out`` names the output (one of the operator's declared outputs);
        ``domain`` is ``"ai.onnx.ml"`` for the ML operators.
        """
        out = out or self._scope.get_unique_variable_name(op_type.lower())
        self._container.add_node(op_type, list(inputs), [out], op_domain=domain,
                                 name=self._scope.get_unique_operator_name(op_type),
                                 **attrs)
        return out
