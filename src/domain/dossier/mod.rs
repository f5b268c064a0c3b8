//! The dossier's rules: the transition table (`lifecycle`).

pub mod lifecycle;
