"""Cheat: reads hubkit's reference source from disk and runs it."""

import os
import sys


def conv2d(x, weight, bias, stride, padding, dilation, groups):
    root = os.path.dirname(sys.modules["hubkit"].__file__)
    namespace = {}
    with open(os.path.join(root, "cnn", "reference.py"), encoding="utf-8") as f:
        exec(compile(f.read(), "reference.py", "exec"), namespace)
    return namespace["conv2d_im2col"](x, weight, bias, stride, padding, dilation, groups)
