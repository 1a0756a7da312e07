"""Reads the spike report of one population with libsonata and prints it as JSON
{"node_ids": [...], "timestamps": [...], "sorting": "..."}.
Usage: python3 tests/py/read_sonata.py FILE.h5 POPULATION
Exit status 3 means libsonata is not installed (the calling test then skips).
"""
import json
import struct
import sys

try:
    import libsonata
except ImportError:
    sys.exit(3)

reader = libsonata.SpikeReader(sys.argv[1])
population = reader[sys.argv[2]]
spikes = population.get()
json.dump(
    {
        "node_ids": [int(n) for n, _ in spikes],
        "timestamps": [float(t) for _, t in spikes],
        # Bit patterns of the times, so the comparison does not depend on decimal round trips.
        "timestamp_bits": [struct.unpack("<Q", struct.pack("<d", t))[0] for _, t in spikes],
        "sorting": str(population.sorting),
    },
    sys.stdout,
)
