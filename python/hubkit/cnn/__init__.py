"""Convolutional networks: conv2d from NumPy loops to C++ and CUDA kernels, then layers and models.

reference.py  NumPy conv2d (loops and im2col), its backward, max/avg pooling: the spec
ops.py        `hubkit::conv2d` torch op with reference, cpp and cuda backends
layers.py     Conv2d, MaxPool2d, AvgPool2d, LeNet-5 and a CIFAR ResNet-18
train.py      LeNet on handwritten digits, CIFAR-10 ResNet, transfer learning, plots
"""
