"""Format ``cifar10``: CIFAR-10's python batches (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) -> an
image-classification dataset; MNIST's reader (readers/mnist.py, :mod:`stages.data.digits`), the files read by
:mod:`stages.data.cifar10`."""
from __future__ import annotations

from stages.data.readers import mnist


class CIFAR10(mnist.MNIST):
    pass
