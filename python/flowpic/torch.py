"""A flowpic model as a PyTorch state dict and back (PyTorch is needed only here).

The tensors are in PyTorch layout (conv [out, in, kh, kw], dense [out, in], bias [out]) and named
'<i>.weight' / '<i>.bias', i counting the layers with parameters in forward order, as
`flowpic export-weights` names its .npy files. `names` maps those to a module's own keys, e.g.
['features.0', 'features.3', 'classifier.1'] for an nn.Module whose layers with parameters are
there.
"""
import numpy as np
import torch

from . import Model


def state_dict(model, names=None):
    """{key: torch.Tensor} of a Model (or a path or bytes of a model file)."""
    if not isinstance(model, Model):
        model = Model(model)
    out = {}
    for key, value in model.tensors().items():
        group, role = key.split(".")
        prefix = names[int(group)] if names is not None else group
        out[prefix + "." + role] = torch.from_numpy(np.array(value))
    return out


def from_state_dict(preset, state, classes, names=None):
    """A Model of preset's network for `classes` (a list of names) from a state dict."""
    tensors = {}
    for key, value in state.items():
        prefix, role = key.rsplit(".", 1)
        if names is not None:
            if prefix not in names:
                continue  # buffers and layers that flowpic's network does not have
            prefix = str(names.index(prefix))
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        tensors[prefix + "." + role] = np.asarray(value, dtype=np.float32)
    return Model.from_tensors(preset, tensors, list(classes))
