"""Cheat: returns hubkit's own reference convolution instead of computing one."""

from hubkit.cnn import reference


def conv2d(x, weight, bias, stride, padding, dilation, groups):
    return reference.conv2d_im2col(x, weight, bias, stride, padding, dilation, groups)
