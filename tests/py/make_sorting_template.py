"""Writes src/record/sorting_by_time.h5: one group whose attribute `sorting` is the HDF5 enum
libsonata requires (uint8 base; none = 0, by_id = 1, by_time = 2) set to by_time. neurosim's
HDF5 writer cannot build enum attributes itself, so it copies this group for every spike
population. Run once with h5py: python3 tests/py/make_sorting_template.py src/record/sorting_by_time.h5
"""
import sys

import h5py

SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")

with h5py.File(sys.argv[1], "w", libver=("v110", "v114")) as f:
    group = f.create_group("sorting_by_time")
    group.attrs.create("sorting", 2, dtype=SORTING)
