//! tandem: a terminal pair-programmer. The model proposes, you approve hunk
//! by hunk, and git stages exactly what you approved.

#![deny(clippy::unwrap_used)]

pub mod agent;
pub mod app;
pub(crate) mod checks;
pub mod cli;
pub mod config;
pub mod engine;
pub mod exec;
pub mod git;
pub mod index;
pub mod launch;
pub mod llm;
pub mod logging;
pub mod metrics;
pub mod patch;
pub(crate) mod printable;
pub mod secrets;
pub mod session;
pub mod tokens;
pub mod tools;
pub mod ui;
pub mod view;
