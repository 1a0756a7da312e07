//! The population graph: populations are nodes, projections are edges (directed, or
//! undirected with symmetric weights). petgraph never leaves this file; the rest of the
//! crate sees `PopulationId` and `ProjectionId`.

use petgraph::Direction;
use petgraph::algo::toposort;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

use super::network::{Population, Projection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PopulationId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ProjectionId(pub u32);

/// Populations and projections. Ids are dense and stable: the n-th population added has id n.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    inner: StableDiGraph<Population, Projection>,
}

impl Graph {
    /// Adds a population; parameters it does not set take their registry defaults here, so
    /// a network built in Rust and one compiled from a `.net` file hold the same values.
    pub fn add_population(&mut self, mut population: Population) -> PopulationId {
        population.params.resolve(population.model.params, &[]);
        PopulationId(self.inner.add_node(population).index() as u32)
    }

    /// Adds a projection; its `source` and `target` must be populations of this graph.
    /// Connector and plasticity arguments are resolved against their registry entries.
    pub fn add_projection(&mut self, mut projection: Projection) -> ProjectionId {
        let connector = projection.connector;
        let args = &mut projection.connector_args;
        args.resolve(connector.params, connector.optional);
        args.resolve(crate::models::connector::COMMON_PARAMS, &[]);
        if let Some(plasticity) = &mut projection.plasticity {
            plasticity.params.resolve(plasticity.rule.params, &[]);
        }
        let (s, t) = (node(projection.source), node(projection.target));
        ProjectionId(self.inner.add_edge(s, t, projection).index() as u32)
    }

    pub fn population(&self, id: PopulationId) -> &Population {
        &self.inner[node(id)]
    }

    pub fn population_mut(&mut self, id: PopulationId) -> &mut Population {
        &mut self.inner[node(id)]
    }

    pub fn projection(&self, id: ProjectionId) -> &Projection {
        &self.inner[EdgeIndex::new(id.0 as usize)]
    }

    pub fn projection_mut(&mut self, id: ProjectionId) -> &mut Projection {
        &mut self.inner[EdgeIndex::new(id.0 as usize)]
    }

    /// Populations in the order they were declared.
    pub fn populations(&self) -> impl Iterator<Item = (PopulationId, &Population)> {
        self.inner
            .node_indices()
            .map(|n| (PopulationId(n.index() as u32), &self.inner[n]))
    }

    /// Projections in the order they were declared.
    pub fn projections(&self) -> impl Iterator<Item = (ProjectionId, &Projection)> {
        self.inner
            .edge_indices()
            .map(|e| (ProjectionId(e.index() as u32), &self.inner[e]))
    }

    pub fn n_populations(&self) -> usize {
        self.inner.node_count()
    }

    pub fn n_projections(&self) -> usize {
        self.inner.edge_count()
    }

    pub fn find_population(&self, name: &str) -> Option<PopulationId> {
        self.populations()
            .find(|(_, p)| p.name == name)
            .map(|(id, _)| id)
    }

    pub fn find_projection(&self, name: &str) -> Option<ProjectionId> {
        self.projections()
            .find(|(_, p)| p.name == name)
            .map(|(id, _)| id)
    }

    /// Projections arriving at `target`, in declaration order.
    pub fn incoming(&self, target: PopulationId) -> Vec<ProjectionId> {
        let mut ids: Vec<_> = self
            .inner
            .edges_directed(node(target), Direction::Incoming)
            .map(|e| ProjectionId(e.id().index() as u32))
            .collect();
        ids.sort();
        ids
    }

    /// Projections leaving `source`, in declaration order.
    pub fn outgoing(&self, source: PopulationId) -> Vec<ProjectionId> {
        let mut ids: Vec<_> = self
            .inner
            .edges_directed(node(source), Direction::Outgoing)
            .map(|e| ProjectionId(e.id().index() as u32))
            .collect();
        ids.sort();
        ids
    }

    /// The `input` populations (clamped to data), in declaration order.
    pub fn inputs(&self) -> Vec<PopulationId> {
        self.populations()
            .filter(|(_, p)| matches!(p.model.runs, crate::models::neuron::Runs::Input))
            .map(|(id, _)| id)
            .collect()
    }

    /// The output populations of a rate network: every population but the inputs that feeds
    /// no other one (self and undirected projections aside), in declaration order.
    pub fn outputs(&self) -> Vec<PopulationId> {
        let inputs = self.inputs();
        self.populations()
            .filter(|(id, _)| !inputs.contains(id))
            .filter(|(id, _)| {
                self.outgoing(*id).iter().all(|&e| {
                    let p = self.projection(e);
                    !p.directed || p.target == *id
                })
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Populations in an order where every feed-forward source comes before its targets.
    /// Self-loops and projections that close a cycle (recurrent connections) are ignored;
    /// `None` only if a cycle through several populations remains.
    pub fn feedforward_order(&self) -> Option<Vec<PopulationId>> {
        let mut acyclic = self.inner.clone();
        acyclic.retain_edges(|g, e| {
            let (s, t) = g.edge_endpoints(e).expect("edge exists");
            s != t && g[e].directed
        });
        toposort(&acyclic, None).ok().map(|order| {
            order
                .into_iter()
                .map(|n| PopulationId(n.index() as u32))
                .collect()
        })
    }

    /// The populations in an order where every source comes before its targets once the
    /// projections that close a cycle are set aside, and those projections: the recurrent
    /// connections, which deliver with a one-step delay. A depth-first search from each
    /// population in declaration order, following directed projections in declaration
    /// order, sets aside every projection that reaches a population still on the search
    /// path; self projections are always set aside. Undirected projections are ignored.
    pub fn recurrent_order(&self) -> (Vec<PopulationId>, Vec<ProjectionId>) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let n = self.n_populations();
        let mut mark = vec![Mark::New; n];
        let mut finished = Vec::with_capacity(n);
        let mut delayed = Vec::new();
        let targets = |p: usize| -> Vec<(ProjectionId, usize)> {
            self.outgoing(PopulationId(p as u32))
                .into_iter()
                .filter(|&e| self.projection(e).directed)
                .map(|e| (e, self.projection(e).target.0 as usize))
                .collect()
        };
        for root in 0..n {
            if mark[root] != Mark::New {
                continue;
            }
            mark[root] = Mark::OnPath;
            let mut path = vec![(root, targets(root), 0usize)];
            while let Some((node, edges, next)) = path.last_mut() {
                let Some(&(edge, target)) = edges.get(*next) else {
                    mark[*node] = Mark::Done;
                    finished.push(*node);
                    path.pop();
                    continue;
                };
                *next += 1;
                match mark[target] {
                    Mark::OnPath => delayed.push(edge),
                    Mark::Done => {}
                    Mark::New => {
                        mark[target] = Mark::OnPath;
                        let edges = targets(target);
                        path.push((target, edges, 0));
                    }
                }
            }
        }
        delayed.sort();
        let order = finished
            .into_iter()
            .rev()
            .map(|p| PopulationId(p as u32))
            .collect();
        (order, delayed)
    }

    /// Graphviz DOT: populations as boxes labelled with model and size, projections as
    /// arrows (undirected ones without arrow heads) labelled with their connector.
    pub fn to_dot(&self, name: &str) -> String {
        let mut out = format!(
            "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, style=rounded];\n",
            escape(name)
        );
        for (id, p) in self.populations() {
            let shape = p
                .shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("×");
            out += &format!(
                "  p{} [label=\"{}\\n{}[{}]\"];\n",
                id.0,
                escape(&p.name),
                p.model.name,
                shape
            );
        }
        for (_, e) in self.projections() {
            let dir = if e.directed { "" } else { ", dir=none" };
            out += &format!(
                "  p{} -> p{} [label=\"{}\"{}];\n",
                e.source.0, e.target.0, e.connector.name, dir
            );
        }
        out + "}\n"
    }
}

fn node(id: PopulationId) -> NodeIndex {
    NodeIndex::new(id.0 as usize)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
