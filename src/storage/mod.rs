//! Persistence (placeholder until the store issue lands).
