//! What a store fault, a flood or one huge session does to everybody else: Redis
//! killed under load, failure policies, the bounded write queue, and the demo's serve
//! loop under abuse.

mod demo_resilience;
mod failure_policy;
mod outages;
mod write_queue;
