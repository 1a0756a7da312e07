//! What training needs of a rate network's graph, checked on the lowered network so that the
//! mistakes the engine would refuse at run time are reported at their place in the file (and
//! by `neurosim check`): outputs the loss can compare with targets (E0701, E0702), a path
//! the gradient can take (E0703), no whole-sequence or spatial populations in a network that
//! runs step by step (E0704), and the two parts of `train adversarial` (E0705). Spatial
//! connectors into populations with inner structure are E0410.

use crate::diag::Diagnostic;
use crate::ir::{Adversarial, Network, PopulationId, ProjectionId};
use crate::models::activation::Activation;
use crate::models::loss::Loss;
use crate::models::neuron::Runs;

/// Every check of this file on a network that is otherwise free of errors.
pub fn check(network: &Network, diags: &mut Vec<Diagnostic>) {
    spatial_targets(network, diags);
    step_by_step(network, diags);
    let Some(train) = &network.train else { return };
    if let Some(adversarial) = &train.adversarial {
        adversarial_parts(network, adversarial, train.span, diags);
    }
    if let Some(loss) = &train.loss {
        outputs(network, loss, diags);
        gradient_path(network, diags);
    }
}

/// `conv` and pooling compute a `dense` population's input; a unit with gates or heads
/// takes its input from ordinary projections.
fn spatial_targets(network: &Network, diags: &mut Vec<Diagnostic>) {
    let g = &network.graph;
    for (_, p) in g.projections() {
        let target = g.population(p.target);
        if p.connector.spatial.is_none() || matches!(target.model.runs, Runs::Dense) {
            continue;
        }
        diags.push(
            Diagnostic::error(
                "E0410",
                format!(
                    "`{}` cannot feed the `{}` population `{}`",
                    p.connector.name, target.model.name, target.name
                ),
            )
            .with_label(
                p.span,
                "a spatial connector into a population with inner structure",
            )
            .with_label(
                target.span,
                format!("`{}` is `{}`", target.name, target.model.name),
            )
            .with_help(format!(
                "put a `dense` population of the window's output shape between them, and a \
                 `full` projection from it into `{}`",
                target.name
            )),
        );
    }
}

/// Recurrent projections trained by backprop make the network run one step at a time, so
/// nothing in it may need the whole sequence at once.
fn step_by_step(network: &Network, diags: &mut Vec<Diagnostic>) {
    let g = &network.graph;
    let (_, closing) = g.recurrent_order();
    let Some(&recurrent) = closing
        .iter()
        .find(|&&id| g.projection(id).plasticity.is_none())
    else {
        return;
    };
    let recurrent = g.projection(recurrent);
    let because = "this recurrent projection makes the network run one step at a time";
    for (_, p) in g.populations().filter(|(_, p)| p.model.whole_sequence) {
        diags.push(
            Diagnostic::error(
                "E0704",
                format!(
                    "`{}` attends over whole sequences, but this network runs step by step",
                    p.name
                ),
            )
            .with_label(p.span, "needs every step of the sequence at once")
            .with_label(recurrent.span, because)
            .with_help(
                "carry the recurrence in an `lstm` or `gru` population, or leave the \
                 recurrent projection out (attention sees every step already)",
            ),
        );
    }
    if let Some((_, p)) = g.projections().find(|(_, p)| p.connector.spatial.is_some()) {
        diags.push(
            Diagnostic::error(
                "E0704",
                format!(
                    "`{}` is not supported in a network with recurrent projections",
                    p.connector.name
                ),
            )
            .with_label(
                p.span,
                "convolution and pooling run in feed-forward networks only",
            )
            .with_label(recurrent.span, because),
        );
    }
}

/// The loss compares the output populations with the targets: they must be `dense`, keep
/// every unit, and have the activation the loss is defined on.
fn outputs(network: &Network, loss_name: &str, diags: &mut Vec<Diagnostic>) {
    let g = &network.graph;
    let Some(loss) = Loss::from_name(loss_name) else {
        return;
    };
    for id in g.outputs() {
        let p = g.population(id);
        if !matches!(p.model.runs, Runs::Dense) {
            diags.push(
                Diagnostic::error(
                    "E0701",
                    format!(
                        "the output population `{}` is `{}`, not `dense`",
                        p.name, p.model.name
                    ),
                )
                .with_label(p.span, "the loss compares this population with the targets")
                .with_help(format!(
                    "put a `dense` population (with the activation the loss needs) after it: \
                     `population out : dense[N]` and `{} -> out : full`",
                    p.name
                )),
            );
            continue;
        }
        if p.params.number("dropout").unwrap_or(0.0) > 0.0 {
            diags.push(
                Diagnostic::error(
                    "E0701",
                    format!("dropout on the output population `{}`", p.name),
                )
                .with_label(p.span, "would drop some of the answers during training")
                .with_help("put the dropout on a hidden population"),
            );
        }
        let (name, activation) = p.activation();
        if let Some(a) = activation
            && loss.pairing(a).is_none()
        {
            diags.push(
                Diagnostic::error(
                    "E0702",
                    format!("loss `{loss_name}` needs a `softmax` (or `identity`) output"),
                )
                .with_label(p.span, format!("`{}` uses `{name}`", p.name))
                .with_help(format!("set `activation = softmax` on `{}`", p.name)),
            );
        }
    }
}

/// Backprop needs a derivative everywhere it goes: no undirected projection (those learn by
/// local rules) and no step-like activation without the straight-through estimator.
fn gradient_path(network: &Network, diags: &mut Vec<Diagnostic>) {
    let g = &network.graph;
    for (_, p) in g.projections() {
        if p.directed || p.plasticity.is_some() {
            continue;
        }
        diags.push(
            Diagnostic::error(
                "E0703",
                format!(
                    "training with a loss cannot go through the undirected projection `{}`",
                    p.name
                ),
            )
            .with_label(p.span, "undirected: learns only through a local rule")
            .with_help(format!(
                "give it a local rule (`plasticity = hebbian(...)`), or make it directed: \
                 `{} -> {}`",
                g.population(p.source).name,
                g.population(p.target).name
            )),
        );
    }
    for (_, p) in g.populations() {
        let (name, activation) = p.activation();
        if matches!(p.model.runs, Runs::Input)
            || !activation.is_some_and(Activation::forward_only)
            || p.params.flag("straight_through").unwrap_or(false)
        {
            continue;
        }
        diags.push(
            Diagnostic::error("E0703", format!("cannot train through `{}`", p.name))
                .with_label(
                    p.span,
                    format!("`{name}` has zero gradient almost everywhere"),
                )
                .with_help(
                    "set `straight_through = true` on it (the straight-through estimator), \
                     or let the network learn through a local rule",
                ),
        );
    }
}

/// The generator ends at `generator` and has something to learn; the discriminator sees
/// its output and ends at `discriminator`, the network's one output, of one unit.
fn adversarial_parts(
    network: &Network,
    parts: &Adversarial,
    train: crate::diag::Span,
    diags: &mut Vec<Diagnostic>,
) {
    let g = &network.graph;
    let (generator, discriminator) = (
        g.population(parts.generator),
        g.population(parts.discriminator),
    );
    let part_error = |message: String| Diagnostic::error("E0705", message);
    if matches!(generator.model.runs, Runs::Input) {
        diags.push(
            part_error(format!(
                "the generator `{}` is an input population",
                generator.name
            ))
            .with_label(generator.span, "nothing to learn: inputs take the noise")
            .with_label(train, "named the generator here")
            .with_help(
                "name the generator's last population, the one whose units are the \
                 generated sample",
            ),
        );
        return;
    }
    if !downstream(network, parts.generator).contains(&parts.discriminator) {
        diags.push(
            part_error(format!(
                "the discriminator `{}` does not see the generator `{}`",
                discriminator.name, generator.name
            ))
            .with_label(
                discriminator.span,
                format!("no projections lead here from `{}`", generator.name),
            )
            .with_label(train, "named the two parts here")
            .with_help(format!(
                "connect them: `{} -> ... -> {}`",
                generator.name, discriminator.name
            )),
        );
        return;
    }
    let outputs = g.outputs();
    for &other in outputs.iter().filter(|&&o| o != parts.discriminator) {
        let p = g.population(other);
        diags.push(
            part_error(format!(
                "the discriminator `{}` must be the network's only output",
                discriminator.name
            ))
            .with_label(
                p.span,
                format!(
                    "`{}` feeds no other population, so it is an output too",
                    p.name
                ),
            )
            .with_label(train, "named the discriminator here"),
        );
    }
    if discriminator.size() != 1 {
        diags.push(
            part_error(format!(
                "the discriminator `{}` has {} units, not one",
                discriminator.name,
                discriminator.size()
            ))
            .with_label(discriminator.span, "must be one unit")
            .with_help(
                "its unit is the probability that its input is real: \
                 `dense[1] { activation = sigmoid }`",
            ),
        );
    }
}

/// Every population reachable from `from` along directed projections (itself included).
fn downstream(network: &Network, from: PopulationId) -> Vec<PopulationId> {
    let g = &network.graph;
    let mut seen = vec![from];
    let mut stack = vec![from];
    while let Some(p) = stack.pop() {
        let targets: Vec<PopulationId> = g
            .outgoing(p)
            .into_iter()
            .map(|e: ProjectionId| g.projection(e))
            .filter(|e| e.directed)
            .map(|e| e.target)
            .collect();
        for t in targets {
            if !seen.contains(&t) {
                seen.push(t);
                stack.push(t);
            }
        }
    }
    seen
}
