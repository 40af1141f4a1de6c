"""The Python module against the flowpic tool's output on the committed samples.

Run by CTest (label python) with PYTHONPATH at the built package, FLOWPIC_TOOL the tool and
FLOWPIC_SOURCE_DIR the source tree.
"""
import csv
import io
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import flowpic

TOOL = os.environ.get("FLOWPIC_TOOL", "flowpic")
SOURCE = os.environ.get("FLOWPIC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLE = os.path.join(SOURCE, "data", "sample", "sample.pcap")
LAB_SAMPLE = os.path.join(SOURCE, "data", "lab", "sample", "lab-sample.pcap")
LAB_DATASET = os.path.join(SOURCE, "data", "lab", "dataset")


def tool(*args):
    return subprocess.run([TOOL, *args], check=True, capture_output=True, text=True).stdout


def tool_csv(*args):
    return list(csv.DictReader(io.StringIO(tool(*args))))


def ns(text):
    """Epoch seconds as the tool prints them (9 digits) -> int nanoseconds, exactly."""
    s, _, frac = text.partition(".")
    return int(s) * 1_000_000_000 + int((frac + "000000000")[:9])


def epoch_seconds(t):
    """The tool's classify timestamps: microseconds, rounded to nearest (core/time_text.hpp)."""
    us = (int(t) + 500) // 1000
    return "%d.%06d" % (us // 1_000_000, us % 1_000_000)


class FlowsAndBlocks(unittest.TestCase):
    def assert_key_columns(self, got, rows):
        self.assertEqual(got["src"], [r["src"] for r in rows])
        self.assertEqual(got["dst"], [r["dst"] for r in rows])
        for col in ("sport", "dport", "proto"):
            self.assertEqual(got[col].tolist(), [int(r[col]) for r in rows], col)

    def test_flows_match_the_tool(self):
        rows = tool_csv("flows", SAMPLE)
        got = flowpic.flows(SAMPLE)
        self.assertGreater(len(rows), 5)
        self.assert_key_columns(got, rows)
        self.assertEqual(got["packets"].tolist(), [int(r["packets"]) for r in rows])
        self.assertEqual(got["bytes"].tolist(), [int(r["bytes"]) for r in rows])
        self.assertEqual(got["first_ns"].tolist(), [ns(r["first"]) for r in rows])
        self.assertEqual(got["last_ns"].tolist(), [ns(r["last"]) for r in rows])

    def test_bidirectional_flows_match_the_tool(self):
        rows = tool_csv("flows", SAMPLE, "--bidirectional")
        got = flowpic.flows(SAMPLE, bidirectional=True)
        self.assert_key_columns(got, rows)
        self.assertEqual(got["packets"].tolist(), [int(r["packets"]) for r in rows])

    def test_bytes_read_as_the_file(self):
        with open(SAMPLE, "rb") as f:
            data = f.read()
        a, b = flowpic.flows(SAMPLE), flowpic.flows(data)
        self.assertEqual(a.keys(), b.keys())
        for k in a:
            self.assertEqual(list(a[k]), list(b[k]), k)
        self.assertEqual(len(flowpic.records(b)), len(b["src"]))

    def test_blocks_match_the_tool(self):
        rows = tool_csv("blocks", SAMPLE, "--block", "15", "--min-packets", "10")
        got = flowpic.blocks(SAMPLE, block=15, min_packets=10)
        self.assertGreater(len(rows), 10)
        self.assert_key_columns(got, rows)
        self.assertEqual(got["block_start_ns"].tolist(), [ns(r["block_start"]) for r in rows])
        self.assertEqual(got["block_end_ns"].tolist(), [ns(r["block_end"]) for r in rows])
        self.assertEqual(got["index"].tolist(), [int(r["index"]) for r in rows])
        self.assertEqual(got["packets"].tolist(), [int(r["packets"]) for r in rows])
        self.assertEqual(got["first_ns"].tolist(), [ns(r["first"]) for r in rows])
        self.assertEqual(got["last_ns"].tolist(), [ns(r["last"]) for r in rows])

    def test_errors_name_the_input(self):
        with self.assertRaises(flowpic.Error):
            flowpic.flows(b"not a capture\n")
        with self.assertRaises(flowpic.IOError):
            flowpic.flows(os.path.join(SOURCE, "no-such-file.pcap"))
        with self.assertRaises(TypeError):
            flowpic.flows(12)


class Pictures(unittest.TestCase):
    def rendered(self, preset, directory):
        tool("render", SAMPLE, "--preset", preset, "--out", directory)
        with open(os.path.join(directory, "index.csv")) as f:
            return list(csv.DictReader(f))

    def check_preset(self, preset):
        with tempfile.TemporaryDirectory() as d:
            index = self.rendered(preset, d)
            got = flowpic.pictures(SAMPLE, preset)
            pics = got["pictures"]
            self.assertEqual(pics.shape[0], len(index))
            self.assertEqual(got["index"]["src"], [r["src"] for r in index])
            self.assertEqual([epoch_seconds(t) for t in got["index"]["block_start_ns"]],
                             [r["block_start"] for r in index])
            self.assertEqual(got["index"]["packets"].tolist(), [int(r["packets"]) for r in index])
            for i, r in enumerate(index):
                want = np.load(os.path.join(d, r["picture"]))
                one = pics[i] if pics.shape[1] > 1 else pics[i, 0]
                self.assertEqual(one.dtype, want.dtype)
                np.testing.assert_array_equal(one, want, err_msg="%s picture %d" % (preset, i))
            sparse = flowpic.pictures(SAMPLE, preset, sparse=True)
            self.assertEqual(sparse["shape"], pics.shape)
            np.testing.assert_array_equal(flowpic.densify(sparse), pics)

    def test_mini_flowpic_matches_render(self):
        self.check_preset("mini_flowpic")

    def test_mini_flowpic64_matches_render(self):
        self.check_preset("mini_flowpic64")

    def test_shapira2019_sparse_matches_render(self):
        # 1500 x 1500: compared sparse, cell by cell, with the rendered .npy's non-zero cells
        with tempfile.TemporaryDirectory() as d:
            index = self.rendered("shapira2019", d)
            sp = flowpic.pictures(SAMPLE, "shapira2019", sparse=True)
            self.assertEqual(sp["shape"], (len(index), 1, 1500, 1500))
            self.assertEqual(sp["value"].dtype, np.uint16)
            for i in (0, len(index) - 1):
                want = np.load(os.path.join(d, index[i]["picture"]))
                at = sp["sample"] == i
                rows, cols = np.nonzero(want)
                np.testing.assert_array_equal(sp["row"][at], rows)
                np.testing.assert_array_equal(sp["col"][at], cols)
                np.testing.assert_array_equal(sp["value"][at], want[rows, cols])

    def test_pictures_are_not_copied(self):
        got = flowpic.pictures(SAMPLE, "mini_flowpic")
        self.assertFalse(got["pictures"].flags["OWNDATA"])  # numpy holds the C++ buffer
        self.assertTrue(got["pictures"].flags["C_CONTIGUOUS"])


class Classify(unittest.TestCase):
    def test_bundled_model_matches_the_tool(self):
        rows = tool_csv("classify", LAB_SAMPLE)
        with open(LAB_SAMPLE, "rb") as f:
            got = flowpic.classify(f.read())
        self.assertGreater(len(rows), 20)
        self.assertEqual(got["src"], [r["src"] for r in rows])
        self.assertEqual(got["dport"].tolist(), [int(r["dport"]) for r in rows])
        self.assertEqual([epoch_seconds(t) for t in got["block_start_ns"]], [r["block_start"] for r in rows])
        self.assertEqual(got["class"], [r["label"] for r in rows])
        self.assertEqual(["%.6f" % s for s in got["score"]], [r["score"] for r in rows])
        probs = got["probabilities"]
        self.assertEqual(probs.shape, (len(rows), len(got["classes"])))
        np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
        known = ~got["unknown"]
        np.testing.assert_array_equal(probs[known].argmax(axis=1), got["label"][known])

    def test_per_flow_decision_and_given_model(self):
        model_path = os.path.join(SOURCE, "data", "models", "default.fpm")
        rows = tool_csv("classify", LAB_SAMPLE, "--model", model_path, "--decision", "majority", "--min-score", "0")
        got = flowpic.classify(LAB_SAMPLE, model_path, decision="majority", min_score=0)
        self.assertEqual(got["class"], [r["label"] for r in rows])
        self.assertEqual(["%.6f" % s for s in got["score"]], [r["score"] for r in rows])
        self.assertFalse(got["unknown"].any())


class Models(unittest.TestCase):
    def test_load_save_and_tensors_match_export_weights(self):
        m = flowpic.bundled_model()
        self.assertIn(m.preset, flowpic.presets())
        self.assertGreaterEqual(len(m.classes), 2)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.fpm")
            m.save(path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), m.to_bytes())
            again = flowpic.Model(path)
            self.assertEqual(again.classes, m.classes)
            self.assertEqual(again.recipe, m.recipe)
            tool("export-weights", "--model", path, "--to", os.path.join(d, "w"))
            tensors = m.tensors()
            self.assertEqual(sorted(tensors), sorted(f[:-4] for f in os.listdir(os.path.join(d, "w"))))
            for name, value in tensors.items():
                np.testing.assert_array_equal(value, np.load(os.path.join(d, "w", name + ".npy")), err_msg=name)
            # back: the same tensors make the same weights; the tool's import-weights makes the same file
            rebuilt = flowpic.Model.from_tensors(m.preset, tensors, m.classes)
            for name, value in rebuilt.tensors().items():
                np.testing.assert_array_equal(value, tensors[name])
            tool("import-weights", "--preset", m.preset, "--classes", str(len(m.classes)), "--from",
                 os.path.join(d, "w"), "--out", os.path.join(d, "i.fpm"), "--class-names", ",".join(m.classes))
            with open(os.path.join(d, "i.fpm"), "rb") as f:
                self.assertEqual(f.read(), rebuilt.to_bytes())
        with self.assertRaises(ValueError):
            flowpic.Model.from_tensors(m.preset, {k: v[..., :1] for k, v in tensors.items()}, m.classes)

    def test_torch_state_dict_round_trip(self):
        try:
            import torch  # noqa: F401
        except ImportError:
            self.skipTest("PyTorch is not installed")
        import flowpic.torch as ft
        m = flowpic.bundled_model()
        state = ft.state_dict(m)
        self.assertTrue(all(isinstance(v, torch.Tensor) for v in state.values()))
        back = ft.from_state_dict(m.preset, state, m.classes)
        for name, value in back.tensors().items():
            np.testing.assert_array_equal(value, m.tensors()[name])
        names = ["layer%d" % i for i in range(len(state) // 2)]
        renamed = ft.state_dict(m, names)
        self.assertIn("layer0.weight", renamed)
        again = ft.from_state_dict(m.preset, renamed, m.classes, names)
        self.assertEqual(again.to_bytes(), back.to_bytes())


class DatasetTrainEval(unittest.TestCase):
    def test_dataset_train_eval_match_the_tool(self):
        with tempfile.TemporaryDirectory() as d:
            p = lambda name: os.path.join(d, name)  # noqa: E731
            summary = flowpic.build_dataset([LAB_DATASET], p("py.fpd"), preset="mini_flowpic", seed=3)
            subprocess.run([TOOL, "dataset", "--data", LAB_DATASET, "--preset", "mini_flowpic", "--seed", "3",
                            "--out", p("tool.fpd")], check=True, capture_output=True)
            with open(p("py.fpd"), "rb") as a, open(p("tool.fpd"), "rb") as b:
                self.assertEqual(a.read(), b.read())
            self.assertEqual(summary["classes"],
                             sorted(c for c in os.listdir(LAB_DATASET) if os.path.isdir(os.path.join(LAB_DATASET, c))))
            self.assertEqual(int(summary["counts"].sum()), summary["samples"])

            epochs = []
            result = flowpic.train(p("py.fpd"), p("py.fpm"), epochs=2, seed=5, threads=2, on_epoch=epochs.append)
            tool("train", "--data", p("tool.fpd"), "--out", p("tool.fpm"), "--epochs", "2", "--seed", "5", "--quiet")
            with open(p("py.fpm"), "rb") as a, open(p("tool.fpm"), "rb") as b:
                self.assertEqual(a.read(), b.read())  # deterministic for a seed, whatever the thread count
            self.assertEqual(len(result["history"]), 2)
            self.assertEqual([e["epoch"] for e in epochs], [0, 1])

            model = flowpic.Model(p("py.fpm"))
            got = flowpic.evaluate(model, p("py.fpd"))
            want = json.loads(tool("eval", "--model", p("tool.fpm"), "--data", p("tool.fpd"), "--json"))
            for k in ("samples", "split", "preset", "classes"):
                self.assertEqual(got[k], want[k], k)
            for k in ("accuracy", "top2", "macro_f1"):
                self.assertAlmostEqual(got[k], want[k], places=8, msg=k)
            np.testing.assert_array_equal(got["confusion"], np.array(want["confusion"]))
            self.assertEqual(got.get("unknown"), want.get("unknown"))
            self.assertEqual(got["predictions"].shape, (want["samples"], len(want["classes"])))


if __name__ == "__main__":
    unittest.main()
