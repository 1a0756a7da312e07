//! Placeholders for the integrators of user-defined models while they are being written:
//! every system is refused, so nothing that is not implemented can run.

use super::{Method, System};
use crate::models::neuron::NeuronInfo;

pub fn can_integrate(_: &System, method: Method) -> Result<(), String> {
    Err(format!("`{}` is not implemented yet", method.name()))
}

pub fn choose_method(_: &System) -> Method {
    Method::Euler
}

pub fn info(_: System) -> &'static NeuronInfo {
    unimplemented!("user-defined models cannot run yet")
}
