"""Readers of the MNIST IDX files and the CIFAR-10 python batches: round trip and every defect named."""
import gzip
import pickle
import struct

import numpy as np
import pytest

from stages.data import cifar10, mnist
from stages.data.splits import LabelError

SIZES = {"train": 5, "test": 3}


def idx_bytes(arr, magic=None):
    """IDX encoding of the uint8 array ``arr`` (``magic`` overrides the computed one)."""
    magic = (0x08 << 8 | arr.ndim) if magic is None else magic
    return struct.pack(f">I{arr.ndim}I", magic, *arr.shape) + arr.astype(np.uint8).tobytes()


def write_mnist(root, gz=False, dotted=False):
    """Tiny MNIST files (4 x 3 images) in ``root``; returns the arrays written (train then test)."""
    rng = np.random.default_rng(0)
    out = []
    for split, (img, lab) in mnist.FILES.items():
        n = SIZES[split]
        x = rng.integers(0, 256, (n, 4, 3), dtype=np.uint8)
        y = rng.integers(0, 10, n).astype(np.uint8)
        for name, arr in ((img, x), (lab, y)):
            name = name.replace("-idx", ".idx") if dotted else name
            if gz:
                (root / (name + ".gz")).write_bytes(gzip.compress(idx_bytes(arr)))
            else:
                (root / name).write_bytes(idx_bytes(arr))
        out += [x, y]
    return out


@pytest.mark.parametrize("gz,dotted", [(False, False), (True, False), (False, True), (True, True)])
def test_mnist_round_trip(tmp_path, gz, dotted):
    written = write_mnist(tmp_path, gz=gz, dotted=dotted)
    loaded = mnist.load(tmp_path)
    for want, got, dtype in zip(written, loaded, (np.uint8, np.int64) * 2):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert loaded[0].shape == (5, 4, 3) and loaded[3].shape == (3,)
    loaded[0][0, 0, 0] = 1  # writable


TRAIN_IMG, TRAIN_LAB = mnist.FILES["train"]
TEST_IMG, TEST_LAB = mnist.FILES["test"]


def _edit(name, fn):
    def corrupt(root):
        (root / name).write_bytes(fn((root / name).read_bytes()))
    return corrupt


def _gz(name, content):
    def corrupt(root):
        data = content(root, name)
        (root / name).unlink()
        (root / (name + ".gz")).write_bytes(data)
    return corrupt


MNIST_CASES = {  # corruption, exception, fragments the message must hold (besides the file name)
    "missing": (lambda r: (r / TEST_LAB).unlink(), FileNotFoundError, [TEST_LAB, TRAIN_IMG]),
    "labels_magic": (_edit(TRAIN_LAB, lambda b: struct.pack(">I", 2051) + b[4:]), ValueError,
                     [TRAIN_LAB, "2049", "2051"]),
    "images_magic": (_edit(TRAIN_IMG, lambda b: struct.pack(">I", 2049) + b[4:]), ValueError,
                     [TRAIN_IMG, "expected 2051", "found 2049"]),
    "dtype_code": (_edit(TEST_IMG, lambda b: b"\0\0\x0c\x03" + b[4:]), ValueError, [TEST_IMG, "0x0c"]),
    "short_header": (_edit(TEST_LAB, lambda b: b[:6]), ValueError, [TEST_LAB, "truncated"]),
    "truncated": (_edit(TRAIN_IMG, lambda b: b[:-1]), ValueError,
                  [TRAIN_IMG, "truncated", f"expected {16 + 5 * 12} bytes", f"found {16 + 5 * 12 - 1}"]),
    "trailing": (_edit(TEST_LAB, lambda b: b + b"\0\0"), ValueError,
                 [TEST_LAB, "trailing", f"expected {8 + 3} bytes", f"found {8 + 3 + 2}"]),
    "count": (_edit(TRAIN_LAB, lambda b: struct.pack(">II", 2049, 4) + b[8:-1]), ValueError,
              [TRAIN_IMG, TRAIN_LAB, "5 images", "4 labels"]),
    "gzip_garbage": (_gz(TRAIN_IMG, lambda r, n: b"\x1f\x8b not really gzip"), ValueError,
                     [TRAIN_IMG + ".gz", "gzip"]),
    "gzip_truncated": (_gz(TEST_IMG, lambda r, n: gzip.compress((r / n).read_bytes())[:-12]), ValueError,
                       [TEST_IMG + ".gz", "gzip"]),
}


def _defect_names_file(tmp_path, write, corrupt, load, exc, fragments):
    """A well-formed copy, one defect, then the reader's error: it names the folder or file and holds every
    fragment."""
    write(tmp_path)
    corrupt(tmp_path)
    with pytest.raises(exc) as info:
        load(tmp_path)
    msg = str(info.value)
    assert str(tmp_path) in msg, msg  # the folder / full path
    for frag in fragments:
        assert frag in msg, msg


@pytest.mark.parametrize("case", MNIST_CASES)
def test_mnist_defect_names_file(tmp_path, case):
    corrupt, exc, fragments = MNIST_CASES[case]
    _defect_names_file(tmp_path, write_mnist, corrupt, mnist.load, exc, fragments)


def _set_labels(path, rows, value, header=8):
    data = bytearray(path.read_bytes())
    for r in rows:
        data[header + r] = value
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name,rows,n", [(TEST_LAB, [1, 2], 3), (TRAIN_LAB, [4], 5)])
def test_mnist_label_outside_the_classes_names_file_row_and_value(tmp_path, name, rows, n):
    write_mnist(tmp_path)
    _set_labels(tmp_path / name, rows, 200)
    with pytest.raises(LabelError) as info:
        mnist.load(tmp_path)
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / name}: row {rows[0]} has label 200, outside 0..9"), msg
    assert f"({len(rows)} of {n} rows out of range)" in msg, msg


def test_mnist_labels_at_the_class_bounds_are_accepted(tmp_path):
    write_mnist(tmp_path)
    _set_labels(tmp_path / TEST_LAB, [0], 0)
    _set_labels(tmp_path / TEST_LAB, [1], 9)
    assert mnist.load(tmp_path)[3][:2].tolist() == [0, 9]


def test_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        mnist.load(tmp_path / "nowhere")


# ---------------------------------------------------------------- CIFAR-10

def write_cifar(root, n=2, str_keys=False, data_dtype=np.uint8):
    """Tiny batches of ``n`` images each in ``root``; returns {batch name: (data (n, 3072), labels)}."""
    rng = np.random.default_rng(1)
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, name in enumerate(cifar10.TRAIN + (cifar10.TEST,)):
        data = rng.integers(0, 256, (n, 3072)).astype(data_dtype)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        key = str if str_keys else str.encode
        batch = {key("data"): data, key("labels"): labels, key("batch_label"): key(name)}
        (root / name).write_bytes(pickle.dumps(batch))
        out[name] = (data, labels)
    return out


@pytest.mark.parametrize("sub,str_keys,dtype", [(False, False, np.uint8), (True, False, np.uint8),
                                                (False, True, np.int64)])
def test_cifar_round_trip(tmp_path, sub, str_keys, dtype):
    written = write_cifar(tmp_path / cifar10.SUBDIR if sub else tmp_path, str_keys=str_keys, data_dtype=dtype)
    x_train, y_train, x_test, y_test = cifar10.load(tmp_path)
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert x_train.dtype == x_test.dtype == np.uint8 and y_train.dtype == y_test.dtype == np.int64
    data, labels = written["data_batch_3"]
    np.testing.assert_array_equal(x_train[4:6], data.reshape(2, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[4:6], labels)
    data, labels = written["test_batch"]
    # row layout: 1024 red, 1024 green, 1024 blue, each row-major; pixel (row 1, column 2) of image 1:
    assert tuple(x_test[1, 1, 2]) == tuple(data[1, [34, 1024 + 34, 2048 + 34]])
    np.testing.assert_array_equal(y_test, labels)


def _batch(name, fn):
    def corrupt(root):
        batch = pickle.loads((root / name).read_bytes())
        (root / name).write_bytes(pickle.dumps(fn(batch)))
    return corrupt


CIFAR_CASES = {
    "missing": (lambda r: (r / "data_batch_3").unlink(), FileNotFoundError, ["data_batch_3", "test_batch"]),
    "truncated": (lambda r: (r / "data_batch_2").write_bytes((r / "data_batch_2").read_bytes()[:100]),
                  ValueError, ["data_batch_2", "not a readable"]),
    "not_pickle": (lambda r: (r / "test_batch").write_bytes(b"\x00" * 50), ValueError, ["test_batch"]),
    "not_dict": (_batch("test_batch", lambda b: [b]), ValueError, ["test_batch", "dict"]),
    "missing_key": (_batch("data_batch_5", lambda b: {b"data": b[b"data"]}), ValueError,
                    ["data_batch_5", "labels"]),
    "shape": (_batch("data_batch_1", lambda b: {**b, b"data": b[b"data"][:, :3071]}), ValueError,
              ["data_batch_1", "(2, 3071)", "3072"]),
    "flat": (_batch("data_batch_1", lambda b: {**b, b"data": b[b"data"].ravel()}), ValueError,
             ["data_batch_1", "shape"]),
    "labels": (_batch("data_batch_4", lambda b: {**b, b"labels": b[b"labels"][:1]}), ValueError,
               ["data_batch_4", "1 labels", "2 images"]),
    "float_data": (_batch("test_batch", lambda b: {**b, b"data": b[b"data"] + 0.5}), ValueError,
                   ["test_batch", "float64", "uint8"]),
    "range": (_batch("test_batch", lambda b: {**b, b"data": b[b"data"].astype(np.int64) + 256}), ValueError,
              ["test_batch", "uint8"]),
    "float_labels": (_batch("test_batch", lambda b: {**b, b"labels": [0.5, 1.5]}), ValueError,
                     ["test_batch", "integers"]),
}


@pytest.mark.parametrize("case", CIFAR_CASES)
def test_cifar_defect_names_file(tmp_path, case):
    corrupt, exc, fragments = CIFAR_CASES[case]
    _defect_names_file(tmp_path, write_cifar, corrupt, cifar10.load, exc, fragments)


@pytest.mark.parametrize("name,labels,row,value", [("data_batch_2", [3, 10], 1, 10), ("test_batch", [-1, 0], 0, -1)])
def test_cifar_label_outside_the_classes_names_file_row_and_value(tmp_path, name, labels, row, value):
    write_cifar(tmp_path)
    _batch(name, lambda b: {**b, b"labels": labels})(tmp_path)
    with pytest.raises(LabelError) as info:
        cifar10.load(tmp_path)
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / name}: row {row} has label {value}, outside 0..9"), msg
    assert "(1 of 2 rows out of range)" in msg, msg
