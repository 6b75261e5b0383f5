//! Payment status as a monotonic walk through a graph of statuses.
//!
//! A move is allowed when the new status is reachable from the current one,
//! so a lost or delayed intermediate webhook never blocks a later one, and a
//! stale one never drags the payment back. Each move is one atomic script.

use crate::config::{ms_setting, printable, type_error, Config, Value};
use crate::error::{Error, Result};
use crate::key::payment_state_key;
use crate::pool::{self, Endpoint};
use crate::scripts;
use crate::stats;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Options of `PaymentStateMachine` beyond the connection settings.
pub const OPTIONS: &[&str] = &["transitions", "retention_s"];
const MAX_STATUS_BYTES: usize = 64;
const MAX_STATUSES: usize = 256;

/// A validated graph with, for each status, every status it can be reached from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateGraph {
    reachable_from: BTreeMap<String, Vec<String>>,
}

impl StateGraph {
    /// MONEI's statuses: PENDING -> AUTHORIZED -> SUCCEEDED -> PARTIALLY_REFUNDED
    /// -> REFUNDED; PENDING and AUTHORIZED may also end in FAILED, CANCELED or EXPIRED.
    pub fn monei() -> Self {
        let ends = ["FAILED", "CANCELED", "EXPIRED"];
        let mut edges: Vec<(&str, Vec<&str>)> = vec![
            ("PENDING", [&["AUTHORIZED"][..], &ends].concat()),
            ("AUTHORIZED", [&["SUCCEEDED"][..], &ends].concat()),
            ("SUCCEEDED", vec!["PARTIALLY_REFUNDED"]),
            ("PARTIALLY_REFUNDED", vec!["REFUNDED"]),
        ];
        edges.extend(["REFUNDED", "FAILED", "CANCELED", "EXPIRED"].map(|s| (s, vec![])));
        Self::from_edges(
            edges
                .iter()
                .map(|(f, t)| (f.to_string(), t.iter().map(|s| s.to_string()).collect())),
        )
        .expect("the built-in graph is valid")
    }

    /// A graph from `[from => [to, ...]]`, as PHP passes it.
    pub fn from_value(v: &Value) -> Result<Self> {
        let Value::Array(entries) = v else {
            return Err(type_error("transitions", "array", v.type_name()));
        };
        if entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| *k == i.to_string())
        {
            return Err(Error::invalid(
                "transitions must map each status to the statuses that may follow it \
                 (['PENDING' => ['AUTHORIZED', ...], ...]), got a list",
            ));
        }
        let mut edges = Vec::with_capacity(entries.len());
        for (from, to) in entries {
            let Value::Array(list) = to else {
                return Err(Error::invalid(format!(
                    "transitions[\"{}\"] must be a list of statuses, {} given",
                    printable(from),
                    to.type_name()
                )));
            };
            let mut targets = Vec::with_capacity(list.len());
            for (_, t) in list {
                match t {
                    Value::Str(s) => targets.push(s.clone()),
                    other => {
                        return Err(Error::invalid(format!(
                            "transitions[\"{}\"] must contain only strings, {} given",
                            printable(from),
                            other.type_name()
                        )))
                    }
                }
            }
            edges.push((from.clone(), targets));
        }
        Self::from_edges(edges)
    }

    pub fn from_edges(edges: impl IntoIterator<Item = (String, Vec<String>)>) -> Result<Self> {
        let mut next: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, targets) in edges {
            check_status(&from)?;
            next.entry(from.clone()).or_default();
            for t in targets {
                check_status(&t)?;
                next.entry(from.clone()).or_default().insert(t.clone());
                next.entry(t).or_default();
            }
        }
        if next.is_empty() {
            return Err(Error::invalid("transitions must name at least one status"));
        }
        if next.len() > MAX_STATUSES {
            return Err(Error::invalid(format!(
                "transitions may name at most {MAX_STATUSES} statuses"
            )));
        }
        // Reachability by a walk from each status; graphs are tiny.
        let mut reachable_from: BTreeMap<String, Vec<String>> =
            next.keys().map(|k| (k.clone(), vec![])).collect();
        for start in next.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&String> = next[start].iter().collect();
            while let Some(s) = stack.pop() {
                if seen.insert(s.clone()) {
                    stack.extend(next[s].iter());
                }
            }
            for s in seen {
                if &s != start {
                    reachable_from
                        .get_mut(&s)
                        .expect("every target is a node")
                        .push(start.clone());
                }
            }
        }
        Ok(StateGraph { reachable_from })
    }

    pub fn contains(&self, status: &str) -> bool {
        self.reachable_from.contains_key(status)
    }

    pub fn can_move(&self, from: &str, to: &str) -> bool {
        from != to
            && self
                .reachable_from
                .get(to)
                .is_some_and(|v| v.iter().any(|s| s == from))
    }
}

fn check_status(s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_STATUS_BYTES || s.bytes().any(|b| b < 0x20) {
        return Err(Error::invalid(format!(
            "status \"{}\" must be 1 to {MAX_STATUS_BYTES} bytes without control characters",
            printable(s)
        )));
    }
    Ok(())
}

pub struct PaymentStateMachine {
    cfg: Config,
    endpoint: Arc<Endpoint>,
    graph: StateGraph,
    retention_ms: u64,
}

impl PaymentStateMachine {
    /// `extras` are the options named in [`OPTIONS`], as handed back by [`Config::apply`].
    pub fn new(cfg: Config, extras: &[(String, Value)]) -> Result<Self> {
        let mut graph = StateGraph::monei();
        let mut retention_ms = 30 * 86_400_000;
        for (name, value) in extras {
            match name.as_str() {
                "transitions" => graph = StateGraph::from_value(value)?,
                "retention_s" => {
                    let s = ms_setting(name, value.clone(), false, 1)?;
                    retention_ms = s
                        .checked_mul(1000)
                        .filter(|ms| *ms <= 365 * 86_400_000)
                        .ok_or_else(|| {
                            Error::invalid("retention_s must be at most 31536000 (a year)")
                        })?;
                }
                _ => return Err(Error::invalid(format!("unknown option \"{name}\""))),
            }
        }
        let endpoint = pool::endpoint(&cfg)?;
        Ok(PaymentStateMachine {
            cfg,
            endpoint,
            graph,
            retention_ms,
        })
    }

    pub fn graph(&self) -> &StateGraph {
        &self.graph
    }

    /// Applies `status` if it is the first one seen or reachable from the
    /// current one. False (and nothing changed) for a duplicate, stale or
    /// unreachable status.
    pub fn advance(&self, payment_id: &[u8], status: &str) -> Result<bool> {
        let key = payment_state_key(&self.cfg.key_prefix, payment_id)?;
        let Some(from) = self.graph.reachable_from.get(status) else {
            return Err(Error::invalid(format!(
                "unknown payment status \"{}\"",
                printable(status)
            )));
        };
        let n: i64 = self.endpoint.conn()?.run(|c| {
            scripts::STATE_ADVANCE
                .call(&[key.as_str()])
                .arg(status)
                .arg(self.retention_ms)
                .arg(from)
                .invoke(c)
        })?;
        if n == 1 {
            stats::inc(|c| &c.state_advances);
        } else {
            stats::inc(|c| &c.state_rejections);
        }
        Ok(n == 1)
    }

    pub fn current(&self, payment_id: &[u8]) -> Result<Option<String>> {
        let key = payment_state_key(&self.cfg.key_prefix, payment_id)?;
        self.endpoint
            .conn()?
            .run(|c| redis::cmd("GET").arg(&key).query(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monei_graph_reachability() {
        let g = StateGraph::monei();
        assert!(g.can_move("PENDING", "AUTHORIZED"));
        assert!(g.can_move("PENDING", "REFUNDED"));
        assert!(g.can_move("AUTHORIZED", "CANCELED"));
        assert!(g.can_move("SUCCEEDED", "REFUNDED"));
        assert!(!g.can_move("REFUNDED", "SUCCEEDED"));
        assert!(!g.can_move("SUCCEEDED", "AUTHORIZED"));
        assert!(!g.can_move("SUCCEEDED", "FAILED"));
        assert!(!g.can_move("FAILED", "SUCCEEDED"));
        assert!(!g.can_move("SUCCEEDED", "SUCCEEDED"));
        assert!(!g.contains("NOPE"));
    }

    #[test]
    fn custom_graphs_are_validated() {
        let list = |v: &[&str]| {
            Value::Array(
                v.iter()
                    .enumerate()
                    .map(|(i, s)| (i.to_string(), Value::Str(s.to_string())))
                    .collect(),
            )
        };
        let ok = Value::Array(vec![("A".into(), list(&["B"])), ("B".into(), list(&["C"]))]);
        let g = StateGraph::from_value(&ok).unwrap();
        assert!(g.can_move("A", "C"));
        assert!(!g.can_move("C", "A"));
        assert!(StateGraph::from_value(&Value::Str("x".into())).is_err());
        assert!(StateGraph::from_value(&Value::Array(vec![])).is_err());
        // A list of pairs is a common mistake, not a graph with a status "0".
        assert!(
            StateGraph::from_value(&Value::Array(vec![("0".into(), list(&["A", "B"]))])).is_err()
        );
        assert!(
            StateGraph::from_value(&Value::Array(vec![("A".into(), Value::Str("B".into()))]))
                .is_err()
        );
        assert!(StateGraph::from_value(&Value::Array(vec![(
            "A".into(),
            Value::Array(vec![("0".into(), Value::Int(1))])
        )]))
        .is_err());
        assert!(StateGraph::from_value(&Value::Array(vec![("".into(), list(&["B"]))])).is_err());
    }
}
