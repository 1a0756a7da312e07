//! Weight initialisers for rate-mode projections (registry of names).
//!
//! `xavier` (Glorot uniform): U(±sqrt(6/(fan_in+fan_out))); `he` (Kaiming normal):
//! N(0, 2/fan_in); `uniform`: U(±1/sqrt(fan_in)); `normal`: N(0, 0.01²); `zeros`.

pub static NAMES: &[&str] = &["zeros", "uniform", "normal", "xavier", "he"];
