#!/usr/bin/env python3
"""MTCNN's P-, R- and O-Net weights (Zhang et al. 2016, as converted by facenet-pytorch, MIT)
from the facenet-pytorch wheel into one safetensors file, without torch: the wheel's
data/{pnet,rnet,onet}.pt are state dicts in torch's legacy (pre-zip) format, read here with
pickle and numpy.

usage: convert_mtcnn.py FACENET_WHEEL OUT.safetensors
"""
import collections
import io
import pickle
import struct
import sys
import zipfile

import numpy as np
from safetensors.numpy import save_file

DTYPES = {"FloatStorage": np.float32}


class Storage:
    def __init__(self, kind, key, numel):
        self.dtype, self.key, self.numel = DTYPES[kind], key, numel
        self.data = None


def rebuild_tensor(storage, offset, size, stride, *_):
    flat = storage.data
    itemsize = flat.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    )
    return np.ascontiguousarray(view)


class LegacyUnpickler(pickle.Unpickler):
    """Tensors are rebuilt after their storages' bytes, which follow the pickle, are read:
    each tensor unpickles as an index into `pending`."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages
        self.pending = []

    def defer(self, storage, offset, size, stride, *_):
        self.pending.append((storage, offset, size, stride))
        return len(self.pending) - 1

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return self.defer
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda t, *_: t
        if module == "torch" and name in DTYPES:
            return name
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a state dict")

    def persistent_load(self, pid):
        # ('storage', kind, key, location, numel)
        _, kind, key, _, numel = pid[:5]
        if key not in self.storages:
            self.storages[key] = Storage(kind, key, numel)
        return self.storages[key]


def load_legacy(raw: bytes) -> dict:
    f = io.BytesIO(raw)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise ValueError("not a legacy torch file")
    pickle.load(f)  # protocol version
    pickle.load(f)  # sys info
    storages = {}
    unpickler = LegacyUnpickler(f, storages)
    state = unpickler.load()
    keys = pickle.load(f)
    for key in keys:
        (numel,) = struct.unpack("<q", f.read(8))
        s = storages[key]
        s.data = np.frombuffer(f.read(numel * np.dtype(s.dtype).itemsize), dtype=s.dtype)
    return {name: rebuild_tensor(*unpickler.pending[i]) for name, i in state.items()}


def main():
    wheel, out = sys.argv[1], sys.argv[2]
    tensors = {}
    with zipfile.ZipFile(wheel) as z:
        for net in ("pnet", "rnet", "onet"):
            for name, array in load_legacy(z.read(f"facenet_pytorch/data/{net}.pt")).items():
                tensors[f"{net}.{name}"] = array.astype(np.float32)
    expected = {"pnet.conv1.weight": (10, 3, 3, 3), "rnet.dense4.weight": (128, 576),
                "onet.dense6_3.weight": (10, 256)}
    for name, shape in expected.items():
        if tensors.get(name) is None or tensors[name].shape != shape:
            sys.exit(f"{wheel}: {name} missing or not {shape}: not the MTCNN weights expected")
    # One metadata key: safetensors writes several in no fixed order, and setup checks the sha256.
    save_file(tensors, out, metadata={"source": "MTCNN (Zhang et al. 2016) from facenet-pytorch 2.6.0 (MIT)"})
    print(f"{out}: {len(tensors)} tensors, {sum(a.size for a in tensors.values())} parameters")


if __name__ == "__main__":
    main()
