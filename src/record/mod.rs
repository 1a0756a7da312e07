//! Where results go: the HDF5 output (not built yet).
