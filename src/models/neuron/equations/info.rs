//! A user-defined model as a registry member: [`info`] turns a checked [`System`] into the
//! same `&'static NeuronInfo` a built-in model file exports, so the checker, the help text
//! and the spiking engine treat both alike.

use super::System;
use super::group::UserModel;
use super::linear::show;
use crate::models::neuron::ReceptorInput;
use crate::models::neuron::{NeuronInfo, StateSpec};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The registry entry of a user-defined model: its parameters (each per element, any
/// finite value, the definition's default), its state variables (documented by their
/// equation), the weights it takes (the distinct dimensions of its `on_pre` variables), no
/// time-varying parameters, and its dynamics.
///
/// The entry and everything it refers to are leaked to get the `'static` lifetime the
/// registry's types have: each compiled definition keeps a few hundred bytes to a few
/// kilobytes (the system and its specs) until the process ends. A program compiles its
/// definitions once, so this is bounded by the size of the source.
pub fn info(system: System) -> &'static NeuronInfo {
    let name = leak(system.name.clone());
    let params: Vec<ParamSpec> = system
        .params
        .iter()
        .map(|p| {
            let doc = leak(format!(
                "parameter of the user-defined model `{}`",
                system.name
            ));
            ParamSpec::per_element(leak(p.name.clone()), p.dim, p.default, Range::Any, doc)
        })
        .collect();
    let state: Vec<StateSpec> = system
        .states
        .iter()
        .zip(&system.derivatives)
        .map(|(s, derivative)| StateSpec {
            name: leak(s.name.clone()),
            dim: s.dim,
            doc: leak(match derivative {
                Some(f) => format!("d{}/dt = {}", s.name, show(f, &system)),
                None => format!(
                    "state variable of `{}`, changed by events only",
                    system.name
                ),
            }),
        })
        .collect();
    let noise = match system.noises.len() {
        0 => String::new(),
        1 => " with 1 white noise".to_string(),
        k => format!(" with {k} white noises"),
    };
    let summary = leak(format!(
        "user-defined neuron model, {} state variables{noise}, integrated by {}",
        system.states.len(),
        system.method.name()
    ));
    let model: &'static UserModel = Box::leak(Box::new(UserModel::new(system)));
    let weights: &'static [Dim] = Box::leak(model.weights().to_vec().into_boxed_slice());
    // The checker gives all variables of one receptor the same dimension.
    let system = model.system();
    let receptors: Vec<ReceptorInput> = system
        .receptors
        .iter()
        .enumerate()
        .map(|(k, name)| ReceptorInput {
            name: leak(name.clone()),
            dim: system
                .on_pre
                .iter()
                .find(|p| p.receptor == k)
                .map(|p| system.states[p.var].dim),
        })
        .collect();
    let receptors: &'static [ReceptorInput] = Box::leak(receptors.into_boxed_slice());
    let noises = model.system().noises.len();
    Box::leak(Box::new(NeuronInfo {
        receptors,
        noises,
        ..NeuronInfo::spiking(
            name,
            summary,
            Box::leak(params.into_boxed_slice()),
            Box::leak(state.into_boxed_slice()),
            weights,
            &[],
            model,
        )
    }))
}
