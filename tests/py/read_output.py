"""Reads a neurosim HDF5 output with h5py (the reference HDF5 C library) and prints a JSON
summary of every group, dataset and attribute, for tests/record.rs to compare with what was
written. Usage: python3 tests/py/read_output.py FILE.h5
Exit status 3 means h5py is not installed (the calling test then skips).
"""
import json
import math
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    sys.exit(3)

FULL_VALUES_LIMIT = 100_000


def plain(value):
    """A JSON-friendly version of an attribute or array value."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def attrs_of(obj):
    out = {}
    for name in obj.attrs:
        entry = {"value": plain(obj.attrs[name])}
        enum = h5py.check_enum_dtype(obj.attrs.get_id(name).dtype)
        if enum is not None:
            entry["enum"] = {k: int(v) for k, v in enum.items()}
            entry["enum_base_size"] = obj.attrs.get_id(name).dtype.itemsize
        out[name] = entry
    return out


def main(path):
    summary = {"root_attrs": attrs_of(h5py.File(path, "r")), "groups": {}, "datasets": {}}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                summary["groups"][name] = {"attrs": attrs_of(obj)}
                return
            data = obj[()]
            entry = {
                "shape": list(obj.shape),
                "dtype": obj.dtype.str if h5py.check_string_dtype(obj.dtype) is None else "string",
                "maxshape": [m if m is not None else -1 for m in (obj.maxshape or [])],
                "chunks": list(obj.chunks) if obj.chunks else None,
                "compression": obj.compression,
                "shuffle": bool(obj.shuffle),
                "attrs": attrs_of(obj),
            }
            if h5py.check_string_dtype(obj.dtype) is not None:
                entry["values"] = [plain(v) for v in obj.asstr()[()].tolist()]
            elif obj.size <= FULL_VALUES_LIMIT:
                flat = np.asarray(data).reshape(-1)
                entry["values"] = plain(flat)
                if flat.dtype.kind == "f":
                    # Bit patterns, so the comparison does not depend on decimal round trips.
                    bits = {4: "<u4", 8: "<u8"}[flat.dtype.itemsize]
                    entry["bits"] = flat.astype(flat.dtype.newbyteorder("<")).view(bits).tolist()
            else:
                entry["sum"] = float(np.asarray(data, dtype=np.float64).sum())
            summary["datasets"][name] = entry

        f.visititems(visit)
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
