//! warmup
