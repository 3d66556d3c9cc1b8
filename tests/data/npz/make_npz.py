#!/usr/bin/env python3
"""Writes the .npz fixtures of tests/core/test_npy.cpp with numpy itself, so that the reader is
tested against real np.savez (STORED) and np.savez_compressed (DEFLATE) output even on machines
without Python. Run from this folder: /usr/bin/python3 make_npz.py"""
import numpy as np


def arrays():
    return {
        "floats": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 - 1.0),
        "doubles": np.array([1.0 / 3.0, -2.5e300, 0.0], dtype=np.float64),
        "halves": np.array([1.0, -2.0, 65504.0, 2.0 ** -24], dtype=np.float16),
        "ints": np.array([-3, 0, 7, 2 ** 40], dtype=np.int64),
        "int32s": np.array([[1, -2], [3, -4]], dtype=np.int32),
        "bytes": np.array([0, 128, 255], dtype=np.uint8),
        "mask": np.array([True, False, True]),
        "label": np.array("fovea \u2713"),
        "names": np.array(["cls", "patch", "\U0001F600"]),
        "scalar": np.float64(3.25),
        "empty": np.zeros((0, 3), dtype=np.float32),
        # Large and repetitive, so that DEFLATE really compresses it.
        "ramp": np.tile(np.arange(64, dtype=np.float32), 32).reshape(32, 64),
    }


if __name__ == "__main__":
    np.savez_compressed("savez_compressed.npz", **arrays())
    np.savez("savez.npz", **arrays())
