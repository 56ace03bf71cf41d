"""Parameter, Module and the containers: the contract every layer follows.

The contract (PyTorch's vocabulary, hand-written backward passes):

- ``forward(*inputs)`` computes the output and stores what ``backward`` needs in
  one cache (``self._cache``) that the next forward call overwrites.
- ``backward(grad_out)`` returns the gradient of the loss with respect to the
  input (a tuple for several inputs) and *adds* into each parameter's ``.grad``,
  so gradients accumulate until :meth:`Module.zero_grad` (a parameter shared by
  two modules, or used at every time step, collects every contribution).
- ``state_dict()`` keys and shapes equal PyTorch's for the same module.
- ``needs_input_grad = False`` says the input is data that nothing upstream
  learns from: layers that can (``Linear``, the recurrent layers) then skip the
  input gradient and ``backward`` returns None, as PyTorch skips the gradient of
  a tensor that does not require one. A training loop sets it on the model it
  trains; ``Sequential`` hands it to its first layer with parameters.

A module's cache holds one forward call. To apply the same weights twice in
one graph, give two modules the same :class:`Parameter` (tied weights) or
stack the inputs into one batch.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any, Iterator

import numpy as np

from ..utils import FLOAT_DTYPES, as_array, check_bool, resolve_dtype


class Parameter:
    """A trainable array and the gradient accumulated for it.

    Parameters
    ----------
    data : array_like
        The initial value; must be float32 or float64.
    requires_grad : bool, default True
        If False, layers skip accumulating into ``grad`` and optimizers skip
        the parameter (a frozen discriminator while its generator trains).

    Attributes
    ----------
    data : ndarray
    grad : ndarray of the same shape and dtype as ``data``, zero until a backward pass.
    """

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data: Any, requires_grad: bool = True):
        data = np.asarray(data)
        if data.dtype not in FLOAT_DTYPES:
            raise TypeError(f"Parameter: data must be float32 or float64, received {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)
        self.requires_grad = check_bool("requires_grad", requires_grad)

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def zero_grad(self) -> None:
        self.grad.fill(0)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer, loss and model.

    Subclasses set parameters (:class:`Parameter`), child modules and buffers
    (:meth:`register_buffer`) as attributes in ``__init__``; registration order
    is the order of :meth:`named_parameters` and :meth:`state_dict`.
    """

    # Class-level defaults keep a subclass working even if it forgets super().__init__().
    training: bool = True
    _buffer_names: tuple = ()
    _cache: Any = None
    #: Whether ``backward`` must return the gradient of the input. False when the input
    #: is data: a layer that can skip that product (the largest matmul of an MLP's first
    #: layer, ~1/5 of its training step) does and returns None; the others ignore it.
    needs_input_grad: bool = True

    def __init__(self) -> None:
        self.training = True
        self._buffer_names = []
        self._cache = None

    # ------------------------------------------------------------------ compute
    def forward(self, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, grad_out: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *inputs: Any, **options: Any) -> Any:
        return self.forward(*inputs, **options)  # options: masks and flags (MultiheadAttention's attn_mask)

    def _saved(self) -> Any:
        """The cache of the last forward call (error if there was none)."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    # ------------------------------------------------------------ registration
    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Register a non-trainable array that belongs in the state dict (running stats)."""
        setattr(self, name, value)
        if name not in self._buffer_names:
            self._buffer_names = [*self._buffer_names, name]

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def _named_parameters_all(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every (name, parameter) pair, shared parameters once per place they stand."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value._named_parameters_all(f"{prefix}{name}.")

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs in registration order; a shared parameter comes once."""
        seen: set[int] = set()
        for name, param in self._named_parameters_all():
            if id(param) not in seen:
                seen.add(id(param))
                yield name, param

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def num_parameters(self) -> int:
        """How many scalars the model trains."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------- state dicts
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer, under PyTorch's keys."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for key, (module, attr) in self._state_targets().items():
            value = getattr(module, attr)
            state[key] = np.array(value.data if isinstance(value, Parameter) else value, copy=True)
        return state

    def _state_targets(self) -> "OrderedDict[str, tuple[Module, str]]":
        targets: OrderedDict[str, tuple[Module, str]] = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, value in vars(module).items():
                if isinstance(value, Parameter):
                    targets[dot + name] = (module, name)
            for name in module._buffer_names:
                if getattr(module, name) is not None:
                    targets[dot + name] = (module, name)
        return targets

    def load_state_dict(self, state: "dict[str, Any]", strict: bool = True) -> None:
        """Copy arrays into this module's parameters and buffers, in place.

        Values are cast to the module's dtype. With ``strict`` (the default),
        missing and unexpected keys are an error; shapes must always match.
        """
        targets = self._state_targets()
        missing = [key for key in targets if key not in state]
        unexpected = [key for key in state if key not in targets]
        name = type(self).__name__
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"{name}.load_state_dict: " + "; ".join(parts))
        # Check every shape before copying anything: a failed load leaves the module as it was.
        pairs = []
        mismatches = []
        for key, (module, attr) in targets.items():
            if key not in state:
                continue
            value = np.asarray(state[key])
            current = getattr(module, attr)
            target = current.data if isinstance(current, Parameter) else current
            if value.shape != target.shape:
                mismatches.append(f"size mismatch for {key}: received {value.shape}, the model has {target.shape}")
            pairs.append((target, value))
        if mismatches:
            raise ValueError(f"{name}.load_state_dict: " + "; ".join(mismatches))
        for target, value in pairs:
            target[...] = value

    # ------------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> "Module":
        mode = check_bool("mode", mode)
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.zero_grad()

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        requires_grad = check_bool("requires_grad", requires_grad)
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def to(self, dtype: Any) -> "Module":
        """Convert parameters, float buffers and the module's compute dtype, in place.

        Gradients are reset to zero and caches are dropped. Optimizers built
        before the conversion still point at the old arrays: build them after.
        """
        dtype = resolve_dtype(dtype)
        converted: dict[int, Parameter] = {}
        for module in self.modules():
            for attr, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in converted:
                    value.data = value.data.astype(dtype)
                    value.grad = np.zeros_like(value.data)
                    converted[id(value)] = value
            for attr in module._buffer_names:
                value = getattr(module, attr)
                if isinstance(value, np.ndarray) and value.dtype in FLOAT_DTYPES:
                    setattr(module, attr, value.astype(dtype))
            if "dtype" in vars(module):
                module.dtype = dtype
            module._cache = None
        return self

    def float(self) -> "Module":
        return self.to(np.float32)

    def double(self) -> "Module":
        return self.to(np.float64)

    # -------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class ModuleList(Module):
    """A list of child modules (Transformer blocks, stacked layers), named ``"0"``, ``"1"``, ..."""

    def __init__(self, modules: "list[Module] | tuple[Module, ...]" = ()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}: entry {len(self)} must be a Module, received {type(module).__name__}"
            )
        self._refuse_reuse(module)
        setattr(self, str(len(self)), module)
        return self

    def _refuse_reuse(self, module: Module) -> None:
        """One module object twice in a container would run twice per forward pass with one cache.

        Its second forward overwrites the cache of the first, so backward would
        compute the first call's weight gradients from the second call's input:
        silently wrong. PyTorch's autograd records every call and allows it; a
        hand-written backward cannot, so it is refused here with the two correct ways.
        """
        new_ids = {id(m): m for m in module.modules()}
        for index, child in enumerate(self.children()):
            for inner in child.modules():
                if id(inner) in new_ids:
                    raise ValueError(
                        f"{type(self).__name__}: entry {len(self)} contains the same {type(inner).__name__} object "
                        f"as entry {index}; a dltoys module keeps one forward cache, so calling it twice in one "
                        "forward pass would give wrong weight gradients. To share weights, build a second "
                        f"{type(inner).__name__} and give it the first one's Parameters "
                        "(second.weight = first.weight; gradients then add up in the shared .grad), "
                        "or stack the inputs into one batch"
                    )

    def __len__(self) -> int:
        return sum(1 for _ in self.children())

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    def __getitem__(self, index: int) -> Module:
        return list(self.children())[index]


class ModuleDict(Module):
    """Named child modules (a GAN's generator and discriminator), as ``torch.nn.ModuleDict``.

    State-dict keys are ``"<name>.<key>"``: ``{"generator": g}`` gives ``"generator.0.weight"``.
    It has no forward: it holds modules that something else calls.
    """

    def __init__(self, modules: "dict[str, Module] | None" = None):
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __setitem__(self, name: str, module: Module) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"ModuleDict: names must be identifiers, received {name!r}")
        if name in vars(self) and not isinstance(getattr(self, name), Module):
            raise KeyError(f"ModuleDict: {name!r} is an attribute of ModuleDict itself; choose another name")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: entry {name!r} must be a Module, received {type(module).__name__}")
        setattr(self, name, module)

    def __getitem__(self, name: str) -> Module:
        for child_name, child in self.named_children():
            if child_name == name:
                return child
        raise KeyError(f"ModuleDict: no module {name!r}; holds {', '.join(self.keys()) or 'none'}")

    def __len__(self) -> int:
        return sum(1 for _ in self.children())

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def keys(self) -> Iterator[str]:
        return (name for name, _ in self.named_children())

    def items(self) -> Iterator[tuple[str, Module]]:
        return self.named_children()


class Sequential(ModuleList):
    """Modules applied in order; backward runs them in reverse.

    Children are named ``"0"``, ``"1"``, ..., so state-dict keys match
    ``torch.nn.Sequential`` (``"0.weight"``).
    """

    def __init__(self, *modules: Module):
        super().__init__(modules)

    def forward(self, x: Any) -> Any:
        for layer in self.children():
            x = layer(x)
        return x

    @property
    def needs_input_grad(self) -> bool:
        """False: the input is data (see :class:`Module`); set on the first layer with parameters.

        The layers in front of that one have no parameters (Flatten, an activation):
        their gradients serve only the input, so backward stops where it returns None.
        """
        return vars(self).get("_needs_input_grad", True)

    @needs_input_grad.setter
    def needs_input_grad(self, value: bool) -> None:
        self._needs_input_grad = bool(value)
        for layer in self.children():
            if next(layer.parameters(), None) is not None:
                layer.needs_input_grad = bool(value)
                break

    def backward(self, grad_out: Any) -> Any:
        layers = list(self.children())
        for index in reversed(range(len(layers))):
            grad_out = layers[index].backward(grad_out)
            if grad_out is None:  # that layer's input needs no gradient, so no layer before it does
                trainable = [
                    f"{i} ({type(layers[i]).__name__})"
                    for i in range(index)
                    if any(p.requires_grad for p in layers[i].parameters())
                ]
                if trainable:
                    raise RuntimeError(
                        f"Sequential.backward: layer {index} ({type(layers[index]).__name__}) returned no input "
                        f"gradient (needs_input_grad=False) but layers {', '.join(trainable)} before it have "
                        "trainable parameters; set needs_input_grad on the Sequential, not on an inner layer"
                    )
                return None
        return grad_out


def check_grad_out(module: Module, grad_out: Any, shape: tuple, dtype: Any = None) -> np.ndarray:
    """``grad_out`` as an array of the forward output's ``shape`` (and ``dtype``, if given).

    Every backward starts here: a gradient of another shape would broadcast
    silently into a wrong one, and a float64 gradient would upcast a float32
    backward pass.
    """
    grad_out = np.asarray(grad_out, dtype=dtype)
    if grad_out.shape != tuple(shape):
        raise ValueError(
            f"{type(module).__name__}.backward: expected grad_out of shape {tuple(shape)}, "
            f"received {grad_out.shape}"
        )
    return grad_out


def float_array(module: Module, x: Any) -> np.ndarray:
    """The input of a layer that keeps its input's dtype (activations, Dropout, losses): float32 or float64.

    float16 and long double are refused by name (dltoys computes in float32 or
    float64 only; NumPy's random generator and BLAS have no float16 path).
    """
    x = as_array(f"{type(module).__name__} input", x)
    if x.dtype not in FLOAT_DTYPES:
        hint = "; convert with x.astype(np.float32)" if x.dtype.kind in "biuf" else ""
        raise TypeError(
            f"{type(module).__name__}: expected a float array, received dtype {x.dtype} (float32 or float64{hint})"
        )
    return x


def as_float_input(module: Module, x: Any, dtype: np.dtype) -> np.ndarray:
    """Cast a layer's input to the layer's dtype (no copy when it already matches).

    Integer and boolean inputs (bits stored as uint8) become floats here, batch
    by batch, so a large data set can stay compact in memory. Ragged lists,
    objects, strings and complex numbers are refused with a ``TypeError``.
    """
    if isinstance(x, np.ndarray) and x.dtype == dtype:
        return x
    array = as_array(f"{type(module).__name__} input", x)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{type(module).__name__}: expected a numeric array, received dtype {array.dtype}"
        )
    return array.astype(dtype, copy=False)


@contextlib.contextmanager
def eval_mode(model: Module) -> Iterator[None]:
    """Every module of ``model`` in eval mode inside the block, then back in its own mode (also on error).

    For evaluation and sampling in the middle of training: Dropout off and
    BatchNorm on its running statistics, without losing which modules were training.
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
