"""Code the exercises share: case generators and support harnesses, in one named place.

Exercise `spec.py` files import from here. This package sits above both the
topic slices and the checker (it may import either); no slice and nothing in
`hubkit.check` imports it, so topic code stays out of the checker and the
checker stays out of the topics (tests/test_layering.py holds that).

    conv2d_cases    the graded convolutions of conv2d_numpy, conv2d_cpp, conv2d_cuda
    rollout_check   build flags and checks for vector_rollout_cpp
"""
