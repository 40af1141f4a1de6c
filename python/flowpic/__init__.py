"""flowpic: FlowPic traffic classification from Python (docs/python.md).

Every function that reads traffic takes a path or the file's bytes (pcap, pcapng, the lab's
.fpr flow records and the CSV formats, recognised by content). Results are dicts of numpy
columns (pandas.DataFrame(result) makes a table of them); `records` turns one into a list of
dicts. Times are int64 epoch nanoseconds.
"""
import os as _os

from ._flowpic import (Error, FormatError, IOError, Model, blocks, build_dataset, evaluate, flows,
                       presets, train)
from ._flowpic import classify as _classify
from ._flowpic import pictures as _pictures

__all__ = ["Error", "FormatError", "IOError", "Model", "blocks", "build_dataset", "bundled_model",
           "classify", "evaluate", "flows", "pictures", "presets", "records", "to_scipy", "train"]

_BUNDLED = _os.path.join(_os.path.dirname(__file__), "default.fpm")
_bundled = None


def bundled_model():
    """The model `flowpic classify` uses without --model (data/models/default.fpm)."""
    global _bundled
    if _bundled is None:
        if not _os.path.exists(_BUNDLED):
            raise FileNotFoundError("this flowpic was built without a bundled model: pass a model")
        _bundled = Model(_BUNDLED, "bundled model data/models/default.fpm")
    return _bundled


def _as_model(model):
    if model is None:
        return bundled_model()
    if isinstance(model, Model):
        return model
    return Model(model)


def classify(source, model=None, **options):
    """Classifies the blocks (decision='block') or flows ('majority', 'mean') of a capture.

    model: a Model, a path or bytes of a model file, or None for the bundled model. Returns
    columns src, dst, sport, dport, proto, block_start_ns, index, blocks, packets, label,
    class ('unknown' under the class's score threshold), score, unknown, probabilities (N, K),
    and 'classes' (the class names, in output order). Options as `flowpic classify`: batch,
    min_score, all_windows, min_packets, idle_timeout, max_flows, max_packets, threads.
    """
    return _classify(source, _as_model(model), **options)


def pictures(source, preset="mini_flowpic", *, sparse=False, bidirectional=False):
    """The FlowPic of every block of a capture under a preset, as `flowpic render` makes them.

    Dense: result['pictures'] is an (N, C, H, W) array of the preset's value type. Sparse:
    scipy-style coordinates result['sample'], ['row'], ['col'] and ['value'] ((nnz,) for one
    channel, (nnz, C) otherwise); every other cell holds result['background'][channel].
    result['index'] holds the blocks' columns, result['shape'] is (N, C, H, W).
    """
    return _pictures(source, preset, sparse=sparse, bidirectional=bidirectional)


def densify(result):
    """The (N, C, H, W) dense stack of a sparse `pictures` result."""
    import numpy as np
    n, c, h, w = result["shape"]
    value = result["value"]
    out = np.empty((n, c, h, w), dtype=value.dtype)
    for ch, bg in enumerate(result["background"]):
        out[:, ch] = bg
    vals = value.reshape(len(result["sample"]), c)
    for ch in range(c):
        out[result["sample"], ch, result["row"], result["col"]] = vals[:, ch]
    return out


def to_scipy(result, i, channel=0):
    """Picture i of a sparse `pictures` result as a scipy.sparse.coo_matrix (scipy needed)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    _, c, h, w = result["shape"]
    at = result["sample"] == i
    value = result["value"].reshape(len(result["sample"]), c)[at, channel]
    return coo_matrix((value, (result["row"][at], result["col"][at])), shape=(h, w))


def records(columns):
    """A dict of equally long columns (flows, blocks, classify) as a list of dicts, one per row."""
    names = [k for k, v in columns.items() if k != "classes" and hasattr(v, "__len__") and not isinstance(v, str)]
    n = len(columns[names[0]]) if names else 0
    rows = []
    for i in range(n):
        row = {}
        for k in names:
            v = columns[k][i]
            row[k] = v.tolist() if hasattr(v, "tolist") else v
        rows.append(row)
    return rows
